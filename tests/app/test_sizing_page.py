"""The Sizing & quota page in AppTest: its figures equal the library's, the quota rule it saves
drives the KPIs, a stale tab's save is refused, key accounts lead with white space."""

from __future__ import annotations

import pandas as pd
import pytest

from territory.kpis import quota, scorecard, sizing
from territory.plans import plan
from tests.app.conftest import open_page, with_db


@pytest.fixture
def page(app):
    return open_page(app, "pages/sizing.py")


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _frame(at, *columns: str) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if set(columns) <= set(d.value.columns))


def test_sizing_figures_equal_the_library(page):
    at, db = page
    at.slider(key="sizing_utilisation").set_value(60).run()
    assert not at.exception, at.exception
    expected = with_db(db, lambda con: sizing.size(scorecard.build(con, plan.active_scenario(con)),
                                                    sizing.Inputs(utilisation=0.6)))
    assert _metric(at, "Reps today") == str(expected.overall["reps_today"])
    assert _metric(at, "Reps needed") == str(expected.overall["headcount"])
    assert any("60%" in c.value and "reps by workload" in c.value for c in at.code)
    regions = _frame(at, "region", "headcount")  # the raw columns (their labels are column_config)
    assert regions["headcount"].sum() >= expected.overall["headcount"]  # each region rounds up on its own


def test_saving_a_quota_rule_changes_the_kpis_and_a_stale_tab_is_refused(page):
    at, db = page
    sid = with_db(db, plan.active_scenario)
    at.selectbox(key=f"quota_method_{sid}").set_value("potential").run()
    at.number_input(key=f"quota_total_{sid}").set_value(1_000_000.0).run()
    assert _metric(at, "Company number") == "$1,000,000"
    # another tab changes the plan first: this tab's save is refused and changes nothing
    with_db(db, lambda con: plan.bump_version(con, sid))
    at.button(key="quota_save").click().run()
    assert any("another tab" in w.value or "changed" in w.value for w in at.warning), [w.value for w in at.warning]
    assert with_db(db, lambda con: quota.rule(con, sid)) == quota.Rule()
    at.run()  # the tab now shows the latest version
    at.button(key="quota_save").click().run()
    assert not at.exception, at.exception
    assert with_db(db, lambda con: quota.rule(con, sid)) == quota.Rule("potential", total=1_000_000.0)
    quotas = with_db(db, lambda con: scorecard.build(con, sid).territories["quota"])
    assert quotas.sum() == pytest.approx(1_000_000)


def test_key_accounts_lead_with_white_space(page):
    at, db = page
    keys = _frame(at, "name", "white_space", "last_activity")
    assert len(keys) > 3
    assert keys["white_space"].is_monotonic_decreasing
    assert set(keys["segment"]) <= {"Grow", "Win", "Maintain", "Deprioritise"}
    at.radio(key="segments_by").set_value("industry").run()
    assert not at.exception, at.exception
    mix = next(c for c in at.get("plotly_chart") if "Industry mix per territory" in c.proto.spec)
    assert mix is not None


def test_a_ramp_that_cannot_catch_up_says_what_to_change(page):
    at, _ = page
    at.number_input(key="sizing_ramp").set_value(24).run()
    at.number_input(key="sizing_attrition").set_value(20).run()
    assert not at.exception, at.exception
    assert any("shorten the ramp" in e.value for e in at.error), [e.value for e in at.error]


def test_a_mid_year_change_on_a_copied_plan(page):
    import datetime as dt

    at, db = page
    copy = with_db(db, lambda con: plan.clone(con, plan.active_scenario(con), "Mid-year copy"))
    at.run()
    at.sidebar.selectbox(key="sizing_plan").set_value(copy).run()
    at.date_input(key=f"quota_day_{copy}").set_value(dt.date(2026, 7, 1)).run()
    at.button(key="quota_set_day").click().run()
    assert not at.exception, at.exception
    assert with_db(db, lambda con: quota.effective_date(con, copy)) == dt.date(2026, 7, 1)
    per = _frame(at, "quota_before", "quota_after", "year_quota")
    f = 184 / 365
    assert per["year_quota"].sum() == pytest.approx((1 - f) * per["quota_before"].sum() + f * per["quota_after"].sum())
    assert per["quota_before"].sum() == pytest.approx(per["quota_after"].sum())  # a copy: the same quotas
