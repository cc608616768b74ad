"""Browser helpers shared by the end-to-end tests: the map frame, its pixels, Streamlit widgets."""

from __future__ import annotations

import h3
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from territory import settings
from tests.e2e.conftest import wait_until_idle


def _centre(lat: float, lng: float) -> tuple[float, float]:
    """The centre of the plan cell at a point: clicks and colour reads away from any outline."""
    return h3.cell_to_latlng(h3.latlng_to_cell(lat, lng, settings.DEFAULT_PLAN_RES))


CHICAGO = _centre(41.88, -87.63)  # a dense cell that the baseline gives to the Chicago territory
NEW_YORK = _centre(40.71, -74.0)  # cells of other territories
BROOKLYN = _centre(40.65, -73.6)
MAP = "iframe[title='streamlit_folium.st_folium']"


def metric_value(page, label: str):
    """The value element of the metric labelled exactly ``label`` (not one that starts with it)."""
    import re

    exact = page.locator("[data-testid='stMetricLabel']", has_text=re.compile(rf"^\s*{re.escape(label)}\s*$"))
    return page.locator("[data-testid='stMetric']").filter(has=exact).locator("[data-testid='stMetricValue']")


def _metric(page, label: str) -> str:
    return metric_value(page, label).inner_text()


def _count(page, label: str) -> int:
    return int(_metric(page, label).replace(",", ""))


def _map_ready(page):
    """The map frame once the plan is drawn and the server's latest answer is applied."""
    wait_until_idle(page)
    page.frame_locator(MAP).locator("canvas.territory-plan-canvas").wait_for(state="attached", timeout=60_000)
    frame = next(f for f in page.frames if "st_folium" in (f.url or ""))
    frame.wait_for_function("() => window.__tpStats && window.__tpStats.ready && window.__tpStats.patchVersion !== null",
                            timeout=60_000)
    return frame


def _point(page, latlng) -> tuple[float, float]:
    """Page coordinates of a lat/lng on the Leaflet map inside the component's iframe."""
    frame = _map_ready(page)
    # the frame may have been resized since Leaflet last measured it (it re-measures on the next
    # animation frame): measure now, so the point is where the cursor will land
    x, y = frame.evaluate("([lat, lng]) => { map_div.invalidateSize({animate: false});"
                          " const p = map_div.latLngToContainerPoint([lat, lng]); return [p.x, p.y]; }", list(latlng))
    box = page.locator(MAP).bounding_box()
    return box["x"] + x, box["y"] + y


PIXEL = """([lat, lng]) => {
  const canvas = document.querySelector('canvas.territory-plan-canvas');
  const c = canvas.getBoundingClientRect(), m = document.getElementById('map_div').getBoundingClientRect();
  const p = map_div.latLngToContainerPoint([lat, lng]), k = window.devicePixelRatio || 1;
  const d = canvas.getContext('2d').getImageData(Math.round((m.left + p.x - c.left) * k), Math.round((m.top + p.y - c.top) * k), 1, 1).data;
  return '#' + [d[0], d[1], d[2]].map(v => v.toString(16).padStart(2, '0')).join('');
}"""


def _fill_at(page, latlng) -> str:
    """The colour drawn on the map's canvas at a point (the cell's fill there)."""
    return _map_ready(page).evaluate(PIXEL, list(latlng))


