"""Sizing, quotas and segments on the two-rep book (``TINY_DOC`` in conftest), computed by hand.

Territories: Ana's (A1 Denver, A2 1° north) and Ben's (A3, A4 in Kansas City). Potential 1000,
3000 | 2000, 4000; revenue over the last 12 months 120, 0 | 600, 1200; quotas 100 | 200.
"""

from __future__ import annotations

import datetime as dt
import time

import pandas as pd
import pytest

from territory import exports, grid
from territory.errors import ConflictError, ValidationError
from territory.kpis import quota, scorecard, segments, sizing
from territory.plans import edits, plan


def _book(con, sid=None):
    sid = sid or plan.baseline_scenario(con)
    sc = scorecard.build(con, sid)
    return sc, sc.territories.set_index("rep_id")["territory_id"]


def test_headcount_adds_the_ramp_of_every_hire_and_attrition_s_replacements():
    # 8 reps: 6 hires + 1.6 replacements, each losing 6/24 of a year: 8 - 1.9 = 6.1 < 7.84;
    # 11 reps: 9 + 2.2 hires: 11 - 2.8 = 8.2 >= 7.84
    assert sizing.headcount(7.84, 2, 6, 0.2) == pytest.approx((11, 11.2))
    assert sizing.headcount(7.84, 2, 0, 0) == (8, 6)  # no ramp: the FTE rounded up
    assert sizing.headcount(0.0, 2, 6, 0.2) == (0, 0.0)
    # a 24-month ramp: a hire adds nothing in year one, so 2 reps can never become 5 productive ones
    with pytest.raises(ValidationError, match="shorten the ramp"):
        sizing.headcount(5, 2, 24, 0.1)


def test_sizing_of_the_two_rep_book(tiny_con):
    sc, _ = _book(tiny_con)
    result = sizing.size(sc, sizing.Inputs(utilisation=0.8, revenue_target=1000, attainment=0.85))
    # visits: A1 4 h, A2 12 h (+ travel: 12 visits x 2 x ~111 km / 80 km/h / 3), A3 4 h, A4 24 h
    travel = 12 * 2 * grid.distance_km(40.74, -104.99, 39.74, -104.99)[()] / 80 / 3
    assert result.overall["workload_hours"] == pytest.approx(44 + travel, rel=1e-3)
    assert result.capacity_hours == 1000  # the reps file's median
    assert result.overall["fte_workload"] == pytest.approx((44 + travel) / 800, rel=1e-3)
    assert result.quota_per_rep == 150  # the median of 100 and 200
    assert result.overall["fte_revenue"] == pytest.approx(1000 / (150 * 0.85))
    assert result.overall["headcount"] == 8 and result.overall["reps_today"] == 2
    regions = result.regions.set_index("region")
    assert regions.loc["West", "fte_revenue"] == pytest.approx(0.4 * 1000 / 127.5)  # 40 % of the potential
    assert regions.loc["Central", "workload_hours"] == pytest.approx(28)
    assert any("1,000 / (150 × 85%)" in line for line in result.formula)


def test_a_revenue_target_without_any_quota_is_refused_with_what_to_do(tiny_con):
    tiny_con.execute("UPDATE reps SET quota = NULL")
    sc, _ = _book(tiny_con)
    with pytest.raises(ValidationError, match="quota per rep"):
        sizing.size(sc, sizing.Inputs(revenue_target=1000))
    with pytest.raises(ValidationError, match="utilisation"):
        sizing.Inputs(utilisation=1.5)


@pytest.mark.parametrize("rule, ana, ben", [
    (quota.Rule("reps"), 100, 200),
    (quota.Rule("potential"), 120, 180),  # the reps' 300 by potential 4000 : 6000
    (quota.Rule("potential", total=1000), 400, 600),
    (quota.Rule("history", growth=0.1), 132, 1980),  # 1920 x 1.1 by revenue 120 : 1800
    (quota.Rule("blend", total=300, blend=0.5), 69.375, 230.625),  # 300 x (0.4 + 0.0625) / 2
])
def test_quota_methods_on_the_two_rep_book(tiny_con, rule, ana, ben):
    sc, tid = _book(tiny_con)
    q = quota.per_territory(sc.accounts, sc.territories, rule)
    assert q[tid["R1"]] == pytest.approx(ana) and q[tid["R2"]] == pytest.approx(ben)
    assert q.sum() == pytest.approx(rule.total if rule.total is not None else ana + ben)


