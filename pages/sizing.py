"""Sizing & quota: how many reps the plan needs, what each territory should carry, where to focus."""

import streamlit as st

from territory.plans import plan
from territory.ui import sizing as ui
from territory.ui import state

st.title("Sizing & quota")
state.ensure_data()
con = state.db()
names = state.plan_names(con)
with st.sidebar:
    st.subheader("Plan")
    state.keep_valid(state.SIZE_PLAN, names)
    sid = st.selectbox("Plan", list(names), index=list(names).index(state.active_plan(con)), format_func=names.get,
                       key=state.SIZE_PLAN)
state.saw(sid, plan.version(con, sid))
sizing_tab, quota_tab, segments_tab = st.tabs(["Sizing", "Quota", "Segments"])
with sizing_tab:
    ui.sizing_view(con, sid)
with quota_tab:
    ui.quota_view(con, sid)
with segments_tab:
    ui.segments_view(con, sid)
