"""Two browser tabs (two AppTest sessions) on one database: a tab that has not seen the other's
change is refused with the stale-plan message, and nothing it showed overwrites the newer plan."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from territory import settings
from territory.plans import plan
from territory.ui import state, territories
from tests.app.conftest import open_page, with_db


def _second_tab(script: str) -> AppTest:
    tab = AppTest.from_file(str(settings.ROOT / "app.py"), default_timeout=90)
    tab.run()
    tab.switch_page(script).run()
    assert not tab.exception, tab.exception
    return tab


def _keys(tab) -> dict[str, str]:
    return territories.territory_keys(tab.session_state[state.DESIGN_PLAN], tab.sidebar.selectbox(key="designer_territory").value)


def _refused(tab) -> str:
    texts = [w.value for w in tab.sidebar.warning] + [w.value for w in tab.warning]
    assert any("changed elsewhere" in t for t in texts), texts
    return texts[0]


@pytest.fixture
def designer_tabs(app):
    one, db = open_page(app, "pages/designer.py")
    return one, _second_tab("pages/designer.py"), db


def test_a_stale_rename_cannot_unlock_what_the_other_tab_locked(designer_tabs):
    one, two, db = designer_tabs
    tid = one.sidebar.selectbox(key="designer_territory").value
    one.toggle(key=_keys(one)["locked"]).set_value(True).run()
    one.button(key="designer_save_territory").click().run()
    assert "locked" in one.sidebar.success[0].value
    old_name = two.text_input(key=_keys(two)["name"]).value
    two.text_input(key=_keys(two)["name"]).set_value("Renamed in tab two").run()
    two.button(key="designer_save_territory").click().run()
    _refused(two)
    terr = with_db(db, lambda c: plan.territories(c, two.session_state[state.DESIGN_PLAN]).set_index("territory_id"))
    assert bool(terr.loc[tid, "locked"]) and terr.loc[tid, "name"] == old_name
    # tab two now shows the latest settings, and a save from there goes through
    assert two.toggle(key=_keys(two)["locked"]).value is True
    two.text_input(key=_keys(two)["name"]).set_value("Renamed in tab two").run()
    two.button(key="designer_save_territory").click().run()
    terr = with_db(db, lambda c: plan.territories(c, two.session_state[state.DESIGN_PLAN]).set_index("territory_id"))
    assert terr.loc[tid, "name"] == "Renamed in tab two" and bool(terr.loc[tid, "locked"])  # only the name changed


def test_a_stale_delete_or_create_is_refused(designer_tabs):
    one, two, db = designer_tabs
    one.text_input(key=_keys(one)["name"]).set_value("Moved on").run()
    one.button(key="designer_save_territory").click().run()
    sid = two.session_state[state.DESIGN_PLAN]
    count = len(with_db(db, lambda c: plan.territories(c, sid)))
    two.button(key="designer_delete_territory").click().run()
    _refused(two)  # ... and tab two now shows the latest plan
    one.text_input(key=_keys(one)["name"]).set_value("Moved on again").run()
    one.button(key="designer_save_territory").click().run()
    two.text_input(key="designer_new_name").input("From tab two")
    two.button(key="FormSubmitter:designer_new_territory-Create").click().run()
    _refused(two)
    assert len(with_db(db, lambda c: plan.territories(c, sid))) == count


def test_a_stale_tab_cannot_promote_a_plan_the_other_tab_changed(app):
    one, db = open_page(app, "pages/designer.py")
    two = _second_tab("pages/scenarios.py")
    sid = one.session_state[state.DESIGN_PLAN]
    two.selectbox(key="scenario_manage").set_value(sid).run()
    one.toggle(key=_keys(one)["locked"]).set_value(True).run()
    one.button(key="designer_save_territory").click().run()  # the plan changes after tab two drew it
    active = with_db(db, plan.active_scenario)
    two.button(key="scenario_promote").click().run()
    assert any("changed elsewhere" in w.value for w in two.warning), [w.value for w in two.warning]
    assert with_db(db, plan.active_scenario) == active


def test_a_stale_rule_is_refused(app):
    one, db = open_page(app, "pages/rules.py")
    two = _second_tab("pages/rules.py")
    account = with_db(db, lambda c: c.execute("SELECT min(account_id) FROM accounts").fetchall()[0][0])
    rules_before = with_db(db, lambda c: c.execute("SELECT count(*) FROM rules").fetchall()[0][0])
    one.text_input(key="rules_named_account").input(account)
    one.button(key="rules_named_add").click().run()
    assert "always goes to" in one.success[0].value
    two.text_input(key="rules_named_account").input(account)
    two.button(key="rules_named_add").click().run()
    assert any("changed elsewhere" in w.value for w in two.warning), [w.value for w in two.warning]
    assert with_db(db, lambda c: c.execute("SELECT count(*) FROM rules").fetchall()[0][0]) == rules_before + 1
