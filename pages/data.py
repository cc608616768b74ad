"""Data: what is loaded, how good it is, where it is (hex map), and the import panel."""

import streamlit as st
from streamlit_folium import st_folium

from territory import grid, metrics, settings
from territory.data import quality
from territory.maps import mapview
from territory.market import layer
from territory.ui import backups, state
from territory.ui import market as market_ui
from territory.ui.importer import import_panel

st.title("Data")
state.ensure_data()
con = state.db()


@st.cache_data(show_spinner=False)
def _summary(version: int) -> dict:
    return quality.summary(state.db())


@st.cache_data(show_spinner="Drawing the map", max_entries=8)
def _layers(version: int, res: int, metric: str) -> dict:
    return mapview.density_layers(metrics.present(grid.aggregate_cells(state.db(), res), metric), metric)


version = quality.data_version(con)
s = _summary(version)
cols = st.columns(6)
for col, (label, value) in zip(cols, [
    ("Accounts", f"{s['accounts']:,}"), ("Reps", f"{s['reps']:,}"),
    ("Opportunities", f"{s['opportunities']:,}"), ("Potential", f"${s['potential'] / 1e6:,.1f}M"),
    ("Revenue (12 months)", f"${s['revenue_12m'] / 1e6:,.1f}M"), ("Open pipeline", f"${s['pipeline'] / 1e6:,.1f}M"),
]):
    col.metric(label, value)

left, right = st.columns([1, 2])
with left:
    st.subheader("Geocode quality")
    total = max(s["accounts"], 1)
    st.markdown(
        f"- **{s['geocode_exact']:,}** exact coordinates ({s['geocode_exact'] / total:.1%})\n"
        f"- **{s['geocode_zip']:,}** located by ZIP centroid ({s['geocode_zip'] / total:.1%})\n"
        f"- **{s['geocode_city']:,}** located at their city's centre ({s['geocode_city'] / total:.1%})\n"
        f"- potential **derived by rule** for **{s['potential_derived']:,}** accounts"
    )
with right:
    st.subheader("Data-quality findings")
    for f in s["findings"]:
        (st.warning if f["level"] == "warning" else st.info)(f"{f['count']:,} {f['message']}")
    if not s["findings"]:
        st.success("No findings.")

st.subheader("Where the accounts and the market are")
c1, c2, c3 = st.columns(3)
res = c1.selectbox("H3 resolution", list(settings.PLAN_RESOLUTIONS),
                   index=list(settings.PLAN_RESOLUTIONS).index(settings.DEFAULT_PLAN_RES), key=state.MAP_RES)
shown = layer.offered(con, list(mapview.METRIC_LABELS))  # the market's measures once there is a market layer
state.keep_valid(state.MAP_METRIC, shown)
metric = c2.selectbox("Colour by", shown, format_func=mapview.METRIC_LABELS.get, key=state.MAP_METRIC)
tiles = c3.selectbox("Background tiles", list(mapview.TILES), key=state.MAP_TILES,
                     help="'none' works offline; tile servers need internet access.")
layers = _layers(version, res, metric)
st.caption(f"{len(layers['cells']):,} cells at resolution {res}")
st_folium(mapview.density_map(layers, tiles=tiles), height=520, use_container_width=True, returned_objects=[], key="data_map")

with st.expander("Import a CRM file", expanded=s["accounts"] == 0):
    import_panel(con)

with st.expander("Market layer", expanded=bool(st.session_state.get(market_ui.MESSAGE))):
    market_ui.panel(con)

with st.expander("Backup and restore", expanded=bool(st.session_state.get(state.BACKUP_MESSAGE))):
    backups.panel(con)

st.subheader("Import history")
st.dataframe(quality.import_history(con), hide_index=True, column_config={
    "import_id": "Import", "dataset": "Data", "source": "File", "rows_read": "Rows read", "rows_loaded": "Rows loaded",
    "rows_rejected": "Rows rejected", "policy": "If rows were bad",
    "finished_at": st.column_config.DatetimeColumn("Finished", format="YYYY-MM-DD HH:mm")})
