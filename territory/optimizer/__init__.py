"""Auto-rebalance: contiguous, compact territories balanced on up to three attributes.

Works on a generic graph of basic units (:class:`Units`: ids, planar positions in km, numeric
attributes, an adjacency edge list); it knows no CRM column. H3 cells are one adapter
(:func:`territory.plans.graph.units_from_cells`); ZIPs or counties can use the same engine.

Method (deterministic for a seed), module by module:

- :mod:`.objective`: the plan with its running sums (:class:`Partition`) and the one
  :class:`Objective` (balance, compactness, disruption) that scores a plan and a move alike.
- :mod:`.run`: what a run shares (:class:`Run`) and the time budget's named phases.
- :mod:`.seats`: with a current plan, the first start: today's plan made contiguous with reps
  moved where the work is (seats per area and flows over borders from one small mixed-integer
  programme on the territory graph: a dense area split between several reps, the lightest areas
  handed to their neighbours, at the least load changing hands).
- :mod:`.start`: **centres** (fixed ones such as rep homes, the current territories' centres,
  or recursive coordinate bisection into K groups of equal weight), a **capacitated
  assignment** (Hess-Samuels, one sparse linear programme solved by HiGHS: every unit to one of
  its nearest centres at least squared distance plus a disruption cost, every territory within
  half the tolerance), re-centred up to three rounds, and a **contiguity repair** (each
  territory keeps its heaviest piece; other pieces join the lightest territory they touch).
- :mod:`.search`: **local search** (boundary moves, with any small part a move would cut off,
  scored by ``Objective.delta``, accepted only when the territory left stays in one piece) and,
  while the tolerance is not met, **shifting weight along the territory graph** (each
  territory's excess routed to light territories over as few borders as possible by a linear
  programme on the K territories, then moved as whole units); the best plan is kept.
- :mod:`.exchange`: once every territory is within twice the tolerance, the rounds close the last
  gap with an **exact exchange** instead: one small mixed-integer programme chooses, around the
  territories still off, the border units (up to a few deep, each with the one before it on its
  path to the border) whose moves together bring every territory within the tolerance, at the
  least cost in moves, compactness and disruption (when it finds nothing, weight is shifted).
- :mod:`.report`: balance per attribute (max deviation, coefficient of variation), pieces,
  compactness (moment of inertia, cut edges, largest within-territory distance), disruption,
  run time and, when the tolerance is not met, a plain explanation; :func:`evaluate` reports any
  plan the same way; :func:`suggest_moves` ranks single boundary moves for a plan kept as it is.

While the tolerance is not met and the ``restarts`` phase lasts, another start is tried: after
the seats start, the capacitated assignment to today's centres; then the best plan's centres,
shaken. Once the tolerance is met, the time left goes to a
**compactness phase** (:func:`.search.compact`: moves that lower the moment of inertia and keep
every territory within the tolerance; ``Report.compaction`` has before and after); without a
current plan it also buys more starts (shaken, or centres drawn by weight), each made compact,
until ``STALE_STARTS`` in a row bring nothing better. With a current plan and a disruption weight,
what the balance does not need then goes back to its own territory (:func:`.search.restore`),
and :mod:`.frontier` traces plans from "move almost nothing" to the best one (``Report.frontier``).
"""

from __future__ import annotations

import numpy as np

from territory.errors import ValidationError
from territory.optimizer import seats
from territory.optimizer.frontier import Point, frontier
from territory.optimizer.model import Move, Options, Report, Units
from territory.optimizer.report import evaluate, report, suggest_moves
from territory.optimizer.run import BUDGET, Run
from territory.optimizer.search import compact, improve, rank, restore, within
from territory.optimizer.start import bisect, fill_empty, first_plan, repair, seeds

__all__ = ["Move", "Options", "Point", "Report", "Units", "evaluate", "solve", "suggest_moves"]

RESTARTS = 6  # starts tried while the tolerance is not met (from a current plan)
STALE_STARTS = 5  # without a current plan: starts tried after the last better one, while time is left


