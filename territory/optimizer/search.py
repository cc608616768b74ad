"""Improving a plan: boundary moves scored by the objective, and shifting weight along the
territory graph when no single move can fix a regional imbalance."""

from __future__ import annotations

import heapq

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from territory.optimizer.exchange import exchange
from territory.optimizer.objective import Partition
from territory.optimizer.run import BUDGET, Run
from territory.optimizer.start import edge_arrays

PLATEAU = 1e-3  # how much compactness an empty unit may cost when it lets a light territory grow
ROUND_PASSES = 16  # local-search passes between two rounds of shifting weight
FLOW_ROUNDS = 30
RESTORE = 0.98  # share of the tolerance a unit going back to its current territory may use
RESTORE_ROUNDS = 20
CLOSE = 2.0  # every territory within this many tolerances: the exact exchange takes over from the flows
EXCHANGE_SECONDS = 10.0  # most one exchange's programme may take


def improve(run: Run, p: Partition, *, polish_unmet: bool = True) -> tuple[Partition, bool]:
    """Local search; then, while the tolerance is not met and the ``rounds`` phase lasts, shift
    weight along the territory graph (:func:`flow_balance`) or, once every territory is within
    ``CLOSE`` tolerances, exchange units exactly (:func:`.exchange.exchange`, its programme given
    at most a third of the search time left; shift weight when it finds nothing to exchange),
    and search again; then polish with
    the time left (``polish_unmet`` False: only a plan within the tolerance, the time is better
    spent on another start). Returns the best plan (within the tolerance first, then by the
    objective), and whether the run was cancelled."""
    cancelled = local_search(run, p, max_passes=ROUND_PASSES)
    best_plan, best_key = p.plan.copy(), rank(run, p)
    stale = 0
    for round_ in range(FLOW_ROUNDS):
        if cancelled or run.clock.past(BUDGET.rounds) or within(run, p):
            break
        exchanged = 0
        if close(run, p):  # the last steps: the moves that close the gap, chosen together
            run.say(run.clock.progress(), f"exchanging units across borders (round {round_ + 1})")
            left = BUDGET.search * run.clock.limit - run.clock.elapsed()
            exchanged = exchange(run, p, min(EXCHANGE_SECONDS, left / 3))
        if not exchanged:  # far off, or no exchange found: route the excess along the territory graph
            run.say(run.clock.progress(), f"shifting weight between territories (round {round_ + 1})")
            if not flow_balance(run, p):
                break
        cancelled = local_search(run, p, max_passes=ROUND_PASSES)
        key = rank(run, p)
        if key < best_key:
            best_plan, best_key, stale = p.plan.copy(), key, 0
        else:
            stale += 1
            if stale == 2:  # two rounds without a better plan: the tolerance is out of reach this way
                break
    if not cancelled and (polish_unmet or within(run, p)):  # polish to a local optimum with the time left
        cancelled = local_search(run, p)
        if rank(run, p) < best_key:
            best_plan = p.plan.copy()
    if not np.array_equal(best_plan, p.plan):
        p = run.partition(best_plan)
    return p, cancelled


def rank(run: Run, p: Partition) -> tuple[bool, float]:
    """How plans are compared: within the tolerance first (it is what the user asked for), then
    the objective (lower is better)."""
    return not within(run, p), run.score(p).value(p)


def close(run: Run, p: Partition) -> bool:
    """Is every open territory within ``CLOSE`` times the tolerance?"""
    objective = run.score(p)
    sums = np.array(p.sums)[~run.locked] / np.array(objective.target)
    return bool((np.abs(sums - 1) <= CLOSE * np.array(objective.tol)).all())


def within(run: Run, p: Partition) -> bool:
    """Is every open territory within the tolerance on every attribute?"""
    objective = run.score(p)
    sums = np.array(p.sums)[~run.locked] / np.array(objective.target)
    return bool((np.abs(sums - 1) <= np.array(objective.tol) + 1e-11).all())


def compact(run: Run, p: Partition) -> bool:
    """The compactness phase: with the tolerance met, boundary moves that make territories more
    compact (less moment of inertia, net of disruption) and keep every territory within 80 % of
    the tolerance (``Objective.stays_within``), until none is left or the search phase ends.
    Returns True if cancelled."""
    return local_search(run, p, hard_tolerance=True)


