"""Territory planner: page config and navigation only."""

import streamlit as st

from territory.ui import feedback

st.set_page_config(page_title="Territory planner", page_icon="⬢", layout="wide")

pages = [
    st.Page("pages/data.py", title="Data", icon=":material/database:", default=True),
    st.Page("pages/designer.py", title="Designer", icon=":material/draw:"),
    st.Page("pages/kpis.py", title="KPIs", icon=":material/monitoring:"),
    st.Page("pages/sizing.py", title="Sizing & quota", icon=":material/groups:"),
    st.Page("pages/scenarios.py", title="Scenarios", icon=":material/compare:"),
    st.Page("pages/rules.py", title="Rules & reps", icon=":material/rule:"),
]
try:
    st.navigation(pages).run()
except Exception as exc:  # st.rerun / st.stop are BaseExceptions and pass through
    feedback.unexpected(exc)
