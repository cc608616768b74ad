"""Maps a manager can read, in a real browser: the offline basemap on every map, neighbouring
territories in different colours, search that zooms, and territory create/delete/undo with no
traceback and no settings leaking from one plan into another."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import wait_until_idle, wait_until_settled
from tests.e2e.helpers import (
    BASEMAP_DRAWN,
    CHICAGO,
    MAP,
    _alert,
    _map_ready,
    _open_designer,
    _point,
    create_scenario,
    foreign_requests,
    go,
    map_frame,
    screenshot,
)

pytestmark = pytest.mark.e2e

# touching cells of different territories, and how many of them share a colour (the page's state)
BORDERS = """() => { const m = window.parent.__territoryDesigner.map; let borders = 0;
  for (let i = 0; i < m.ids.length; i++) { if (m.terr[i] <= 0) continue; const nb = m.nb[i] || m._neighbours(i);
    for (const j of nb) if (j > i && m.terr[j] > 0 && m.terr[j] !== m.terr[i]) borders++; }
  return [borders, m.clashes(), new Set(m.territories.map(t => t.color)).size, m.territories.length]; }"""


def _search(page, text: str, result: str) -> None:
    """Type ``text`` in the Designer's search box and choose ``result`` from what it finds."""
    page.get_by_placeholder("An account, a city, a ZIP or a territory").fill(text)
    page.keyboard.press("Enter")
    wait_until_settled(page)  # the list of this search, not the one of the search before
    box = page.locator("[data-testid='stSelectbox']", has_text="found: choose one").first
    box.locator("input").click()
    page.keyboard.type(result)  # the list filters as one types
    page.get_by_role("option", name=result, exact=True).click()
    wait_until_idle(page)


def test_every_map_draws_the_basemap_offline_and_neighbours_differ_in_colour(server, browser):
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    requested: set[str] = set()
    page.on("request", lambda r: requested.add(r.url))
    page.goto(server.url)
    page.locator("[data-testid='stMetricValue']").first.wait_for(timeout=240_000)  # the demo loads first
    wait_until_idle(page)

    # Data: the basemap under the cells, first view on the mainland, Alaska one click away
    frame = map_frame(page, f"{BASEMAP_DRAWN} && window.__cellsStats && window.__cellsStats.ready")
    lat, lng, south, west, north, east = frame.evaluate(
        "() => { const b = map_div.getBounds(), c = map_div.getCenter();"
        " return [c.lat, c.lng, b.getSouth(), b.getWest(), b.getNorth(), b.getEast()]; }")
    assert 33 < lat < 43 and -105 < lng < -88, (lat, lng)  # the middle of the contiguous US ...
    assert south < 26 and west < -124 and 49 < north < 56 and east > -67  # ... all of it, and not Alaska
    screenshot(page, "data")
    frame.locator(".territory-regions button", has_text="Alaska").click()
    frame.wait_for_function("() => map_div.getCenter().lat > 55 && map_div.getCenter().lng < -140")

    # Designer: the basemap, territory names, a legend, and touching territories never alike
    go(page, "Designer")
    page.locator("[data-testid='stMetric']", has_text="Active: accounts").wait_for(timeout=120_000)
    frame = _map_ready(page)
    frame.wait_for_function(BASEMAP_DRAWN, timeout=60_000)
    borders, clashes, colours, territories = frame.evaluate(BORDERS)
    assert borders > 100 and clashes == 0, (borders, clashes)
    assert territories == 30 and colours >= 6
    assert "#000000" not in frame.evaluate("() => window.parent.__territoryDesigner.map.territories.map(t => t.color)")
    legend = frame.locator(".territory-legend-row")
    assert legend.count() == 30
    assert len(frame.evaluate("() => window.__tpStats.labels")) >= 8  # names on the map, not overlapping
    screenshot(page, "designer")

    # a click on a legend row zooms to that territory
    name = legend.nth(4).inner_text()
    legend.nth(4).click()
    frame.wait_for_function("() => map_div.getZoom() >= 6")

    # search: a place, then the map is there
    _search(page, "Boston, MA", "Place: Boston, MA")
    frame.wait_for_function("() => { const c = map_div.getCenter(); return Math.abs(c.lat - 42.36) < 0.3 &&"
                            " Math.abs(c.lng + 71.06) < 0.3 && map_div.getZoom() >= 8; }", timeout=30_000)
    frame.wait_for_function("() => window.__basemap.counties &&"  # zoomed in: county lines too
                            " document.querySelectorAll('path.territory-basemap-county').length > 0", timeout=30_000)
    # the view is kept when the shading changes (a new map is drawn for the new shading)
    box = page.locator(MAP).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, 300)  # the user zooms out a little: the view is theirs now
    frame.wait_for_function("() => map_div.getZoom() < 11 && !map_div._animatingZoom")
    kept = frame.evaluate("() => { const c = map_div.getCenter(); return [c.lat, c.lng, map_div.getZoom()]; }")
    shade = page.locator("[data-testid='stSelectbox']", has_text="Shade cells by")
    shade.locator("input").click()
    page.get_by_role("option", name="Potential ($)", exact=True).click()
    wait_until_idle(page)
    page.wait_for_function("() => { const m = (window.__territoryDesigner || {}).map;"  # the new map, drawn
                           " return m && m.base.metric_label === 'Potential ($)' && m.stats.ready; }", timeout=60_000)
    frame = _map_ready(page)
    lat, lng, zoom = frame.evaluate("() => { const c = map_div.getCenter(); return [c.lat, c.lng, map_div.getZoom()]; }")
    assert zoom == kept[2] and abs(lat - kept[0]) < 0.05 and abs(lng - kept[1]) < 0.05, (kept, (lat, lng, zoom))
    # ... and a territory by name: its cells fill the view
    _search(page, name.split(" (")[0], f"Territory: {name}")
    frame.wait_for_function("() => map_div.getZoom() <= 8", timeout=30_000)

    # one painted cell makes the plans differ; the Scenarios comparison draws it over the basemap too
    frame.evaluate("() => map_div.setView([41.88, -87.63], 8, {animate: false})")
    page.mouse.click(*_point(page, CHICAGO))
    _alert(page, "Painted 1 cell into")
    go(page, "Scenarios")
    page.get_by_text("1 cell differs").wait_for(timeout=120_000)
    frame = map_frame(page, f"{BASEMAP_DRAWN} && window.__cellsStats && window.__cellsStats.cells === 1")
    screenshot(page, "scenarios")
    for name in ("KPIs", "Rules & reps"):
        go(page, name)
        screenshot(page, name.split()[0].lower())

    assert not foreign_requests(requested, server), sorted(foreign_requests(requested, server))[:5]
    assert any(u.endswith("/app/static/vendor/us-atlas/states-10m.json") for u in requested)
    page.close()


