"""The last steps to the tolerance: one exact exchange of units across borders.

The local search moves one unit at a time and takes a move only when it improves the plan;
near the tolerance, on two or three attributes, what is left often needs several moves at once
(a territory over on one attribute and under on another gives units heavy in the first to
one neighbour and takes units heavy in the second from another, and each passes some on).
:func:`exchange` chooses such a set of moves exactly, as one small mixed-integer programme
(HiGHS): around the territories off the tolerance, every unit up to ``DEPTH`` units from a
border may move across it, a unit deeper only with the one before it on its path to the border
(so what moves is connected to where it goes), every territory within ``share`` of the
tolerance (a penalised slack keeps the programme feasible), at the least cost in moves,
compactness and disruption. Units whose removal alone would cut their territory in two never
move; the moves are made leaves first, each only while its territory stays in one piece. Some
chosen moves cannot be made together (they would cut a territory), so the programme is solved
again on the plan they leave, up to ``SOLVES`` times.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from territory.optimizer.objective import Partition
from territory.optimizer.run import Run
from territory.optimizer.start import edge_arrays, pieces

DEPTH = 4  # how many units deep from a border a move may reach
HOPS = 1  # the territories in the programme: those off the tolerance and up to this many borders from them
SHARE = 0.95  # of the tolerance, the bound every territory is brought within (the local search then aims inside)
SOLVES = 3  # programmes one exchange may solve, each on the plan the one before left
SLACK = 1e3  # cost of one target of balance beyond the bound, against about 0.01 per unit moved
GAP = 0.5  # the solver stops within this share of the least possible cost: meeting the bounds is what counts


def exchange(run: Run, p: Partition, seconds: float, share: float = SHARE) -> int:
    """Move the units the programme chooses (see the module's docstring), solving it again on
    the plan it leaves (some chosen moves cannot be made: together they would cut a territory)
    up to ``SOLVES`` times while a territory is off and the ``seconds`` last; returns how many
    units moved."""
    until = run.clock.elapsed() + seconds
    moved = 0
    for solves_left in range(SOLVES, 0, -1):
        left = until - run.clock.elapsed()
        if left <= 0.5 or run.cancelled():
            break
        step = _once(run, p, left / solves_left, share)
        moved += step
        if not step:
            break
    return moved


def _once(run: Run, p: Partition, seconds: float, share: float) -> int:
    objective = run.score(p)
    target, tol = np.array(objective.target), np.array(objective.tol)
    sums = np.array(p.sums) / target
    live = objective.active & ~run.locked & (np.array(p.cnt) > 0)
    off = live & (np.abs(sums - 1) > tol * share).any(axis=1)
    if not off.any():
        return 0
    ends = edge_arrays(p.adj)
    region = _around(p, ends, off, live)
    cand, a, b, parent = _candidates(run, p, region)
    if not len(cand):
        return 0
    x = _solve(run, p, region, sums, target, tol * share, cand, a, b, parent, seconds)
    return 0 if x is None else _apply(p, ends, cand, a, b, parent, x)


def _around(p: Partition, ends: tuple[np.ndarray, np.ndarray], start: np.ndarray, live: np.ndarray) -> np.ndarray:
    """The territories up to ``HOPS`` borders from ``start`` (bool per territory)."""
    plan = p.plan
    ea, eb = ends
    cross = (plan[ea] != plan[eb]) & (plan[ea] >= 0) & (plan[eb] >= 0)
    pairs = np.unique(np.column_stack([plan[ea][cross], plan[eb][cross]]), axis=0)
    region = start.copy()
    for _ in range(HOPS):
        reached = np.zeros_like(region)
        reached[pairs[region[pairs[:, 0]], 1]] = True
        region |= reached & live
    return region


def _candidates(run: Run, p: Partition, region: np.ndarray):
    """Per move that may be chosen: the unit, from, to, and the candidate before it on its
    path to the border (-1: on the border), in breadth-first order per border."""
    plan, adj = p.plan, p.adj
    inside = region[np.maximum(plan, 0)] & (plan >= 0)
    cut = articulation(plan, adj, inside)
    still = run.fixed | cut
    moves: list[tuple[int, int, int, int]] = []  # unit, from, to, the move before it (-1: none)
    members: dict[int, list[int]] = {}
    for i in np.flatnonzero(inside).tolist():
        members.setdefault(int(plan[i]), []).append(i)
    for t, own in members.items():
        fronts: dict[int, list[int]] = {}
        for i in own:
            if still[i]:
                continue
            for u in {int(plan[j]) for j in adj[i]} - {t}:
                if u >= 0 and region[u]:
                    fronts.setdefault(u, []).append(i)
        for u, level in fronts.items():
            seen = {}
            for i in level:
                seen[i] = len(moves)
                moves.append((i, t, u, -1))
            for _ in range(DEPTH - 1):
                nxt = []
                for i in level:
                    for j in adj[i]:
                        if plan[j] == t and j not in seen and not still[j]:
                            seen[j] = len(moves)
                            moves.append((j, t, u, seen[i]))
                            nxt.append(j)
                level = nxt
    table = np.array(moves, dtype=np.int64).reshape(-1, 4)
    return table[:, 0], table[:, 1], table[:, 2], table[:, 3]


def _solve(run: Run, p: Partition, region: np.ndarray, sums: np.ndarray, target: np.ndarray, bound: np.ndarray,
           cand: np.ndarray, a: np.ndarray, b: np.ndarray, parent: np.ndarray, seconds: float) -> np.ndarray | None:
    objective = run.score(p)
    n, m = len(cand), len(target)
    terr = np.flatnonzero(region)
    row = np.full(p.k, -1)
    row[terr] = np.arange(len(terr))
    r = len(terr) * m  # balance rows: territory x attribute
    vals = p.vals[cand] / target
    # the balance: sums + in - out - up + down within 1 +- bound (up/down: slack)
    rows = np.concatenate([row[b] * m + x for x in range(m)] + [row[a] * m + x for x in range(m)]
                          + [np.arange(r), np.arange(r)])
    cols = np.concatenate([np.arange(n)] * (2 * m) + [n + np.arange(r), n + r + np.arange(r)])
    coef = np.concatenate([vals[:, x] for x in range(m)] + [-vals[:, x] for x in range(m)]
                          + [-np.ones(r), np.ones(r)])
    width = n + 2 * r
    balance = sparse.csr_matrix((coef, (rows, cols)), shape=(r, width))
    now = sums[terr].reshape(-1)
    bounds = np.tile(bound, len(terr))
    once_units, once_row = np.unique(cand, return_inverse=True)  # each unit moves once at most
    once = sparse.csr_matrix((np.ones(n), (once_row, np.arange(n))), shape=(len(once_units), width))
    deep = np.flatnonzero(parent >= 0)  # a unit deeper than the border moves only with the one before it
    after = sparse.csr_matrix((np.r_[np.ones(len(deep)), -np.ones(len(deep))],
                               (np.r_[np.arange(len(deep)), np.arange(len(deep))], np.r_[deep, parent[deep]])),
                              shape=(len(deep), width))
    # cost per move: a little per unit, more as it lies further from where it goes than from where it is
    cx, cy = np.array(p.sx) / np.maximum(p.cnt, 1), np.array(p.sy) / np.maximum(p.cnt, 1)
    xy = run.units.xy[cand]
    farther = ((xy[:, 0] - cx[b]) ** 2 + (xy[:, 1] - cy[b]) ** 2) - ((xy[:, 0] - cx[a]) ** 2 + (xy[:, 1] - cy[a]) ** 2)
    move = 0.01 * (1 + np.clip(farther / (np.median(np.abs(farther)) + 1e-9), -0.9, 10))
    dis = np.asarray(objective.dis)[cand]
    if dis.any():
        cur = np.asarray(objective.cur)[cand]
        move = move + 0.01 * dis * ((cur == a).astype(float) - (cur == b)) / max(float(dis[dis > 0].mean()), 1e-12)
    cost = np.concatenate([np.maximum(move, 1e-4), np.full(2 * r, SLACK)])
    res = milp(cost, integrality=np.r_[np.ones(n), np.zeros(2 * r)],
               bounds=Bounds(0, np.r_[np.ones(n), np.full(2 * r, np.inf)]),
               constraints=[LinearConstraint(balance, 1 - bounds - now, 1 + bounds - now),
                            LinearConstraint(once, 0, 1), LinearConstraint(after, -np.inf, 0)],
               options={"time_limit": seconds, "mip_rel_gap": GAP})
    if res.x is None:
        return None
    return res.x[:n] > 0.5


def _apply(p: Partition, ends: tuple[np.ndarray, np.ndarray], cand: np.ndarray, a: np.ndarray, b: np.ndarray, parent: np.ndarray,
           chosen: np.ndarray) -> int:
    """The chosen moves, leaves first, each while its territory stays in one piece; a move
    that cannot be made takes back the moves beyond it on its path (they would stand apart).
    Moves made together can still leave a piece apart (a unit joins a neighbour whose unit
    beside it left in the same exchange): such pieces go back where they were, and if that
    does not mend every territory, the whole exchange is undone."""
    plan = p.plan
    before = plan.copy()
    made = np.zeros(len(cand), dtype=bool)
    below: dict[int, list[int]] = {}
    for c in np.flatnonzero(chosen & (parent >= 0)).tolist():
        below.setdefault(int(parent[c]), []).append(c)
    for c in np.flatnonzero(chosen)[::-1].tolist():  # breadth-first order per border: deepest first
        i, t = int(cand[c]), int(a[c])
        if plan[i] == t and p.cnt[t] > 1 and p.stays_connected(i, t):
            p.move(i, int(b[c]))
            made[c] = True
            continue
        todo = list(below.get(c, ()))
        while todo:  # back where they were, nearest first: each touches the one before it
            d = todo.pop(0)
            if made[d]:
                p.move(int(cand[d]), int(a[d]))
                made[d] = False
            todo.extend(below.get(d, ()))
    touched = np.unique(np.r_[a[made], b[made]])
    for _ in range(3):
        apart = _apart(plan, ends, touched)
        if not apart.any():
            return int((plan != before).sum())  # what moved and stayed moved
        for i in np.flatnonzero(apart & (plan != before)).tolist():
            p.move(i, int(before[i]))
    for i in np.flatnonzero(plan != before).tolist():  # still apart: as it was
        p.move(i, int(before[i]))
    return 0


def _apart(plan: np.ndarray, ends: tuple[np.ndarray, np.ndarray], touched: np.ndarray) -> np.ndarray:
    """Units of the ``touched`` territories outside their territory's largest piece."""
    out = np.zeros(len(plan), dtype=bool)
    mine = np.isin(plan, touched)
    if not mine.any():
        return out
    labels = pieces(plan, *ends)
    size = np.bincount(labels[mine], minlength=int(labels.max()) + 1)
    frame = np.lexsort((-size[labels[mine]], plan[mine]))  # per territory, its largest piece first
    units = np.flatnonzero(mine)[frame]
    first = np.r_[True, plan[units][1:] != plan[units][:-1]]
    main = np.repeat(labels[units][first], np.diff(np.r_[np.flatnonzero(first), len(units)]))
    out[units] = labels[units] != main
    return out


def articulation(plan: np.ndarray, adj: list[list[int]], inside: np.ndarray) -> np.ndarray:
    """Units whose removal alone would cut their territory in two (articulation points of each
    territory's graph, iterative Tarjan), among the units ``inside``."""
    n = len(plan)
    disc, low = [-1] * n, [0] * n
    out = np.zeros(n, dtype=bool)
    plan = plan.tolist()
    clock = 0
    for root in np.flatnonzero(inside).tolist():
        if disc[root] >= 0:
            continue
        t = plan[root]
        disc[root] = low[root] = clock
        clock += 1
        stack = [(root, -1, iter(adj[root]))]
        children = 0
        while stack:
            v, up, it = stack[-1]
            for w in it:
                if plan[w] != t:
                    continue
                if disc[w] < 0:
                    disc[w] = low[w] = clock
                    clock += 1
                    stack.append((w, v, iter(adj[w])))
                    break
                if w != up:
                    low[v] = min(low[v], disc[w])
            else:
                stack.pop()
                if up >= 0:
                    low[up] = min(low[up], low[v])
                    if up == root:
                        children += 1
                    elif low[v] >= disc[up]:
                        out[up] = True
        out[root] = children > 1
    return out
