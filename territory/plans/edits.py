"""Plan edits: paint, erase, undo and redo, each one transaction and one history step.

Every stroke (a click with its brush ring, a rectangle, a polygon, an erase) is one call to
:func:`assign`. It lands in ``cell_assignments`` and ``edit_log`` in the same transaction, so a
crash never leaves half a stroke; a stroke that changes nothing leaves no step. Each scenario
carries a ``version``: a caller that passes the version it last saw is refused (not silently
overwritten) when another tab has edited the plan since.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from territory import grid, store
from territory.errors import ConflictError, EditRefused
from territory.plans import plan, units
from territory.store import Connection

HISTORY_LIMIT = 100  # undo steps kept per scenario (the oldest are dropped)


__all__ = ["ConflictError", "EditRefused", "Edit", "assign", "apply_changes", "delete_territory", "split", "merge",
           "undo", "redo", "history", "version"]
DELETE = "delete territory"  # the edit_log action of a deleted territory (its row and rules kept for undo)
_TERRITORY_COLUMNS = ("territory_id", "name", "color", "rep_id", "locked")  # what a DELETE step keeps
_RULE_COLUMNS = ("account_id", "industry", "tier", "min_employees", "min_annual_revenue", "priority", "origin")


@dataclass(frozen=True)
class Edit:
    edit_id: int
    action: str
    cells: list[int]
    before: list[str | None]
    after: list[str | None]
    skipped_locked: int = 0
    territory: str | None = None  # a deleted territory and its rules (JSON), for ``DELETE`` steps

    @property
    def deleted_name(self) -> str | None:
        """The name of the territory a ``DELETE`` step removed."""
        return json.loads(self.territory)["territory"]["name"] if self.territory else None


version = plan.version
_check_version = plan.check_version


def assign(
    con: Connection,
    scenario_id: int,
    cells: list[int],
    territory_id: str | None,
    *,
    only_unassigned: bool = False,
    expected_version: int | None = None,
    action: str | None = None,
) -> Edit | None:
    """Give ``cells`` to ``territory_id`` (``None`` erases them); return the step, or None.

    Locked cells and cells of locked territories are left alone (counted in
    ``skipped_locked``); if nothing else is left the stroke is refused with the reason.
    """
    action = action or ("erase" if territory_id is None else "paint")
    cells = sorted({int(c) for c in cells})
    with store.transaction(con):
        _check_version(con, scenario_id, expected_version)
        if territory_id is not None:
            _check_target(con, scenario_id, territory_id)
        current = _current(con, scenario_id, cells)
        locked = {c for c, (_, is_locked) in current.items() if is_locked}
        free = [c for c in cells if c not in locked]
        if not free and locked:
            raise EditRefused(
                f"refused: {'this cell is' if len(cells) == 1 else 'all these cells are'} locked "
                "(a locked cell or a locked territory); unlock it first"
            )
        if only_unassigned:
            free = [c for c in free if current.get(c, (None, False))[0] is None]
        changes = [(c, current.get(c, (None, False))[0]) for c in free]
        changes = [(c, before) for c, before in changes if before != territory_id]
        if not changes:
            return None
        edit = _apply(con, scenario_id, action, [c for c, _ in changes], [b for _, b in changes],
                      [territory_id] * len(changes))
    return Edit(edit.edit_id, edit.action, edit.cells, edit.before, edit.after, len(locked))


def apply_changes(con: Connection, scenario_id: int, cells: list[int], territories: list[str | None], *,
                  action: str, expected_version: int | None = None) -> Edit | None:
    """Give each cell its own territory in one step (a rebalance, an accepted suggestion).

    The caller decides about locks (the optimizer leaves locked cells alone unless told not
    to); unknown territories are refused; cells that already look like that are skipped.
    """
    pairs = dict(zip((int(c) for c in cells), territories))
    with store.transaction(con):
        _check_version(con, scenario_id, expected_version)
        missing = {t for t in pairs.values() if t is not None} - _territory_ids(con, scenario_id)
        if missing:
            raise EditRefused(f"there is no territory {sorted(missing)[0]!r} in this plan")
        current = _current(con, scenario_id, sorted(pairs))
        changes = [(c, current.get(c, (None, False))[0], t) for c, t in sorted(pairs.items())]
        changes = [ch for ch in changes if ch[1] != ch[2]]
        if not changes:
            return None
        edit = _apply(con, scenario_id, action, [c for c, _, _ in changes], [b for _, b, _ in changes],
                      [t for _, _, t in changes])
    return edit


def delete_territory(con: Connection, scenario_id: int, territory_id: str, *,
                     expected_version: int | None = None) -> Edit:
    """Delete a territory as one undo step: its cells become unassigned and its rules go; undo
    puts the territory (name, colour, rep, lock), its cells and its rules back."""
    with store.transaction(con):
        _check_version(con, scenario_id, expected_version)
        row = con.execute(f"SELECT {', '.join(_TERRITORY_COLUMNS)} FROM territories"
                          " WHERE scenario_id = ? AND territory_id = ?", [scenario_id, territory_id]).fetchall()
        if not row:
            raise EditRefused(f"there is no territory {territory_id!r} in this plan")
        rule_rows = con.execute(f"SELECT {', '.join(_RULE_COLUMNS)} FROM rules WHERE scenario_id = ? AND territory_id = ?"
                                " ORDER BY rule_id", [scenario_id, territory_id]).fetchall()
        saved = json.dumps({"territory": dict(zip(_TERRITORY_COLUMNS, row[0])),
                            "rules": [dict(zip(_RULE_COLUMNS, r)) for r in rule_rows]})
        cells = [int(r[0]) for r in con.execute(
            "SELECT cell FROM cell_assignments WHERE scenario_id = ? AND territory_id = ? ORDER BY cell",
            [scenario_id, territory_id]).fetchall()]
        edit = _apply(con, scenario_id, DELETE, cells, [territory_id] * len(cells), [None] * len(cells), territory=saved)
        _drop_territory(con, scenario_id, territory_id)
    return edit


def _drop_territory(con, scenario_id: int, territory_id: str) -> None:
    for table in ("cell_assignments", "rules", "territories"):
        con.execute(f"DELETE FROM {table} WHERE scenario_id = ? AND territory_id = ?", [scenario_id, territory_id])


def _restore_territory(con, scenario_id: int, saved: str) -> None:
    data = json.loads(saved)
    t = data["territory"]
    if t["territory_id"] in _territory_ids(con, scenario_id):
        raise EditRefused(f"cannot undo the deletion of {t['name']!r}: a territory created since has its id "
                          f"({t['territory_id']}); delete or rename that one's cells first")
    con.execute(f"INSERT INTO territories (scenario_id, {', '.join(_TERRITORY_COLUMNS)})"
                f" VALUES (?{', ?' * len(_TERRITORY_COLUMNS)})", [scenario_id, *(t[c] for c in _TERRITORY_COLUMNS)])
    for r in data["rules"]:
        con.execute(f"INSERT INTO rules (rule_id, scenario_id, territory_id, {', '.join(_RULE_COLUMNS)})"
                    f" VALUES (nextval('rule_seq'), ?, ?{', ?' * len(_RULE_COLUMNS)})",
                    [scenario_id, t["territory_id"], *(r[c] for c in _RULE_COLUMNS)])


def undo(con: Connection, scenario_id: int, *, expected_version: int | None = None) -> Edit | None:
    """Revert the latest step that is not undone; None when there is nothing to undo."""
    return _step(con, scenario_id, expected_version, undo=True)


def redo(con: Connection, scenario_id: int, *, expected_version: int | None = None) -> Edit | None:
    """Re-apply the earliest undone step; None when there is nothing to redo."""
    return _step(con, scenario_id, expected_version, undo=False)


def history(con: Connection, scenario_id: int) -> tuple[int, int]:
    """(steps that can be undone, steps that can be redone)."""
    row = con.execute(
        "SELECT count(*) FILTER (NOT undone), count(*) FILTER (undone) FROM edit_log WHERE scenario_id = ?",
        [scenario_id],
    ).fetchall()[0]
    return int(row[0]), int(row[1])


def _step(con: Connection, scenario_id: int, expected: int | None, *, undo: bool) -> Edit | None:
    order = "DESC" if undo else "ASC"
    with store.transaction(con):
        _check_version(con, scenario_id, expected)
        rows = con.execute(
            f"SELECT edit_id, action, cells, before, after, territory FROM edit_log WHERE scenario_id = ? "
            f"AND undone = ? ORDER BY edit_id {order} LIMIT 1",
            [scenario_id, not undo],
        ).fetchall()
        if not rows:
            return None
        edit_id, action, cells, before, after, saved = rows[0]
        target = before if undo else after
        if action == DELETE:
            if undo:
                _restore_territory(con, scenario_id, saved)
            else:
                _drop_territory(con, scenario_id, json.loads(saved)["territory"]["territory_id"])
        missing = {t for t in target if t is not None} - _territory_ids(con, scenario_id)
        if missing:
            raise EditRefused(f"cannot {'undo' if undo else 'redo'}: territory {sorted(missing)[0]!r} was deleted")
        _write_cells(con, scenario_id, [int(c) for c in cells], list(target))
        con.execute("UPDATE edit_log SET undone = ? WHERE edit_id = ?", [undo, edit_id])
        plan.bump_version(con, scenario_id)
    return Edit(edit_id, action, [int(c) for c in cells], list(before), list(after), territory=saved)


def split(con: Connection, scenario_id: int, cells: list[int], *, expected_version: int | None = None) -> Edit | None:
    """Split plan cells into their children (same territory) as one undo step: finer units a
    dense area can be shared by (down to the plan's finest resolution)."""
    changes = units.split_changes(plan.assignments(con, scenario_id), cells, units.finest(con, scenario_id))
    return apply_changes(con, scenario_id, *changes, action="split", expected_version=expected_version)


def merge(con: Connection, scenario_id: int, cell: int, *, expected_version: int | None = None) -> Edit | None:
    """Merge a split cell and its siblings back into their parent (one undo step), refused with
    the reason unless all of them are in the plan, unsplit, unlocked and of one territory."""
    changes = units.merge_changes(plan.assignments(con, scenario_id), cell, plan.resolution(con, scenario_id))
    return apply_changes(con, scenario_id, *changes, action="merge", expected_version=expected_version)


def _apply(con, scenario_id, action, cells, before, after, *, territory: str | None = None) -> Edit:
    _write_cells(con, scenario_id, cells, after)
    if len(set(grid.res_of(cells).tolist())) > 1 or _mixed(con, scenario_id):
        overlap = units.violations([r[0] for r in con.execute(
            "SELECT cell FROM cell_assignments WHERE scenario_id = ?", [scenario_id]).fetchall()])
        if len(overlap):
            raise EditRefused("refused: a cell and a part of it cannot both be in a plan (split or merge it first)")
    con.execute("DELETE FROM edit_log WHERE scenario_id = ? AND undone", [scenario_id])  # new step: no redo
    edit_id = store.value(con, "SELECT nextval('edit_seq')")
    con.execute(
        "INSERT INTO edit_log (edit_id, scenario_id, action, cells, before, after, territory) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [edit_id, scenario_id, action, cells, before, after, territory],
    )
    con.execute(
        "DELETE FROM edit_log WHERE scenario_id = ? AND edit_id NOT IN "
        "(SELECT edit_id FROM edit_log WHERE scenario_id = ? ORDER BY edit_id DESC LIMIT ?)",
        [scenario_id, scenario_id, HISTORY_LIMIT],
    )
    plan.bump_version(con, scenario_id)
    return Edit(edit_id, action, cells, before, after, territory=territory)


def _write_cells(con, scenario_id: int, cells: list[int], territories: list[str | None]) -> None:
    con.execute(
        "DELETE FROM cell_assignments WHERE scenario_id = ? AND cell IN (SELECT unnest(?::UBIGINT[]))",
        [scenario_id, cells],
    )
    pairs = [(c, t) for c, t in zip(cells, territories) if t is not None]
    if pairs:
        con.execute(
            "INSERT INTO cell_assignments (scenario_id, cell, territory_id) "
            "SELECT ?, unnest(?::UBIGINT[]), unnest(?::VARCHAR[])",
            [scenario_id, [c for c, _ in pairs], [t for _, t in pairs]],
        )


def _mixed(con, scenario_id: int) -> bool:
    """Whether the plan has cells finer than its base resolution (split cells)."""
    return bool(store.value(con, "SELECT count(*) FROM cell_assignments ca JOIN scenarios s USING (scenario_id)"
                            " WHERE ca.scenario_id = ? AND ((ca.cell >> 52) & 15) <> s.resolution", [scenario_id]))


def _current(con, scenario_id: int, cells: list[int]) -> dict[int, tuple[str | None, bool]]:
    """cell -> (territory, locked) for the assigned ones among ``cells``."""
    rows = con.execute(
        "SELECT ca.cell, ca.territory_id, ca.locked OR coalesce(t.locked, FALSE) "
        "FROM cell_assignments ca LEFT JOIN territories t USING (scenario_id, territory_id) "
        "WHERE ca.scenario_id = ? AND ca.cell IN (SELECT unnest(?::UBIGINT[]))",
        [scenario_id, cells],
    ).fetchall()
    return {int(c): (t, bool(lk)) for c, t, lk in rows}


def _check_target(con, scenario_id: int, territory_id: str) -> None:
    rows = con.execute(
        "SELECT name, locked FROM territories WHERE scenario_id = ? AND territory_id = ?",
        [scenario_id, territory_id],
    ).fetchall()
    if not rows:
        raise EditRefused(f"there is no territory {territory_id!r} in this plan")
    if rows[0][1]:
        raise EditRefused(f"refused: territory {rows[0][0]!r} is locked; unlock it to paint with it")


def _territory_ids(con, scenario_id: int) -> set[str]:
    rows = con.execute("SELECT territory_id FROM territories WHERE scenario_id = ?", [scenario_id]).fetchall()
    return {r[0] for r in rows}
