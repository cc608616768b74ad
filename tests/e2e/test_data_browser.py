"""First run in a real browser: the demo loads by itself and the map draws with no internet."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest

from tests.e2e.conftest import wait_until_idle

pytestmark = pytest.mark.e2e


def test_first_run_loads_the_demo_and_draws_the_hex_map_offline(server, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    requested: set[str] = set()
    page.on("request", lambda r: requested.add(r.url))
    page.goto(server.url)
    # the first run generates and imports 50,000 demo accounts, then shows the summary
    accounts = page.locator("[data-testid='stMetric']", has_text="Accounts").locator("[data-testid='stMetricValue']")
    accounts.wait_for(timeout=240_000)
    wait_until_idle(page)
    assert accounts.inner_text() == "50,000"
    assert page.locator("[data-testid='stMetric']", has_text="Reps").locator(
        "[data-testid='stMetricValue']").inner_text() == "30"

    caption = page.get_by_text(re.compile(r"[\d,]+ cells at resolution 5"))
    n_cells = int(caption.inner_text().split()[0].replace(",", ""))
    assert n_cells > 3000
    frame = page.frame_locator("iframe[title='streamlit_folium.st_folium']")
    hexes = frame.locator("path.leaflet-interactive")
    hexes.filter(visible=True).first.wait_for(timeout=60_000)  # drawn on screen, not just in the DOM
    assert hexes.count() == n_cells
    assert hexes.filter(visible=True).count() > n_cells // 2
    assert "Accounts" in frame.locator(".territory-legend").inner_text()
    page.screenshot(path=str(tmp_path / "data-page.png"), full_page=True)

    own = {urlparse(server.url).netloc, f"127.0.0.1:{server.port}"}
    foreign = {u for u in requested if urlparse(u).scheme in ("http", "https", "ws", "wss")
               and urlparse(u).netloc not in own}
    assert not foreign, f"the page asked other hosts: {sorted(foreign)[:5]}"
    assert any(u.endswith("/app/static/vendor/leaflet/leaflet.js") for u in requested)
    page.close()
