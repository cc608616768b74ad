"""What a plan does, in numbers and in words: :class:`~territory.optimizer.model.Report` for a
run's result or any plan (:func:`evaluate`), and the best single moves (:func:`suggest_moves`)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy.spatial import ConvexHull

from territory.optimizer.model import Move, Options, Report, Units
from territory.optimizer.objective import Partition
from territory.optimizer.run import BUDGET, Run
from territory.optimizer.start import pieces


def evaluate(units: Units, plan: np.ndarray, balance: dict[str, float], *, current: np.ndarray | None = None,
             report_moved: tuple[str, ...] = (), seconds: float = 0.0, fixed=None,
             locked_territories: tuple[int, ...] | list[int] = (), k: int | None = None) -> Report:
    """The report for any plan (e.g. a baseline method's, or a frontier point), by the same
    measures; ``fixed`` and ``locked_territories`` as in :class:`Options`."""
    opts = Options(k=k or int(plan.max()) + 1, balance=balance, current=current, report_moved=report_moved,
                   fixed=fixed, locked_territories=locked_territories)
    run = Run.prepare(units, opts)
    return report(run, run.partition(np.asarray(plan, dtype=np.int64).copy()), seconds, False)


def report(run: Run, p: Partition, seconds: float, cancelled: bool) -> Report:
    units, opts, k = run.units, run.opts, run.k
    objective = run.score(p)
    plan = p.plan
    bal = {}
    for a, name in enumerate(objective.names):
        sums = np.array([p.sums[t][a] for t in range(k)])[~run.locked]
        dev = np.abs(sums / objective.target[a] - 1) * 100 if len(sums) else np.zeros(0)
        mx = float(dev.max()) if len(dev) else 0.0
        bal[name] = {"max_deviation_pct": mx, "cv": float(sums.std() / sums.mean()) if sums.mean() else 0.0,
                     "tolerance_pct": objective.tol[a] * 100, "met": mx <= objective.tol[a] * 100 + 1e-9}
    labels = pieces(plan, units.edges[:, 0], units.edges[:, 1])
    counts = {t: int(len(np.unique(labels[plan == t]))) for t in range(k)}
    e = units.edges
    cut = int((plan[e[:, 0]] != plan[e[:, 1]]).sum()) if len(e) else 0
    moved = {}
    if run.current is not None:
        changed = (run.current >= 0) & (run.current != plan)
        for name in opts.report_moved:
            v = units.column(name)
            moved[name] = float(v[changed].sum() / v.sum()) if v.sum() else 0.0
    out = Report(bal, counts, float(sum(p.inertia(t) for t in range(k))), cut, max_span(units.xy, plan, k),
                 moved, seconds, all(b["met"] for b in bal.values()), cancelled, links=units.links,
                 unavoidable=unavoidable(run) if run.current is not None else {})
    out.explanation = _explain(run, p, out)
    return out


def unavoidable(run: Run) -> dict[str, float]:
    """Per balanced attribute, the least share of it that must change territory for every
    territory the search may change to be within the tolerance, starting from the current plan:
    what is over the upper bounds must leave, what is under the lower ones must arrive."""
    current = run.partition(np.asarray(run.current, dtype=np.int64).copy())
    objective = run.score(current)
    out = {}
    for a, name in enumerate(objective.names):
        sums = np.array([current.sums[t][a] for t in range(run.k)])[~run.locked]
        target, tol = objective.target[a], objective.tol[a]
        need = max(np.clip(sums - target * (1 + tol), 0, None).sum(), np.clip(target * (1 - tol) - sums, 0, None).sum())
        total = sums.sum()
        out[name] = float(need / total) if total else 0.0
    return out


def max_span(xy: np.ndarray, plan: np.ndarray, k: int) -> float:
    """The largest distance between two units of one territory (over convex hull corners)."""
    best = 0.0
    for t in range(k):
        pts = xy[plan == t]
        if len(pts) > 3:
            try:
                pts = pts[ConvexHull(pts).vertices]
            except Exception:  # noqa: BLE001 - collinear points: use them all
                pass
        if len(pts) > 1:
            d = np.sqrt(((pts[:, None, :] - pts[None, :, :]) ** 2).sum(axis=2))
            best = max(best, float(d.max()))
    return best


def _explain(run: Run, p: Partition, rep: Report) -> list[str]:
    objective, units, opts = run.score(p), run.units, run.opts
    describe = opts.describe or (lambda unit_id: f"unit {unit_id}")
    out = []
    if rep.cancelled:
        out.append("Cancelled: this is the best plan found so far.")
    for a, name in enumerate(objective.names):
        b = rep.balance[name]
        if b["met"]:
            continue
        heaviest = int(np.argmax(p.vals[:, a]))
        share = p.vals[heaviest, a] / objective.target[a]
        where = describe(int(units.ids[heaviest]))
        line = f"{name}: the largest deviation is {b['max_deviation_pct']:.1f}%, beyond ±{b['tolerance_pct']:.0f}%."
        if share > 1 + objective.tol[a]:
            line += (f" One unit ({where}) alone holds {share:.0%} of a territory's target, more than a territory "
                     f"may hold: no plan of these units can meet the tolerance with {run.k} territories; balance "
                     f"fewer territories or widen the tolerance.")
        elif share > 0.25:
            line += (f" The units are coarse for {run.k} territories (the heaviest, {where}, holds {share:.0%} of a "
                     f"territory's target), so the last steps to the target cannot be made: balance fewer "
                     f"territories or widen the tolerance.")
        elif run.locked.any() or (opts.locked_units is not None and np.asarray(opts.locked_units).any()):
            line += " Locked cells or territories leave too little to move: unlock some."
        elif rep.seconds >= BUDGET.search * opts.time_limit:
            line += " The time limit was reached: allow more time."
        else:
            line += (" The attributes pull in different directions (or contiguity blocks the moves that would help): "
                     "widen the tolerance or balance on fewer attributes.")
        out.append(line)
    if run.locked.any():
        out.append(f"{int(run.locked.sum())} locked territories were kept as they are and are not counted in the balance.")
    if units.links:
        out.append(f"Where the map has gaps wider than its ring of empty cells (islands, towns far apart), "
                   f"{len(units.links):,} links join each piece to the pieces beside it, so a territory may span a gap.")
    return out


def suggest_moves(units: Units, plan: np.ndarray, opts: Options, *, top: int = 10) -> list[Move]:
    """The best single boundary moves for ``plan`` (kept as it is), best first.

    Each move keeps the territory it leaves in one piece and leaves locked units and locked
    territories alone; only moves that improve both the objective and the balance are listed (a
    move that only makes a territory rounder is no suggestion a manager acts on).
    """
    plan = np.asarray(plan, dtype=np.int64).copy()
    k = opts.k or int(plan.max()) + 1
    locked = np.zeros(k, dtype=bool)
    locked[[t for t in opts.locked_territories if 0 <= t < k]] = True
    run = Run.prepare(units, replace(opts, k=k))
    p = run.partition(plan)
    objective = run.score(p)
    fixed = np.asarray(opts.locked_units, dtype=bool) if opts.locked_units is not None else np.zeros(len(plan), bool)
    found = []
    for i in range(len(plan)):
        a = int(plan[i])
        if a < 0 or fixed[i] or locked[a] or p.cnt[a] <= 1:
            continue
        for b in {int(plan[j]) for j in p.adj[i]} - {a, -1}:
            if locked[b]:
                continue
            d = objective.delta(p, i, a, b)
            if d < -1e-12 and objective.balance_delta(p, i, a, b) < -1e-12:
                found.append((d, i, a, b))
    found.sort()
    out = []
    for d, i, a, b in found:
        if len(out) >= top:
            break
        if not p.stays_connected(i, a):
            continue
        before = p.inertia(a) + p.inertia(b)
        p.move(i, b)
        devs = {name: float(max(abs(p.sums[t][x] / objective.target[x] - 1) for t in range(k) if not locked[t]) * 100)
                for x, name in enumerate(objective.names)}
        inertia = p.inertia(a) + p.inertia(b) - before
        p.move(i, a)
        cur = objective.cur[i]
        out.append(Move(i, a, b, d, devs, inertia, (objective.dis[i] if opts.disruption_weight else 0.0) * ((cur == a) - (cur == b))))
    return out
