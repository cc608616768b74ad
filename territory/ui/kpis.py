"""KPIs page pieces: cached scorecards and forecasts, the headline, the views and the drill-downs."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from territory.data import quality
from territory.kpis import charts, forecast, scorecard
from territory.plans import edits
from territory.ui import state
from territory.ui.feedback import plain

MONEY = st.column_config.NumberColumn(format="compact")  # 403.9M: headers say $
PCT = st.column_config.NumberColumn(format="%.1f%%")
HOURS = st.column_config.NumberColumn(format="%.0f h")
RANKABLE = {k: (scorecard.REGISTRY[k].choice, scorecard.REGISTRY[k].fmt == "pct")
            for k in ("potential", "revenue", "penetration", "white_space", "attainment", "weighted_pipeline", "win_rate",
                      "workload_hours", "visit_hours", "utilisation", "accounts", "market_potential", "market_share",
                      "market_white_space")}
TABLE_COLUMNS = scorecard.COLUMN_LABELS  # one label (with its unit) per column, shared with the Excel report
PERCENT_COLUMNS = ("penetration", "attainment", "win_rate", "utilisation", "market_share")
MARKET_COLUMNS = scorecard.MARKET_KPIS  # shown once there is a market layer


@st.cache_data(show_spinner="Computing KPIs", max_entries=16)
def card(scenario_id: int, version: int, data_version: int, filters: scorecard.Filters) -> scorecard.Scorecard:
    return scorecard.build(state.db(), scenario_id, filters)


@st.cache_data(show_spinner="Forecasting", max_entries=16)
def forecasts(scenario_id: int, version: int, data_version: int, filters: scorecard.Filters,
              territory_ids: tuple[str, ...]) -> dict:
    return scorecard.forecasts(card(scenario_id, version, data_version, filters), list(territory_ids))


def load(scenario_id: int, filters: scorecard.Filters) -> tuple[scorecard.Scorecard, tuple]:
    con = state.db()
    key = (scenario_id, edits.version(con, scenario_id), state.data_version(con), filters)
    return card(*key), key


def choices(con) -> dict[str, list[str]]:
    """Values for the filters: regions (from reps), industries, tiers (from accounts)."""
    return {"regions": quality.values(con, "region"), "industries": quality.values(con, "industry"),
            "tiers": quality.values(con, "tier")}


def as_percent(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for c in PERCENT_COLUMNS:
        if c in out:
            out[c] = out[c] * 100
    return out


def column_config() -> dict:
    cfg = {label: MONEY for c, label in TABLE_COLUMNS.items()
           if c in ("potential", "revenue", "white_space", "quota", "pipeline", "weighted_pipeline", "market_potential",
                    "market_white_space")}
    cfg.update({TABLE_COLUMNS[c]: PCT for c in (*PERCENT_COLUMNS, "dev_potential_pct")})
    cfg.update({TABLE_COLUMNS[c]: HOURS for c in ("workload_hours", "travel_hours", "visit_hours")})
    cfg[TABLE_COLUMNS["mean_distance_km"]] = st.column_config.NumberColumn(format="%.0f km")
    cfg[TABLE_COLUMNS["compactness"]] = st.column_config.NumberColumn(format="%.2f")
    return cfg


def territory_table(table: pd.DataFrame) -> pd.DataFrame:
    cols = [c for c in TABLE_COLUMNS if c in without_market(table)]
    return as_percent(table[cols]).rename(columns=TABLE_COLUMNS)


def without_market(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without the market's columns when it holds no market (no market layer)."""
    if "market_potential" in frame and frame["market_potential"].sum():
        return frame
    return frame.drop(columns=[c for c in MARKET_COLUMNS if c in frame])