def restore(run: Run, p: Partition, share: float = RESTORE, until: float = BUDGET.search) -> bool:
    """With the tolerance met: units that changed territory go back to their current one, most
    disruption first, wherever it borders them and both territories stay within ``share`` of
    the tolerance and in one piece. Between such passes, units that change territory anyway
    move between two other territories where that balances them better (it costs no
    disruption and makes room for the next pass); until a pass hands nothing back. The search
    weighs balance inside the tolerance against disruption; a manager asked for the
    tolerance, and every unit that stays is one account fewer to hand over. Stops at ``until``
    of the time limit; returns True if cancelled."""
    objective = run.score(p)
    plan, adj, cur, locked = p.plan, p.adj, run.current, run.locked
    movable = ~run.fixed & ~locked[plan] & (cur >= 0) & ~locked[np.maximum(cur, 0)]
    dis = np.asarray(objective.dis)
    for _ in range(RESTORE_ROUNDS):
        changed = np.flatnonzero(movable & (plan != cur))
        restored = 0
        for n_done, i in enumerate(changed[np.argsort(-dis[changed], kind="stable")].tolist()):
            if n_done % 2000 == 0 and (run.cancelled() or run.clock.past(until)):
                return run.cancelled()
            a, b = int(plan[i]), int(cur[i])
            if p.cnt[a] <= 1 or not any(plan[j] == b for j in adj[i]):
                continue
            if objective.stays_within(p, (i,), a, b, share) and p.stays_connected(i, a):
                p.move(i, b)
                restored += 1
        if not restored or run.clock.past(until):
            return False
        for n_done, i in enumerate(np.flatnonzero(movable & (plan != cur)).tolist()):  # free: neither end is its own
            if n_done % 2000 == 0 and (run.cancelled() or run.clock.past(until)):
                return run.cancelled()
            a = int(plan[i])
            if p.cnt[a] <= 1:
                continue
            for b in {int(plan[j]) for j in adj[i]} - {a, int(cur[i])}:
                if not locked[b] and objective.balance_delta(p, i, a, b) < -1e-12 \
                        and objective.stays_within(p, (i,), a, b, share) and p.stays_connected(i, a):
                    p.move(i, b)
                    break
    return False


def local_search(run: Run, p: Partition, max_passes: int = 10**9, *, hard_tolerance: bool = False) -> bool:
    """Boundary moves until no move improves the objective, ``max_passes`` passes, the search
    phase is over, or cancel (then True).

    A move takes a unit, with any small part of its territory it would cut off, to a
    neighbouring territory; the territory it leaves must stay in one piece. One tie-break is
    not the objective's: an empty unit between territories changes no balance, but crossing
    it is how a light territory reaches the weight beyond, so when its move costs less than
    ``PLATEAU`` it leans towards the lighter territory (and is never moved straight back).
    """
    objective = run.score(p)
    plan, adj, fixed, locked = p.plan, p.adj, run.fixed, run.locked
    movable = ~fixed & ~locked[plan]
    edges_a, edges_b = edge_arrays(adj)
    tabu: dict[int, int] = {}
    passes = 0
    while True:
        passes += 1
        across = plan[edges_a] != plan[edges_b]
        boundary = np.unique(np.concatenate([edges_a[across], edges_b[across]]))
        boundary = boundary[movable[boundary]]
        run.rng.shuffle(boundary)
        improved = 0
        for n_done, i in enumerate(boundary.tolist()):
            if n_done % 2000 == 0:
                if run.cancelled():
                    return True
                if run.clock.past(BUDGET.search):
                    return False
            a = int(plan[i])
            if p.cnt[a] <= 1:
                continue
            best, best_b = -1e-12, -1
            empty = not any(p.val_rows[i])
            plateau = False
            for b in {int(plan[j]) for j in adj[i]}:
                if b == a or locked[b] or tabu.get(i) == b:
                    continue
                if hard_tolerance:  # the compactness phase: balance is a bound, not a score
                    if objective.stays_within(p, (i,), a, b):
                        d = objective.shape_delta(p, (i,), a, b)
                        if d < best:
                            best, best_b = d, b
                    continue
                d = objective.delta(p, i, a, b)
                if empty and d < PLATEAU:
                    gap = objective.load(p, a) - objective.load(p, b)
                    if gap > objective.tol[0]:
                        d = -gap * 1e-6
                if d < best:
                    best, best_b = d, b
                    plateau = empty and d > -1e-5
            if best_b < 0:
                continue
            cut = p.cut_off(i, a)
            if cut == []:
                p.move(i, best_b)
                improved += 1
                if plateau:  # never straight back for compactness alone
                    tabu[i] = a
            elif cut and not fixed[cut].any() and p.cnt[a] > len(cut) + 1:
                group = [i, *cut]  # the unit takes the part it would cut off along
                if hard_tolerance:
                    ok = objective.stays_within(p, group, a, best_b) and \
                        objective.shape_delta(p, group, a, best_b) < -1e-12
                else:
                    ok = objective.delta_group(p, group, a, best_b) < -1e-12
                if ok:
                    for u in group:
                        p.move(u, best_b)
                    improved += 1
        run.say(run.clock.progress(), f"pass {passes}: {improved:,} moves")
        if improved == 0 or passes >= max_passes:
            return False


