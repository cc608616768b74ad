"""Everything the Designer shows for one version of a plan, computed in one place.

The page caches a :class:`View` per (plan, version, data version); the benchmark times
:func:`build` to measure the server's work per stroke.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from territory.plans import book, plan, totals
from territory.store import Connection


@dataclass(frozen=True)
class View:
    scenario_id: int
    version: int
    data_version: int
    resolution: int
    cells: pd.DataFrame  # the plan resolution's cells with their metrics
    assignments: pd.DataFrame
    territories: pd.DataFrame
    table: pd.DataFrame  # per territory KPIs, pieces, accounts gained/lost against the baseline
    strays: frozenset[int]
    unassigned: pd.DataFrame
    disruption: dict
    ruled: pd.DataFrame  # per territory: accounts its rules bring in (+) or take out (-), potential


def build(con: Connection, scenario_id: int, version: int, data_version: int, cells: pd.DataFrame) -> View:
    """The plan's view; ``cells`` is :func:`territory.grid.aggregate_cells` at its resolution."""
    assignments = plan.assignments(con, scenario_id)
    terr = plan.territories(con, scenario_id)
    offsets = book.rule_offsets(con, scenario_id)
    table = totals.territory_kpis(cells, assignments, terr, offsets=offsets)
    pieces, strays = totals.split_pieces(assignments)
    table["pieces"] = table["territory_id"].map(pieces).fillna(0).astype(int)
    overall, per = {}, pd.DataFrame(columns=["territory_id", "gained_accounts", "lost_accounts"])
    base = plan.baseline_scenario(con)
    if base is not None:
        overall, per = totals.disruption(con, scenario_id, base)
    table = table.merge(per[["territory_id", "gained_accounts", "lost_accounts"]], on="territory_id", how="left")
    table = table.fillna({"gained_accounts": 0, "lost_accounts": 0})
    return View(scenario_id, version, data_version, plan.resolution(con, scenario_id), cells, assignments, terr,
                table, frozenset(strays.astype(np.int64).tolist()), totals.unassigned(cells, assignments), overall,
                offsets)
