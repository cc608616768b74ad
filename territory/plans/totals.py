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
from scipy import sparse
from scipy.sparse import csgraph

from territory import grid, metrics
from territory.plans import rules, units
from territory.store import Connection

SUMS = metrics.NAMES
BALANCED = ("potential", "accounts", "visit_hours")  # deviation columns shown


@dataclass(frozen=True)
class Balance:
    max_deviation_pct: float  # largest |value - mean| / mean, in %
    cv: float  # coefficient of variation (std / mean)


def territory_kpis(cells: pd.DataFrame, assignments: pd.DataFrame, territories: pd.DataFrame, *,
                   offsets: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per territory: cells, the ``SUMS`` and ``dev_<metric>`` in % of the mean.

    ``offsets`` (``book.rule_offsets``) moves rule-held accounts to their rule's territory.
    """
    joined = assignments[["cell", "territory_id"]].merge(cells, on="cell", how="left").fillna(0).reindex(
        columns=["cell", "territory_id", *SUMS], fill_value=0)  # a frame without the market layer has none of it
    sums = joined.groupby("territory_id")[list(SUMS)].sum()
    if offsets is not None and len(offsets):
        sums = sums.add(offsets.set_index("territory_id")[list(SUMS)], fill_value=0)
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
    """Cells with accounts that no territory holds (the market layer's cells without accounts
    are white space on the map, not work left undone)."""
    return cells[~cells["cell"].isin(assignments["cell"]) & (cells["accounts"] > 0)]


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

    Other territories' cells block; empty space of up to ``gap`` cells does not. The same
    answer as :func:`pieces` per territory, computed for the whole plan at once as one graph:
    nodes are the assigned cells plus, per territory, each empty cell next to it; edges join a
    territory's touching cells, its cells to the empty cells beside them and (``gap`` 2) two
    touching empty cells of the same territory. Its connected components are the pieces.
    """
    if gap > 2:  # the graph covers gaps of up to two cells; beyond, walk each territory
        frame = assignments[["cell", "territory_id"]].dropna()
        every = {int(c) for c in frame["cell"]}
        return {tid: pieces(set(g["cell"].astype(int)), blocked=every - set(g["cell"].astype(int)), gap=gap)
                for tid, g in frame.groupby("territory_id")}
    cells, codes, names, labels = _piece_labels(assignments, gap)
    order = np.lexsort((labels, codes))
    bounds = np.flatnonzero(np.diff(codes[order]) | np.diff(labels[order])) + 1
    out: dict[str, list[set[int]]] = {}
    for piece in np.split(order, bounds) if len(order) else []:
        out.setdefault(names[codes[piece[0]]], []).append(set(cells[piece].astype(np.int64).tolist()))
    return {tid: sorted(ps, key=len, reverse=True) for tid, ps in out.items()}


def split_pieces(assignments: pd.DataFrame, *, gap: int = GAP) -> tuple[dict[str, int], np.ndarray]:
    """(territory -> number of pieces, the stray cells): :func:`contiguity` in numbers, without
    building a set per piece (what the live panel needs after every stroke)."""
    if gap > 2:
        parts = contiguity(assignments, gap=gap)
        return {t: len(p) for t, p in parts.items()}, np.array(stray_cells(parts), dtype=np.uint64)
    cells, codes, names, labels = _piece_labels(assignments, gap)
    if not len(cells):
        return {}, np.zeros(0, dtype=np.uint64)
    key = codes.astype(np.int64) * (int(labels.max()) + 1) + labels
    keys, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    key_code = keys // (int(labels.max()) + 1)
    per_code = np.bincount(key_code, minlength=len(names))
    # each territory's main piece: its largest (the first such, as in contiguity())
    best = np.full(len(names), -1)
    for_code = np.lexsort((np.arange(len(keys)), -counts, key_code))
    first = np.flatnonzero(np.r_[True, np.diff(key_code[for_code]) != 0])
    best[key_code[for_code[first]]] = for_code[first]
    strays = cells[inverse != best[codes]]
    return {names[c]: int(per_code[c]) for c in range(len(names)) if per_code[c]}, strays


def _piece_labels(assignments: pd.DataFrame, gap: int):
    """(sorted cells, territory code per cell, territory ids, piece label per cell)."""
    frame = assignments[["cell", "territory_id"]].dropna()
    order = np.argsort(frame["cell"].to_numpy(dtype=np.uint64))
    cells = frame["cell"].to_numpy(dtype=np.uint64)[order]
    codes, names = pd.factorize(frame["territory_id"].to_numpy()[order])
    n = len(cells)
    if n == 0:
        return cells, codes, names, np.zeros(0, dtype=np.int64)
    g = _grid_graph(cells.tobytes())
    same = codes[g.own_a] == codes[g.own_b]
    rows, cols = [g.own_a[same]], [g.own_b[same]]
    total = n
    if gap >= 1:
        # a node per (empty cell, territory beside it), keyed empty-cell rank * territories + territory
        k = len(names)
        keys = g.empty_rank * k + codes[g.beside]
        node_keys, node_of = np.unique(keys, return_inverse=True)
        rows.append(g.beside)
        cols.append(n + node_of)
        if gap == 2:
            # each territory beside empty cell e: join its node to (e's empty neighbour, territory)
            first = np.searchsorted(node_keys, g.pair_e * k)
            reps = np.searchsorted(node_keys, (g.pair_e + 1) * k) - first
            a_nodes = np.repeat(first, reps) + _ranges(reps)
            b_keys = np.repeat(g.pair_f, reps) * k + node_keys[a_nodes] % k
            b_nodes = np.minimum(np.searchsorted(node_keys, b_keys), len(node_keys) - 1)
            hit = node_keys[b_nodes] == b_keys
            rows.append(n + a_nodes[hit])
            cols.append(n + b_nodes[hit])
        total = n + len(node_keys)
    r, c = np.concatenate(rows).astype(np.int64), np.concatenate(cols).astype(np.int64)
    graph = sparse.coo_matrix((np.ones(len(r), dtype=np.int8), (r, c)), shape=(total, total))
    _, labels = csgraph.connected_components(graph, directed=False)
    return cells, codes, names, labels[:n]


@dataclass(frozen=True)
class _GridGraph:
    """The grid around a set of cells, which only changes when the set does (not per stroke)."""

    own_a: np.ndarray  # touching cells of the set: positions a, b
    own_b: np.ndarray
    beside: np.ndarray  # position of a cell of the set ...
    empty_rank: np.ndarray  # ... and the rank of an empty cell touching it
    pair_e: np.ndarray  # touching empty cells, as ranks
    pair_f: np.ndarray


@lru_cache(maxsize=4)
def _grid_graph(sorted_cells: bytes) -> _GridGraph:
    cells = np.frombuffer(sorted_cells, dtype=np.uint64)
    near = units.touching(cells)  # across resolutions: plans may mix split and whole cells
    empty = np.unique(near.empty)
    i, f = grid.neighbour_pairs(empty)
    f_rank = np.minimum(np.searchsorted(empty, f), max(len(empty) - 1, 0))
    touching = empty[f_rank] == f if len(empty) else np.zeros(0, bool)
    return _GridGraph(near.a, near.b, near.beside, np.searchsorted(empty, near.empty).astype(np.int64),
                      i[touching].astype(np.int64), f_rank[touching].astype(np.int64))


def _ranges(lengths: np.ndarray) -> np.ndarray:
    """0..len-1 for each length, concatenated: [2, 3] -> [0, 1, 0, 1, 2]."""
    ends = np.cumsum(lengths)
    return np.arange(ends[-1] if len(ends) else 0) - np.repeat(ends - lengths, lengths)


def stray_cells(parts: dict[str, list[set[int]]]) -> list[int]:
    """Cells outside each territory's largest piece: what the map highlights."""
    return [c for ps in parts.values() for p in ps[1:] for c in p]


def disruption(con: Connection, scenario_id: int, baseline_id: int) -> tuple[dict, pd.DataFrame]:
    """Accounts and revenue whose territory differs from the baseline, overall and per territory
    (rules applied on both sides).

    Per territory of the plan: ``gained`` accounts/revenue (now here, before elsewhere or
    unassigned) and ``lost`` ones (before here, now elsewhere).
    """
    select, joins, params = [], [], {}
    for side, sid in {"now": scenario_id, "was": baseline_id}.items():
        u = units.join(con, sid, side=f"{side}_c", sid=f"{side}_sid")
        joins.append(u.joins)
        params |= u.params
        if rules.has_rules(con, sid):  # most plans have none: no rule join on every stroke then
            joins.append(f"LEFT JOIN ({rules.held_sql(f'{side}_sid')}) {side}_h ON {side}_h.account_id = a.account_id")
            select.append(f"coalesce({side}_h.territory_id, {u.territory}) AS {side}_t")
        else:
            select.append(f"{u.territory} AS {side}_t")
    frame = con.execute(f"SELECT a.account_id, a.revenue_12m, {', '.join(select)} FROM accounts a {' '.join(joins)}",
                        params).df()
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
