"""Live plan KPIs: per-territory sums and deviation, balance, unassigned, contiguity, disruption.

Pure functions over frames (cell metrics from ``grid.aggregate_cells`` and a plan's
assignments), so the Designer's live panel, the CLI, tests and later the optimizer share them;
only :func:`disruption` reads the database (it needs account-level ownership).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import h3
import numpy as np
import pandas as pd

from territory import grid, plan
from territory.store import Connection

SUMS = ("accounts", "potential", "revenue_12m", "pipeline", "weighted_pipeline", "workload_hours")
BALANCED = ("potential", "accounts", "workload_hours")  # deviation columns shown


@dataclass(frozen=True)
class Balance:
    max_deviation_pct: float  # largest |value - mean| / mean, in %
    cv: float  # coefficient of variation (std / mean)


def territory_kpis(cells: pd.DataFrame, assignments: pd.DataFrame, territories: pd.DataFrame) -> pd.DataFrame:
    """One row per territory: cells, the ``SUMS`` and ``dev_<metric>`` in % of the mean."""
    joined = assignments[["cell", "territory_id"]].merge(cells, on="cell", how="left").fillna(0)
    sums = joined.groupby("territory_id")[list(SUMS)].sum()
    sums["cells"] = joined.groupby("territory_id").size()
    out = territories[["territory_id", "name", "color"]].merge(sums, on="territory_id", how="left").fillna(0)
    for metric in BALANCED:
        mean = out[metric].mean()
        out[f"dev_{metric}"] = (out[metric] / mean - 1) * 100 if mean else 0.0
    return out


def balance(values) -> Balance:
    v = np.asarray(values, dtype=float)
    if len(v) == 0 or v.mean() == 0:
        return Balance(0.0, 0.0)
    return Balance(float(np.abs(v / v.mean() - 1).max() * 100), float(v.std() / v.mean()))


def unassigned(cells: pd.DataFrame, assignments: pd.DataFrame) -> pd.DataFrame:
    """Occupied cells (with accounts) that no territory holds."""
    return cells[~cells["cell"].isin(assignments["cell"])]


GAP = 2  # empty cells a territory may span and still count as one piece


@lru_cache(maxsize=500_000)
def neighbours(cell: int) -> tuple[int, ...]:
    """The cells sharing an edge with ``cell`` (cached: the grid never changes)."""
    return tuple(h3.str_to_int(n) for n in h3.grid_ring(h3.int_to_str(cell), 1))


def pieces(cell_ids, *, blocked: set[int] | frozenset = frozenset(), gap: int = 0) -> list[set[int]]:
    """Connected pieces of a set of cells, largest first.

    Cells connect through shared edges, and through up to ``gap`` consecutive empty cells
    (cells outside the set that are not ``blocked``, i.e. held by no other territory): at the
    resolutions plans use, accounts leave holes that should not split a territory.
    """
    own = {int(c) for c in cell_ids}
    todo = set(own)
    out = []
    while todo:
        seed = todo.pop()
        piece, stack = {seed}, [(seed, 0)]
        seen = {seed: 0}
        while stack:
            current, used = stack.pop()
            for ni in neighbours(current):
                if ni in own:
                    nxt = 0
                elif ni in blocked or used >= gap:
                    continue
                else:
                    nxt = used + 1
                if seen.get(ni, gap + 1) <= nxt:
                    continue
                seen[ni] = nxt
                if ni in own:
                    todo.discard(ni)
                    piece.add(ni)
                stack.append((ni, nxt))
        out.append(piece)
    return sorted(out, key=len, reverse=True)


def contiguity(assignments: pd.DataFrame, *, gap: int = GAP) -> dict[str, list[set[int]]]:
    """territory -> its pieces (largest first); more than one piece means it is split.

    Other territories' cells block; empty space of up to ``gap`` cells does not.
    """
    every = {int(c) for c in assignments["cell"]}
    out = {}
    for tid, group in assignments.groupby("territory_id"):
        own = {int(c) for c in group["cell"]}
        out[tid] = pieces(own, blocked=every - own, gap=gap)
    return out


def stray_cells(parts: dict[str, list[set[int]]]) -> list[int]:
    """Cells outside each territory's largest piece: what the map highlights."""
    return [c for ps in parts.values() for p in ps[1:] for c in p]


def disruption(con: Connection, scenario_id: int, baseline_id: int) -> tuple[dict, pd.DataFrame]:
    """Accounts and revenue whose territory differs from the baseline, overall and per territory.

    Per territory of the plan: ``gained`` accounts/revenue (now here, before elsewhere or
    unassigned) and ``lost`` ones (before here, now elsewhere).
    """
    k1, f1 = grid.parent_masks(plan.resolution(con, scenario_id))
    k0, f0 = grid.parent_masks(plan.resolution(con, baseline_id))
    frame = con.execute(
        f"SELECT a.account_id, a.revenue_12m, now_.territory_id AS now_t, was.territory_id AS was_t "
        f"FROM accounts a "
        f"LEFT JOIN cell_assignments now_ ON now_.scenario_id = ? AND now_.cell = {grid.parent_sql('a.cell')} "
        f"LEFT JOIN cell_assignments was ON was.scenario_id = ? AND was.cell = {grid.parent_sql('a.cell')}",
        [scenario_id, k1, f1, baseline_id, k0, f0],
    ).df()
    moved = frame["now_t"].fillna("") != frame["was_t"].fillna("")
    total_rev = frame["revenue_12m"].sum()
    overall = {
        "accounts_moved": int(moved.sum()),
        "accounts_share": float(moved.mean()) if len(frame) else 0.0,
        "revenue_moved": float(frame.loc[moved, "revenue_12m"].sum()),
        "revenue_share": float(frame.loc[moved, "revenue_12m"].sum() / total_rev) if total_rev else 0.0,
    }
    m = frame[moved]
    gained = m.groupby("now_t").agg(gained_accounts=("account_id", "size"), gained_revenue=("revenue_12m", "sum"))
    lost = m.groupby("was_t").agg(lost_accounts=("account_id", "size"), lost_revenue=("revenue_12m", "sum"))
    per = gained.join(lost, how="outer").fillna(0).rename_axis("territory_id").reset_index()
    return overall, per
