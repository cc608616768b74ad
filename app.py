"""Territory planner: page config and navigation only."""

import streamlit as st

st.set_page_config(page_title="Territory planner", page_icon="⬢", layout="wide")

pages = [
    st.Page("pages/data.py", title="Data", icon=":material/database:", default=True),
    st.Page("pages/designer.py", title="Designer", icon=":material/draw:"),
]
st.navigation(pages).run()
