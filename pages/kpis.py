"""KPIs: leadership's read-only view of a plan, per territory, rep, district and region."""

import streamlit as st

from territory.kpis import scorecard, segments
from territory.ui import kpis as ui
from territory.ui import state

st.title("KPIs")
state.ensure_data()
con = state.db()
names = state.plan_names(con)
active = state.active_plan(con)

with st.sidebar:
    st.subheader("Plan and filters")
    state.keep_valid(state.KPI_PLAN, names)
    sid = st.selectbox("Plan", list(names), index=list(names).index(active), format_func=names.get, key=state.KPI_PLAN)
    options = ui.choices(con)
    filters = scorecard.Filters(
        regions=tuple(st.multiselect("Region", options["regions"], key=state.KPI_REGIONS)),
        industries=tuple(st.multiselect("Industry", options["industries"], key=state.KPI_INDUSTRIES)),
        tiers=tuple(st.multiselect("Tier", options["tiers"], key=state.KPI_TIERS)),
        segments=tuple(st.multiselect("Segment", list(segments.SEGMENTS), format_func=segments.SEGMENTS.get,
                                      key=state.KPI_SEGMENTS, help="Potential × penetration (Sizing & quota page)")),
    )

sc, key = ui.load(sid, filters)
if sc.territories.empty:
    st.warning("No territory matches these filters.")
    st.stop()
ui.headline(sc)
top = min(20, len(sc.territories))
tabs = st.tabs(["Territories", "Pipeline", "Forecast", "Reps", "Hierarchy", "Drill into a territory",
                "Drill into a rep", "Market", "Definitions"])
with tabs[0]:
    ui.territories_view(sc, key)
with tabs[1]:
    ui.pipeline_view(sc, top)
with tabs[2]:
    ui.forecast_view(sc, key, top)
with tabs[3]:
    st.dataframe(ui.as_percent(ui.without_market(sc.reps)).rename(columns={**ui.TABLE_COLUMNS, "rep_name": "Rep",
                                                         "territories": "Territories"}), hide_index=True,
                 column_config=ui.column_config(), key="kpis_reps_table")
with tabs[4]:
    ui.rollup_view(sc)
with tabs[5]:
    ui.territory_drill(sc, key)
with tabs[6]:
    ui.rep_drill(sc)
with tabs[7]:
    ui.market_view(sc)
with tabs[8]:
    st.table([{"KPI": k.label, "Definition": k.help} for k in scorecard.REGISTRY.values()])
