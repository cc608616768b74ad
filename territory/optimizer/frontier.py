"""The balance-vs-disruption frontier: plans between today's and the rebalanced one.

From the current plan C to the run's best plan B, the units that change territory fall into
*blocks*: the connected groups of changed units with the same (from, to) pair. Adding blocks
one at a time, each time the one that most lowers the balance term (the squared relative
deviations) per unit of disruption moved, walks from C towards B; the plan at every few
per cent of disruption, made contiguous (``start.repair``) and scored by the run's report,
is a candidate, and so are C (repaired) and B; and, near B, B with the units that a looser
tolerance lets go back handed back (``search.restore`` at ``LOOSER`` times the tolerance: plans
that move a little less for a little balance, the choice a cap such as "move at most 40 %"
needs). The frontier is the candidates no other one beats on both disruption and worst
deviation: moving more never leaves the plan less balanced.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from territory.optimizer.model import Report
from territory.optimizer.run import Run
from territory.optimizer.search import restore
from territory.optimizer.start import pieces, repair

STEPS = 12  # candidate plans between today's and the best one
LOOSER = (1.5, 2.0, 3.0, 5.0)  # the tolerance times these: the best plan with what they allow handed back
UNTIL = 0.95  # share of the time limit after which no further candidate is scored (the preview follows)


@dataclass(frozen=True)
class Point:
    """One plan on the frontier: the shares it moves, its worst deviation per attribute."""

    moved: dict[str, float]  # Options.report_moved attribute -> share changing territory
    max_deviation_pct: dict[str, float]  # balanced attribute -> max deviation in %
    contiguous: bool
    feasible: bool
    plan: np.ndarray  # territory code per unit

    @property
    def worst_pct(self) -> float:
        return max(self.max_deviation_pct.values()) if self.max_deviation_pct else 0.0

    def as_dict(self) -> dict:
        """The point without its plan (for JSON)."""
        return {"moved": self.moved, "max_deviation_pct": self.max_deviation_pct, "contiguous": self.contiguous,
                "met": self.feasible}


def frontier(run: Run, best: Report, best_plan: np.ndarray, *, until: float = UNTIL) -> list[Point]:
    """Pareto-best plans from today's (repaired) to ``best_plan`` (reported as ``best``), least
    disruption first; candidates stop at ``until`` of the time limit (today's and the best are
    always in)."""
    if run.current is None or not (run.current >= 0).any():
        return []
    current = run.current
    weight = run.units.column(run.opts.disruption_attr) if run.opts.disruption_attr else np.ones(len(current))
    weight = weight + 1e-6 * max(float(weight.mean()), 1e-9)  # an empty unit still costs a little
    balance_attr = run.units.column(next(iter(run.opts.balance)))
    points = [Point(dict(best.disruption), {m: b["max_deviation_pct"] for m, b in best.balance.items()},
                    best.contiguous, best.feasible, best_plan.copy())]
    if run.clock.past(until):  # no time left for the curve: the best plan alone
        return points
    today, *between = _walk(run, current, best_plan, weight)
    points.append(_point(run, repair(today, run.adj, run.fixed, run.k, balance_attr, run.locked)))
    for factor in LOOSER:  # the curve's ends first: near the best plan, it with more handed back
        if run.clock.past(until):
            break
        p = run.partition(best_plan.copy())
        restore(run, p, share=factor, until=until)
        points.append(_point(run, p.plan))
    for partial in between:
        if run.clock.past(until):
            break
        points.append(_point(run, repair(partial, run.adj, run.fixed, run.k, balance_attr, run.locked)))
    return pareto(points, run.opts.disruption_attr)


def _point(run: Run, plan: np.ndarray) -> Point:
    """A plan scored as the report scores it, without the report's costlier measures."""
    p = run.partition(plan)
    objective = run.score(p)
    sums = np.array(p.sums, dtype=float)[~run.locked]
    dev = {name: float(np.abs(sums[:, a] / objective.target[a] - 1).max() * 100) if len(sums) else 0.0
           for a, name in enumerate(objective.names)}
    feasible = all(dev[name] <= tol * 100 + 1e-9 for name, tol in zip(objective.names, objective.tol))
    labels = pieces(plan, run.units.edges[:, 0], run.units.edges[:, 1])
    contiguous = all(len(np.unique(labels[plan == t])) <= 1 for t in range(run.k))
    changed = (run.current >= 0) & (run.current != plan)
    moved = {}
    for name in run.opts.report_moved:
        v = run.units.column(name)
        moved[name] = float(v[changed].sum() / v.sum()) if v.sum() else 0.0
    return Point(moved, dev, contiguous, feasible, plan)