def test_unfair_quotas_are_flagged_against_the_median_ratio(tiny_con):
    sc, _ = _book(tiny_con)
    table = quota.table(sc.accounts, sc.territories, quota.Rule("blend", total=300, blend=0.5)).set_index("rep_name")
    # quota / potential: Ana 69.375 / 4000, Ben 230.625 / 6000; the median is their mean: each 37.8 % off
    assert table.loc["Ana", "quota_per_potential"] == pytest.approx(69.375 / 4000)
    assert table.loc["Ana", "fairness"] == "low" and table.loc["Ben", "fairness"] == "high"
    fair = quota.table(sc.accounts, sc.territories, quota.Rule("potential"))
    assert set(fair["fairness"]) == {"fair"}


def test_the_plan_s_rule_drives_the_kpis_is_versioned_and_goes_with_a_copy(tiny_con):
    sid = plan.baseline_scenario(tiny_con)
    version = plan.version(tiny_con, sid)
    quota.set_rule(tiny_con, sid, quota.Rule("potential", total=1000), expected_version=version)
    sc, tid = _book(tiny_con)
    assert sc.territories.set_index("rep_id").loc["R1", "quota"] == pytest.approx(400)
    west = scorecard.build(tiny_con, sid, scorecard.Filters(regions=("West",))).territories
    assert west.set_index("rep_id")["quota"].to_dict() == {"R1": pytest.approx(400)}  # not the whole 1000
    with pytest.raises(ConflictError):  # a tab that saw the version before the change
        quota.set_rule(tiny_con, sid, quota.Rule("reps"), expected_version=version)
    copy = plan.clone(tiny_con, sid, "copy")
    assert quota.rule(tiny_con, copy) == quota.Rule("potential", total=1000)


def test_mid_year_the_quota_moves_pro_rata_with_the_accounts_and_adds_up(tiny_con):
    """A2 (potential 3000 of Ana's 4000) moves to Ben on 1 July 2026; the new plan splits 300 by
    potential: Ana 30, Ben 270. 184 of 365 days are left: Ana's year is 100 - 70 x 184/365."""
    base = plan.baseline_scenario(tiny_con)
    new = plan.clone(tiny_con, base, "mid-year")
    _, tid = _book(tiny_con)
    a2_cell = int(tiny_con.execute("SELECT cell FROM accounts WHERE account_id = 'A2'").fetchone()[0])
    cell = int(grid.parents([a2_cell], plan.resolution(tiny_con, new))[0])
    edits.assign(tiny_con, new, [cell], tid["R2"])
    quota.set_rule(tiny_con, new, quota.Rule("potential", total=300))
    quota.set_effective_date(tiny_con, new, dt.date(2026, 7, 1))
    per, moving = quota.prorate_plans(tiny_con, new)
    f = 184 / 365
    per = per.set_index("territory_id")
    assert per.loc[tid["R1"], "year_quota"] == pytest.approx(100 * (1 - f) + 30 * f)
    assert per.loc[tid["R2"], "year_quota"] == pytest.approx(200 * (1 - f) + 270 * f)
    assert per["year_quota"].sum() == pytest.approx(300)
    assert moving["account_id"].tolist() == ["A2"]
    assert moving["quota_share"].iloc[0] == pytest.approx(75)  # 3000 / 4000 of Ana's 100
    assert moving["moves"].iloc[0] == pytest.approx(75 * f)
    assert quota.year_fraction_after(dt.date(2026, 1, 1)) == 1.0


def test_a_plan_copied_from_none_has_no_mid_year_change(tiny_con):
    base = plan.baseline_scenario(tiny_con)
    with pytest.raises(ValidationError, match="copied from no plan"):
        quota.prorate_plans(tiny_con, base, dt.date(2026, 7, 1))


