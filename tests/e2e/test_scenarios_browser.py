"""Scenarios in a real browser: create one, change it in the Designer, compare it with the active
plan and see the accounts that move, then export both plans and find exactly those owners changed."""

from __future__ import annotations

import csv
import io
import re

import pytest

from tests.e2e.conftest import wait_until_idle, wait_until_settled
from tests.e2e.helpers import (
    CHICAGO,
    _alert,
    _count,
    _map_ready,
    _point,
    create_scenario,
    go,
    map_frame,
    open_app,
)

pytestmark = pytest.mark.e2e


def _choose(page, label: str, option: str) -> None:
    page.locator("[data-testid='stSelectbox']", has_text=label).click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_until_idle(page)


def _download(page, label: str) -> list[dict]:
    """Click the download button labelled ``label`` (it names the plan, so it is the current one)."""
    with page.expect_download(timeout=120_000) as info:
        page.get_by_role("button", name=label, exact=True).click()
    text = info.value.path().read_bytes().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_create_change_compare_and_export_a_scenario(server, browser):
    page = open_app(server, browser)
    create_scenario(page, "Chicago cell <to> the first territory")

    # the Designer opens the new scenario; one click moves a Chicago cell to the active territory
    go(page, "Designer")
    page.locator("[data-testid='stMetric']", has_text="Active: accounts").wait_for(timeout=120_000)
    plan_box = page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']", has_text="Plan").first
    assert plan_box.locator("input").input_value() == "Chicago cell <to> the first territory"
    page.mouse.click(*_point(page, CHICAGO))
    _alert(page, "Painted 1 cell")
    _map_ready(page)
    moved = _count(page, "Accounts moved")
    assert moved > 0

    # compared with the active plan (the baseline): the same accounts move, and one cell differs
    go(page, "Scenarios")
    page.get_by_text(re.compile(rf"^{moved:,} accounts change territory or owner")).wait_for(timeout=120_000)
    page.get_by_text("1 cell differs").wait_for()
    # the map draws that one cell (at least a few pixels across, however far zoomed out)
    frame = map_frame(page, "window.__cellsStats && window.__cellsStats.ready")
    assert frame.evaluate("() => window.__cellsStats.cells") == 1

    # export both plans for Salesforce: exactly the moved accounts have another owner
    # the active plan is the one offered first
    sf = "Download Salesforce Data Loader CSV (Id, OwnerId) · "
    before = {r["Id"]: r["OwnerId"] for r in _download(page, sf + "Baseline (CRM ownership)")}
    _choose(page, "Plan to export", "Chicago cell <to> the first territory")
    after_rows = _download(page, sf + "Chicago cell <to> the first territory")
    after = {r["Id"]: r["OwnerId"] for r in after_rows}
    assert list(after_rows[0]) == ["Id", "OwnerId", "Territory"]  # names and coordinates only when asked
    assert len(after) == len(before) == 50_000
    assert sum(before[i] != after[i] for i in after) == moved

    # "the active plan" follows a promotion at once: promote the scenario, download again, no other click
    _choose(page, "Plan to export", "The active plan (now: Baseline (CRM ownership))")
    wait_until_settled(page)  # a dropdown opened while a rerun starts is closed by it
    manage = page.locator("[data-testid='stSelectbox']").filter(has=page.get_by_text("Plan", exact=True)).first
    manage.scroll_into_view_if_needed()
    manage.locator("input").click()
    page.keyboard.type("Chicago cell")  # the list filters as one types; Enter picks the match
    page.get_by_role("option", name="Chicago cell <to> the first territory", exact=True).wait_for(timeout=30_000)
    page.keyboard.press("Enter")
    wait_until_settled(page)
    page.get_by_role("button", name="Promote to active").click()
    page.get_by_text("is now the active plan").wait_for(timeout=60_000)
    wait_until_idle(page)
    page.get_by_text(re.compile(rf"^Exports Chicago cell <to> the first territory: 50,000 accounts, {moved:,} of them "
                                "with a new owner")).wait_for(timeout=60_000)
    promoted = {r["Id"]: r["OwnerId"] for r in _download(page, sf + "Chicago cell <to> the first territory")}
    assert promoted == after
    page.close()
