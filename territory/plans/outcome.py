"""What a rebalance preview means to a manager: its report as plain data (:func:`summary`, the
CLI's ``--json``), how recognisable the territories stay (:func:`anchoring`) and the frontier
point to take under a cap on accounts moved (:func:`pick`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from territory.plans import homes, plan, units
from territory.plans.rebalance import DISRUPTION, Preview
from territory.store import Connection


def anchoring(con: Connection, preview: Preview) -> dict:
    """How recognisable the previewed territories are: per territory the share of today's
    potential it keeps (median and least over the territories that have any), and how many reps
    with a home location have it inside their own territory, today and afterwards."""
    stored = preview.stored
    pot = stored.units.column("potential")
    after = pd.Series(preview.plan_after["territory_id"].to_numpy(), index=preview.plan_after["cell"].astype(np.int64))
    result = after.reindex(stored.units.ids.astype(np.int64)).to_numpy()
    kept = []
    for code, tid in enumerate(stored.tids):
        mine = stored.current == code
        if pot[mine].sum() > 0:
            kept.append(float(pot[mine & (result == tid)].sum() / pot[mine].sum()))
    tids, cells = homes.cells(con, stored.territories)
    now, after_cells = plan.assignments(con, preview.scenario_id), preview.plan_after
    expected = np.array(tids, dtype=object)
    home_now = int((units.owner(cells, now["cell"], now["territory_id"]) == expected).sum())
    home_after = int((units.owner(cells, after_cells["cell"], after_cells["territory_id"]) == expected).sum())
    return {"kept_median": float(np.median(kept)) if kept else 1.0, "kept_least": float(min(kept)) if kept else 1.0,
            "homes_inside_now": home_now, "homes_inside_after": home_after, "reps_with_homes": len(tids)}


def summary(preview: Preview) -> dict:
    """The preview's report as plain data (the CLI's ``--json``): per balanced measure the max
    deviation and whether it is met, contiguity, shares moved, seconds and the frontier."""
    r = preview.report
    return {"plan": preview.scenario_id, "territories": len(preview.territories),
            "balance": {m: {"max_deviation_pct": round(b["max_deviation_pct"], 3), "met": bool(b["met"]),
                            "tolerance_pct": b["tolerance_pct"]} for m, b in r.balance.items()},
            "contiguous": r.contiguous, "moved": {m: round(v, 4) for m, v in r.disruption.items()},
            "unavoidable": {m: round(v, 4) for m, v in r.unavoidable.items()}, "seconds": round(r.seconds, 2),
            "cells_changed": preview.changed, "split_territories": preview.split, "cells_refined": preview.refined,
            "frontier": [p.as_dict() for p in r.frontier]}


def pick(frontier: list, max_moved: float, attr: str = DISRUPTION) -> int | None:
    """The frontier point with the best balance that moves at most ``max_moved`` (a share) of
    ``attr``; None when even the first moves more."""
    within = [i for i, p in enumerate(frontier) if p.moved.get(attr, 0.0) <= max_moved + 1e-12]
    return max(within, key=lambda i: (-frontier[i].worst_pct, -i)) if within else None