def test_segments_of_the_two_rep_book(tiny_con):
    """Median potential 2500, overall penetration 1920 / 10000 = 19.2 %: A1 (12 %, 1000) is
    deprioritised, A2 (3000, no revenue) is to win, A3 and A4 (30 %) are maintained."""
    sc, tid = _book(tiny_con)
    limits = segments.thresholds(sc.accounts)
    assert (limits.potential, limits.penetration) == pytest.approx((2500, 0.192))
    seg = sc.accounts.set_index("account_id")["segment"]
    assert seg.to_dict() == {"A1": "deprioritise", "A2": "win", "A3": "maintain", "A4": "maintain"}
    grow = segments.assign(pd.DataFrame({"potential": [3000.0, 100.0], "revenue_12m": [10.0, 50.0]}), limits)
    assert grow.tolist() == ["grow", "maintain"]
    mix = segments.mix(sc.accounts, sc.territories.set_index("territory_id")["name"]).set_index("territory_id")
    assert mix.loc[tid["R1"], "win_potential"] == 3000 and mix.loc[tid["R2"], "maintain_accounts"] == 2
    only = scorecard.build(tiny_con, plan.baseline_scenario(tiny_con), scorecard.Filters(segments=("maintain",)))
    assert only.territories.set_index("rep_id")["accounts"].fillna(0).to_dict() == {"R1": 0, "R2": 2}


def test_key_accounts_lead_with_white_space_and_carry_the_last_activity(tiny_con):
    sc, tid = _book(tiny_con)
    keys = segments.key_accounts(tiny_con, sc.accounts, tid["R2"])
    assert keys["account_id"].tolist() == ["A4", "A3"]  # white space 2800, then 1400
    assert keys["white_space"].tolist() == [2800, 1400]
    assert keys["pipeline"].iloc[0] == 1000  # O5, open
    assert pd.Timestamp(keys["last_activity"].iloc[0]) == pd.Timestamp("2026-10-01")  # the last month with revenue


def test_table_files_keep_hostile_text_as_data(tmp_path):
    import openpyxl

    frame = pd.DataFrame({"Territory": ["=HYPERLINK(\"http://x\",\"y\")", "+1-2", "Plain"], "Quota $": [1.0, -2.0, 3.0]})
    csv = exports.table_file(frame, tmp_path / "q.csv").path.read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in csv and "'+1-2" in csv and "\n-2.0" not in csv.replace(",-2.0", "")
    sheet = openpyxl.load_workbook(exports.table_file(frame, tmp_path / "q.xlsx").path).active
    assert sheet["A2"].data_type == "s" and sheet["A2"].value.startswith("=HYPERLINK")
    assert sheet["B3"].value == -2.0
    with pytest.raises(ValidationError, match=".csv or an .xlsx"):
        exports.table_file(frame, tmp_path / "q.txt")


def test_what_if_n_reps_builds_a_scenario_of_n_contiguous_territories_whose_quotas_follow(demo_con):
    base = plan.active_scenario(demo_con)
    k = len(plan.territories(demo_con, base))
    company = quota.company_number(*_book_and_territories(demo_con, base), quota.rule(demo_con, base))
    # the small demo's potential is lumpy (one account holds 59 % of a target): workload alone here
    new, preview, workload = sizing.what_if(demo_con, base, k + 2, "plus two", measures=("visit_hours",), time_limit=30)
    assert len(plan.territories(demo_con, new)) == k + 2
    assert preview.report.contiguous and preview.report.balance["visit_hours"]["max_deviation_pct"] <= 10
    assert set(workload["plan"]) == {"today", f"{k + 2} reps"} and (workload["plan"] != "today").sum() == k + 2
    after = workload.loc[workload["plan"] != "today", "visit_hours"]  # what the KPIs page will show
    assert (after / after.mean() - 1).abs().max() <= 0.10 + 1e-9
    assert plan.active_scenario(demo_con) == base  # never the active plan
    started = time.perf_counter()
    with pytest.raises(ValidationError, match="exists already"):  # refused before the run, not after it
        sizing.what_if(demo_con, base, k + 2, "plus two", time_limit=30)
    assert time.perf_counter() - started < 2
    # the company number re-cut by potential: the two new territories (no rep yet) carry quota too
    assert quota.rule(demo_con, new) == quota.Rule("potential", total=company)
    terr = scorecard.build(demo_con, new).territories
    assert terr["quota"].sum() == pytest.approx(company)
    assert (terr.loc[terr["name"].str.startswith("New territory"), "quota"] > 0).all()


