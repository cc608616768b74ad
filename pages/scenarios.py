"""Scenarios: what-if plans side by side, promotion to active, and the exports back to the CRM."""

import streamlit as st

from territory.ui import scenarios as ui
from territory.ui import state

st.title("Scenarios")
state.ensure_data()
con = state.db()
ui.show_message()
frame = ui.plan_table(con)
names = state.plan_names(con)

left, right = st.columns(2)
with left:
    st.subheader("New scenario")
    ui.create_form(con, names)
with right:
    st.subheader("Manage")
    ui.manage(con, frame)

st.subheader("Compare")
ui.compare(con, names)

st.subheader("Export")
ui.export_panel(con, names)
