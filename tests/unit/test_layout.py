"""The layout keeps its promises: the UI asks the library, it runs no SQL of its own."""

from __future__ import annotations

import ast
import re

from territory import settings

SQL = re.compile(r"\.execute\(|\bSELECT\s|\bINSERT\s+INTO\b|\bUPDATE\s+\w+\s+SET\b|\bDELETE\s+FROM\b")


def test_no_sql_under_the_ui_or_the_pages():
    files = sorted((settings.ROOT / "territory" / "ui").glob("*.py")) + sorted((settings.ROOT / "pages").glob("*.py"))
    assert len(files) > 10
    found = [f"{f.relative_to(settings.ROOT)}:{n}" for f in files
             for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1) if SQL.search(line)]
    assert not found, found


MAX_LINES = 400
ENGINE_IMPORTS = {"territory.errors", "territory.optimizer"}  # the optimizer knows no plan, cell or CRM column


def _modules() -> dict[str, set[str]]:
    """Every library module and the library modules it imports at load time (not inside functions)."""
    out = {}
    for path in sorted((settings.ROOT / "territory").rglob("*.py")):
        rel = path.relative_to(settings.ROOT).with_suffix("")
        name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        deps = set()
        for node in tree.body:  # top-level statements only: a function's own import is lazy
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("territory"):
                deps |= {f"{node.module}.{a.name}" for a in node.names} | {node.module}
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name.startswith("territory")}
        out[name] = deps
    return {m: {d for d in deps if d in out and d != m} for m, deps in out.items()}


def test_no_module_is_long():
    lengths = {p.relative_to(settings.ROOT): len(p.read_text(encoding="utf-8").splitlines())
               for p in (settings.ROOT / "territory").rglob("*.py")}
    assert len(lengths) > 40
    assert not {p: n for p, n in lengths.items() if n > MAX_LINES}


def test_no_import_cycle():
    graph = _modules()
    assert {"territory.plans.plan", "territory.grid", "territory.plans.rules"} <= set(graph)
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for d in sorted(graph[m]):
            assert state.get(d) != 1, " -> ".join([*path, m, d])
            if d not in state:
                visit(d, [*path, m])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [])


def test_the_engine_imports_nothing_of_plans_or_data():
    graph = _modules()
    engine = {m: deps for m, deps in graph.items() if m.startswith("territory.optimizer")}
    assert len(engine) >= 5
    outside = {m: {d for d in deps if not any(d == e or d.startswith(e + ".") for e in ENGINE_IMPORTS)}
               for m, deps in engine.items()}
    assert not any(outside.values()), outside
    text = " ".join(p.read_text(encoding="utf-8") for p in (settings.ROOT / "territory" / "optimizer").glob("*.py"))
    assert not re.search(r"revenue_12m|potential|\"accounts\"|'accounts'", text)
