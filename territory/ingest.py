"""Import accounts, reps, opportunities and revenue history from CRM files.

One call, one transaction: read (``_readers``) -> map columns (``fields``) -> parse and
validate every row (``_checks``) -> geocode ZIPs -> index on H3 -> write. With the ``reject``
policy any bad row means nothing is written; with ``skip`` the good rows load and the bad
ones go to a rejects CSV (row, column, value, reason). A failure or a kill before COMMIT
leaves the database as it was.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa

from territory import _checks, _readers, _writers, geocode, grid, settings, store
from territory.errors import Problem, ValidationError
from territory.fields import DATASETS, guess_mapping, validate_mapping
from territory.store import Connection

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
POLICIES = ("reject", "skip")


@dataclass
class ImportResult:
    dataset: str
    import_id: int
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    mapping: dict[str, str]
    problems: list[Problem] = field(default_factory=list)
    rejects_path: Path | None = None
    geocoded_by_zip: int = 0
    potential_derived: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class Preview:
    """What the import panel shows before loading: columns, guessed mapping, first rows."""

    columns: list[str]
    mapping: dict[str, str]
    head: pd.DataFrame


def preview(con: Connection, path: str | Path, dataset: str, *, overrides=None, rows: int = 5) -> Preview:
    source = _readers.open_source(con, path)
    mapping = guess_mapping(source.columns, dataset, overrides=overrides)
    head = con.execute(f"SELECT * FROM {source.relation} LIMIT {int(rows)}", source.params).df()
    return Preview(source.columns, mapping, head)


def import_file(
    con: Connection,
    path: str | Path,
    dataset: str,
    *,
    overrides: dict[str, str] | None = None,
    on_error: str = "reject",
    rejects_path: str | Path | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Load one file into ``dataset``; see the module docstring for the guarantees."""
    if dataset not in DATASETS:
        raise ValidationError(f"unknown dataset {dataset!r}; use one of {', '.join(DATASETS)}")
    if on_error not in POLICIES:
        raise ValidationError(f"unknown error policy {on_error!r}; use reject or skip")
    report = progress or (lambda _f, _m: None)
    started = time.perf_counter()
    path = Path(path)
    try:
        return _run(con, path, dataset, overrides, on_error, rejects_path, report, started)
    finally:
        for name in ("_raw", "_parsed", "_problems", "_good"):
            con.execute(f"DROP TABLE IF EXISTS {name}")


def _run(con, path, dataset, overrides, on_error, rejects_path, report, started) -> ImportResult:
    report(0.02, f"reading {path.name}")
    source = _readers.open_source(con, path)
    mapping = guess_mapping(source.columns, dataset, overrides=overrides)
    validate_mapping(mapping, dataset, columns=source.columns)
    fields = _checks.field_list(dataset, mapping)
    rows_read = _readers.stage(con, source, mapping)
    report(0.25, f"read {rows_read:,} rows; checking them")
    decimal = _checks.detect_decimal(con, fields, delimiter=source.delimiter)
    geocode.register_zips(con)
    _checks.parse(con, dataset, fields, decimal=decimal)
    n_problems = _checks.collect_problems(con, dataset, fields, mapping)
    problems = _fetch_problems(con) if n_problems else []
    if problems and on_error == "reject":
        bad = len({p.row for p in problems})
        raise ValidationError(
            f"{path.name}: {len(problems):,} problems in {bad:,} of {rows_read:,} rows; nothing was "
            "imported. Fix the rows listed, or import with on-error 'skip' to load the good rows",
            problems,
        )
    report(0.5, "geocoding and indexing")
    names = {f.name for f in fields}
    good = _build_good(con, dataset, names)
    report(0.75, "writing")
    with store.transaction(con):
        import_id = con.execute("SELECT nextval('import_seq')").fetchall()[0][0]
        loaded = _writers.WRITERS[dataset](con, names, import_id)
        rejected = con.execute(f"SELECT count(*) FROM ({_checks.bad_rows_sql()})").fetchall()[0][0]
        con.execute(
            "INSERT INTO import_log VALUES (?, ?, ?, now()::TIMESTAMP, now()::TIMESTAMP, ?, ?, ?, ?, ?)",
            [import_id, dataset, str(path), rows_read, loaded, rejected, on_error, json.dumps(mapping)],
        )
        report(0.95, "committing")
    result = ImportResult(
        dataset, import_id, rows_read, loaded, rejected, mapping, problems,
        seconds=time.perf_counter() - started, **good,
    )
    if problems:
        result.rejects_path = _write_rejects(con, rejects_path, dataset, import_id)
    report(1.0, f"imported {loaded:,} rows")
    log.info("imported %s rows of %s from %s", loaded, dataset, path)
    return result


def _fetch_problems(con: Connection) -> list[Problem]:
    rows = con.execute("SELECT * FROM _problems ORDER BY _row NULLS FIRST, column_name").fetchall()
    return [Problem(r[0], r[1], r[2], r[3]) for r in rows]


def _write_rejects(con: Connection, target, dataset: str, import_id: int) -> Path:
    path = Path(target) if target else settings.DATA_DIR / "rejects" / f"{dataset}-{import_id}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    con.execute(
        "COPY (SELECT _row AS row, column_name AS column, value, reason FROM _problems "
        "ORDER BY _row, column_name) TO ? (HEADER, DELIMITER ',')",
        [str(path)],
    )
    return path


def _build_good(con: Connection, dataset: str, names: set[str]) -> dict[str, int]:
    """``_good``: the rows without problems, typed, located and (accounts) H3-indexed."""
    typed = {r[0] for r in con.execute("DESCRIBE _parsed").fetchall()}
    select = [f"{n}__v AS {n}" if f"{n}__v" in typed else n for n in sorted(names)]
    if dataset in ("accounts", "reps"):
        select += [f"{sql} AS {alias}" for sql, alias in zip(_checks.location_sql(dataset, names), ("_lat", "_lng", "_precision"))]
    sql = (
        f"CREATE OR REPLACE TEMP TABLE _good AS SELECT _row, {', '.join(select)} "
        f"FROM _parsed WHERE _row NOT IN ({_checks.bad_rows_sql()}) ORDER BY _row"
    )
    con.execute(sql)
    if dataset != "accounts":
        return {}
    coords = con.execute("SELECT _lat, _lng FROM _good").fetchnumpy()
    cells = pa.table({"cell": grid.latlng_to_cells(coords["_lat"], coords["_lng"])})  # noqa: F841
    con.execute("CREATE OR REPLACE TEMP TABLE _good AS SELECT * FROM _good POSITIONAL JOIN cells")
    derived = "potential IS NULL" if "potential" in names else "TRUE"
    by_zip, n_derived = con.execute(
        f"SELECT count(*) FILTER (_precision = 'zip'), count(*) FILTER ({derived}) FROM _good"
    ).fetchall()[0]
    return {"geocoded_by_zip": by_zip, "potential_derived": n_derived}
