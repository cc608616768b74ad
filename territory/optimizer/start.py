"""A first plan: centres, a capacitated assignment to them, and a repair to contiguity.

The assignment is a linear programme (Hess-Samuels) with its own costs (squared distance to a
centre, a disruption penalty) and hard-ish bounds (within half the tolerance on every
attribute): a start close enough to a good plan for the local search, not the objective itself.
"""

from __future__ import annotations

import heapq
from collections import deque

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linprog
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from territory.optimizer.model import Units
from territory.optimizer.run import BUDGET, Run

COARSEN_ABOVE = 40_000  # more units than this: the assignment works on groups of nearby units
UNITS_PER_SECOND = 2_500  # what one unit-level assignment gets through (measured: 20,800 units in 7.5 s)
COARSE_GROUPS = 6_000
GROUP_SHARE = 0.05  # most of a territory's target one group may hold


def first_plan(run: Run, centres: np.ndarray) -> np.ndarray:
    """Assignment to centres, re-centred and solved again (up to three rounds, within the
    ``starts`` phase), each made contiguous (by :func:`repair` and by :func:`regrow`); the best
    plan by the objective."""
    units, k = run.units, run.k
    weight = units.column(next(iter(run.opts.balance)))
    best_plan, best_value = None, np.inf
    for round_ in range(1 if run.opts.centres is not None else 3):
        run.say(0.05 + 0.03 * round_, "assigning units to centres")
        began = run.clock.elapsed()
        plan = assign_coarse(run, centres)
        fill_empty(plan, units.xy, centres, run.fixed, run.locked)
        repaired = repair(plan.copy(), run.adj, run.fixed, k, weight, run.locked)
        for made in (repaired, regrow(run, plan)):  # whichever strands less work (see regrow)
            p = run.partition(made)
            value = run.score(p).value(p)
            if value < best_value:
                best_plan, best_value = made, value
        plan = repaired
        centres = np.array([units.xy[plan == t].mean(axis=0) if (plan == t).any() else centres[t] for t in range(k)])
        took = run.clock.elapsed() - began
        if run.cancelled() or run.clock.elapsed() + took > BUDGET.starts * run.clock.limit:
            break  # another round would not end within the phase: leave the time to the local search
    return best_plan


def seeds(units: Units, k: int, attr: str, rng: np.random.Generator) -> list[int]:
    """Centres by recursive coordinate bisection: split the units into two groups of equal
    weight across their longer extent, in proportion to the territories each side gets, until
    there are k groups; each group's centre of weight, snapped to a unit that carries weight.
    Far-off outliers (islands) join their neighbours' group instead of getting a centre."""
    w = units.column(attr)
    w = w + 1e-9 * max(float(w.max()), 1.0)
    xy = units.xy
    out: list[int] = []
    for g in bisect(xy + rng.normal(scale=1e-6, size=xy.shape), w, np.arange(len(w)), k):
        centre = (xy[g] * w[g, None]).sum(axis=0) / w[g].sum()
        cand = g[np.argsort(((xy[g] - centre) ** 2).sum(axis=1))]
        heavy = cand[w[cand] >= np.median(w[g])]
        out.append(next(int(c) for c in (*heavy, *cand) if int(c) not in out))
    return out


def bisect(xy: np.ndarray, w: np.ndarray, idx: np.ndarray, parts: int) -> list[np.ndarray]:
    """``idx`` in ``parts`` groups of about equal weight: split across the longer extent in
    proportion to the parts each side gets, recursively."""
    if parts == 1 or len(idx) <= 1:
        return [idx]
    left = parts // 2
    pts = xy[idx]
    order = idx[np.argsort(pts[:, int(np.argmax(np.ptp(pts, axis=0)))])]
    cum = np.cumsum(w[order])
    cut = min(max(int(np.searchsorted(cum, cum[-1] * left / parts)) + 1, 1), len(order) - 1)
    return bisect(xy, w, order[:cut], left) + bisect(xy, w, order[cut:], parts - left)


def fill_empty(plan: np.ndarray, xy: np.ndarray, centres: np.ndarray, fixed: np.ndarray, locked: np.ndarray) -> None:
    """Every unlocked territory gets at least the free unit nearest its centre."""
    for t in np.flatnonzero(np.bincount(plan[plan >= 0], minlength=len(centres)) == 0):
        if locked[t]:
            continue
        sizes = np.bincount(plan[plan >= 0], minlength=len(centres))
        free = np.flatnonzero(~fixed & ((plan < 0) | (sizes[np.maximum(plan, 0)] > 1)))
        if len(free):
            plan[free[np.argmin(((xy[free] - centres[t]) ** 2).sum(axis=1))]] = t


