"""Everything the Designer shows for one version of a plan, computed in one place.

The page caches a :class:`View` per (plan, version, data version); the benchmark times
:func:`build` to measure the server's work per stroke.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from territory import grid
from territory.plans import book, plan, totals, units
from territory.store import Connection


@dataclass(frozen=True)
class View:
    scenario_id: int
    version: int
    data_version: int
    resolution: int  # the base resolution
    layout: bytes  # the plan's cells finer than its base (``units.finer``): what its units depend on
    cells: pd.DataFrame  # the plan's units (mixed resolutions) with their metrics
    assignments: pd.DataFrame
    territories: pd.DataFrame
    table: pd.DataFrame  # per territory KPIs, pieces, accounts gained/lost against the baseline
    strays: frozenset[int]
    unassigned: pd.DataFrame
    disruption: dict
    ruled: pd.DataFrame  # per territory: accounts its rules bring in (+) or take out (-), potential


def layout(con: Connection, scenario_id: int) -> bytes:
    """:func:`units.finer` of a stored plan, as bytes (a cache key)."""
    cells = plan.assignments(con, scenario_id)["cell"]
    return units.finer(cells, plan.resolution(con, scenario_id)).tobytes()


def unit_cells(con: Connection, scenario_id: int) -> pd.DataFrame:
    """The plan's units with their metrics (``units.compose`` over ``grid.aggregate_cells``;
    the Designer caches the per-resolution roll-ups)."""
    return units.compose(np.frombuffer(layout(con, scenario_id), dtype=np.uint64),
                         lambda r: grid.aggregate_cells(con, r), plan.resolution(con, scenario_id))


def build(con: Connection, scenario_id: int, version: int, data_version: int, cells: pd.DataFrame, *,
          assignments: pd.DataFrame | None = None) -> View:
    """The plan's view; ``cells`` are its units' metrics (``units.compose``); ``assignments`` the
    plan's cells when the caller has read them already."""
    assignments = plan.assignments(con, scenario_id) if assignments is None else assignments
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
    base = plan.resolution(con, scenario_id)
    return View(scenario_id, version, data_version, base, units.finer(assignments["cell"], base).tobytes(), cells,
                assignments, terr,
                table, frozenset(strays.astype(np.int64).tolist()), totals.unassigned(cells, assignments), overall,
                offsets)
