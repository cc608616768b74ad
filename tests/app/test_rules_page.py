"""The Rules & reps page in AppTest: overlays and named accounts (and their refusal), rep allocation,
and the Designer telling the painter which accounts rules hold."""

from __future__ import annotations

import pytest

from territory import store
from territory.plans import plan
from tests.app.conftest import open_page


@pytest.fixture
def page(app_without_crm_rules):
    return open_page(app_without_crm_rules, "pages/rules.py")


def test_accounts_kept_with_their_crm_owner_are_listed_after_the_users_rules(app):
    at, db = open_page(app, "pages/rules.py")
    table = next(d.value for d in at.dataframe if "rule" in d.value.columns)
    crm = _count(db, "SELECT count(*) FROM rules r JOIN scenarios s USING (scenario_id) WHERE s.kind = 'working' "
                     "AND r.origin = 'crm'")
    assert crm > 0 and (table["kind"] == "kept with its CRM owner").sum() == crm
    assert (table["accounts"] == 1).all()  # each holds its one account


def _count(db, sql: str, params=()) -> int:
    con = store.connect(db)
    try:
        return con.execute(sql, list(params)).fetchall()[0][0]
    finally:
        con.close()


def test_an_overlay_into_a_new_territory_holds_the_matching_accounts(page):
    at, db = page
    at.number_input(key="rules_overlay_employees").set_value(1000)
    at.text_input(key="rules_overlay_new").input("Strategic")
    at.button(key="rules_overlay_add").click().run()
    assert not at.exception, at.exception
    assert "Overlay added: employees ≥ 1,000" in at.success[0].value
    table = next(d.value for d in at.dataframe if "rule" in d.value.columns)
    big = _count(db, "SELECT count(*) FROM accounts WHERE employees >= 1000")
    assert big > 0 and table[["rule", "territory", "accounts"]].values.tolist() == [["employees ≥ 1,000", "Strategic", big]]
    # the Designer says so, and its table counts them in Strategic
    at.switch_page("pages/designer.py").run()
    assert not at.exception, at.exception
    assert any(c.value.startswith(f"{big:,} accounts are placed by rules") for c in at.caption)
    kpis = next(d.value for d in at.dataframe if "Territory" in d.value.columns).set_index("Territory")
    assert kpis.loc["Strategic", "Accounts"] == big and kpis.loc["Strategic", "Cells"] == 0


def test_a_named_account_with_an_unknown_id_is_refused_and_changes_nothing(page):
    at, db = page
    before = _count(db, "SELECT count(*) FROM rules")
    at.text_input(key="rules_named_account").input("NOT-AN-ID")
    at.button(key="rules_named_add").click().run()
    assert "no account with id 'NOT-AN-ID'" in at.error[0].value
    assert _count(db, "SELECT count(*) FROM rules") == before == 0


def test_find_then_name_an_account(page):
    at, db = page
    at.text_input(key="rules_find").input("O'Brien").run()
    found = next(d.value for d in at.dataframe if "account_id" in d.value.columns and "employees" in d.value.columns)
    assert found["name"].str.contains("O'Brien").all() and len(found) >= 1
    at.text_input(key="rules_named_account").input(found["account_id"].iloc[0])
    at.button(key="rules_named_add").click().run()
    assert at.success and "now always goes to" in at.success[0].value
    assert _count(db, "SELECT count(*) FROM rules WHERE account_id = ?", [found["account_id"].iloc[0]]) == 1


def test_rep_allocation_suggests_and_accepts_selected_pairs(page):
    at, db = page
    con = store.connect(db)
    try:
        sid = plan.working_scenario(con)
        terr = plan.territories(con, sid)
        first, second = terr["territory_id"].iloc[:2]
        reps = terr.set_index("territory_id")["rep_id"]
        plan.update_territory(con, sid, first, rep_id=reps[second])  # two territories swap reps
        plan.update_territory(con, sid, second, rep_id=reps[first])
    finally:
        con.close()
    at.run()
    at.button(key="alloc_suggest").click().run()
    assert not at.exception, at.exception
    assert any(c.value.startswith("2 of ") and "would get another rep" in c.value for c in at.caption)
    at.button(key="alloc_accept").click().run()
    assert "2 territories have their suggested rep" in at.success[0].value
    con = store.connect(db)
    try:
        now = plan.territories(con, sid).set_index("territory_id")["rep_id"]
    finally:
        con.close()
    assert now[first] == reps[first] and now[second] == reps[second]