def headline(sc: scorecard.Scorecard) -> None:
    t = sc.territories
    total = scorecard.rollup(t.assign(all="all"), "all").iloc[0] if len(t) else None
    cols = st.columns(7)
    figures = [("Territories", f"{len(t):,}"), ("Accounts", f"{int(t['accounts'].sum()):,}"),
               ("Potential", money(t["potential"].sum())), ("Revenue 12m", money(t["revenue"].sum()))]
    if total is not None:
        figures += [("Penetration", f"{total['penetration']:.1%}" if total["penetration"] == total["penetration"] else "–"),
                    ("Attainment", f"{total['attainment']:.0%}" if total["attainment"] == total["attainment"] else "–"),
                    ("Win rate", f"{total['win_rate']:.0%}" if total["win_rate"] == total["win_rate"] else "–")]
    for col, (label, value) in zip(cols, figures):
        col.metric(label, value)
    if sc.has_market and total is not None:
        outside = sc.market_outside.get("market_potential", 0.0)
        cols = st.columns(7)
        for col, (label, value, why) in zip(cols, [
            ("Market potential", money(t["market_potential"].sum()), "the market layer in the plan's territories"),
            ("Share of market", _pct(total["market_share"]), scorecard.REGISTRY["market_share"].help),
            ("Market white space", money(t["market_white_space"].sum()), scorecard.REGISTRY["market_white_space"].help),
            ("Outside territories", money(outside), "market potential in cells no territory holds")]):
            col.metric(label, value, help=why)


def market_view(sc: scorecard.Scorecard) -> None:
    if not sc.has_market:
        st.info("No market layer: load a market universe on the Data page (or `territory market import`) to see "
                "market potential, share of market and white space per territory.")
        return
    st.plotly_chart(charts.market_bars(sc.territories, outside=sc.market_outside.get("market_potential", 0.0)),
                    width="stretch", key="kpis_market")
    st.caption("Market potential: every establishment of the market universe in the territory's cells, by the rule of "
               "account potential. Industry filters apply to the market; tier and segment filters do not (the market "
               "has no tiers).")


def territories_view(sc: scorecard.Scorecard, key: tuple) -> None:
    t = sc.territories
    c1, c2 = st.columns([2, 1])
    offered = [k for k in RANKABLE if sc.has_market or k not in MARKET_COLUMNS]
    state.keep_valid(state.KPI_METRIC, offered)
    metric = c1.selectbox("Rank territories by", offered, format_func=lambda m: RANKABLE[m][0], key=state.KPI_METRIC)
    top = len(t)
    if len(t) > 5:  # the slider's range follows the territories shown (filters change it)
        top = c2.slider("Show the top", 5, len(t), min(20, len(t)), key=f"{state.KPI_TOP}_{len(t)}")
    label, pct = RANKABLE[metric]
    st.caption(charts.QUALITY_LEGEND + ". Click a bar or a bubble to see that territory below.")
    bars = st.plotly_chart(charts.ranked_bars(t, metric, label, top=top, percent=pct), width="stretch",
                           on_select="rerun", selection_mode="points", key="kpis_bars")
    bubbles = st.plotly_chart(charts.potential_vs_penetration(t), width="stretch", on_select="rerun",
                              selection_mode="points", key="kpis_bubbles")
    counts = t["quality"].value_counts()
    st.caption(f"Quality: {counts.get('high', 0)} high, {counts.get('medium', 0)} medium, {counts.get('low', 0)} low. "
               "High = potential at least the mean and penetration at least the plan's; low = potential under "
               "80 % of the mean and penetration under the plan's.")
    clicked = charts.clicked_territory(bubbles) or charts.clicked_territory(bars)
    if clicked in set(t["territory_id"]):
        if st.session_state.get("kpis_last_click") != clicked:  # a new click: the drill tab shows it too
            st.session_state["kpis_last_click"] = st.session_state[state.KPI_TERRITORY] = clicked
        with st.container(border=True):
            st.markdown(f"**{plain(t.set_index('territory_id').loc[clicked, 'name'])}** (clicked)")
            drill_body(sc, key, clicked, chart_key="kpis_clicked_forecast")
    st.dataframe(territory_table(t), hide_index=True, column_config=column_config(), key="kpis_territory_table",
                 height=min(38 + 35 * len(t), 720))


