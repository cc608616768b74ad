"""A plan's units: H3 cells of mixed resolution (adaptive units).

A plan covers a set of *base* cells at its ``resolution``; any of them may be split into its
children, recursively down to the plan's ``finest_resolution``, so a dense metro can be split
between reps while the countryside stays coarse. Two rules make every roll-up exact:

- a cell and one of its descendants never both belong to a plan;
- a split replaces a cell by *all* its children (H3's logical hierarchy), and a merge puts the
  parent back only when all of them are in the plan with one territory.

An account belongs to the plan cell that is an ancestor of its fine cell (bit arithmetic, see
``grid.parent_sql``); one hash join per resolution the plan uses. Where no plan cell holds an
account, its unit is its base cell (which, by the rules above, no plan cell overlaps). So
totals are equal at every split level: a parent's accounts are exactly its children's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import h3
import numpy as np
import pandas as pd

from territory import grid, settings, store
from territory.errors import EditRefused, NotFoundError
from territory.grid import parents, res_of
from territory.store import Connection

SPLIT_SHARE = 0.02  # a unit heavier than this share of a territory's target is split (adaptive units)
FINEST_STEPS = 3  # by default a plan may split its cells three levels down (res 5 -> 8)


def children(cell: int) -> list[int]:
    """The cell's children one resolution finer (7, or 6 for a pentagon)."""
    s = h3.int_to_str(int(cell))
    return [h3.str_to_int(c) for c in h3.cell_to_children(s, h3.get_resolution(s) + 1)]


def default_finest(resolution: int) -> int:
    return min(resolution + FINEST_STEPS, max(settings.PLAN_RESOLUTIONS))


def finest(con: Connection, scenario_id: int) -> int:
    """The finest resolution the plan's cells may be split to."""
    rows = con.execute("SELECT resolution, finest_resolution FROM scenarios WHERE scenario_id = ?",
                       [scenario_id]).fetchall()
    if not rows:
        raise NotFoundError(f"no scenario with id {scenario_id}")
    return int(rows[0][1] if rows[0][1] is not None else default_finest(rows[0][0]))


def resolutions(con: Connection, scenario_id: int) -> list[int]:
    """The resolutions of the plan's cells, coarsest first (its base resolution when it has none)."""
    rows = con.execute("SELECT DISTINCT ((cell >> 52) & 15)::INTEGER FROM cell_assignments WHERE scenario_id = ?"
                       " UNION SELECT resolution FROM scenarios WHERE scenario_id = ?",
                       [scenario_id, scenario_id]).fetchall()
    return sorted(int(r[0]) for r in rows)


@dataclass(frozen=True)
class Join:
    """SQL that finds each account's plan cell: ``joins`` (LEFT JOINs on ``cell_assignments``),
    ``cell`` (the unit: the plan cell, else the account's base cell), ``territory`` (the cell's
    territory or NULL) and the named parameters to bind."""

    joins: str
    cell: str
    territory: str
    params: dict


def join(con: Connection, scenario_id: int, column: str = "a.cell", *, side: str = "u", sid: str = "sid") -> Join:
    """The :class:`Join` of plan ``scenario_id`` for the fine cell in ``column``; ``side`` names
    the aliases (two plans in one query need two sides) and ``sid`` the plan's parameter."""
    base = store.value(con, "SELECT resolution FROM scenarios WHERE scenario_id = ?", [scenario_id])
    if base is None:
        raise NotFoundError(f"no scenario with id {scenario_id}")
    joins, params = [], {sid: scenario_id}
    levels = resolutions(con, scenario_id)  # the base resolution is always one of them
    for r in levels:
        alias = f"{side}{r}"
        joins.append(f" LEFT JOIN cell_assignments {alias} ON {alias}.scenario_id = ${sid}"
                     f" AND {alias}.cell = {grid.parent_sql(column, alias)}")
        params |= grid.parent_params(r, alias)
    cells = ", ".join(f"{side}{r}.cell" for r in levels)
    terr = ", ".join(f"{side}{r}.territory_id" for r in levels)
    fallback = grid.parent_sql(column, f"{side}{int(base)}")
    return Join("".join(joins), f"coalesce({cells}, {fallback})",
                f"coalesce({terr})" if len(levels) > 1 else terr, params)


def finer(cells, base: int) -> np.ndarray:
    """The plan cells finer than its base resolution, sorted: what its units depend on (a
    plan's units change only when these do, not when a whole base cell is painted)."""
    arr = np.asarray(cells, dtype=np.uint64)
    return np.sort(arr[res_of(arr) > base])


def compose(split: np.ndarray, aggregate: Callable[[int], pd.DataFrame], base: int) -> pd.DataFrame:
    """Cell metrics per plan unit from per-resolution roll-ups (``aggregate(res)``, e.g. a cached
    ``grid.aggregate_cells``), given the plan's cells finer than ``base`` (:func:`finer`): each
    of those at its resolution, and every other base cell with accounts (whole in the plan, or
    outside it). The same units as :func:`join`, without SQL."""
    split = np.asarray(split, dtype=np.uint64)
    levels = res_of(split)
    frame = aggregate(base)
    parts = [frame[~frame["cell"].astype(np.uint64).isin(np.unique(parents(split, base)))]]
    for r in np.unique(levels):
        frame = aggregate(int(r))
        parts.append(frame[frame["cell"].astype(np.uint64).isin(split[levels == r])])
    return pd.concat(parts, ignore_index=True)