def test_create_delete_undo_a_territory_and_settings_stay_with_their_plan(server, browser):
    page = _open_designer(server, browser, height=1300)
    sidebar = page.locator("[data-testid='stSidebar']")
    sidebar.get_by_text("Territories", exact=True).click()
    sidebar.get_by_label("New territory name").fill("Zeta <b>x</b>")
    sidebar.get_by_role("button", name="Create").click()
    _alert(page, "Created territory Zeta <b>x</b>")
    frame = _map_ready(page)
    frame.wait_for_function("() => [...document.querySelectorAll('.territory-legend-row')]"
                            ".some(r => r.textContent === 'Zeta <b>x</b>')")

    sidebar.locator("[data-testid='stPopover']", has_text="Delete territory").locator("button").first.click()
    page.get_by_role("button", name="Delete Zeta <b>x</b>").click()
    _alert(page, "Deleted territory Zeta <b>x</b>")
    frame = _map_ready(page)
    frame.wait_for_function("() => ![...document.querySelectorAll('.territory-legend-row')]"
                            ".some(r => r.textContent === 'Zeta <b>x</b>')")
    page.locator("h1").click()  # focus on the page, not in a field: Ctrl+Z is the app's undo
    page.keyboard.press("Control+z")
    _alert(page, "Undid the deletion of territory Zeta <b>x</b>")
    frame = _map_ready(page)
    frame.wait_for_function("() => [...document.querySelectorAll('.territory-legend-row')]"
                            ".some(r => r.textContent === 'Zeta <b>x</b>')")
    page.keyboard.press("Control+y")
    _alert(page, "Redid the deletion of territory Zeta <b>x</b>")
    assert page.locator("[data-testid='stException']").count() == 0
    assert "Traceback" not in page.inner_text("body") and "Error" not in page.inner_text("[data-testid='stSidebar']")

    # a second plan: its territory form shows its own settings, never the first plan's edits
    create_scenario(page, "Second plan")
    go(page, "Designer")
    page.locator("[data-testid='stMetric']", has_text="Active: accounts").wait_for(timeout=120_000)
    sidebar.get_by_text("Territories", exact=True).click()
    rename = sidebar.get_by_label("Rename")
    original = rename.input_value()
    rename.fill("Only in the second plan")
    rename.press("Enter")
    wait_until_settled(page)
    sidebar.get_by_role("button", name="Save territory").click()
    _alert(page, "Saved Only in the second plan")
    wait_until_settled(page)  # a dropdown opened while a rerun starts is closed by it
    plan_box = sidebar.locator("[data-testid='stSelectbox']", has_text="Plan").first
    plan_box.locator("input").click()
    page.keyboard.type("Working")
    page.get_by_role("option", name="Working plan", exact=True).wait_for(timeout=30_000)
    page.keyboard.press("Enter")
    wait_until_settled(page)
    assert plan_box.locator("input").input_value() == "Working plan"
    assert sidebar.get_by_label("Rename").input_value() == original  # this plan's own name
    assert sidebar.get_by_role("button", name="Save territory").is_disabled()  # nothing to save
    page.close()
