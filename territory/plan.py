"""Plans (scenarios): a complete assignment of cells to territories at one resolution.

Today this module creates the baseline plan from CRM ownership; the designer, optimizer and
scenario features build on the same tables (``scenarios``, ``territories``,
``cell_assignments``, ``edit_log``).
"""

from __future__ import annotations

from typing import NewType

from territory import grid, settings, store
from territory.errors import NotFoundError
from territory.store import Connection

ScenarioId = NewType("ScenarioId", int)
TerritoryId = NewType("TerritoryId", str)

BASELINE_NAME = "Baseline (CRM ownership)"
# Okabe-Ito (colour-blind safe) first, then Tableau-like hues for larger plans.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000", "#4E79A7", "#F28E2B", "#59A14F", "#B07AA1", "#76B7B2", "#EDC948",
           "#9C755F", "#FF9DA7", "#BAB0AC", "#E15759")


def create_baseline(con: Connection, *, resolution: int = settings.DEFAULT_PLAN_RES) -> ScenarioId:
    """Baseline plan: each cell goes to the owner of most of its accounts (ties: potential).

    One territory per owner; it is named after the rep's home city when the rep is known.
    The baseline becomes the active plan when there is none yet. Replaces an earlier baseline.
    """
    grid.validate_resolution(resolution)
    keep, fill = grid.parent_masks(resolution)
    with store.transaction(con):
        old = con.execute("SELECT scenario_id FROM scenarios WHERE kind = 'baseline'").fetchall()
        for (sid,) in old:
            _delete(con, sid)
        sid = con.execute("SELECT nextval('scenario_seq')").fetchall()[0][0]
        has_active = con.execute("SELECT count(*) FROM scenarios WHERE is_active").fetchall()[0][0] > 0
        con.execute(
            "INSERT INTO scenarios (scenario_id, name, kind, is_active, resolution, notes) "
            "VALUES (?, ?, 'baseline', ?, ?, 'Derived from account ownership in the CRM')",
            [sid, BASELINE_NAME, not has_active, resolution],
        )
        con.execute(
            "INSERT INTO territories (scenario_id, territory_id, name, color, rep_id) "
            "SELECT ?, o.owner_id, coalesce(r.home_city || ' (' || r.name || ')', o.owner_id), "
            "list_extract(?, (row_number() OVER (ORDER BY o.owner_id) - 1) % ? + 1), r.rep_id "
            "FROM (SELECT DISTINCT owner_id FROM accounts WHERE owner_id IS NOT NULL) o "
            "LEFT JOIN reps r ON r.rep_id = o.owner_id",
            [sid, list(PALETTE), len(PALETTE)],
        )
        con.execute(
            "INSERT INTO cell_assignments (scenario_id, cell, territory_id) "
            "SELECT ?, cell, arg_max(owner_id, weight) FROM ("
            f"  SELECT {grid.parent_sql()} AS cell, owner_id,"
            "   count(*) * 1e12 + sum(potential) AS weight"
            "  FROM accounts WHERE owner_id IS NOT NULL GROUP BY 1, 2) GROUP BY cell",
            [sid, keep, fill],
        )
    return ScenarioId(sid)


def _delete(con: Connection, scenario_id: int) -> None:
    for table in ("cell_assignments", "territories", "edit_log", "scenarios"):
        con.execute(f"DELETE FROM {table} WHERE scenario_id = ?", [scenario_id])


def active_scenario(con: Connection) -> ScenarioId:
    rows = con.execute("SELECT scenario_id FROM scenarios WHERE is_active").fetchall()
    if not rows:
        raise NotFoundError("there is no active plan yet; load data or run `territory demo`")
    return ScenarioId(rows[0][0])


def territory_summary(con: Connection, scenario_id: int):
    """Per territory: cells, accounts and potential (a frame), for summaries and tests."""
    res = con.execute("SELECT resolution FROM scenarios WHERE scenario_id = ?", [scenario_id]).fetchall()
    if not res:
        raise NotFoundError(f"no scenario with id {scenario_id}")
    keep, fill = grid.parent_masks(res[0][0])
    sql = (
        "SELECT t.territory_id, t.name, count(DISTINCT ca.cell) AS cells, count(a.account_id) AS accounts,"
        " coalesce(sum(a.potential), 0) AS potential FROM territories t"
        " LEFT JOIN cell_assignments ca USING (scenario_id, territory_id)"
        f" LEFT JOIN accounts a ON {grid.parent_sql('a.cell')} = ca.cell"
        " WHERE t.scenario_id = ? GROUP BY ALL ORDER BY t.name"
    )
    return con.execute(sql, [keep, fill, scenario_id]).df()