@dataclass(frozen=True)
class Touching:
    """How a sorted set of mixed-resolution cells touch: pairs of positions ``a``-``b`` (each
    pair once) and, per cell position ``beside``, an ``empty`` cell next to it (a cell no plan
    cell overlaps, at the set's coarsest resolution)."""

    a: np.ndarray
    b: np.ndarray
    beside: np.ndarray
    empty: np.ndarray


def touching(cells: np.ndarray) -> Touching:
    """Neighbours across resolutions. Each cell's ring at its own resolution is mapped to the
    set's cell that is its ancestor-or-self; a ring cell that only has descendants in the set is
    found from their side (edges are symmetric); one with neither is empty space."""
    cells = np.asarray(cells, dtype=np.uint64)
    n = len(cells)
    if n == 0:
        z = np.zeros(0, dtype=np.int64)
        return Touching(z, z, z, np.zeros(0, dtype=np.uint64))
    src, nb = grid.neighbour_pairs(cells)
    levels = res_of(cells)
    owner = np.full(len(nb), -1, dtype=np.int64)
    nb_res = levels[src]
    for q in np.unique(levels):
        ok = nb_res >= q
        cand = parents(nb[ok], int(q))
        pos = np.minimum(np.searchsorted(cells, cand), n - 1)
        hit = cells[pos] == cand
        idx = np.flatnonzero(ok)[hit]
        owner[idx] = pos[hit]
    found = owner >= 0
    a, b = np.minimum(src[found], owner[found]), np.maximum(src[found], owner[found])
    pairs = np.unique(np.column_stack([a, b]), axis=0) if len(a) else np.zeros((0, 2), dtype=np.int64)
    coarse = int(levels.min())
    rest = np.flatnonzero(~found)
    up = parents(nb[rest], coarse)
    covered = np.unique(parents(cells, coarse))
    empty = ~np.isin(up, covered)
    beside, space = src[rest][empty], up[empty]
    if len(beside):
        uniq = np.unique(np.column_stack([beside.astype(np.uint64), space]), axis=0)
        beside, space = uniq[:, 0].astype(np.int64), uniq[:, 1]
    return Touching(pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64), beside.astype(np.int64), space)


def finest_cover(*cell_sets) -> np.ndarray:
    """The common refinement of several plans' cells: every cell of any of them that has no
    finer cell of another inside it (to compare plans whose cells were split differently)."""
    cells = np.unique(np.concatenate([np.asarray(c, dtype=np.uint64) for c in cell_sets]))
    levels = res_of(cells)
    coarse = np.zeros(len(cells), dtype=bool)
    for r in np.unique(levels):
        finer = levels > r
        coarse[levels == r] = np.isin(cells[levels == r], parents(cells[finer], int(r))) if finer.any() else False
    return cells[~coarse]


def owner(cells, plan_cells, territories) -> np.ndarray:
    """For each of ``cells``, the territory of the plan cell that is its ancestor or itself
    (None where there is none): a plan read at a finer resolution than its own."""
    cells = np.asarray(cells, dtype=np.uint64)
    plan_cells = np.asarray(plan_cells, dtype=np.uint64)
    order = np.argsort(plan_cells)
    plan_cells, territories = plan_cells[order], np.asarray(territories, dtype=object)[order]
    out = np.full(len(cells), None, dtype=object)
    if not len(plan_cells):
        return out
    levels = res_of(cells)
    for r in np.unique(res_of(plan_cells)):
        ok = levels >= r
        up = parents(cells[ok], int(r))
        pos = np.minimum(np.searchsorted(plan_cells, up), len(plan_cells) - 1)
        hit = plan_cells[pos] == up
        idx = np.flatnonzero(ok)[hit]
        out[idx] = territories[pos[hit]]
    return out


def unit_at(lat: float, lng: float, plan_cells: Iterable[int], base: int) -> int:
    """The plan cell under a point (the ancestor of the point's fine cell), else its base cell."""
    fine = np.array([h3.str_to_int(h3.latlng_to_cell(float(lat), float(lng), settings.FINE_RES))], dtype=np.uint64)
    have = np.asarray(sorted({int(c) for c in plan_cells}), dtype=np.uint64)
    for r in sorted(set(res_of(have).tolist()), reverse=True):
        p = parents(fine, r)
        if np.isin(p, have).any():
            return int(p[0])
    return int(parents(fine, base)[0])


