"""The Scenarios page in AppTest: create, compare (deltas, moved accounts), promote, delete, export panel."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from territory import store
from territory.plans import edits, plan, scenarios
from territory.ui import state
from tests.app.conftest import open_page


@pytest.fixture
def page(app):
    return open_page(app, "pages/scenarios.py")


def _frame(at, *columns) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if set(columns) <= set(d.value.columns))


def active_plan(db) -> int:
    con = store.connect(db)
    try:
        return plan.active_scenario(con)
    finally:
        con.close()


def _create(at, name: str) -> None:
    at.text_input(key="scenario_new_name").input(name)
    next(b for b in at.button if b.label == "Create scenario").click().run()
    assert not at.exception, at.exception


def test_create_change_and_compare_shows_the_moved_accounts(page):
    at, db = page
    _create(at, "Try <b>this</b> & that")
    # the name is user text: its markup reaches the markdown escaped, so it shows as typed
    assert "Created 'Try \\<b\\>this\\</b\\> & that'" in at.success[0].value
    assert "Try <b>this</b> & that" in set(_frame(at, "name", "active")["name"])
    con = store.connect(db)
    try:
        sid = int(scenarios.listing(con).set_index("name").loc["Try <b>this</b> & that", "scenario_id"])
        cells = plan.assignments(con, sid).sort_values("cell")["cell"].head(5).tolist()
        target = plan.territories(con, sid)["territory_id"].iloc[0]
        edits.assign(con, sid, cells, target)
        expected = scenarios.compare(con, [plan.active_scenario(con), sid])
    finally:
        con.close()
    at.run()  # the page shows the edit made elsewhere (another tab, the Designer)
    assert not at.exception, at.exception
    assert at.multiselect(key="scenarios_compare").value == [active_plan(db), sid]  # new: compared with active
    moved = _frame(at, "account_id", "from_territory", "to_territory")
    assert len(moved) == len(expected.moved) > 0
    assert set(moved["to_territory"]) == set(expected.moved["to_territory"])
    assert any(f"{len(expected.changed_cells):,} cells differ" in m.value for m in at.markdown)
    assert any(f"{len(expected.moved):,} accounts change territory or owner" in m.value for m in at.markdown)
    deltas = _frame(at, "territory", "Try <b>this</b> & that Δ")
    assert deltas["Try <b>this</b> & that Δ"].sum() == pytest.approx(0)  # potential moves, none is lost
    assert (deltas["Try <b>this</b> & that Δ"] > 0).sum() == 1


def test_promote_keeps_history_and_delete_needs_confirmation(page):
    at, db = page
    _create(at, "Next year")
    at.selectbox(key="scenario_manage").select_index(len(at.selectbox(key="scenario_manage").options) - 1).run()
    assert at.selectbox(key="scenario_manage").format_func(at.selectbox(key="scenario_manage").value) == "Next year"
    at.button(key="scenario_promote").click().run()
    assert "'Next year' is now the active plan" in at.success[0].value
    table = _frame(at, "name", "active").set_index("name")
    assert table.loc["Next year", "active"] == "● active" and table.loc["Baseline (CRM ownership)", "active"] == ""
    assert _frame(at, "promoted", "replaced").iloc[0].tolist()[1:] == ["Next year", "Baseline (CRM ownership)"]
    assert at.button(key="scenario_delete").disabled
    con = store.connect(db)
    try:
        assert scenarios.listing(con).set_index("name").loc["Next year", "is_active"]
    finally:
        con.close()


def test_export_panel_counts_what_the_crm_file_will_hold(page):
    at, db = page
    con = store.connect(db)
    try:
        acc = plan.active_scenario(con)
        from territory import exports

        rows, _, _ = exports.ownership(con, acc)
    finally:
        con.close()
    assert any(c.value.startswith(f"Exports Baseline (CRM ownership): {len(rows):,} accounts, 0 of them with a new "
                                  "owner compared with the CRM today") for c in at.caption), [c.value for c in at.caption]
    assert at.get("download_button")[0].proto.label == (
        "Download Salesforce Data Loader CSV (Id, OwnerId) · Baseline (CRM ownership)")


def test_a_deleted_scenario_chosen_on_other_pages_leaves_them_working(page):
    """Chosen on the KPIs, Rules and Designer pages, then deleted: every page falls back to a plan
    that exists instead of failing on the stale choice."""
    at, _ = page
    _create(at, "Short-lived")
    sid = at.multiselect(key="scenarios_compare").value[-1]
    for script, key in (("pages/kpis.py", "kpis_plan"), ("pages/rules.py", "rules_plan")):
        at.switch_page(script).run()
        at.session_state[key] = sid
        at.run()
        assert not at.exception, at.exception
    at.switch_page("pages/scenarios.py").run()
    at.session_state["scenario_manage"] = sid
    at.session_state["export_plan"] = sid
    at.run()
    at.checkbox(key=f"scenario_delete_ok_{sid}").check().run()
    at.button(key="scenario_delete").click().run()
    assert "Deleted 'Short-lived'" in at.success[0].value
    assert sid not in at.multiselect(key="scenarios_compare").value
    for script in ("pages/kpis.py", "pages/rules.py", "pages/designer.py", "pages/scenarios.py"):
        at.switch_page(script).run()
        assert not at.exception, (script, at.exception)
        if script == "pages/designer.py":
            assert "Short-lived" not in at.sidebar.selectbox(key="designer_plan_pick").options


def test_the_export_follows_a_promotion_at_once(page):
    """'The active plan' is resolved when the page is drawn: promote another plan and the export
    names it, counts its owner changes and downloads it, with no other click."""
    at, db = page
    _create(at, "Next year")
    con = store.connect(db)
    try:
        sid = next(s for s, n in state.plan_names(con, mark_active=False).items() if n == "Next year")
        cells = plan.assignments(con, sid)["cell"].head(30).astype(int).tolist()
        edits.assign(con, sid, cells, plan.territories(con, sid)["territory_id"].iloc[0])
    finally:
        con.close()
    at.selectbox(key="scenario_manage").set_value(sid).run()
    at.button(key="scenario_promote").click().run()
    assert not at.exception, at.exception
    caption = next(c.value for c in at.caption if c.value.startswith("Exports "))
    assert caption.startswith("Exports Next year:")
    assert int(re.search(r"([\d,]+) of them with a new owner", caption).group(1).replace(",", "")) > 0
    assert at.get("download_button")[0].proto.label.endswith("· Next year")