def assign_coarse(run: Run, centres: np.ndarray) -> np.ndarray:
    """:func:`assign`, on groups of nearby units when there are many, or more than one round of
    it would take within the ``starts`` phase of the time limit (a square grid over the
    positions with about ``COARSE_GROUPS`` occupied squares): the programme stays small, the
    local search then works unit by unit."""
    units = run.units
    fits = len(units.ids) <= UNITS_PER_SECOND * BUDGET.starts * run.clock.limit  # one round within the phase
    if len(units.ids) <= COARSEN_ABOVE and fits:
        return assign(run, units, centres, run.current, run.fixed)
    xy, group = units.xy, groups(run)
    g = int(group.max()) + 1
    counts = np.bincount(group, minlength=g)
    gxy = np.column_stack([np.bincount(group, weights=xy[:, d], minlength=g) / counts for d in range(2)])
    attrs = pd.DataFrame({name: np.bincount(group, weights=units.attrs[name].to_numpy(dtype=float), minlength=g)
                          for name in units.attrs.columns})
    grouped = Units(np.arange(g), gxy, attrs, np.zeros((0, 2), dtype=np.int64))
    plan = assign(run, grouped, centres, _group_current(run, group, g), np.zeros(g, dtype=bool))[group]
    if run.current is not None:
        plan[run.fixed] = run.current[run.fixed]
    return plan


def groups(run: Run) -> np.ndarray:
    """A group per unit: a square grid with about ``COARSE_GROUPS`` occupied squares (most of a
    country's box is empty), each square quartered again while it holds more than
    ``GROUP_SHARE`` of a territory's target on a balanced attribute (a metro in one square
    would be one indivisible lump of several territories' work)."""
    units = run.units
    xy = units.xy - units.xy.min(axis=0)
    side = np.sqrt(np.ptp(xy, axis=0).prod() / COARSE_GROUPS) or 1.0
    for _ in range(12):
        keys = np.floor(xy / side).astype(np.int64)
        occupied = len(np.unique(keys[:, 0] * 1_000_003 + keys[:, 1]))
        if occupied > 2 * COARSE_GROUPS:
            side *= 1.4
        elif occupied < COARSE_GROUPS / 2:
            side /= 1.4
        else:
            break
    share = np.column_stack([units.column(a) / max(units.column(a).sum() / run.k, 1e-12) for a in run.opts.balance])
    level = np.zeros(len(xy), dtype=np.int64)  # how many times a unit's square was quartered
    for _ in range(16):
        size = side / 2.0 ** level
        keys = np.floor(xy / size[:, None]).astype(np.int64)
        _, group = np.unique(np.column_stack([level, keys]), axis=0, return_inverse=True)
        group = group.ravel()
        heavy = np.zeros(int(group.max()) + 1, dtype=bool)
        for col in share.T:
            heavy |= np.bincount(group, weights=col) > GROUP_SHARE
        heavy &= np.bincount(group) > 1
        if not heavy.any():
            break
        level[heavy[group]] += 1
    return group


def _group_current(run: Run, group: np.ndarray, g: int) -> np.ndarray | None:
    """Each group's current territory: the one holding most of its disruption weight (-1: none),
    so that the assignment's disruption cost also acts on groups."""
    if run.current is None:
        return None
    cur = run.current
    has = cur >= 0
    weight = run.units.column(run.opts.disruption_attr)[has] + 1e-9
    held = np.bincount(group[has] * run.k + cur[has], weights=weight, minlength=g * run.k).reshape(g, run.k)
    return np.where(held.sum(axis=1) > 0, held.argmax(axis=1), -1)