def overlapping(query, universe) -> list[int]:
    """The cells of ``universe`` that overlap any cell of ``query`` (are its ancestor, itself or
    a descendant): what a brush, a drawn shape or a state selection covers on a mixed plan."""
    q = np.unique(np.asarray(list(query), dtype=np.uint64))
    u = np.unique(np.asarray(list(universe), dtype=np.uint64))
    if not len(q) or not len(u):
        return []
    q_res, u_res = res_of(q), res_of(u)
    out = []
    for r in np.unique(u_res):
        mine = u[u_res == r]
        finer = q[q_res >= r]
        if len(finer):
            out.append(mine[np.isin(mine, parents(finer, int(r)))])
        for s in np.unique(q_res[q_res < r]):
            out.append(mine[np.isin(parents(mine, int(s)), q[q_res == s])])
    return sorted(int(c) for c in np.unique(np.concatenate(out))) if out else []


# -- splitting and merging ------------------------------------------------------------------

def split_changes(assignments: pd.DataFrame, cells: Iterable[int], finest_res: int) -> tuple[list[int], list]:
    """(cells, territories) that split ``cells`` into their children with the same territory:
    the parent leaves the plan (None) and every child joins it. Refuses locked cells and cells
    already at the plan's finest resolution."""
    now = assignments.set_index(assignments["cell"].astype(np.int64))
    out_cells: list[int] = []
    out_terr: list = []
    for cell in sorted({int(c) for c in cells}):
        if cell not in now.index:
            raise EditRefused("only a cell of the plan can be split; paint it first")
        if bool(now.at[cell, "locked"]) if "locked" in now else False:
            raise EditRefused("refused: this cell is locked; unlock it first")
        if int(res_of([cell])[0]) >= finest_res:
            raise EditRefused(f"this cell is at the plan's finest resolution ({finest_res}) already")
        territory = now.at[cell, "territory_id"]
        out_cells.append(cell)
        out_terr.append(None)
        for child in children(cell):
            out_cells.append(child)
            out_terr.append(territory)
    return out_cells, out_terr


def merge_changes(assignments: pd.DataFrame, cell: int, base: int) -> tuple[list[int], list]:
    """(cells, territories) that merge ``cell`` and its siblings back into their parent, refused
    (with the reason) unless every sibling is in the plan, unsplit, unlocked and of one territory."""
    cell = int(cell)
    level = int(res_of([cell])[0])
    if level <= base:
        raise EditRefused("this cell is at the plan's base resolution: there is nothing to merge it into")
    parent = int(parents([cell], level - 1)[0])
    kids = children(parent)
    now = assignments.set_index(assignments["cell"].astype(np.int64))
    missing = [k for k in kids if k not in now.index]
    if missing:
        raise EditRefused("merge needs all the parent's cells in the plan unsplit; merge the split ones first")
    terr = set(now.loc[kids, "territory_id"])
    if len(terr) > 1:
        raise EditRefused("these cells belong to different territories; paint them one territory first")
    if "locked" in now and now.loc[kids, "locked"].fillna(False).any():
        raise EditRefused("refused: one of these cells is locked; unlock it first")
    return [parent, *kids], [terr.pop(), *([None] * len(kids))]


def adapt(assignments: pd.DataFrame, aggregate: Callable[[int], pd.DataFrame], limits: dict[str, float],
          finest_res: int, *, locked: Iterable[int] = ()) -> pd.DataFrame:
    """The plan's (cell, territory_id) with every unit heavier than ``limits`` (per metric: the
    most a unit may hold) split into its children, recursively to ``finest_res``; locked cells
    stay whole. Units come from ``aggregate(res)`` (cell metrics per resolution)."""
    keep = set(int(c) for c in locked)
    current = assignments[["cell", "territory_id"]].assign(cell=assignments["cell"].astype(np.int64))
    while True:
        levels = res_of(current["cell"])
        heavy_parts = []
        for r in np.unique(levels):
            if r >= finest_res:
                continue
            frame = aggregate(int(r))
            over = np.zeros(len(frame), dtype=bool)
            for metric, limit in limits.items():
                over |= frame[metric].to_numpy() > limit
            heavy_parts.append(frame.loc[over, "cell"].astype(np.int64).to_numpy())
        heavy = np.concatenate(heavy_parts) if heavy_parts else np.zeros(0, dtype=np.int64)
        mask = current["cell"].isin(heavy) & ~current["cell"].isin(keep)
        if not mask.any():
            return current.reset_index(drop=True)
        split = current[mask]
        kids = [(child, t) for c, t in zip(split["cell"], split["territory_id"]) for child in children(int(c))]
        current = pd.concat([current[~mask], pd.DataFrame(kids, columns=["cell", "territory_id"])], ignore_index=True)


def violations(cells) -> np.ndarray:
    """Cells that have an ancestor in the same set (a plan must have none)."""
    arr = np.unique(np.asarray(list(cells), dtype=np.uint64))
    levels = res_of(arr)
    bad = np.zeros(len(arr), dtype=bool)
    for q in np.unique(levels):
        finer = levels > q
        bad[finer] |= np.isin(parents(arr[finer], int(q)), arr[levels == q])
    return arr[bad]