def _book_and_territories(con, sid):
    sc = scorecard.build(con, sid)
    return sc.accounts, sc.territories


def test_a_plan_made_before_quota_rules_keeps_its_quotas_and_can_be_copied(db_path, accounts_file):
    """Migration 6 on a database of version 5 with a plan: the plan's quotas are the reps' as
    before, and a copy (which now carries the rule) works."""
    from territory import store
    from territory.data import ingest

    con = store.connect(db_path, upgrade_to=5)
    ingest.import_file(con, accounts_file, "accounts")
    base = plan.create_baseline(con, resolution=5)
    before = con.execute("SELECT count(*) FROM territories WHERE scenario_id = ?", [base]).fetchone()
    con.close()
    con = store.connect(db_path)
    try:
        assert store.schema_version(con) >= 6
        assert quota.rule(con, base) == quota.Rule()
        copy = plan.clone(con, base, "copy after the upgrade")
        assert con.execute("SELECT count(*) FROM territories WHERE scenario_id = ?", [copy]).fetchone() == before
        assert scorecard.build(con, copy).territories["quota"].fillna(0).sum() == 0  # derived reps: no quota
    finally:
        con.close()


def test_the_mix_breaks_down_by_tier_and_industry_with_names_as_text(tiny_con):
    from territory.kpis import sizing_charts

    sc, tid = _book(tiny_con)
    names = sc.territories.set_index("territory_id")["name"]
    tiers = segments.breakdown(sc.accounts, names, "tier").set_index(["territory_id", "category"])["potential"]
    assert tiers.to_dict() == {(tid["R1"], "B"): 3000, (tid["R1"], "C"): 1000,
                               (tid["R2"], "A"): 4000, (tid["R2"], "C"): 2000}
    hostile = sc.accounts.assign(industry="<b>Evil</b> %{x} ${alert(1)}")
    fig = sizing_charts.segment_mix(segments.breakdown(hostile, names, "industry"), by="industry")
    bar = fig.data[0]
    assert bar.name == "&lt;b&gt;Evil&lt;/b&gt; %{x} ${alert(1)}" and "%{x}" not in bar.hovertemplate.replace(
        "%{x:,.0f}", "")
    assert list(bar.hovertext) == [bar.name, bar.name]


def test_quotas_follow_a_rebalance_accepted_in_place(demo_con):
    from territory.optimizer import Options
    from territory.plans import rebalance

    work = plan.working_scenario(demo_con)
    company = float(demo_con.execute("SELECT sum(quota) FROM reps").fetchone()[0])
    assert quota.rule(demo_con, work) == quota.Rule()
    preview = rebalance.rebalance(demo_con, work, Options(balance={"visit_hours": 0.2}, time_limit=5))
    assert rebalance.accept(demo_con, preview) is not None
    assert quota.rule(demo_con, work) == quota.Rule("potential", total=company)
    terr = scorecard.build(demo_con, work).territories
    assert terr["quota"].sum() == pytest.approx(company)
    assert (terr["quota"] / terr["potential"]).std() < 1e-9  # every territory the same share of its potential


def test_a_users_own_export_alone_sizes_segments_and_lists_key_accounts(con, accounts_file):
    """No reps file, no revenue, no opportunities: reps come from the owners, capacity is the
    default, there is no company number yet, every account is to win or deprioritise."""
    from territory.data import ingest

    ingest.import_file(con, accounts_file, "accounts")
    sid = plan.create_baseline(con, resolution=5)
    sc = scorecard.build(con, sid)
    result = sizing.size(sc)
    assert result.capacity_hours == sizing.DEFAULT_CAPACITY_HOURS and result.overall["reps_today"] == 1
    assert quota.company_number(sc.accounts, sc.territories, quota.Rule("potential")) == 0
    assert set(sc.accounts["segment"]) <= {"win", "deprioritise"}
    keys = segments.key_accounts(con, sc.accounts, sc.territories["territory_id"].iloc[0])
    assert len(keys) == 10 and keys["last_activity"].isna().all()
