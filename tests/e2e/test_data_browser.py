"""First run in a real browser: the demo loads by itself and the map draws with no internet."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest

from tests.e2e.conftest import wait_until_idle
from tests.e2e.helpers import BASEMAP_DRAWN, map_frame

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
    # every cell drawn on the map's canvas from its id, over the offline basemap, with a legend
    frame = map_frame(page, f"{BASEMAP_DRAWN} && window.__cellsStats && window.__cellsStats.ready")
    assert frame.evaluate("() => window.__cellsStats.cells") == n_cells
    painted = frame.evaluate("""() => { const c = document.querySelector('canvas.territory-cells-canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }""")
    assert painted > 10_000  # pixels of cells on screen, not just data in the page
    assert "Accounts" in frame.locator(".territory-legend").inner_text()
    page.screenshot(path=str(tmp_path / "data-page.png"), full_page=True)

    own = {urlparse(server.url).netloc, f"127.0.0.1:{server.port}"}
    foreign = {u for u in requested if urlparse(u).scheme in ("http", "https", "ws", "wss")
               and urlparse(u).netloc not in own}
    assert not foreign, f"the page asked other hosts: {sorted(foreign)[:5]}"
    assert any(u.endswith("/app/static/vendor/leaflet/leaflet.js") for u in requested)
    page.close()
