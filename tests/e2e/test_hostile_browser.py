"""Hostile CRM text in a real browser: every page opens with script, markup, LaTeX and formula
names in accounts, reps, territories and plans, and nothing runs or renders as markup.

Also the upload path a user takes: a UTF-16 Salesforce export with accents imports through the
page, the history names the file (not a server path), and the server keeps no copy afterwards.
"""

from __future__ import annotations

import codecs
import re
import tempfile
from pathlib import Path

import pytest

from territory import demo, store
from territory.plans import edits, plan, rules, scenarios
from tests.conftest import SF_HEADER, sf_row
from tests.e2e.conftest import Server, wait_until_idle
from tests.hostile import HOSTILE, MARKUP_SELECTORS, PWNED, make_hostile

pytestmark = pytest.mark.e2e

PAGES = ["Data", "Designer", "KPIs", "Sizing & quota", "Scenarios", "Rules & reps"]
BOLD = "**bold** _em_ `code`"


@pytest.fixture
def hostile_server(tmp_path):
    db = tmp_path / "hostile.duckdb"
    con = store.connect(db)
    demo.load_demo(con, out_dir=tmp_path / "demo", n_accounts=2_000, seed=5)
    make_hostile(con)
    work = plan.working_scenario(con)
    rules.add_named(con, work, con.execute("SELECT min(account_id) FROM accounts").fetchall()[0][0],
                    plan.territories(con, work)["territory_id"].iloc[1])
    other = scenarios.create(con, BOLD, source=work, notes=HOSTILE[1])
    cells = plan.assignments(con, other)["cell"].head(40).astype(int).tolist()
    edits.assign(con, other, cells, plan.territories(con, other)["territory_id"].iloc[2])  # cells differ
    con.close()
    srv = Server(db)
    yield srv
    srv.stop()


def _open(page, server, name: str) -> None:
    if name == "Data":
        page.goto(server.url)
        page.locator("[data-testid='stMetricValue']").first.wait_for(timeout=120_000)
    else:
        page.locator("[data-testid='stSidebarNav'] a", has_text=name).first.click()
        page.get_by_role("heading", name=name).first.wait_for(timeout=120_000)
    wait_until_idle(page)
    _maps_built(page)


def _maps_built(page) -> None:
    """Every map on show has built: a payload in its scripts would have run by now."""
    for frame in page.locator("iframe[title='streamlit_folium.st_folium']").all():
        if not frame.is_visible():  # on a tab not shown
            continue
        frame.scroll_into_view_if_needed()  # frames load lazily
        frame.content_frame.locator(".leaflet-container").wait_for(state="attached", timeout=60_000)


def _markup_found(page) -> list[str]:
    found = []
    for frame in page.frames:
        for selector in MARKUP_SELECTORS:
            try:
                if frame.locator(selector).count():
                    found.append(f"{selector} in {frame.url[:60]}")
            except Exception:  # a frame detached while we looked: nothing rendered in it any more
                continue
    return found


def test_every_page_shows_hostile_names_as_text_and_runs_none(hostile_server, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1500, "height": 1400})
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    for name in PAGES:
        _open(page, hostile_server, name)
        if name == "Sizing & quota":  # every tab: the charts, the quota table, the segment map and key accounts
            for tab in ("Quota", "Segments"):
                page.get_by_role("tab", name=tab).click()
                wait_until_idle(page)
                _maps_built(page)
        if name == "Scenarios":  # compare the hostile-named plan with the active one
            page.get_by_text(re.compile(r"cells? differs?")).first.wait_for(timeout=60_000)
            wait_until_idle(page)
        page.screenshot(path=str(tmp_path / f"hostile-{name.split()[0].lower()}.png"), full_page=True)
        assert not dialogs, f"{name}: a dialog opened: {dialogs}"
        assert PWNED not in page.title() and PWNED not in page.evaluate("() => top.document.title"), name
        assert not _markup_found(page), f"{name}: user text rendered as markup: {_markup_found(page)}"
        assert not [e for e in errors if "alert" in e or PWNED in e], f"{name}: {errors}"
        assert "Something went wrong" not in page.inner_text("body"), name
        if name == "Scenarios":
            body = page.inner_text("body")
            assert BOLD in body  # the plan's name, as typed, in the comparison's caption
        if name == "Designer":
            _rep_home_tooltip_is_text(page)
    page.close()


def _rep_home_tooltip_is_text(page) -> None:
    """Hover a rep's home: its tooltip is the rep's name as typed (the XSS of issue 10 lived here)."""
    frame = next(f for f in page.frames if "st_folium" in (f.url or ""))
    frame.wait_for_function("() => document.querySelectorAll('path.territory-home').length > 0", timeout=60_000)
    shown = frame.evaluate("""() => Object.values(map_div._layers)
        .filter(l => l.options && l.options.className === 'territory-home')
        .map(l => { l.openTooltip(); const el = l.getTooltip().getElement();
                    const out = [el.textContent, el.querySelectorAll('*').length]; l.closeTooltip(); return out; })""")
    names = {text.removesuffix(" (home)") for text, _ in shown}
    assert len(shown) == 30 and names <= set(HOSTILE), names
    assert any("<" in n for n in names) and any("${" in n for n in names)  # markup and templates, as text
    assert all(elements == 1 for _, elements in shown)  # one text span each: nothing parsed as HTML


def test_a_utf16_salesforce_upload_imports_and_leaves_no_copy_on_the_server(hostile_server, browser, tmp_path):
    server = hostile_server
    before = set(Path(tempfile.gettempdir()).glob("territory-upload-*"))
    names = ["Société Générale", "Café Müller – “Zürich”"]
    rows = [sf_row(i + 1, Id=f"001UP{i:04d}", Name=n) for i, n in enumerate(names)]
    text = "\r\n".join([",".join(SF_HEADER)] + [",".join(str(r[c]) for c in SF_HEADER) for r in rows]) + "\r\n"
    upload = tmp_path / "Accounts export (UTF-16).csv"
    upload.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    _open(page, server, "Data")
    page.get_by_text("Import a CRM file").click()
    page.locator("[data-testid='stExpander']").filter(has_text="Import a CRM file").locator(
        "[data-testid='stFileUploaderDropzoneInput'][accept*='.csv']").set_input_files(str(upload))
    go = page.get_by_role("button", name="Validate and load")
    go.wait_for(timeout=60_000)
    wait_until_idle(page)
    go.click()
    page.get_by_text(re.compile(r"Imported 2 of 2 rows into accounts")).wait_for(timeout=60_000)
    wait_until_idle(page)
    assert set(Path(tempfile.gettempdir()).glob("territory-upload-*")) == before
    page.close()
    server.stop()  # it holds the database open
    con = store.connect(server.db)
    try:
        got = con.execute("SELECT name FROM accounts WHERE account_id LIKE '001UP%' ORDER BY account_id").fetchall()
        assert [r[0] for r in got] == names  # accents intact
        assert con.execute("SELECT source FROM import_log ORDER BY import_id DESC LIMIT 1").fetchall() == [
            (upload.name,)]  # the user's file name, not the server's copy
    finally:
        con.close()
