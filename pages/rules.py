"""Rules & reps: named accounts and overlays that override geography, and who should own what."""

import streamlit as st

from territory.ui import rules as ui
from territory.ui import state

st.title("Rules & reps")
state.ensure_data()
con = state.db()
ui.show_message()
current = state.design_plan(con)  # first: makes the working plan when there is none yet
names = state.plan_names(con, kinds=("working",))
state.keep_valid("rules_plan", names)
sid = st.selectbox("Plan", list(names), index=list(names).index(current), format_func=names.get, key="rules_plan",
                   help="Rules and reps belong to a plan; the baseline stays as the CRM has it.")

st.subheader("Rules")
st.caption("Precedence: a named account first, then the matching overlay with the lowest priority, then the map. "
           "Rules apply everywhere: KPIs, the Designer's panel, the optimizer (ruled accounts stay put) and exports.")
ui.rule_table(con, sid)
left, right = st.columns(2)
with left:
    st.markdown("**Named account**")
    ui.named_form(con, sid)
with right:
    st.markdown("**Overlay by industry and size**")
    ui.overlay_form(con, sid)

st.subheader("Rep allocation")
ui.allocation_panel(con, sid)
