"""Sizing & quota page pieces: how many reps, what each carries, where to focus.

The numbers come from ``territory.kpis`` (``sizing``, ``quota``, ``segments``) on the plan's
cached scorecard (``ui.kpis.load``), so they equal the KPIs page and the CLI. Writes (the plan's
quota rule, its effective date) pass the version this tab last showed: a stale tab is refused.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from functools import partial
from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from territory import exports, metrics
from territory.errors import ValidationError
from territory.kpis import quota, scorecard, segments, sizing, sizing_charts
from territory.maps import mapview
from territory.plans import plan
from territory.ui import feedback, state
from territory.ui import kpis as kpis_ui
from territory.ui.feedback import plain

MONEY = st.column_config.NumberColumn(format="compact")
HOURS = st.column_config.NumberColumn(format="%.0f h")
PCT = st.column_config.NumberColumn(format="%.1f%%")
MESSAGE = "sizing_message"
WHAT_IF = "sizing_what_if"  # (source plan id, new plan id, n, workload before/after, balance) of the last what-if


def sizing_view(con, sid: int) -> None:
    sc, _ = kpis_ui.load(sid, scorecard.Filters())
    c = st.columns(4)
    utilisation = c[0].slider("Target utilisation", 50, 100, 80, step=5, format="%d%%", key="sizing_utilisation",
                              help="The share of a rep's hours the workload may fill; the rest is admin, training, "
                                   "internal meetings.") / 100
    capacity = c[1].number_input("Capacity hours a rep (0: the reps file's)", 0, 8_760, 0, step=100,
                                 key="sizing_capacity")
    ramp = c[2].number_input("Ramp of a new hire (months)", 0, 24, 0, key="sizing_ramp")
    attrition = c[3].number_input("Attrition a year (%)", 0, 90, 0, key="sizing_attrition") / 100
    with st.expander("Size for a revenue target too"):
        r = st.columns(3)
        target = r[0].number_input("Revenue target ($, 0: none)", 0.0, 1e13, 0.0, step=1e6, format="%.0f",
                                   key="sizing_target")
        quota_rep = r[1].number_input("Quota of a ramped rep ($, 0: the reps' median)", 0.0, 1e12, 0.0, step=1e5,
                                      format="%.0f", key="sizing_quota")
        attainment = r[2].slider("Attainment", 30, 150, 85, step=5, format="%d%%", key="sizing_attainment") / 100
    try:
        result = sizing.size(sc, sizing.Inputs(utilisation, capacity or None, target or None, quota_rep or None,
                                               attainment, ramp, attrition))
    except ValidationError as exc:  # e.g. a ramp so long that hires cannot catch up: say what to change
        feedback.notice("error", exc)
        return
    o = result.overall
    m = st.columns(4)
    m[0].metric("Reps today", o["reps_today"])
    m[1].metric("Reps needed", o["headcount"], delta=o["change"], delta_color="off")
    m[2].metric("FTE by workload", f"{o['fte_workload']:.1f}")
    m[3].metric("FTE by revenue", "—" if o["fte_revenue"] is None else f"{o['fte_revenue']:.1f}")
    st.caption("How it is worked out, with this plan's numbers (docs/sizing-quota.md):")
    st.code("\n".join(result.formula), language=None, wrap_lines=True)
    left, right = st.columns(2)
    left.plotly_chart(sizing_charts.reps_needed(result.regions, o), width="stretch", key="sizing_reps_chart")
    right.plotly_chart(sizing_charts.workload_per_rep(result.territories, result.capacity_hours, utilisation),
                       width="stretch", key="sizing_workload_chart")
    regions = result.regions if o["fte_revenue"] is not None else result.regions.drop(columns=["fte_revenue"])
    st.dataframe(regions, hide_index=True, key="sizing_regions", column_config={
        "region": "Region", "territories": "Territories", "workload_hours": st.column_config.NumberColumn(
            "Workload (visits + travel)", format="%.0f h"), "reps_today": "Reps today",
        "fte_workload": st.column_config.NumberColumn("FTE by workload", format="%.2f"),
        "fte_revenue": st.column_config.NumberColumn("FTE by revenue", format="%.2f"),
        "fte_needed": st.column_config.NumberColumn("FTE needed", format="%.2f"), "headcount": "Reps needed",
        "hires": st.column_config.NumberColumn("Hires", format="%.1f"), "change": "Change"})
    _what_if(con, sid, o["headcount"])


def _what_if(con, sid: int, suggested: int) -> None:
    st.subheader("What if we had N reps?")
    st.caption("Builds a new scenario with N territories: today's plan rebalanced on visit hours and potential "
               "(±10 %), keeping today's territories as far as it can (new ones are named New territory 1, 2 …). "
               "The active plan is never changed.")
    c = st.columns([1, 2, 1, 1])
    n = c[0].number_input("Reps", 1, 500, max(1, min(500, suggested)), key="sizing_n")
    name = c[1].text_input("Scenario name", max_chars=80, key="sizing_name", placeholder=f"What if {n} reps",
                           help="Empty: “What if N reps”") or f"What if {n} reps"
    limit = c[2].selectbox("Time limit", (20, 60, 120), index=1, format_func=lambda s: f"{s} s", key="sizing_limit")
    if c[3].button("Build scenario", type="primary", key="sizing_build"):
        bar = st.progress(0.0, text="Starting")
        result = feedback.attempt(MESSAGE, lambda: sizing.what_if(
            con, sid, int(n), name.strip(), time_limit=float(limit),
            progress=lambda f, msg: bar.progress(min(max(f, 0.0), 1.0), text=msg)))
        bar.empty()
        if result is not feedback.FAILED:
            new, preview, workload = result
            st.session_state[WHAT_IF] = (sid, new, int(n), workload, {
                m: b["max_deviation_pct"] for m, b in preview.report.balance.items()}, preview.report.contiguous)
            feedback.say(MESSAGE, "ok", f"Saved as the scenario “{name.strip()}”: open it on the Designer, the KPIs or "
                                        "the Scenarios page.")
    feedback.show(MESSAGE)
    last = st.session_state.get(WHAT_IF)
    if last and last[0] == sid:
        _, _, n_done, workload, balance, contiguous = last
        st.caption(f"{n_done} territories, {'each in one piece' if contiguous else 'some in several pieces'}; max "
                   "deviation " + ", ".join(f"{plain(metrics.LABELS[m])} {v:.1f} %" for m, v in balance.items())
                   + ". Visit hours per territory, before and after (travel depends on where each rep will live).")
        st.plotly_chart(sizing_charts.workload_before_after(workload), width="stretch", key="sizing_before_after")


def quota_view(con, sid: int) -> None:
    sc, _ = kpis_ui.load(sid, scorecard.Filters())
    stored = quota.rule(con, sid)
    st.caption(f"This plan's quota rule: {plain(quota.METHODS[stored.method])}"
               + (f", company number ${stored.total:,.0f}" if stored.total is not None else "") + ".")
    c = st.columns([2, 1, 1, 1])
    methods = list(quota.METHODS)
    method = c[0].selectbox("Method", methods, index=methods.index(stored.method), format_func=quota.METHODS.get,
                            key=f"quota_method_{sid}")
    default_total = quota.company_number(sc.accounts, sc.territories, quota.Rule("potential"))
    total = c[1].number_input("Company number ($)", 0.0, 1e13, float(stored.total or default_total), step=1e6,
                              format="%.0f", key=f"quota_total_{sid}", disabled=method == "reps")
    growth = c[2].number_input("Growth on history (%)", -90.0, 500.0, stored.growth * 100, step=1.0,
                               key=f"quota_growth_{sid}", disabled=method not in ("history", "blend")) / 100
    blend = c[3].slider("Weight of potential", 0.0, 1.0, stored.blend, step=0.05, key=f"quota_blend_{sid}",
                        disabled=method != "blend")
    rule = quota.Rule(method, None if method == "reps" else total, growth, blend)
    with_forecast = st.toggle("Add each territory's forecast of the next 12 months", key="quota_forecast")
    forecast = _forecast(sid) if with_forecast else None
    table = quota.table(sc.accounts, sc.territories, rule, forecast=forecast)
    if not table["quota"].sum():
        st.info("No company number yet: the reps file has no quotas and there is no revenue history. Choose "
                "*Potential share* and enter the company number to split.")
    m = st.columns(3)
    m[0].metric("Company number", f"${table['quota'].sum():,.0f}")
    m[1].metric("Territories flagged", int((table["fairness"] != "fair").sum()),
                help=f"quota / potential more than {quota.FAIR_BAND:.0%} off the median")
    m[2].metric("Median quota / potential", f"{table['quota_per_potential'].median():.1%}")
    st.plotly_chart(sizing_charts.quota_vs_potential(table), width="stretch", key="quota_scatter")
    shown = table.drop(columns=["territory_id"]).assign(
        quota_per_potential=table["quota_per_potential"] * 100, vs_median=table["vs_median"] * 100,
        attainment=table["attainment"] * 100)
    st.dataframe(shown, hide_index=True, key="quota_table", column_config={
        "name": "Territory", "rep_name": "Rep", "potential": st.column_config.NumberColumn("Potential $", format="compact"),
        "history": st.column_config.NumberColumn("Revenue last 12 months $", format="compact"),
        "quota": st.column_config.NumberColumn("Quota $", format="compact"),
        "forecast": st.column_config.NumberColumn("Forecast next 12 months $", format="compact"),
        "quota_per_potential": st.column_config.NumberColumn("Quota / potential", format="%.1f%%"),
        "vs_median": st.column_config.NumberColumn("vs median", format="%+.0f%%"), "fairness": "Fairness",
        "attainment": st.column_config.NumberColumn("Last 12 months / quota", format="%.0f%%")})
    b = st.columns(3)
    b[0].button("Use this rule for the plan", type="primary", key="quota_save", on_click=feedback.act, args=(
        MESSAGE, partial(quota.set_rule, con, sid, rule, expected_version=state.seen(sid)),
        f"Quota rule saved: {quota.METHODS[rule.method]}. The KPIs page now shows these quotas."))
    frame = table.rename(columns=quota.HEADERS)[[h for c, h in quota.HEADERS.items() if c in table]]
    for col, suffix in ((b[1], "csv"), (b[2], "xlsx")):
        col.download_button(f"Download quotas ({suffix.upper()})", data=partial(_file_bytes, frame, suffix),
                            file_name=f"quotas.{suffix}", key=f"quota_download_{suffix}", on_click="ignore")
    feedback.show(MESSAGE)
    _mid_year(con, sid)


def _mid_year(con, sid: int) -> None:
    st.subheader("Mid-year change")
    parent = plan.parent(con, sid)
    if parent is None:
        st.caption("A plan takes over from the plan it was copied from; this one was copied from none. Copy it on the "
                   "Scenarios page (or rebalance it) to plan a mid-year change.")
        return
    day = quota.effective_date(con, sid)
    c = st.columns([1, 1, 2])
    picked = c[0].date_input("Takes effect on", day or dt.date.today(), key=f"quota_day_{sid}")
    c[1].button("Set the date", key="quota_set_day", on_click=feedback.act, args=(
        MESSAGE, partial(quota.set_effective_date, con, sid, picked, expected_version=state.seen(sid)),
        f"The plan takes effect on {picked:%d %b %Y}."))
    if day is None:
        st.caption("Set the day the plan takes over: quotas then move pro rata with the accounts.")
        return
    per, moving = _pro_rata(sid, plan.version(con, sid), parent, plan.version(con, parent), state.data_version(con), day)
    f = quota.year_fraction_after(day)
    st.caption(f"Until {day:%d %b %Y} the parent plan's quotas run, then this plan's ({f:.0%} of the year). "
               f"{len(moving):,} accounts change territory and take ${moving['moves'].sum():,.0f} of quota with them.")
    st.dataframe(per.drop(columns=["territory_id"]), hide_index=True, key="quota_pro_rata", column_config={
        "name": "Territory", "quota_before": st.column_config.NumberColumn("Quota before $", format="compact"),
        "quota_after": st.column_config.NumberColumn("Quota after $", format="compact"),
        "year_quota": st.column_config.NumberColumn("Quota for the year $", format="compact")})


def segments_view(con, sid: int) -> None:
    sc, _ = kpis_ui.load(sid, scorecard.Filters())
    limits = segments.thresholds(sc.accounts)
    st.caption(f"High potential: ${limits.potential:,.0f} or more (the median account); maintain: penetration "
               f"{limits.penetration:.1%} or more (the book's overall). "
               + " ".join(f"{label}: {segments.HELP[k]}." for k, label in segments.SEGMENTS.items()))
    names = sc.territories.set_index("territory_id")["name"]
    c = st.columns(2)
    by = c[0].radio("Break down by", list(segments.BREAKDOWNS), horizontal=True, format_func=segments.BREAKDOWNS.get,
                    key="segments_by")
    measure = c[1].radio("Show", ("potential", "accounts"), horizontal=True, key="segments_measure",
                         format_func=lambda m: "Potential" if m == "potential" else "Accounts")
    st.plotly_chart(sizing_charts.segment_mix(segments.breakdown(sc.accounts, names, by), measure=measure, by=by),
                    width="stretch", key="segments_chart")
    left, right = st.columns([3, 2])
    with left:
        present = set(sc.accounts["segment"])
        keys = list(segments.SEGMENTS)
        seg = st.selectbox("Shade the map by", keys, format_func=segments.SEGMENTS.get, key="segments_map_segment",
                           index=next((i for i, k in enumerate(keys) if k in present), 0))
        cells = segments.cells(sc.accounts, plan.resolution(con, sid), seg)
        if cells.empty:
            st.info("No account of this plan is in that segment.")
        else:
            layers = mapview.density_layers(cells, "value", label=f"{segments.SEGMENTS[seg]}: potential ($)")
            st_folium(mapview.density_map(layers), height=460, use_container_width=True, returned_objects=[],
                      key="segments_map")
    with right:
        tid = st.selectbox("Key accounts of", list(names.index), format_func=names.get, key="segments_territory")
        keys = segments.key_accounts(con, sc.accounts, tid)
        st.dataframe(keys.drop(columns=["account_id"]), hide_index=True, key="segments_key_accounts",
                     column_config={**{c: h for c, h in segments.HEADERS.items() if c not in (
                         "potential", "revenue_12m", "white_space", "pipeline")},
                         **{c: st.column_config.NumberColumn(segments.HEADERS[c], format="compact")
                            for c in ("potential", "revenue_12m", "white_space", "pipeline")}})
        frame = keys.rename(columns=segments.HEADERS)
        stem = "".join(ch if ch.isalnum() else "-" for ch in str(names[tid])).strip("-").lower() or "territory"
        for suffix in ("csv", "xlsx"):
            st.download_button(f"Download key accounts ({suffix.upper()})", data=partial(_file_bytes, frame, suffix),
                               file_name=f"key-accounts-{stem}.{suffix}", key=f"segments_download_{suffix}",
                               on_click="ignore")


@st.cache_data(show_spinner="Working out the year's quotas", max_entries=8)
def _pro_rata(scenario_id: int, version: int, parent: int, parent_version: int, data_version: int,
              day: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``quota.prorate_plans`` once per version of both plans (it reads both plans' books)."""
    return quota.prorate_plans(state.db(), scenario_id, day, parent)


@st.cache_data(show_spinner="Forecasting", max_entries=8)
def _forecast_cached(scenario_id: int, version: int, data_version: int) -> pd.Series:
    sc, _ = kpis_ui.load(scenario_id, scorecard.Filters())
    return scorecard.forecast_totals(sc, months=12)


def _forecast(sid: int) -> pd.Series:
    con = state.db()
    return _forecast_cached(sid, plan.version(con, sid), state.data_version(con))


def _file_bytes(frame: pd.DataFrame, suffix: str) -> bytes:
    """A table as CSV or Excel bytes, its text as data (runs when the download is clicked)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"table.{suffix}"
        exports.table_file(frame, path)
        return path.read_bytes()