def solve(units: Units, opts: Options) -> tuple[np.ndarray, Report]:
    """The rebalanced plan (territory code per unit) and its :class:`Report`."""
    run = Run.prepare(units, opts)
    k, current = run.k, run.current
    run.say(0.02, "placing centres")
    if opts.centres is not None:
        if len(opts.centres) != k:
            raise ValidationError(f"{len(opts.centres)} centres for {k} territories: give one per territory")
        centres = units.xy[list(opts.centres)].astype(float)
    else:
        centres = None
    w = units.column(next(iter(opts.balance))) + 1e-9
    start = None
    if centres is None and current is not None and (current >= 0).any():
        # today's plan, each territory in one piece, with reps moved to where the work is (.seats)
        run.say(0.03, "deciding where reps are needed")
        today = repair(current.copy(), run.adj, run.fixed, k, w, run.locked)
        today_centres = np.array([units.xy[current == t].mean(axis=0) if (current == t).any()
                                  else units.xy[run.rng.integers(len(units.ids))] for t in range(k)])
        start, run.origin = seats.first_plan(run, today, *seats.seats(run, today),
                                             lambda idx, parts: bisect(units.xy, w, idx, parts))
        centres = np.array([units.xy[start == t].mean(axis=0) if (start == t).any()
                            else units.xy[run.rng.integers(len(units.ids))] for t in range(k)])
        fill_empty(start, units.xy, centres, run.fixed, run.locked)  # a rep the seats could not place
        start = repair(start, run.adj, run.fixed, k, w, run.locked)
    elif centres is None:
        centres = units.xy[seeds(units, k, next(iter(opts.balance)), run.rng)].astype(float)
    fresh = start is None and opts.centres is None  # no plan to stay near: the time left buys more starts
    best, before, stale = None, None, 0
    for attempt in range(10**6 if fresh else RESTARTS):
        if attempt == 1 and start is not None:  # today's centres, each territory assigned its share anew
            centres, run.origin = today_centres, None  # every territory back in its own area
        elif fresh and attempt % 2:  # another start far from the others: centres drawn by weight
            centres = units.xy[run.rng.choice(len(units.ids), size=k, replace=False, p=w / w.sum())].astype(float)
        elif attempt:  # another start: the best plan's centres, shaken (deterministic for the seed)
            spread = np.sqrt(np.ptp(units.xy, axis=0).prod() / k)
            centres = np.array([units.xy[best.plan == t].mean(axis=0) if (best.plan == t).any() else centres[t]
                                for t in range(k)])
            centres = centres + run.rng.normal(scale=0.3 * spread, size=centres.shape)
        plan = start if attempt == 0 and start is not None else first_plan(run, centres)
        p, cancelled = improve(run, run.partition(plan), polish_unmet=attempt > 0 or start is None)
        shaped = None
        if fresh and within(run, p) and not cancelled and not run.clock.past(BUDGET.search):
            shaped = report(run, p, run.clock.elapsed(), False)
            run.say(run.clock.progress(), "tolerance met: making territories more compact with the time left")
            cancelled = compact(run, p)
        if best is None or rank(run, p) < rank(run, best):
            best, before, stale = p, shaped, 0
        else:
            stale += 1
        result = report(run, best, run.clock.elapsed(), cancelled)
        if cancelled or run.clock.past(BUDGET.restarts) or opts.centres is not None or \
                (stale >= STALE_STARTS and result.feasible):  # unmet: more starts while the phase lasts
            break
        if result.feasible and not fresh:
            break
        run.say(run.clock.progress(), f"tolerance not met yet: trying another start ({attempt + 2})" if not result.feasible
                else f"trying another start for more compact territories ({attempt + 2})")
    if before is not None:
        result.compaction = {"inertia_km2": [before.inertia_km2, result.inertia_km2],
                             "max_span_km": [before.max_span_km, result.max_span_km]}
    elif result.feasible and not result.cancelled and not run.clock.past(BUDGET.search):
        before = result
        run.say(run.clock.progress(), "tolerance met: making territories more compact with the time left")
        cancelled = compact(run, best)
        if not cancelled and run.current is not None and opts.disruption_weight > 0:
            run.say(run.clock.progress(), "handing back what the balance does not need")
            cancelled = restore(run, best)
        result = report(run, best, run.clock.elapsed(), cancelled)
        result.compaction = {"inertia_km2": [before.inertia_km2, result.inertia_km2],
                             "max_span_km": [before.max_span_km, result.max_span_km]}
    if run.current is not None and (run.current >= 0).any():
        run.say(0.96, "tracing the balance-vs-disruption frontier")
        result.frontier = frontier(run, result, best.plan)
    result.seconds = run.clock.elapsed()
    run.say(1.0, "done")
    return best.plan.copy(), result
