"""The two screens issue 12 found slow, timed in a real browser against the real server.

1. The Data page's map at H3 resolution 9 (and 7): from choosing the resolution until every
   cell is drawn (``window.__cellsStats.ready`` with the page's cell count). Was 54 s (7: 26 s).
2. The first Scenarios comparison of the baseline with a rebalanced plan: from clicking
   "Scenarios" until the scores table and the map of changed cells are drawn, on a fresh
   server (nothing cached). Was 28 s.
Target: each within 5 s. The demo (50,000 accounts) is built first, and a scenario is really
rebalanced (potential ±5 %, 20 s) so the comparison has thousands of changed cells.

    .venv/bin/python bench/slow_screens.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright  # noqa: E402

from territory import demo, store  # noqa: E402
from territory.optimizer import Options  # noqa: E402
from territory.plans import plan, rebalance, scenarios  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, Server, wait_until_idle  # noqa: E402

MAP = "iframe[title='streamlit_folium.st_folium']"


def build(db: Path) -> int:
    """The demo with a rebalanced scenario; returns how many cells differ from the baseline."""
    con = store.connect(db)
    try:
        demo.load_demo(con, out_dir=db.parent / "demo")
        sid = scenarios.create(con, "Rebalanced", source=plan.baseline_scenario(con))
        preview = rebalance.rebalance(con, sid, Options(balance={"potential": 0.05}, seed=1, time_limit=20))
        rebalance.accept(con, preview)
        return len(preview.cells)
    finally:
        con.close()


def _frame(page):
    page.locator(MAP).first.scroll_into_view_if_needed()
    page.frame_locator(MAP).locator(".leaflet-container").wait_for(state="attached", timeout=120_000)
    return next(f for f in page.frames if "st_folium" in (f.url or ""))


def data_map(page, res: int) -> tuple[float, int]:
    """Seconds from choosing ``res`` until its cells are drawn, and how many."""
    box = page.locator("[data-testid='stSelectbox']", has_text="H3 resolution")
    box.locator("input").click()
    t0 = time.perf_counter()
    page.get_by_role("option", name=str(res), exact=True).click()
    page.get_by_text(f"cells at resolution {res}").wait_for(timeout=300_000)
    wait_until_idle(page, timeout=300_000)
    n = int(page.get_by_text(f"cells at resolution {res}").inner_text().split()[0].replace(",", ""))
    _frame(page).wait_for_function(f"() => window.__cellsStats && window.__cellsStats.ready "
                                   f"&& window.__cellsStats.cells === {n}", timeout=300_000)
    return time.perf_counter() - t0, n


def first_compare(page) -> float:
    t0 = time.perf_counter()
    page.locator("[data-testid='stSidebarNav'] a", has_text="Scenarios").click()
    page.get_by_text(re.compile(r"cells? differs?")).wait_for(timeout=300_000)
    wait_until_idle(page, timeout=300_000)
    _frame(page).wait_for_function("() => window.__cellsStats && window.__cellsStats.ready", timeout=300_000)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="fresh servers (and browsers) per figure")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        t0 = time.perf_counter()
        changed = build(db)
        print(f"demo + rebalanced scenario built in {time.perf_counter() - t0:.0f} s ({changed:,} cells change)")
        times: dict[str, list[float]] = {"data map, resolution 9": [], "data map, resolution 7": [],
                                         "first Scenarios compare": []}
        counts = {}
        with sync_playwright() as p:
            for _ in range(args.repeat):
                server = Server(db)
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
                try:
                    page = browser.new_page(viewport={"width": 1500, "height": 1100})
                    page.goto(server.url)
                    page.locator("[data-testid='stMetricValue']").first.wait_for(timeout=240_000)
                    wait_until_idle(page)
                    _frame(page).wait_for_function("() => window.__cellsStats && window.__cellsStats.ready")
                    times["first Scenarios compare"].append(first_compare(page))
                    page.locator("[data-testid='stSidebarNav'] a", has_text="Data").click()
                    wait_until_idle(page)
                    for res in (9, 7):
                        seconds, counts[res] = data_map(page, res)
                        times[f"data map, resolution {res}"].append(seconds)
                finally:
                    browser.close()
                    server.stop()
        print(f"{'screen':28} {'median s':>9} {'max s':>7}  runs (target: within 5 s)")
        for name, values in times.items():
            print(f"{name:28} {statistics.median(values):9.2f} {max(values):7.2f}  "
                  + " ".join(f"{v:.2f}" for v in values))
        print(f"cells drawn: resolution 9 {counts.get(9, 0):,}, resolution 7 {counts.get(7, 0):,}")


if __name__ == "__main__":
    main()
