"""The market layer in a real browser: shaded on the Data map, loaded from an upload (a hostile
file and industry name stay text), and per territory on the KPIs page."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from tests.e2e.conftest import wait_until_idle
from tests.e2e.helpers import BASEMAP_DRAWN, go, map_frame, metric_value, open_app, screenshot
from tests.hostile import HOSTILE

pytestmark = pytest.mark.e2e


def _cells_shown(page) -> int:
    return int(page.get_by_text(re.compile(r"[\d,]+ cells at resolution 5")).inner_text().split()[0].replace(",", ""))


def test_the_market_is_shaded_loaded_and_reported_per_territory(server, browser, tmp_path):
    page = open_app(server, browser)
    with_accounts = _cells_shown(page)
    page.get_by_label("Colour by").click()
    page.get_by_role("option", name="Market potential ($)", exact=True).click()
    page.get_by_text(f"{with_accounts:,} cells at resolution 5").wait_for(state="detached", timeout=60_000)
    wait_until_idle(page)
    market_cells = _cells_shown(page)
    assert market_cells > with_accounts  # the market reaches cells no account is in: white space on the map
    frame = map_frame(page, f"{BASEMAP_DRAWN} && window.__cellsStats && window.__cellsStats.ready"
                            f" && window.__cellsStats.cells === {market_cells}")
    assert "Market potential" in frame.locator(".territory-legend").inner_text()
    page.locator("[data-testid='stHeading']", has_text="Where the accounts and the market are").scroll_into_view_if_needed()
    screenshot(page, "market")

    # an upload replaces the layer: a universe with a hostile industry, located by ZIP and coordinates
    hostile = HOSTILE[1]  # an <img onerror> that would retitle the window
    universe = tmp_path / "<b>market<b>.csv"  # no slash: a file name
    pd.DataFrame({"duns": [1, 2, 3], "zip": ["2134", None, "99999"], "latitude": [None, 40.71, None],
                  "longitude": [None, -74.0, None], "industry": [hostile, "Retail", "Retail"],
                  "employees": [10, 20, 30]}).to_csv(universe, index=False)
    panel = page.locator("[data-testid='stExpander']").filter(has_text="Market universe or cell table")
    panel.get_by_text("Market layer", exact=True).click()
    panel.locator("input[type='file']").set_input_files(str(universe))
    page.get_by_role("button", name="Load the market layer").click()
    wait_until_idle(page)
    alert = page.locator("[data-testid='stAlert']", has_text="Loaded the market layer").inner_text()
    assert "2 establishments" in alert and "1 establishments have no valid coordinates" in alert
    assert page.get_by_text("<b>market<b>.csv", exact=False).count() >= 1  # the file's name as typed
    assert page.locator("b", has_text="market").count() == 0

    go(page, "KPIs")
    assert metric_value(page, "Market potential").inner_text().startswith("$")
    share = metric_value(page, "Share of market").inner_text()
    assert share.endswith("%") and float(share.rstrip("%")) > 100  # two establishments: the CRM holds more
    page.get_by_role("tab", name="Market").click()
    chart = page.locator("[data-testid='stPlotlyChart']").filter(has_text="Market potential by territory")
    chart.wait_for(timeout=60_000)
    assert chart.locator("g.trace.bars").count() == 2  # held in the CRM and white space, side by side