def _same_colour(a: str | None, b: str | None) -> bool:
    """Equal up to the rounding of a translucent canvas pixel (one or two steps per channel)."""
    if not a or not b:
        return False
    rgb = [[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in (a, b)]
    return max(abs(x - y) for x, y in zip(*rgb)) <= 3


def _wait_fill(page, latlng, colour: str) -> None:
    """Wait until the map shows ``colour`` at a point (the server's answer lands just after the
    script run ends); fails with what it shows instead."""
    try:
        _map_ready(page).wait_for_function(
            "([lat, lng, hex, pixel]) => { const got = eval(pixel)([lat, lng]);"
            " return [1, 3, 5].every(i => Math.abs(parseInt(got.slice(i, i + 2), 16) - parseInt(hex.slice(i, i + 2), 16)) <= 3); }",
            arg=[*latlng, colour, PIXEL], timeout=15_000)
    except PlaywrightTimeout:
        raise AssertionError(f"the map shows {_fill_at(page, latlng)} at {latlng}, expected {colour}") from None


def _territory_colour(page, name: str) -> str:
    return _map_ready(page).evaluate("(n) => window.parent.__territoryDesigner.map.territories.find(t => t.name === n).color",
                                     name)


def _choose_tool(page, label: str) -> None:
    page.locator("[data-testid='stSidebar'] label", has_text=label).first.click()
    wait_until_idle(page)


def _message(page) -> str:
    alert = page.locator("[data-testid='stSidebar'] [data-testid='stAlert']").first
    alert.wait_for(timeout=60_000)
    wait_until_idle(page)
    return alert.inner_text()


def _alert(page, text: str) -> str:
    """Wait for the sidebar message containing ``text`` (not an older one) and return it."""
    alert = page.locator("[data-testid='stSidebar'] [data-testid='stAlert']", has_text=text).first
    alert.wait_for(timeout=60_000)
    wait_until_idle(page)
    return alert.inner_text()


def _zoom_to(page, latlng, zoom: int = 8) -> None:
    frame = _map_ready(page)
    frame.evaluate("([lat, lng, z]) => { map_div.invalidateSize({animate: false});"
                   " map_div.setView([lat, lng], z, {animate: false}); }", [*latlng, zoom])


def open_app(server, browser, *, width: int = 1600, height: int = 1400):
    """A new page on the app, once the demo has loaded (the first run builds it)."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(server.url)
    page.locator("[data-testid='stMetricValue']").first.wait_for(timeout=240_000)
    wait_until_idle(page)
    return page


def _open_designer(server, browser, *, height: int):
    """A new page on the Designer, once the demo has loaded and the map is drawn."""
    page = open_app(server, browser, height=height)
    page.locator("[data-testid='stSidebarNav'] a", has_text="Designer").click()
    page.locator("[data-testid='stMetric']", has_text="Active: accounts").wait_for(timeout=120_000)
    _map_ready(page)
    return page


def screenshot(page, name: str) -> None:
    """Save the page for the docs when ``TERRITORY_SCREENSHOTS`` names a folder (docs/screenshots)."""
    import os
    from pathlib import Path

    folder = os.environ.get("TERRITORY_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"))


def foreign_requests(requested: set[str], server) -> set[str]:
    """The requests of a page that went to a host other than the app's own."""
    from urllib.parse import urlparse

    own = {urlparse(server.url).netloc, f"127.0.0.1:{server.port}"}
    return {u for u in requested if urlparse(u).scheme in ("http", "https", "ws", "wss") and urlparse(u).netloc not in own}


def map_frame(page, ready: str):
    """The folium map frame once ``ready`` (a JS expression in the frame) holds."""
    page.locator(MAP).first.scroll_into_view_if_needed()  # frames load lazily
    page.frame_locator(MAP).locator(".leaflet-container").wait_for(state="attached", timeout=60_000)
    frame = next(f for f in page.frames if "st_folium" in (f.url or ""))
    frame.wait_for_function(f"() => {ready}", timeout=60_000)
    return frame


BASEMAP_DRAWN = ("window.__basemap && window.__basemap.states && !window.__basemap.error && window.__basemap.cities > 0"
                 " && document.querySelectorAll('path.territory-basemap-state').length > 0"
                 " && document.querySelectorAll('path.territory-basemap-coast').length > 0")


def go(page, title: str) -> None:
    """Open a page from the sidebar and wait for its script run to end."""
    page.locator("[data-testid='stSidebarNav'] a", has_text=title).click()
    page.get_by_role("heading", name=title, exact=True).wait_for(timeout=120_000)
    wait_until_idle(page)


def create_scenario(page, name: str) -> None:
    """On the Scenarios page: a new scenario from the active plan (the Designer opens it next)."""
    go(page, "Scenarios")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_role("button", name="Create scenario").click()
    page.get_by_text(f"Created '{name}'").wait_for(timeout=60_000)
