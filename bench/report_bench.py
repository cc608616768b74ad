"""KPIs, scenario comparison and export timings on the demo (what the KPIs and Scenarios pages wait for).

    python bench/report_bench.py [--accounts 50000] [--repeat 3]

Builds the demo in a temporary database, makes a scenario that differs from the baseline (a
rebalance-sized change: every tenth cell moved to a neighbouring territory) with an overlay rule,
then times, median of ``--repeat`` runs: the scorecard (every KPI per territory, rep, district,
region), the forecasts of every territory (fit + backtest), a three-way comparison, the rep
allocation, and each export. Prints one line per figure.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from territory import demo, exports, store  # noqa: E402
from territory.kpis import allocation, scorecard  # noqa: E402
from territory.plans import edits, plan, rules, scenarios  # noqa: E402


def timed(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        con = store.connect(Path(tmp) / "bench.duckdb")
        demo.load_demo(con, out_dir=Path(tmp) / "demo", n_accounts=args.accounts)
        base = plan.baseline_scenario(con)
        other = scenarios.create(con, "Bench scenario", source=base)
        third = scenarios.create(con, "Bench scenario 2", source=base)
        assign = plan.assignments(con, other).sort_values("cell")
        tids = sorted(set(assign["territory_id"]))
        moved = assign.iloc[::10]
        for tid, group in moved.groupby("territory_id"):
            edits.assign(con, other, group["cell"].tolist(), tids[(tids.index(tid) + 1) % len(tids)])
        strategic = plan.create_territory(con, other, "Strategic", rep_id=plan.territories(con, other)["rep_id"][0])
        rules.add_overlay(con, other, strategic, rules.Overlay(min_employees=1000))
        n_cells, n_terr = len(assign), len(tids)
        print(f"demo: {args.accounts:,} accounts, {n_cells:,} cells, {n_terr} territories; "
              f"scenario moves {len(moved):,} cells and holds tier-A accounts by an overlay")
        secs, card = timed(lambda: scorecard.build(con, other), args.repeat)
        print(f"scorecard (all KPIs, reps, districts, regions): {secs * 1000:,.0f} ms")
        ids = list(card.territories["territory_id"])
        secs, _ = timed(lambda: scorecard.forecasts(card, ids), args.repeat)
        print(f"forecasts of {len(ids)} territories (fit + 6-month backtest each): {secs * 1000:,.0f} ms "
              f"({secs / len(ids) * 1000:,.0f} ms per territory)")
        secs, cmp = timed(lambda: scenarios.compare(con, [base, other, third]), args.repeat)
        print(f"compare 3 plans ({len(cmp.moved):,} moved-account rows, {len(cmp.changed_cells):,} changed cells): "
              f"{secs * 1000:,.0f} ms")
        secs, _ = timed(lambda: allocation.suggest(con, other), args.repeat)
        print(f"rep allocation ({n_terr} territories x reps): {secs * 1000:,.0f} ms")
        for fmt, name in (("salesforce", "sf.csv"), ("hubspot", "hs.csv"), ("geojson", "t.geojson"),
                          ("excel", "k.xlsx")):
            path = Path(tmp) / name
            secs, result = timed(lambda fmt=fmt, path=path: exports.export(con, other, fmt, path), args.repeat)
            print(f"export {fmt}: {secs * 1000:,.0f} ms, {result.rows:,} rows, {path.stat().st_size / 1e6:,.2f} MB")
        con.close()


if __name__ == "__main__":
    main()