def rollup_view(sc: scorecard.Scorecard) -> None:
    if sc.districts.empty and sc.regions.empty:
        st.info("No hierarchy defined: add Region and District columns to the reps file to roll territories up.")
        return
    st.plotly_chart(charts.hierarchy_treemap(sc.territories), width="stretch")
    for title, frame, key in (("Regions", sc.regions, "region"), ("Districts", sc.districts, "district")):
        st.markdown(f"**{title}**")
        st.dataframe(as_percent(without_market(frame)).rename(columns={**TABLE_COLUMNS, key: key.title(), "territories": "Territories"}),
                     hide_index=True, column_config=column_config(), key=f"kpis_{key}_table")


def pipeline_view(sc: scorecard.Scorecard, top: int) -> None:
    if sc.stages.empty:
        st.info("No open opportunities in this selection.")
        return
    names = sc.territories.set_index("territory_id")["name"]
    st.plotly_chart(charts.pipeline_by_stage(sc.stages, names, top=top), width="stretch")


@st.cache_data(show_spinner="Forecasting the company total", max_entries=16)
def company_forecast(scenario_id: int, version: int, data_version: int, filters: scorecard.Filters):
    return scorecard.company_forecast(card(scenario_id, version, data_version, filters))


def company_view(key: tuple) -> None:
    """The company total: every territory's revenue together, forecast the same way."""
    fc = company_forecast(*key)
    if isinstance(fc, str):
        st.caption(f"Company total: no forecast ({plain(fc)}).")
        return
    c1, c2, c3 = st.columns(3)
    c1.metric("Company: next month", money(fc.forecast["mean"].iloc[0]),
              help=f"{fc.level:.0%} interval {money(fc.forecast['lower'].iloc[0])} – {money(fc.forecast['upper'].iloc[0])}")
    c2.metric("Company: next 6 months", money(fc.forecast["mean"].sum()))
    c3.metric("Company: backtest error", f"{fc.mape_pct:.1f}% MAPE", help="The chosen model's error on the last 6 "
              "months when fitted without them")
    st.plotly_chart(charts.forecast_chart(fc, "Company total"), width="stretch", key="kpis_company_forecast")
    if len(fc.compared) > 1:
        st.caption("Model chosen by the backtest: " + "; ".join(
            f"{model}: {mape:.1f}% MAPE{' (chosen)' if model == fc.model else ''}" for model, mape in fc.compared.items()))


def forecast_view(sc: scorecard.Scorecard, key: tuple, top: int) -> None:
    company_view(key)
    t = sc.territories.sort_values("revenue", ascending=False).head(top)
    fcs = forecasts(*key, tuple(t["territory_id"]))
    good = {tid: fc for tid, fc in fcs.items() if not isinstance(fc, str)}
    missing = {tid: why for tid, why in fcs.items() if isinstance(why, str)}
    names = sc.territories.set_index("territory_id")["name"].to_dict()
    if good:
        st.plotly_chart(charts.forecast_grid(good, names), width="stretch")
        rows = [{"Territory": names[tid], "Next month $": fc.forecast["mean"].iloc[0],
                 "Next month low $": fc.forecast["lower"].iloc[0], "Next month high $": fc.forecast["upper"].iloc[0],
                 "Next 6 months $": fc.forecast["mean"].sum(), "Backtest MAPE": fc.mape_pct,
                 "Without season: MAPE": fc.compared.get(forecast.MODELS[None], float("nan")),
                 "Backtest MAE $": fc.mae, "Model": fc.model} for tid, fc in good.items()]
        st.dataframe(pd.DataFrame(rows), hide_index=True, key="kpis_forecast_table", column_config={
            **{c: MONEY for c in ("Next month $", "Next month low $", "Next month high $", "Next 6 months $",
                                  "Backtest MAE $")}, "Backtest MAPE": PCT, "Without season: MAPE": PCT})
        st.caption("Backtest: each model fitted without the last 6 months, scored on them; the one with the lower "
                   "error makes the forecast (a yearly season is tried once two years precede those months). "
                   "Intervals are 90 %.")
    for tid, why in missing.items():
        st.caption(f"{plain(names[tid])}: no forecast ({why}).")


