"""Sizing & quota in a real browser on the demo: the charts draw, a what-if scenario with two more
reps is built and compared, the quotas download as a file that adds up, the segment map draws."""

from __future__ import annotations

import csv
import io
import re

import pytest

from tests.e2e.conftest import wait_until_idle
from tests.e2e.helpers import go, map_frame, open_app, screenshot

pytestmark = pytest.mark.e2e


def _metric(page, label: str) -> str:
    return page.locator("[data-testid='stMetric']", has_text=label).first.locator(
        "[data-testid='stMetricValue']").inner_text()


def test_sizing_what_if_quota_file_and_segment_map(server, browser):
    page = open_app(server, browser, width=1500, height=1500)
    go(page, "Sizing & quota")
    assert _metric(page, "Reps today") == "30"
    needed = int(_metric(page, "Reps needed"))
    assert needed > 0
    # Plotly drew both charts: reps per region, workload per rep (a bar per territory)
    page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=60_000)
    assert page.locator(".js-plotly-plot").count() >= 2
    assert page.locator(".js-plotly-plot", has_text="Workload per rep").locator("g.point").count() == 30
    screenshot(page, "sizing")

    # what if we had 32 reps: a new scenario, compared before and after
    page.get_by_label("Reps", exact=True).fill("32")
    page.get_by_label("Reps", exact=True).press("Enter")
    wait_until_idle(page)
    box = page.locator("[data-testid='stSelectbox']", has_text="Time limit").locator("input")
    box.click()
    box.fill("20 s")
    box.press("Enter")
    wait_until_idle(page)
    assert box.input_value() == "20 s"
    page.get_by_role("button", name="Build scenario").click()
    page.get_by_text(re.compile("Saved as the scenario “What if 32 reps”")).wait_for(timeout=180_000)
    wait_until_idle(page)
    before_after = page.locator(".js-plotly-plot", has_text="Visit hours per territory before and after")
    before_after.wait_for(timeout=60_000)
    assert before_after.locator("g.trace").count() == 2  # today and 32 reps

    # quotas: a file whose quotas add up to the company number shown
    page.get_by_role("tab", name="Quota").click()
    wait_until_idle(page)
    company = float(_metric(page, "Company number").replace("$", "").replace(",", ""))
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name="Download quotas (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(info.value.path().read_bytes().decode("utf-8-sig"))))
    assert len(rows) == 30
    assert sum(float(r["Quota $"]) for r in rows) == pytest.approx(company, rel=1e-6)

    # segments: the map shades the cells holding accounts of the chosen segment
    page.get_by_role("tab", name="Segments").click()
    wait_until_idle(page)
    frame = map_frame(page, "window.__cellsStats && window.__cellsStats.ready")
    assert frame.evaluate("() => window.__cellsStats.cells") > 100
    page.close()
