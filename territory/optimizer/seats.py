"""Where today's territories' reps should work: seats per area, and the first plan that follows.

A plan whose heaviest territories hold several targets' worth (a dense metro) and border other
heavy ones cannot be balanced by moving borders alone: the excess would be passed on from
territory to territory, and much of the map would change hands. A manager would instead move
a few reps: the lightest territories, whose neighbours can take their accounts, hand their
book over and their reps go where the work is; every other territory keeps its core.

:func:`seats` decides that exactly, on the territory graph: one small mixed-integer programme
chooses how many reps each area gets and how much load crosses each border, at the least load
changing hands. :func:`first_plan` applies it to today's plan (made contiguous): handed-over
areas are grown into by their neighbours, flows move border units, and an area of several reps
is bisected (the part nearest its centre keeps its territory, the others go to the relocated
territories and to new ones when the run asks for more territories).
"""

from __future__ import annotations

import heapq

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from territory.optimizer.run import Run
from territory.optimizer.search import shift


def loads(run: Run, cur: np.ndarray) -> np.ndarray:
    """Each territory's load in ``cur`` (what rules hold there included): per balanced
    attribute its share of a target, averaged."""
    has = cur >= 0
    totals = [run.units.column(n).sum() + run.held[:, i].sum() for i, n in enumerate(run.opts.balance)]
    extra = sum(run.held[:, i] / max(t, 1e-12) for i, t in enumerate(totals)) * run.k / len(totals)
    return np.bincount(cur[has], weights=unit_loads(run)[has], minlength=run.k) + extra


def neighbours(run: Run, cur: np.ndarray) -> list[set[int]]:
    """The territories of ``cur`` that share a border."""
    k = run.k
    e = run.units.edges
    a, b = cur[e[:, 0]], cur[e[:, 1]]
    keep = (a >= 0) & (b >= 0) & (a != b)
    out: list[set[int]] = [set() for _ in range(k)]
    for x, y in zip(a[keep].tolist(), b[keep].tolist()):
        out[x].add(y)
        out[y].add(x)
    return out


def seats(run: Run, cur: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int, float]]]:
    """Reps per territory area of ``cur`` (0: the area is handed to its neighbours and its rep
    moves; 2 or more: the area is split), with every rep placed (``run.k`` in all), and the
    load to move between bordering areas ``(from, to, load)``.

    One small mixed-integer programme on the territory graph (HiGHS): choose the seats and a
    flow of load between bordering territories so that every area ends within the tolerance
    of its seats, at the least load changing hands: the flow (each border crossed counts), and
    for an area of ``s`` seats all but its share ``1/s``. Locked territories keep one seat
    and trade nothing. Without a solution, every area keeps one seat."""
    k = run.k
    load = loads(run, cur)
    tol = min(run.opts.balance.values()) * 0.95
    has = np.bincount(cur[cur >= 0], minlength=k) > 0
    areas = [int(t) for t in np.flatnonzero(has & ~run.locked)]
    one = np.where(has, 1, 0)
    reps = k - int(run.locked.sum())  # seats the open areas share
    if not areas or reps < 1:
        return one, []
    top = [max(1, min(reps, int(np.ceil(load[t] * (1 + tol))) + 1)) for t in areas]
    choice = [(i, s) for i, t in enumerate(areas) for s in range(top[i] + 1)]
    nb = neighbours(run, cur)
    pos = {t: i for i, t in enumerate(areas)}
    edges = [(pos[a], pos[b]) for a in areas for b in sorted(nb[a]) if b in pos]
    a_n, c_n, e_n = len(areas), len(choice), len(edges)
    n = c_n + e_n + 2 * a_n  # seat choices, flows, over / under slack per area
    cost = np.concatenate([[load[areas[i]] * (1 - 1 / s) if s else 0.0 for i, s in choice],
                           np.ones(e_n), np.full(2 * a_n, 1e3)])
    rows, lo, hi = [], [], []

    def row(entries: dict[int, float], low: float, high: float) -> None:
        r = np.zeros(n)
        for j, v in entries.items():
            r[j] += v
        rows.append(r), lo.append(low), hi.append(high)

    for i in range(a_n):
        row({j: 1.0 for j, (a, _) in enumerate(choice) if a == i}, 1, 1)  # one seat count per area
        net = {c_n + e: (1.0 if b == i else -1.0) for e, (a, b) in enumerate(edges) if i in (a, b)}
        ends = load[areas[i]]
        row({**net, **{j: -s * (1 + tol) for j, (a, s) in enumerate(choice) if a == i}, c_n + e_n + i: -1.0},
            -np.inf, -ends)  # load after the flow <= seats x (1 + tol), or over slack
        row({**net, **{j: -s * (1 - tol) for j, (a, s) in enumerate(choice) if a == i}, c_n + e_n + a_n + i: 1.0},
            -ends, np.inf)  # >= seats x (1 - tol), or under slack
    row({j: float(s) for j, (_, s) in enumerate(choice)}, reps, reps)
    integral = np.concatenate([np.ones(c_n), np.zeros(n - c_n)])
    upper = np.concatenate([np.ones(c_n), np.full(n - c_n, np.inf)])
    res = milp(cost, constraints=LinearConstraint(np.array(rows), lo, hi), integrality=integral,
               bounds=Bounds(np.zeros(n), upper), options={"time_limit": max(1.0, 0.05 * run.clock.limit)})
    if res.x is None:
        return one, []
    out = one.copy()
    for j, (i, s) in enumerate(choice):
        if res.x[j] > 0.5:
            out[areas[i]] = s
    flows = sorted(((areas[a], areas[b], float(f)) for (a, b), f in zip(edges, res.x[c_n:c_n + e_n]) if f > 1e-6),
                   key=lambda e: -e[2])
    return out, flows


