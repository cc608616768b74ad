"""Designer: paint territories on the hex map, with live KPIs, undo/redo, locks and inspect."""

import streamlit as st
from streamlit_folium import st_folium

from territory import grid
from territory.market import layer
from territory.ui import designer as ui
from territory.ui import painting, rebalance, state, territories

st.title("Designer")
state.ensure_data()
con = state.db()
sid = state.design_plan(con)
view = ui.load_view(sid)

with st.sidebar:
    ui.plan_picker(sid)
    st.subheader("Paint")
    ui.toolbar(view)
    painting.refine_button(view)
    with st.expander("Select by area", key="designer_area_panel"):
        painting.area_form(view)
    with st.expander("Territories", key="designer_territories_panel"):
        territories.territory_manager(view)

left, right = st.columns([3, 2])
with left:
    c1, c2 = st.columns([1, 2])
    shades = layer.offered(state.db(), list(ui.METRICS))  # the market's measures once there is a market layer
    state.keep_valid(state.DESIGN_METRIC, shades)
    metric = c1.selectbox("Shade cells by", shades, format_func=ui.METRICS.get, key=state.DESIGN_METRIC)
    with c2:
        st.markdown("Find on the map")
        ui.search_box(view)
    # the map stays the same across reruns; the bridge carries each stroke's changes both ways
    st_folium(ui.plan_map(view, metric), key=state.DESIGN_MAP, height=620, use_container_width=True,
              returned_objects=[])
    bridge = st.container()  # filled last, so it carries what the panels below decided in this run
    levels = sorted(set(grid.res_of(view.assignments["cell"]).tolist()) | {view.resolution})
    st.caption(f"{len(view.assignments):,} cells at resolution {'-'.join(map(str, levels[::max(len(levels) - 1, 1)]))}"
               f"{' (dense areas split finer)' if len(levels) > 1 else ''}. Red dots (zoomed out) and dashed red "
               "outlines (zoomed in) mark pieces split off their territory. Ctrl+Z undoes, Ctrl+Y redoes.")
with right:
    ui.kpi_panel(view)
    ui.inspect_panel(view)

st.subheader("Rebalance")
rebalance.panel(view, on_change=lambda text: ui.say("ok", text))
with bridge:
    ui.bridge(view, metric, painting.map_event)
