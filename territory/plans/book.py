"""A plan's book of business: every account with the territory and owner the plan gives it.

The territory is the rule's one for accounts held by a rule (:mod:`territory.plans.rules`), else the
one of the account's cell. KPIs, scenario comparison and exports all read accounts through
here, so rules apply everywhere the same way.
"""

from __future__ import annotations

import pandas as pd

from territory import grid, metrics, settings
from territory.plans import rules, units
from territory.store import Connection

ACCOUNT_COLUMNS = ("account_id", "name", "city", "state", "lat", "lng", "cell", "industry", "tier", "employees",
                   "annual_revenue", "owner_id", "potential", "revenue_12m", "pipeline", "weighted_pipeline")


def accounts(con: Connection, scenario_id: int, *, workload: settings.Workload = settings.Workload()) -> pd.DataFrame:
    """One row per account: its data, ``map_territory_id`` (from its cell), ``territory_id``
    (rules applied), ``assigned_by`` ('named', 'overlay', 'map' or None = unassigned), the
    territory's ``territory`` name, ``rep_id`` and ``rep_name`` (the new owner), ``visit_hours`` a year."""
    visits_sql, visits = metrics.visit_hours_sql("a.tier", workload)
    cols = ", ".join(f"a.{c}" for c in ACCOUNT_COLUMNS)
    u = units.join(con, scenario_id)
    return con.execute(
        f"SELECT {cols}, {u.territory} AS map_territory_id,"
        f" coalesce(h.territory_id, {u.territory}) AS territory_id,"
        f" coalesce(h.assigned_by, CASE WHEN {u.territory} IS NOT NULL THEN 'map' END) AS assigned_by,"
        " t.name AS territory, t.rep_id, r.name AS rep_name,"
        f" {visits_sql} AS visit_hours"
        f" FROM accounts a{u.joins}"
        f" LEFT JOIN ({rules.HELD_SQL}) h ON h.account_id = a.account_id"
        f" LEFT JOIN territories t ON t.scenario_id = $sid AND t.territory_id = coalesce(h.territory_id, {u.territory})"
        " LEFT JOIN reps r ON r.rep_id = t.rep_id ORDER BY a.account_id",
        {**visits, **u.params},
    ).df()


def rule_offsets(con: Connection, scenario_id: int, *, workload: settings.Workload = settings.Workload()) -> pd.DataFrame:
    """What rules change in per-territory sums computed from cells (``grid.aggregate_cells``).

    One row per territory: for each of ``metrics.NAMES`` the ruled accounts' values added to
    their rule's territory minus the same values taken from the territory of their cell.
    Empty when the plan has no rules. One query over the ruled accounts only (per stroke).
    """
    names = list(metrics.NAMES)
    if not rules.has_rules(con, scenario_id):
        return pd.DataFrame(columns=["territory_id", *names])
    sums, visits = metrics.sums_sql("a", workload)
    u = units.join(con, scenario_id)
    moved = con.execute(
        f"SELECT h.territory_id AS to_t, {u.territory} AS from_t, {sums}"
        f" FROM ({rules.HELD_SQL}) h JOIN accounts a USING (account_id){u.joins}"
        " GROUP BY ALL",
        {**visits, **u.params},
    ).df()
    if moved.empty:
        return pd.DataFrame(columns=["territory_id", *names])
    plus = moved.groupby("to_t")[names].sum()
    minus = moved.dropna(subset=["from_t"]).groupby("from_t")[names].sum()
    return plus.sub(minus, fill_value=0).rename_axis("territory_id").reset_index()


def movable_cells(con: Connection, scenario_id: int, *, workload: settings.Workload = settings.Workload()) -> pd.DataFrame:
    """Cell metrics per plan unit (``units.join``) without the accounts its rules hold: what
    moves with a cell (the optimizer must not count ruled accounts in their cell)."""
    sums, visits = metrics.sums_sql("a", workload)
    market, _ = metrics.sums_sql("m", source="market")
    u = units.join(con, scenario_id)
    v = units.join(con, scenario_id, "m.cell", side="v")
    return con.execute(metrics.per_cell(
        f"SELECT {u.cell} AS cell, {sums} FROM accounts a{u.joins}"
        f" WHERE a.account_id NOT IN (SELECT account_id FROM ({rules.HELD_SQL})) GROUP BY 1",
        f"SELECT {v.cell} AS cell, {market} FROM market_cells m{v.joins} GROUP BY 1"),
        {**visits, **u.params, **v.params}).df()


def movable_at(con: Connection, scenario_id: int, res: int, *,
               workload: settings.Workload = settings.Workload()) -> pd.DataFrame:
    """``grid.aggregate_cells`` at ``res`` without the accounts the plan's rules hold (what
    adaptive units are split by, see ``units.adapt``)."""
    return con.execute(grid.cells_sql(f"WHERE account_id NOT IN (SELECT account_id FROM ({rules.HELD_SQL}))"),
                       {**grid.cells_params(workload), **grid.parent_params(res), "sid": scenario_id}).df()


def held_sums(con: Connection, scenario_id: int, *, workload: settings.Workload = settings.Workload()) -> pd.DataFrame:
    """One row per territory that rules hold accounts for: the summed measures of those accounts
    (what :func:`movable_cells` leaves out)."""
    sums, visits = metrics.sums_sql(workload=workload)
    return con.execute(
        f"SELECT h.territory_id, {sums} FROM ({rules.HELD_SQL}) h JOIN accounts USING (account_id) GROUP BY 1 ORDER BY 1",
        {**visits, "sid": scenario_id}).df()


def cell_accounts(con: Connection, scenario_id: int, cell: int) -> pd.DataFrame:
    """The accounts in one plan cell (the Designer's Inspect), largest potential first, with the
    rule that places an account elsewhere (``placed_by``: "named rule → Strategic") if any."""
    level = int(grid.res_of([cell])[0])
    return con.execute(
        "SELECT a.account_id, a.name, a.city, a.state, a.industry, a.tier, a.potential, a.revenue_12m, a.owner_id,"
        " CASE WHEN h.account_id IS NOT NULL THEN h.assigned_by || ' rule → ' || t.name END AS placed_by"
        f" FROM accounts a LEFT JOIN ({rules.HELD_SQL}) h USING (account_id)"
        " LEFT JOIN territories t ON t.scenario_id = $sid AND t.territory_id = h.territory_id"
        f" WHERE {grid.parent_sql('a.cell')} = $cell ORDER BY a.potential DESC",
        {"sid": scenario_id, **grid.parent_params(level), "cell": int(cell)}).df()


def market_by_territory(con: Connection, scenario_id: int, industries: tuple[str, ...] = ()) -> pd.DataFrame:
    """Per territory of the plan: the market layer's measures (``metrics.MARKET``) in its cells,
    only of ``industries`` when given; a row with no territory holds the market outside them all."""
    market, _ = metrics.sums_sql("m", source="market")
    v = units.join(con, scenario_id, "m.cell", side="v")
    where = " WHERE m.industry IN (SELECT unnest($industries))" if industries else ""
    return con.execute(f"SELECT {v.territory} AS territory_id, {market} FROM market_cells m{v.joins}{where} GROUP BY 1",
                       {**v.params, **({"industries": list(industries)} if industries else {})}
                       ).df()[["territory_id", *metrics.MARKET]]
