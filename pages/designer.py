"""Designer: paint territories on the hex map, with live KPIs, undo/redo, locks and inspect."""

from functools import partial

import streamlit as st
from streamlit_folium import st_folium

from territory import plan
from territory.ui import designer as ui
from territory.ui import state

st.title("Designer")
state.ensure_data()
con = state.db()
sid = plan.working_scenario(con)
view = ui.load_view(sid)

with st.sidebar:
    st.subheader("Paint")
    ui.toolbar(view)
    with st.expander("Select by area"):
        ui.area_form(view)
    with st.expander("Territories"):
        ui.territory_manager(view)

left, right = st.columns([3, 2])
with left:
    metric = st.selectbox("Shade cells by", list(ui.METRICS), format_func=ui.METRICS.get, key=state.DESIGN_METRIC)
    fmap = ui.plan_map(view, metric, st.session_state.get(state.DESIGN_BOUNDS))
    key = ui.map_key()
    st_folium(fmap, key=key, height=620, use_container_width=True,
              returned_objects=["last_clicked", "all_drawings"], on_change=partial(ui.on_map_event, sid, key))
    st.caption(f"{len(view.assignments):,} cells at resolution {view.resolution}; red outlines mark split-off pieces.")
with right:
    ui.kpi_panel(view)
    ui.inspect_panel(view)