def territory_drill(sc: scorecard.Scorecard, key: tuple) -> None:
    t = sc.territories.set_index("territory_id")
    state.keep_valid(state.KPI_TERRITORY, t.index)
    tid = st.selectbox("Territory", list(t.index), format_func=lambda i: t.loc[i, "name"], key=state.KPI_TERRITORY)
    drill_body(sc, key, tid)


def drill_body(sc: scorecard.Scorecard, key: tuple, tid: str, *, chart_key: str | None = None) -> None:
    """One territory: its figures, forecast, industry mix and largest white space."""
    row = sc.territories.set_index("territory_id").loc[tid]
    st.text(f"{row['name']} · rep: {row['rep_name'] if isinstance(row['rep_name'], str) else 'none'} · "
            f"quality: {row['quality']}")
    cols = st.columns(6)
    for col, (label, value) in zip(cols, [
        ("Accounts", f"{int(row['accounts']):,}"), ("Potential", money(row["potential"])),
        ("Revenue 12m", money(row["revenue"])), ("Penetration", _pct(row["penetration"])),
        ("Attainment", _pct(row["attainment"])), ("Workload (visits + travel)", f"{row['workload_hours']:,.0f} h")]):
        col.metric(label, value)
    fc = forecasts(*key, (tid,))[tid]
    if isinstance(fc, str):
        st.caption(f"No forecast: {plain(fc)}")
    else:
        st.plotly_chart(charts.forecast_chart(fc, row["name"]), width="stretch", key=chart_key)
    acc = sc.accounts[sc.accounts["territory_id"] == tid]
    left, right = st.columns(2)
    with left:
        st.markdown("**Industry mix**")
        mix = acc.groupby("industry", dropna=False).agg(accounts=("account_id", "size"), potential=("potential", "sum"),
                                                       revenue=("revenue_12m", "sum")).sort_values("potential",
                                                                                                   ascending=False)
        mix = mix.reset_index().rename(columns={"industry": "Industry", "accounts": "Accounts",
                                                "potential": "Potential $", "revenue": "Revenue 12m $"})
        st.dataframe(mix, hide_index=True, column_config={c: MONEY for c in ("Potential $", "Revenue 12m $")})
    with right:
        st.markdown("**Largest white space**")
        ws = acc.assign(white_space=(acc["potential"] - acc["revenue_12m"]).clip(lower=0)).nlargest(15, "white_space")
        ws = ws[["name", "city", "industry", "tier", "potential", "revenue_12m", "white_space"]].rename(columns={
            "name": "Account", "city": "City", "industry": "Industry", "tier": "Tier", "potential": "Potential $",
            "revenue_12m": "Revenue 12m $", "white_space": "White space $"})
        st.dataframe(ws, hide_index=True, column_config={c: MONEY for c in ("Potential $", "Revenue 12m $",
                                                                            "White space $")})


def rep_drill(sc: scorecard.Scorecard) -> None:
    if sc.reps.empty:
        st.info("No territory in this selection has a rep.")
        return
    rep = st.selectbox("Rep", list(sc.reps["rep_name"]), key=state.KPI_REP)
    row = sc.reps.set_index("rep_name").loc[rep]
    cols = st.columns(5)
    for col, (label, value) in zip(cols, [
        ("Territories", f"{int(row['territories'])}"), ("Quota", money(row["quota"])),
        ("Attainment", _pct(row["attainment"])), ("Workload (visits + travel)", f"{row['workload_hours']:,.0f} h"),
        ("Capacity used", _pct(row["utilisation"]))]):
        col.metric(label, value)
    st.dataframe(territory_table(sc.territories[sc.territories["rep_name"] == rep]), hide_index=True,
                 column_config=column_config(), key="kpis_rep_table")


def money(value: float) -> str:
    """$4.65B, $782.7M, $12.3k: short enough for a metric tile."""
    for size, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"${value / size:,.{2 if unit == 'B' else 1}f}{unit}"
    return f"${value:,.0f}"


def _pct(value) -> str:
    return "–" if value != value or value is None else f"{value:.1%}"
