"""Painting in a real browser: click, rectangle, undo, locks, and a reload that keeps it all."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import wait_until_idle

pytestmark = pytest.mark.e2e

CHICAGO = (41.88, -87.63)  # a dense cell that the baseline gives to the Chicago territory
MAP = "iframe[title='streamlit_folium.st_folium']"


def _metric(page, label: str) -> str:
    box = page.locator("[data-testid='stMetric']", has_text=label)
    return box.locator("[data-testid='stMetricValue']").inner_text()


def _count(page, label: str) -> int:
    return int(_metric(page, label).replace(",", ""))


def _map_ready(page):
    wait_until_idle(page)
    frame = page.frame_locator(MAP)
    frame.locator("path.leaflet-interactive >> visible=true").first.wait_for(timeout=60_000)
    return page.frame(url=re.compile(r".*st_folium.*")) or next(
        f for f in page.frames if "st_folium" in (f.url or ""))


def _point(page, latlng) -> tuple[float, float]:
    """Page coordinates of a lat/lng on the Leaflet map inside the component's iframe."""
    frame = _map_ready(page)
    x, y = frame.evaluate("([lat, lng]) => { const p = map_div.latLngToContainerPoint([lat, lng]); return [p.x, p.y]; }",
                          list(latlng))
    box = page.locator(MAP).bounding_box()
    return box["x"] + x, box["y"] + y


def _fill_at(page, latlng) -> str:
    """Fill colour of the cell under a point (cells are translucent; rep-home dots are opaque)."""
    frame = _map_ready(page)
    return frame.evaluate(
        "([lat, lng]) => { const p = map_div.latLngToContainerPoint([lat, lng]);"
        " const r = document.getElementById('map_div').getBoundingClientRect();"
        " const cell = document.elementsFromPoint(r.left + p.x, r.top + p.y).find(el =>"
        "   el.matches('path.leaflet-interactive') && el.getAttribute('fill-opacity') !== '1');"
        " return cell && cell.getAttribute('fill'); }", list(latlng))


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
    frame.evaluate("([lat, lng, z]) => map_div.setView([lat, lng], z, {animate: false})", [*latlng, zoom])


def test_paint_rectangle_undo_lock_and_reload(server, browser):
    page = browser.new_page(viewport={"width": 1600, "height": 1300})
    page.goto(server.url)
    page.locator("[data-testid='stMetricValue']").first.wait_for(timeout=240_000)  # demo loads first
    wait_until_idle(page)
    page.locator("[data-testid='stSidebarNav'] a", has_text="Designer").click()
    page.locator("[data-testid='stMetric']", has_text="Active: accounts").wait_for(timeout=120_000)
    _map_ready(page)
    active_before = _count(page, "Active: accounts")

    # inspect the Chicago cell: how many accounts does it hold?
    _zoom_to(page, CHICAGO)
    _choose_tool(page, "Inspect")
    page.mouse.click(*_point(page, CHICAGO))
    page.get_by_text(re.compile(r"Cell [0-9a-f]+: [\d,]+ accounts")).wait_for(timeout=60_000)
    wait_until_idle(page)
    in_cell = int(re.search(r": ([\d,]+) accounts", page.get_by_text(re.compile(r"Cell [0-9a-f]+:")).inner_text())
                  .group(1).replace(",", ""))
    assert in_cell > 0
    colour_before = _fill_at(page, CHICAGO)
    assert colour_before and colour_before != "#ffffff"

    # one click paints that cell with the active territory
    _choose_tool(page, "Paint")
    _zoom_to(page, CHICAGO)
    page.mouse.click(*_point(page, CHICAGO))
    page.get_by_role("button", name="Undo (1)").wait_for(timeout=60_000)
    assert _message(page) == "Painted 1 cells."
    _map_ready(page)
    assert _count(page, "Active: accounts") == active_before + in_cell
    colour_after = _fill_at(page, CHICAGO)
    assert colour_after and colour_after != colour_before
    assert "Undo (1)" in page.locator("[data-testid='stSidebar']").inner_text()

    # a rectangle paints many cells in one step
    _zoom_to(page, CHICAGO, 7)
    frame = _map_ready(page)
    page.frame_locator(MAP).locator("a.leaflet-draw-draw-rectangle").click()
    x, y = _point(page, CHICAGO)
    page.mouse.move(x - 60, y - 60)
    page.mouse.down()
    page.mouse.move(x + 60, y + 60, steps=5)
    page.mouse.up()
    page.get_by_role("button", name="Undo (2)").wait_for(timeout=60_000)  # the stroke is one new step
    painted = int(re.search(r"Painted (\d+) cells", _message(page)).group(1))
    assert frame is not None and painted > 1

    # undo twice restores the colour and the count
    page.get_by_role("button", name=re.compile(r"Undo \(2\)")).click()
    wait_until_idle(page)
    page.get_by_role("button", name=re.compile(r"Undo \(1\)")).click()
    wait_until_idle(page)
    _zoom_to(page, CHICAGO)
    assert _fill_at(page, CHICAGO) == colour_before
    assert _count(page, "Active: accounts") == active_before

    # redo the click, then reload: the plan and its history are still there
    page.get_by_role("button", name=re.compile(r"Redo \(2\)")).click()
    wait_until_idle(page)
    page.reload()
    page.locator("[data-testid='stMetric']", has_text="Active: accounts").wait_for(timeout=120_000)
    _map_ready(page)
    assert _count(page, "Active: accounts") == active_before + in_cell
    assert re.search(r"Undo \(1\)", page.locator("[data-testid='stSidebar']").inner_text())
    assert re.search(r"Redo \(1\)", page.locator("[data-testid='stSidebar']").inner_text())

    # lock the active territory: painting with it is refused
    page.locator("[data-testid='stSidebar'] summary", has_text="Territories").click()
    page.locator("[data-testid='stSidebar'] [data-testid='stCheckbox']", has_text="Locked").click()
    expect(page.get_by_role("switch", name="Locked")).to_be_checked()
    wait_until_idle(page)
    page.get_by_role("button", name="Save territory").click()
    _alert(page, "(locked)")
    _zoom_to(page, (40.71, -74.0))  # New York: another territory's cell
    page.mouse.click(*_point(page, (40.71, -74.0)))
    assert "is locked" in _alert(page, "refused")
    assert _count(page, "Active: accounts") == active_before + in_cell
    page.close()