def assign(run: Run, units: Units, centres: np.ndarray, current: np.ndarray | None, fixed: np.ndarray,
           nearest: int = 5) -> np.ndarray:
    """Capacitated assignment to centres as one linear programme (Hess-Samuels): each free unit
    to one of its nearest unlocked centres, minimising squared distance (and, with a current
    plan and a disruption weight, changes of territory), every territory within half the
    tolerance of the target on every attribute, counting the fixed units it already has (soft:
    a penalised slack keeps it feasible). Few units end up split; each goes to its larger share."""
    opts, locked = run.opts, run.locked
    plan = np.where(fixed, current if current is not None else -1, -1).astype(np.int64)
    free = np.flatnonzero(~fixed)
    open_t = np.flatnonzero(~locked)
    if len(free) == 0 or len(open_t) == 0:
        return plan
    f, k = len(free), len(open_t)
    m = min(nearest, k)
    dist, near = cKDTree(centres[open_t]).query(units.xy[free], k=m)
    dist, near = dist.reshape(f, m), near.reshape(f, m)  # near: index into open_t
    scale = max(float(np.median(dist[:, 0]) ** 2), 1e-9)
    if current is not None and opts.disruption_weight > 0:
        # a unit may always stay where it is, also when its territory's centre is not among the nearest
        where = np.full(len(locked), -1)
        where[open_t] = np.arange(k)
        own = where[np.clip(np.asarray(current)[free], 0, len(locked) - 1)]
        stays = (np.asarray(current)[free] >= 0) & (own >= 0)
        origin = run.origin if run.origin is not None and len(run.origin) == len(locked) else np.arange(len(locked))
        stays &= origin[np.clip(np.asarray(current)[free], 0, len(locked) - 1)] == np.clip(np.asarray(current)[free], 0, None)
        own = np.where(stays, own, near[:, 0])
        near = np.column_stack([near, own])
        dist = np.column_stack([dist, np.linalg.norm(units.xy[free] - centres[open_t[own]], axis=1)])
        m += 1
    cost = (dist ** 2 / scale).ravel()
    if current is not None and opts.disruption_weight > 0:
        dis = units.column(opts.disruption_attr)
        penalty = opts.disruption_weight * 50 * dis[free] / max(dis.mean(), 1e-12)
        # a unit changes hands unless it goes to a territory working its area (one whose rep moved in counts)
        cost = cost + (penalty[:, None] * (origin[open_t[near]] != np.asarray(current)[free][:, None])).ravel()
    cols = np.arange(f * m)
    a_eq = sparse.csr_matrix((np.ones(f * m), (np.repeat(np.arange(f), m), cols)), shape=(f, f * m))
    ub_rows, ub_vals, b_ub = [], [], []
    r = 0
    for name, tol in opts.balance.items():
        w = units.attrs[name].to_numpy(dtype=float)
        base = np.bincount(plan[fixed], weights=w[fixed], minlength=len(locked)) if fixed.any() else np.zeros(len(locked))
        target = (w.sum() - base[locked].sum()) / k
        wv = np.repeat(w[free], m)
        for sign, bound in ((1, target * (1 + tol / 2) - base[open_t]), (-1, -(target * (1 - tol / 2) - base[open_t]))):
            ub_rows.append(near.ravel() + r)
            ub_vals.append(sign * wv)
            b_ub.extend(bound.tolist())
            r += k
    ub = sparse.csr_matrix((np.concatenate(ub_vals), (np.concatenate(ub_rows), np.tile(cols, len(ub_rows)))), shape=(r, f * m))
    a_ub = sparse.hstack([ub, -sparse.identity(r, format="csr")], format="csr")
    a_eq = sparse.hstack([a_eq, sparse.csr_matrix((f, r))], format="csr")
    big = 1e4 * f / np.maximum(np.abs(np.array(b_ub, dtype=float)), 1e-12)  # a broken bound costs far more than distance
    res = linprog(np.concatenate([cost, big]), A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=np.ones(f), bounds=(0, None),
                  method="highs-ipm")
    choice = near[:, 0] if res.status != 0 else near[np.arange(f), res.x[: f * m].reshape(f, m).argmax(axis=1)]
    plan[free] = open_t[choice]
    return plan