def first_plan(run: Run, cur: np.ndarray, seat: np.ndarray, flows, split) -> tuple[np.ndarray, np.ndarray]:
    """``cur`` with the seats and flows of :func:`seats` applied, and each territory's origin
    (the area whose rep it took over: itself unless relocated). Each flow moves border units
    (``search.shift``), an area's outflows after every flow into it (a chain through an area
    whose rep moves passes on what it received); what is left of an area losing its seat is
    grown into by its neighbours, the lightest per seat first (by its load at that moment); an
    area of several seats is then split into as many parts by ``split``, the part nearest its
    centre keeps it, the others go to relocated territories."""
    xy, k = run.units.xy, run.k
    plan, origin = cur.copy(), np.arange(k)
    w = unit_loads(run)
    p = run.partition(plan)
    for a, b, amount in in_order(flows):
        if p.cnt[a] > 1 and p.cnt[b] > 0:
            shift(p, a, b, amount, w, run.fixed)
    plan = p.plan
    gone = np.isin(cur, np.flatnonzero(seat == 0)) & ~run.fixed
    plan[gone] = -1
    load = np.bincount(plan[plan >= 0], weights=w[plan >= 0], minlength=k) / np.maximum(seat, 1)
    adj = run.adj
    open_ = ~run.locked
    heap = [(load[plan[j]], i, int(plan[j])) for i in np.flatnonzero(gone).tolist() for j in adj[i]
            if plan[j] >= 0 and open_[plan[j]]]
    heapq.heapify(heap)
    while heap:
        key, i, t = heapq.heappop(heap)
        if plan[i] >= 0:
            continue
        if key < load[t]:  # t has grown since: queue it again at its load now
            heapq.heappush(heap, (load[t], i, t))
            continue
        plan[i] = t
        load[t] += w[i] / max(seat[t], 1)
        for j in adj[i]:
            if plan[j] < 0:
                heapq.heappush(heap, (load[t], j, t))
    moving = [int(t) for t in np.flatnonzero((seat == 0) & ~run.locked)]
    for h in np.flatnonzero(seat > 1):
        own = np.flatnonzero((plan == h) & ~run.fixed)
        if len(own) < seat[h]:  # too few units to split: the reps left over get a unit each later
            continue
        groups = split(own, int(seat[h]))
        at = np.array([xy[g].mean(axis=0) for g in groups])
        keep = int(np.argmin(((at - xy[own].mean(axis=0)) ** 2).sum(axis=1)))
        for g in (i for i in range(len(groups)) if i != keep):
            d = moving.pop()
            plan[groups[g]], origin[d] = d, h
    return plan, origin


def in_order(flows: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    """The flows, each area's outflows after every flow into it (a chain through a handed-over
    area passes on what it received), else largest first."""
    flows = sorted(flows, key=lambda f: -f[2])
    waiting = {b: sum(1 for f in flows if f[1] == b) for _, b, _ in flows}
    out, left = [], list(flows)
    while left:
        ready = [f for f in left if not waiting.get(f[0], 0)] or left[:1]  # a cycle: the largest first
        for f in ready:
            out.append(f)
            left.remove(f)
            waiting[f[1]] -= 1
    return out


def unit_loads(run: Run) -> np.ndarray:
    """Each unit's load: per balanced attribute its share of a target, averaged."""
    names = list(run.opts.balance)
    return sum(run.units.column(n) / max(run.units.column(n).sum() + run.held[:, i].sum(), 1e-12)
               for i, n in enumerate(names)) * run.k / len(names)
