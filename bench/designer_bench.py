"""Designer benchmark: click -> map and KPIs updated from the server, in headless Chromium.

    python bench/designer_bench.py [--res 5] [--clicks 7]

Builds the demo (50,000 accounts) with its plan at ``--res`` (5 gives about 5,900 cells,
8 about 42,000), starts ``streamlit run app.py`` on a free port, opens the Designer in
Debian's Chromium and paints ``--clicks`` cells of other territories one click at a time.
Per click it measures the time until the server's answer is on screen (the new undo step and
the redrawn map) and the bytes the browser received over the websocket; separately, in this
process, the server-side work of one stroke (edit + KPIs + map layers). Prints medians.
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

from playwright.sync_api import sync_playwright  # noqa: E402

from territory import edits, grid, kpis, plan, planmap, sample, settings, store  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, Server, wait_until_idle  # noqa: E402

MAP = "iframe[title='streamlit_folium.st_folium']"


def prepare(db: Path, res: int, clicks: int) -> tuple[list[tuple[float, float]], dict]:
    con = store.connect(db)
    sample.load_demo(con, out_dir=db.parent / "demo")
    if res != settings.DEFAULT_PLAN_RES:
        plan.create_baseline(con, resolution=res)
    sid = plan.working_scenario(con)
    terr = plan.territories(con, sid)
    active = terr.sort_values("name").iloc[0]["territory_id"]
    cells = grid.aggregate_cells(con, res)
    assign = plan.assignments(con, sid).merge(cells, on="cell")
    targets = assign[assign["territory_id"] != active].sort_values("accounts", ascending=False)
    points = [grid.cell_center(int(c)) for c in targets["cell"].iloc[: clicks * 7 : 7]]
    server = server_side(con, sid, active, [int(c) for c in targets["cell"].iloc[1 : clicks * 7 : 7]], res)
    edits_made = edits.history(con, sid)[0]
    for _ in range(edits_made):
        edits.undo(con, sid)
    con.close()
    return points, {"cells": len(assign), **server}


def server_side(con, sid: int, active: str, cells: list[int], res: int) -> dict:
    """What the server does per stroke, without Streamlit: the edit, the KPIs, the map layers."""
    base = plan.baseline_scenario(con)
    cell_metrics = grid.aggregate_cells(con, res)  # cached per data version in the app
    timings = {"edit": [], "kpis": [], "layers": []}
    for cell in cells:
        t = time.perf_counter()
        edits.assign(con, sid, [cell], active)
        timings["edit"].append(time.perf_counter() - t)
        t = time.perf_counter()
        assignments, terr = plan.assignments(con, sid), plan.territories(con, sid)
        table = kpis.territory_kpis(cell_metrics, assignments, terr)
        parts = kpis.contiguity(assignments)
        kpis.disruption(con, sid, base)
        timings["kpis"].append(time.perf_counter() - t)
        t = time.perf_counter()
        planmap.plan_layers(cell_metrics, assignments, terr, strays=set(kpis.stray_cells(parts)))
        timings["layers"].append(time.perf_counter() - t)
        assert len(table)
    return {k: statistics.median(v) for k, v in timings.items()}


def browser_clicks(server: Server, points: list[tuple[float, float]]) -> tuple[list[float], list[int]]:
    received = [0]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1200})
        page.on("websocket", lambda ws: ws.on("framereceived", lambda data: received.__setitem__(
            0, received[0] + len(data if isinstance(data, (bytes, bytearray)) else data.encode()))))
        page.goto(server.url + "/designer")
        page.locator("[data-testid='stMetric']", has_text="Active: accounts").wait_for(timeout=300_000)
        times, sizes = [], []
        for i, (lat, lng) in enumerate(points, start=1):
            wait_until_idle(page)
            frame = next(f for f in page.frames if "st_folium" in (f.url or ""))
            page.frame_locator(MAP).locator("path.leaflet-interactive >> visible=true").first.wait_for(timeout=120_000)
            x, y = frame.evaluate("([a, b]) => { map_div.setView([a, b], 8, {animate: false});"
                                  " const p = map_div.latLngToContainerPoint([a, b]); return [p.x, p.y]; }", [lat, lng])
            box = page.locator(MAP).bounding_box()
            before = received[0]
            start = time.perf_counter()
            page.mouse.click(box["x"] + x, box["y"] + y)
            page.get_by_role("button", name=f"Undo ({i})").wait_for(timeout=120_000)
            wait_until_idle(page)
            page.frame_locator(MAP).locator("path.leaflet-interactive >> visible=true").first.wait_for(timeout=120_000)
            times.append(time.perf_counter() - start)
            sizes.append(received[0] - before)
        browser.close()
    return times, sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--res", type=int, default=settings.DEFAULT_PLAN_RES)
    parser.add_argument("--clicks", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        points, server_times = prepare(db, args.res, args.clicks)
        server = Server(db)
        try:
            times, sizes = browser_clicks(server, points)
        finally:
            server.stop()
    print(f"plan: resolution {args.res}, {server_times['cells']:,} cells; {len(times)} clicks")
    print(f"click -> map and KPIs updated (median) : {statistics.median(times):6.2f} s   (target <= 1.0 s at 5k cells)")
    print(f"click -> updated (max)                 : {max(times):6.2f} s")
    print(f"data sent to the browser per stroke    : {statistics.median(sizes) / 1e6:6.2f} MB (target <= 1 MB)")
    print(f"server work per stroke: edit {server_times['edit'] * 1000:.0f} ms, KPIs {server_times['kpis'] * 1000:.0f} ms, "
          f"map layers {server_times['layers'] * 1000:.0f} ms (target <= 300 ms in all)")


if __name__ == "__main__":
    main()