def repair(plan: np.ndarray, adj, fixed: np.ndarray, k: int, weight: np.ndarray, locked: np.ndarray) -> np.ndarray:
    """Every unit assigned and every territory in one piece (where the graph allows).

    A territory keeps its heaviest piece; each other piece joins the lightest territory it
    touches, so the repair costs as little balance as it can.
    """
    # unassigned units join a neighbouring territory, breadth first (a locked one only if no other reaches them)
    for sources in (plan >= 0) & ~locked[np.maximum(plan, 0)], plan >= 0:
        queue = deque(np.flatnonzero(sources).tolist())
        while queue:
            i = queue.popleft()
            for j in adj[i]:
                if plan[j] < 0:
                    plan[j] = plan[i]
                    queue.append(j)
    plan[plan < 0] = 0  # units with no path to any territory (not in a connected graph)
    w = weight + 1e-9 * max(float(weight.max()), 1.0) if len(weight) else weight
    ends = edge_arrays(adj)
    for _ in range(20):
        labels = pieces(plan, *ends)
        load = np.bincount(plan, weights=w, minlength=k)
        changed = False
        gained: set[int] = set()  # their pieces are known again on the next round only
        for t in range(k):
            own = np.flatnonzero(plan == t)
            if len(own) == 0 or t in gained:
                continue
            mass = pd.Series(w[own]).groupby(labels[own]).sum().sort_values(ascending=False)
            for lab in mass.index[1:]:
                piece = own[labels[own] == lab]
                if fixed[piece].any():
                    continue
                border = {int(plan[j]) for i in piece for j in adj[i] if plan[j] != t and not locked[plan[j]]}
                if border:
                    to = min(border, key=lambda b: load[b])
                    plan[piece] = to
                    moved = w[piece].sum()
                    load[t] -= moved
                    load[to] += moved
                    gained.add(to)
                    changed = True
        if not changed:
            break
    return plan


def regrow(run: Run, plan: np.ndarray) -> np.ndarray:
    """Every territory in one piece, grown back to balance: each keeps its heaviest piece (and
    its fixed units); every other unit is handed out again, the lightest territory first taking
    the free unit next to it nearest its centre, until none is left.

    An assignment to centres is contiguous in the plane, not always on the graph (islands joined
    by one link, a coast): the units it strands are shared among the territories around them by
    balance, where moving each stranded piece whole would overload one of them."""
    units, k, adj = run.units, run.k, run.adj
    load = sum(units.column(a) / max(units.column(a).sum() / k, 1e-12) for a in run.opts.balance)
    load = load + 1e-9
    plan = plan.copy()
    labels = pieces(np.where(plan < 0, k + np.arange(len(plan)), plan), *edge_arrays(adj))
    held = pd.Series(load).groupby([plan, labels]).sum()
    main = held[held.index.get_level_values(0) >= 0].groupby(level=0).idxmax()
    keep = np.zeros(len(plan), dtype=bool)
    for t, lab in main.tolist():
        keep |= (plan == t) & (labels == lab)
    plan[~keep & ~run.fixed] = -1
    sums = np.bincount(plan[plan >= 0], weights=load[plan >= 0], minlength=k)
    cx = np.bincount(plan[plan >= 0], weights=units.xy[plan >= 0, 0], minlength=k)
    cy = np.bincount(plan[plan >= 0], weights=units.xy[plan >= 0, 1], minlength=k)
    cnt = np.maximum(np.bincount(plan[plan >= 0], minlength=k), 1)
    centre = np.column_stack([cx / cnt, cy / cnt])
    front: list[list] = [[] for _ in range(k)]
    for i in np.flatnonzero(plan >= 0).tolist():
        t = int(plan[i])
        if run.locked[t]:
            continue
        for j in adj[i]:
            if plan[j] < 0:
                front[t].append((float(((units.xy[j] - centre[t]) ** 2).sum()), j))
    for f in front:
        heapq.heapify(f)
    turn = [(sums[t], t) for t in range(k) if front[t]]
    heapq.heapify(turn)
    while turn:
        _, t = heapq.heappop(turn)
        f = front[t]
        while f and plan[f[0][1]] >= 0:
            heapq.heappop(f)
        if not f:
            continue
        _, i = heapq.heappop(f)
        plan[i] = t
        sums[t] += load[i]
        for j in adj[i]:
            if plan[j] < 0:
                heapq.heappush(f, (float(((units.xy[j] - centre[t]) ** 2).sum()), j))
        heapq.heappush(turn, (sums[t], t))
    return repair(plan, adj, run.fixed, k, load, run.locked)  # what no territory reaches, and fixed units' pieces


def pieces(plan: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A component label per unit over the edges (a, b) inside territories."""
    n = len(plan)
    inside = plan[a] == plan[b]
    g = sparse.coo_matrix((np.ones(int(inside.sum()), dtype=np.int8), (a[inside], b[inside])), shape=(n, n))
    return csgraph.connected_components(g, directed=False)[1]


def edge_arrays(adj) -> tuple[np.ndarray, np.ndarray]:
    """Both ends of every edge, in both directions."""
    a = np.array([i for i, nb in enumerate(adj) for _ in nb], dtype=np.int64)
    b = np.array([j for nb in adj for j in nb], dtype=np.int64)
    return a, b
