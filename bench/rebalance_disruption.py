"""What a rebalance of the demo does for a manager: balance, what it moves against the least any
plan must move, split territories as the Designer counts them, per disruption weight.

Runs ``rebalance.rebalance`` on the demo's working plan (a copy of the CRM baseline; 30
territories, resolution 5) with potential, accounts and visit hours at ±5 % and prints, per
disruption weight: the max deviation per measure, the share of accounts and of potential that
changes territory, the least share of potential any plan within the tolerance must move
(``Report.unavoidable``), territories in more than one piece (the panel's count), and the wall
time of the whole call. Issue 14's targets: tolerance met, contiguous, <= 60 s, potential moved
<= 1.6x the unavoidable share, and a higher weight moving fewer accounts. It also prints how
recognisable the territories stay (``outcome.anchoring``: the median share of today's potential
a territory keeps, reps' homes inside their own territory); ``--keep-homes`` anchors the homes.

    .venv/bin/python bench/rebalance_disruption.py [--db FILE] [--weights 0 1 5 20] [--time-limit 60]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from demo_copy import database

from territory import store
from territory.optimizer import Options
from territory.plans import outcome, plan, rebalance

BALANCE = {"potential": 0.05, "accounts": 0.05, "visit_hours": 0.05}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="a database with a plan (default: a fresh demo)")
    parser.add_argument("--weights", type=float, nargs="+", default=[0.0, 1.0, 5.0, 20.0])
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--keep-homes", action="store_true", help="each territory keeps its rep's home")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = database(Path(tmp), args.db)
        con = store.connect(db)
        sid = plan.working_scenario(con)
        print(f"{'weight':>7} {'max deviation % (pot/acc/visit)':>32} {'acc moved':>10} {'pot moved':>10} "
              f"{'pot floor':>10} {'ratio':>6} {'split':>6} {'s':>6} {'kept (median)':>14} {'homes inside':>13}")
        for w in args.weights:
            t0 = time.perf_counter()
            p = rebalance.rebalance(con, sid, Options(balance=dict(BALANCE), seed=1, time_limit=args.time_limit,
                                                      disruption_weight=w), anchor_homes=args.keep_homes,
                                    around_rep_homes=None if args.keep_homes else False)
            wall = time.perf_counter() - t0
            a = outcome.anchoring(con, p)
            r = p.report
            devs = " / ".join(f"{r.balance[m]['max_deviation_pct']:.1f}" for m in BALANCE)
            moved, floor = r.disruption.get("potential", 0.0), r.unavoidable.get("potential", 0.0)
            print(f"{w:>7.1f} {devs:>32} {r.disruption.get('accounts', 0):>10.1%} {moved:>10.1%} {floor:>10.1%} "
                  f"{moved / floor if floor else float('nan'):>6.2f} {p.split:>6} {wall:>6.1f} "
                  f"{a['kept_median']:>14.0%} {a['homes_inside_after']:>6} of {a['reps_with_homes']:<3}", flush=True)
        con.close()


if __name__ == "__main__":
    main()