def pareto(points: list[Point], attr: str | None) -> list[Point]:
    """The points no other one beats on both moved share and worst deviation, by moved share."""
    key = (lambda p: p.moved.get(attr, 0.0)) if attr else (lambda p: next(iter(p.moved.values()), 0.0))
    out: list[Point] = []
    for p in sorted(points, key=lambda p: (key(p), p.worst_pct)):
        if not out or p.worst_pct < out[-1].worst_pct - 1e-9:
            out.append(p)
    return out


def _walk(run: Run, current: np.ndarray, best: np.ndarray, weight: np.ndarray) -> list[np.ndarray]:
    """Plans from ``current`` towards ``best``, adding the most useful block of changes first."""
    changed = np.flatnonzero((current != best) & (current >= 0) & ~run.fixed)
    if not len(changed):
        return [current.copy()]
    # blocks: connected changed units with the same (from, to)
    e = run.units.edges
    pos = np.full(len(current), -1)
    pos[changed] = np.arange(len(changed))
    a, b = pos[e[:, 0]], pos[e[:, 1]]
    same = (a >= 0) & (b >= 0)
    same[same] &= (current[e[same, 0]] == current[e[same, 1]]) & (best[e[same, 0]] == best[e[same, 1]])
    g = sparse.coo_matrix((np.ones(same.sum()), (a[same], b[same])), shape=(len(changed), len(changed)))
    _, block = csgraph.connected_components(g, directed=False)
    nb = int(block.max()) + 1
    names = list(run.opts.balance)
    vals = run.units.attrs[names].to_numpy(dtype=float)[changed]
    block_vals = np.stack([np.bincount(block, weights=vals[:, j], minlength=nb) for j in range(len(names))], axis=1)
    block_cost = np.bincount(block, weights=weight[changed], minlength=nb)
    first = np.zeros(nb, dtype=np.int64)
    first[block[::-1]] = np.arange(len(changed))[::-1]
    src, dst = current[changed][first], best[changed][first]
    p = run.partition(current.copy())
    objective = run.score(p)
    target = np.asarray(objective.target, dtype=float)
    sums = np.array(p.sums, dtype=float)
    total = float(weight.sum())
    plan = current.copy()
    out = []
    done = np.zeros(nb, dtype=bool)
    step, moved = 1.0 / STEPS, 0.0
    next_mark = step * float(block_cost.sum()) / max(total, 1e-12)
    while not done.all():
        rel = sums / target
        before = ((rel[src] - 1) ** 2).sum(axis=1) + ((rel[dst] - 1) ** 2).sum(axis=1)
        after = (((sums[src] - block_vals) / target - 1) ** 2).sum(axis=1) + \
            (((sums[dst] + block_vals) / target - 1) ** 2).sum(axis=1)
        gain = np.where(done, -np.inf, (before - after) / block_cost)
        i = int(np.argmax(gain))
        if not np.isfinite(gain[i]):
            break
        done[i] = True
        sums[src[i]] -= block_vals[i]
        sums[dst[i]] += block_vals[i]
        plan[changed[block == i]] = dst[i]
        moved += block_cost[i] / max(total, 1e-12)
        if moved >= next_mark:
            out.append(plan.copy())
            next_mark += step * float(block_cost.sum()) / max(total, 1e-12)
    return [current.copy(), *out[:-1]]  # the last one is ``best`` itself