def flow_balance(run: Run, p: Partition) -> int:
    """Shift weight between territories along a least-cost flow on the territory graph.

    Local moves cannot fix a regional imbalance: a cluster of heavy territories next to a cluster
    of light ones, with balanced ones between, where every single move makes a neighbour worse.
    Here each territory's excess on the attribute furthest off is routed to the light
    territories over as few borders as possible (a small linear programme on the K
    territories); each border then moves its flow as whole units, nearest to the receiving
    territory first, never splitting the one that gives. Returns how many units moved.
    """
    objective = run.score(p)
    plan = p.plan
    sums = np.array(p.sums) / np.array(objective.target)  # territory x attribute, 1.0 = on target
    live = objective.active & ~run.locked & (np.array(p.cnt) > 0)
    worst = int(np.argmax(np.abs(sums[live] - 1).max(axis=0))) if live.any() else 0
    # route the attribute furthest off this round (the rounds take turns as that changes)
    unit_load = p.vals[:, worst] / objective.target[worst]  # a unit's weight in targets
    load = sums[:, worst]
    ea, eb = edge_arrays(p.adj)
    cross = (plan[ea] != plan[eb]) & (plan[ea] >= 0) & (plan[eb] >= 0)
    ta, tb = plan[ea][cross], plan[eb][cross]
    keep = live[ta] & live[tb]
    pairs = np.unique(np.column_stack([ta[keep], tb[keep]]), axis=0)  # both directions of every border
    if len(pairs) == 0:
        return 0
    nodes = np.flatnonzero(live)
    excess = load[nodes] - load[nodes].mean()
    row = {t: r for r, t in enumerate(nodes.tolist())}
    e = len(pairs)
    # out - in + slack_plus - slack_minus = excess; minimise flow, slack (unroutable) costs far more
    rows = np.concatenate([[row[a] for a in pairs[:, 0]], [row[b] for b in pairs[:, 1]],
                           np.arange(len(nodes)), np.arange(len(nodes))])
    cols = np.concatenate([np.arange(e), np.arange(e), e + np.arange(len(nodes)), e + len(nodes) + np.arange(len(nodes))])
    vals = np.concatenate([np.ones(e), -np.ones(e), np.ones(len(nodes)), -np.ones(len(nodes))])
    a_eq = sparse.csr_matrix((vals, (rows, cols)), shape=(len(nodes), e + 2 * len(nodes)))
    cost = np.concatenate([np.ones(e), np.full(2 * len(nodes), 1e3)])
    res = linprog(cost, A_eq=a_eq, b_eq=excess, bounds=(0, None), method="highs")
    if res.status != 0:
        return 0
    flows = res.x[:e]
    moved = 0
    for f in np.argsort(-flows, kind="stable").tolist():
        if flows[f] < 0.25 * min(objective.tol) or run.clock.past(BUDGET.search) or run.cancelled():
            break
        moved += shift(p, int(pairs[f, 0]), int(pairs[f, 1]), float(flows[f]), unit_load, run.fixed)
    return moved


def shift(p: Partition, a: int, b: int, amount: float, unit_load: np.ndarray, fixed: np.ndarray) -> int:
    """Move about ``amount`` (in targets) from territory a to its neighbour b: a's units on the
    border first, nearest to b's centre, each only if a stays in one piece: a unit may take along
    the part of a it would cut off (the small one, else every side but the heaviest, when that is within the
    amount), as in the local search."""
    plan, adj = p.plan, p.adj
    cx, cy = p.sx[b] / p.cnt[b], p.sy[b] / p.cnt[b]

    def key(i: int) -> tuple[float, int]:
        return ((p.x[i] - cx) ** 2 + (p.y[i] - cy) ** 2, i)

    heap = sorted(key(i) for i in {i for j in np.flatnonzero(plan == b).tolist() for i in adj[j] if plan[i] == a})
    seen = {i for _, i in heap}
    shifted, moved, visits = 0.0, 0, 0
    while heap and visits < 20_000:
        _, i = heapq.heappop(heap)
        visits += 1
        if plan[i] != a or fixed[i] or p.cnt[a] <= 1:
            continue
        group = [i]
        if not p.stays_connected(i, a):  # take along what it would cut off: the small part, else all but the heaviest side
            cut = p.cut_off(i, a)
            if cut is None:  # i holds a together (e.g. a corridor of empty units): b may take a whole side
                sides = sorted(p.sides(i, a), key=lambda part: float(unit_load[part].sum()))
                cut = [u for side in sides[:-1] for u in side] or None  # a keeps its heaviest side only
            if not cut or fixed[cut].any() or p.cnt[a] <= len(cut) + 1:
                continue
            group += cut
        w = float(unit_load[group].sum())
        if shifted + w - amount > amount - shifted:  # overshooting by more than it closes: skip it
            continue
        for u in group:
            p.move(u, b)
        shifted += w
        moved += len(group)
        if shifted >= amount:
            break
        for j in adj[i]:
            if j not in seen and plan[j] == a:
                seen.add(j)
                heapq.heappush(heap, key(j))
    return moved
