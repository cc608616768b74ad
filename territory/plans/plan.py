"""Plans (scenarios): a complete assignment of cells to territories.

Cells are H3 cells at the plan's base ``resolution`` or, where a dense area is split, finer
ones down to its ``finest_resolution`` (:mod:`territory.plans.units`).

Today this module creates the baseline plan from CRM ownership; the designer, optimizer and
scenario features build on the same tables (``scenarios``, ``territories``,
``cell_assignments``, ``edit_log``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NewType

from territory import grid, settings, store
from territory.errors import ConflictError, NotFoundError, ValidationError
from territory.plans import colours, units
from territory.store import Connection

ScenarioId = NewType("ScenarioId", int)
TerritoryId = NewType("TerritoryId", str)

BASELINE_NAME = "Baseline (CRM ownership)"


def create_baseline(con: Connection, *, resolution: int = settings.DEFAULT_PLAN_RES) -> ScenarioId:
    """Baseline plan: today's CRM ownership, exactly.

    One territory per owner, named after the rep's home city when it is known (else the rep's
    name). Each cell goes to the owner of most of its accounts (ties: potential); an account whose
    owner is not its cell's is held for its owner by a named-account rule, so every account keeps
    its CRM owner and exporting the baseline changes no owner. The baseline becomes the active
    plan when there is none yet. Replaces an earlier baseline.
    """
    grid.validate_resolution(resolution)
    masks = grid.parent_params(resolution)
    with store.transaction(con):
        old = con.execute("SELECT scenario_id FROM scenarios WHERE kind = 'baseline'").fetchall()
        for (sid,) in old:
            delete_rows(con, sid)
        sid = store.value(con, "SELECT nextval('scenario_seq')")
        has_active = store.value(con, "SELECT count(*) FROM scenarios WHERE is_active") > 0
        con.execute(
            "INSERT INTO scenarios (scenario_id, name, kind, is_active, resolution, finest_resolution, notes) "
            "VALUES (?, ?, 'baseline', ?, ?, ?, 'Derived from account ownership in the CRM')",
            [sid, BASELINE_NAME, not has_active, resolution, units.default_finest(resolution)],
        )
        con.execute(
            "INSERT INTO territories (scenario_id, territory_id, name, color, rep_id) "
            "SELECT ?, o.owner_id, coalesce(r.home_city || ' (' || r.name || ')', r.name, o.owner_id), "
            "NULL, r.rep_id FROM (SELECT DISTINCT owner_id FROM accounts WHERE owner_id IS NOT NULL) o "
            "LEFT JOIN reps r ON r.rep_id = o.owner_id",
            [sid],
        )
        con.execute(
            "INSERT INTO cell_assignments (scenario_id, cell, territory_id) "
            "SELECT $sid, cell, arg_max(owner_id, weight) FROM ("
            f"  SELECT {grid.parent_sql()} AS cell, owner_id,"
            "   count(*) * 1e12 + sum(potential) AS weight"
            "  FROM accounts WHERE owner_id IS NOT NULL GROUP BY 1, 2) GROUP BY cell",
            {"sid": sid, **masks},
        )
        con.execute(  # the accounts of a cell's minority owners stay with their owner
            "INSERT INTO rules (rule_id, scenario_id, territory_id, account_id, origin) "
            "SELECT nextval('rule_seq'), $sid, a.owner_id, a.account_id, 'crm' FROM accounts a "
            f"JOIN cell_assignments ca ON ca.scenario_id = $sid AND ca.cell = {grid.parent_sql('a.cell')} "
            "WHERE a.owner_id IS NOT NULL AND a.owner_id <> ca.territory_id ORDER BY a.account_id",
            {"sid": sid, **masks},
        )
        write_colours(con, sid)
    return ScenarioId(sid)


def ensure_baseline(con: Connection) -> ScenarioId | None:
    """The baseline, created from CRM ownership when accounts are loaded but it is missing
    (e.g. after a first import of the user's own files); None while there are no accounts."""
    existing = baseline_scenario(con)
    if existing is not None or store.is_empty(con):
        return existing
    return create_baseline(con)


def delete_rows(con: Connection, scenario_id: int) -> None:
    """Every row of a plan (cells, territories, history, rules, the plan); inside the caller's transaction."""
    for table in ("cell_assignments", "territories", "edit_log", "rules", "scenarios"):
        con.execute(f"DELETE FROM {table} WHERE scenario_id = ?", [scenario_id])


def active_scenario(con: Connection) -> ScenarioId:
    rows = con.execute("SELECT scenario_id FROM scenarios WHERE is_active").fetchall()
    if not rows:
        raise NotFoundError("there is no active plan yet; load data or run `territory demo`")
    return ScenarioId(rows[0][0])


def territory_summary(con: Connection, scenario_id: int):
    """Per territory: cells, accounts and potential (a frame), for summaries and tests."""
    u = units.join(con, scenario_id)
    sql = (
        "SELECT t.territory_id, t.name, coalesce(c.cells, 0) AS cells, coalesce(s.accounts, 0) AS accounts,"
        " coalesce(s.potential, 0) AS potential FROM territories t"
        " LEFT JOIN (SELECT territory_id, count(*) AS cells FROM cell_assignments WHERE scenario_id = $sid GROUP BY 1) c"
        " USING (territory_id)"
        f" LEFT JOIN (SELECT {u.territory} AS territory_id, count(*) AS accounts, sum(a.potential) AS potential"
        f"  FROM accounts a{u.joins} GROUP BY 1) s USING (territory_id)"
        " WHERE t.scenario_id = $sid ORDER BY t.name"
    )
    return con.execute(sql, u.params).df()


WORKING_NAME = "Working plan"


def clone(con: Connection, scenario_id: int, name: str, *, kind: str = "working") -> ScenarioId:
    """A copy of a plan (territories, cells, rules and its quota rule) under a new name, without
    its edit history."""
    with store.transaction(con):
        if not store.value(con, "SELECT count(*) FROM scenarios WHERE scenario_id = ?", [scenario_id]):
            raise NotFoundError(f"no scenario with id {scenario_id}")
        if store.value(con, "SELECT count(*) FROM scenarios WHERE name = ?", [name]):
            raise ValidationError(f"a plan named {name!r} exists already; choose another name")
        sid = store.value(con, "SELECT nextval('scenario_seq')")
        con.execute(
            "INSERT INTO scenarios (scenario_id, name, kind, resolution, finest_resolution, parent_id, quota_method,"
            " quota_total, quota_growth, quota_blend) SELECT ?, ?, ?, resolution, finest_resolution, scenario_id,"
            " quota_method, quota_total, quota_growth, quota_blend FROM scenarios WHERE scenario_id = ?",
            [sid, name, kind, scenario_id],
        )
        con.execute(
            "INSERT INTO territories SELECT ?, territory_id, name, color, rep_id, locked "
            "FROM territories WHERE scenario_id = ?", [sid, scenario_id])
        con.execute(
            "INSERT INTO cell_assignments SELECT ?, cell, territory_id, locked "
            "FROM cell_assignments WHERE scenario_id = ?", [sid, scenario_id])
        con.execute(
            "INSERT INTO rules SELECT nextval('rule_seq'), ?, territory_id, account_id, industry, tier, min_employees,"
            " min_annual_revenue, priority, created_at, origin FROM rules WHERE scenario_id = ? ORDER BY rule_id",
            [sid, scenario_id])
    return ScenarioId(sid)


def parent(con: Connection, scenario_id: int) -> int | None:
    """The plan this one was copied from (None: none, or that plan is gone)."""
    row = con.execute("SELECT parent_id FROM scenarios WHERE scenario_id = ? AND parent_id IN"
                      " (SELECT scenario_id FROM scenarios)", [scenario_id]).fetchone()
    return int(row[0]) if row else None


def working_ids(con: Connection) -> list[int]:
    """Every working plan's id, and the active one first when the active plan is a working plan."""
    rows = con.execute("SELECT scenario_id FROM scenarios WHERE kind = 'working' ORDER BY is_active DESC, scenario_id"
                       ).fetchall()
    return [int(r[0]) for r in rows]


def names(con: Connection, kinds: tuple[str, ...] = ("baseline", "working")) -> list[tuple[int, str, bool]]:
    """(id, name, is active) of the plans of ``kinds``, the baseline first."""
    rows = con.execute("SELECT scenario_id, name, is_active FROM scenarios WHERE list_contains(?, kind) "
                       "ORDER BY kind = 'baseline' DESC, scenario_id", [list(kinds)]).fetchall()
    return [(int(s), n, bool(a)) for s, n, a in rows]


def working_scenario(con: Connection) -> ScenarioId:
    """The plan the Designer edits: the first working plan, made from the baseline if none."""
    rows = con.execute("SELECT scenario_id FROM scenarios WHERE kind = 'working' ORDER BY scenario_id LIMIT 1").fetchall()
    if rows:
        return ScenarioId(rows[0][0])
    base = con.execute("SELECT scenario_id FROM scenarios WHERE kind = 'baseline'").fetchall()
    if not base:
        raise NotFoundError("there is no baseline plan yet; import accounts or run `territory demo`")
    return clone(con, base[0][0], WORKING_NAME)


def baseline_scenario(con: Connection) -> ScenarioId | None:
    rows = con.execute("SELECT scenario_id FROM scenarios WHERE kind = 'baseline'").fetchall()
    return ScenarioId(rows[0][0]) if rows else None


def resolution(con: Connection, scenario_id: int) -> int:
    rows = con.execute("SELECT resolution FROM scenarios WHERE scenario_id = ?", [scenario_id]).fetchall()
    if not rows:
        raise NotFoundError(f"no scenario with id {scenario_id}")
    return int(rows[0][0])


def territories(con: Connection, scenario_id: int):
    """Territories of a plan with their rep's name, as a frame ordered by name."""
    return con.execute(
        "SELECT t.territory_id, t.name, t.color, t.rep_id, r.name AS rep_name, t.locked "
        "FROM territories t LEFT JOIN reps r USING (rep_id) WHERE t.scenario_id = ? ORDER BY t.name",
        [scenario_id],
    ).df()


def territory_name(con: Connection, scenario_id: int, territory_id: str) -> str:
    """A territory's name (its id when it no longer exists), for messages."""
    rows = con.execute("SELECT name FROM territories WHERE scenario_id = ? AND territory_id = ?",
                       [scenario_id, territory_id]).fetchall()
    return rows[0][0] if rows else str(territory_id)


def assignments(con: Connection, scenario_id: int):
    return con.execute(
        "SELECT cell, territory_id, locked FROM cell_assignments WHERE scenario_id = ?", [scenario_id]
    ).df()


def create_territory(con: Connection, scenario_id: int, name: str, *, color: str | None = None,
                     rep_id: str | None = None, expected_version: int | None = None) -> TerritoryId:
    name = _valid_name(name)
    with change(con, scenario_id, expected_version):
        existing = territories(con, scenario_id)
        if name in set(existing["name"]):
            raise ValidationError(f"a territory named {name!r} exists already")
        n = len(existing) + 1
        tid = f"T{n:03d}"
        while tid in set(existing["territory_id"]):
            n += 1
            tid = f"T{n:03d}"
        used = list(existing["color"])
        color = color or min(colours.PALETTE, key=used.count)  # the least used colour (no cells yet: no neighbours)
        con.execute(
            "INSERT INTO territories (scenario_id, territory_id, name, color, rep_id) VALUES (?, ?, ?, ?, ?)",
            [scenario_id, tid, name, color, rep_id],
        )
    return TerritoryId(tid)


def recolour(con: Connection, scenario_id: int, *, keep: bool = True,
             expected_version: int | None = None) -> list[str]:
    """Give touching territories different colours (:mod:`territory.plans.colours`); with ``keep``
    only the territories that clash change. Returns the names of those that got a new colour."""
    with change(con, scenario_id, expected_version):
        return write_colours(con, scenario_id, keep=keep)


def write_colours(con: Connection, scenario_id: int, *, keep: bool = False) -> list[str]:
    """:func:`recolour` inside the caller's transaction (no version bump)."""
    terr = con.execute("SELECT territory_id, color, name FROM territories WHERE scenario_id = ?", [scenario_id]).fetchall()
    current, names = {t: c for t, c, _ in terr}, {t: n for t, _, n in terr}
    chosen = colours.assign(list(current), colours.adjacency(assignments(con, scenario_id)),
                            current=current if keep else None)
    new = {t: c for t, c in chosen.items() if c != current[t]}
    if new:
        con.execute("UPDATE territories t SET color = n.color FROM (SELECT unnest(?::VARCHAR[]) AS territory_id,"
                    " unnest(?::VARCHAR[]) AS color) n WHERE t.scenario_id = ? AND t.territory_id = n.territory_id",
                    [list(new), list(new.values()), scenario_id])
    return sorted(names[t] for t in new)


NO_REP = ""  # update_territory(rep_id=NO_REP) takes the territory's rep away


def update_territory(con: Connection, scenario_id: int, territory_id: str, *, name: str | None = None,
                     color: str | None = None, rep_id: str | None = None, locked: bool | None = None,
                     expected_version: int | None = None) -> None:
    """Rename, recolour, assign a rep (``NO_REP``: none) or (un)lock; only the given values change."""
    changes = {"name": _valid_name(name) if name is not None else None, "color": color,
               "rep_id": rep_id, "locked": locked}
    changes = {k: v for k, v in changes.items() if v is not None}
    if color is not None and not _is_colour(color):
        raise ValidationError(f"{color!r} is not a colour; use #RRGGBB")
    with change(con, scenario_id, expected_version):
        _territory_exists(con, scenario_id, territory_id)
        for column, value in changes.items():  # column names come from the fixed dict above
            con.execute(f"UPDATE territories SET {column} = ? WHERE scenario_id = ? AND territory_id = ?",
                        [None if column == "rep_id" and value == NO_REP else value, scenario_id, territory_id])


def lock_cells(con: Connection, scenario_id: int, cells: list[int], *, locked: bool = True,
               expected_version: int | None = None) -> None:
    with change(con, scenario_id, expected_version):
        con.execute(
            "UPDATE cell_assignments SET locked = ? WHERE scenario_id = ? AND cell IN (SELECT unnest(?::UBIGINT[]))",
            [locked, scenario_id, [int(c) for c in cells]],
        )


def _territory_exists(con: Connection, scenario_id: int, territory_id: str) -> None:
    if not store.value(con, "SELECT count(*) FROM territories WHERE scenario_id = ? AND territory_id = ?",
                       [scenario_id, territory_id]):
        raise NotFoundError(f"there is no territory {territory_id!r} in this plan")


def _valid_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise ValidationError("a territory name must have 1 to 80 characters")
    return name


def _is_colour(value: str) -> bool:
    return len(value) == 7 and value[0] == "#" and all(ch in "0123456789abcdefABCDEF" for ch in value[1:])


def version(con: Connection, scenario_id: int) -> int:
    """The plan's version: bumped by every write, so a tab can tell whether it has seen the latest."""
    rows = con.execute("SELECT version FROM scenarios WHERE scenario_id = ?", [scenario_id]).fetchall()
    if not rows:
        raise NotFoundError(f"there is no plan with id {scenario_id}; it may have been deleted in another tab")
    return int(rows[0][0])


def check_version(con: Connection, scenario_id: int, expected: int | None) -> None:
    """Refuse (:class:`ConflictError`) a write from a caller that saw another version; ``None``
    skips the check (the CLI and scripts, which read and write in one go)."""
    if version(con, scenario_id) != expected and expected is not None:
        raise ConflictError()


@contextmanager
def change(con: Connection, scenario_id: int, expected_version: int | None) -> Iterator[Connection]:
    """One write to a plan: a transaction that refuses a stale caller and bumps the version."""
    with store.transaction(con):
        check_version(con, scenario_id, expected_version)
        yield con
        bump_version(con, scenario_id)


def bump_version(con: Connection, scenario_id: int) -> None:
    """Every change to a plan bumps its version (optimistic locking between tabs)."""
    con.execute("UPDATE scenarios SET version = version + 1 WHERE scenario_id = ?", [scenario_id])
