"""The one module that owns Streamlit session state and the app's database connection."""

from __future__ import annotations

import threading

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from territory import demo, settings, store
from territory.data import quality
from territory.plans import plan
from territory.store import Connection

# app.py navigates with st.navigation, but Streamlit treats a `pages/` folder beside the main
# script as a legacy multipage app until st.navigation has run once in the process; a first
# request straight to /designer would then bypass app.py. Every page imports this module.
PagesManager.uses_pages_directory = False

# Session-state keys, in one place.
MAP_RES = "data_map_res"
MAP_METRIC = "data_map_metric"
MAP_TILES = "data_map_tiles"
IMPORT_DATASET = "import_dataset"
IMPORT_POLICY = "import_policy"
IMPORT_UPLOAD = "import_upload"
IMPORT_RESULT = "import_result"
IMPORT_FILE = "import_file"  # (digest, scratch folder, path) of the upload's copy on the server
IMPORT_ENCODING = "import_encoding"
IMPORT_DECIMAL = "import_decimal"
IMPORT_ROUND = "import_round"  # bumped by each successful import: a fresh, empty uploader
MARKET_UPLOAD = "market_upload"
DESIGN_MAP = "designer_map"
DESIGN_TERRITORY = "designer_territory"
DESIGN_TOOL = "designer_tool"
DESIGN_BRUSH = "designer_brush"
DESIGN_ONLY_UNASSIGNED = "designer_only_unassigned"
DESIGN_METRIC = "designer_metric"
SEEN = "seen_versions"  # plan id -> the version this tab last showed: every write is checked against it
DESIGN_MESSAGE = "designer_message"
DESIGN_INSPECT = "designer_inspect"
DESIGN_FIT = "designer_fit"
DESIGN_ZOOM = "designer_zoom_to"  # {"nonce", "territory"}: the map fits that territory once
DESIGN_SEARCH = "designer_search"
DESIGN_BRIDGE = "designer_bridge"
DESIGN_ACK = "designer_ack"
DESIGN_PREVIEW = "designer_rebalance_preview"
DESIGN_PREVIEW_SHOWN = "designer_preview_shown"  # the preview of the frontier point shown (the map outlines it)
DESIGN_SUGGESTIONS = "designer_suggestions"
DESIGN_STATES = "designer_states"
DESIGN_PLAN = "designer_plan"  # the plan the Designer edits (kept across pages)
DESIGN_PLAN_PICK = "designer_plan_pick"
KPI_PLAN = "kpis_plan"
KPI_REGIONS = "kpis_regions"
KPI_INDUSTRIES = "kpis_industries"
KPI_TIERS = "kpis_tiers"
KPI_METRIC = "kpis_metric"
KPI_TOP = "kpis_top"
KPI_TERRITORY = "kpis_territory"
KPI_REP = "kpis_rep"
KPI_SEGMENTS = "kpis_segments"
SIZE_PLAN = "sizing_plan"
SCEN_COMPARE = "scenarios_compare"
SCEN_MESSAGE = "scenarios_message"
RULES_MESSAGE = "rules_message"
BACKUP_MESSAGE = "backup_message"
ALLOC_RESULT = "allocation_result"


@st.cache_resource(show_spinner=False)
def _database(path: str) -> tuple[Connection, threading.Lock]:
    return store.connect(path), threading.Lock()


def db() -> Connection:
    """A cursor on the app's database for this script run (own temp tables, thread-safe)."""
    con, _ = _database(str(settings.db_path()))
    return con.cursor()


def ensure_data() -> None:
    """Load the demo on first run (empty database), once, even with several tabs open."""
    con, lock = _database(str(settings.db_path()))
    if not store.is_empty(con.cursor()):
        if plan.baseline_scenario(con.cursor()) is None:  # the user's own first import
            with lock:
                plan.ensure_baseline(con.cursor())
        return
    with lock:
        cur = con.cursor()
        if store.is_empty(cur):
            bar = st.progress(0.0, text="First run: loading the demo data")
            demo.load_demo(cur, progress=lambda f, m: bar.progress(min(f, 1.0), text=m))
            bar.empty()
            data_changed()


def data_version(con: Connection) -> int:
    """Changes whenever an import lands: a cache key for data-derived results."""
    return quality.data_version(con)


def data_changed() -> None:
    """Forget cached query results after an import."""
    st.cache_data.clear()


def design_plan(con: Connection) -> int:
    """The working plan the Designer edits: the one chosen in this session, else the active plan
    when it is a working plan, else the first working plan (made from the baseline if none)."""
    ids = plan.working_ids(con)
    chosen = st.session_state.get(DESIGN_PLAN)
    if chosen not in ids:
        active = int(plan.active_scenario(con)) if ids else None
        chosen = active if active in ids else plan.working_scenario(con)
        st.session_state[DESIGN_PLAN] = chosen
    return int(chosen)


def saw(scenario_id: int, version: int) -> None:
    """Record that this tab now shows ``version`` of a plan (call it where the plan is drawn)."""
    st.session_state.setdefault(SEEN, {})[int(scenario_id)] = int(version)


def seen(scenario_id: int) -> int | None:
    """The version of a plan this tab last showed: what its writes pass as ``expected_version``.

    Writes run in widget callbacks, before the script reads the plan again, so a tab that has not
    seen another tab's change is refused instead of silently overwriting it."""
    return st.session_state.get(SEEN, {}).get(int(scenario_id))


def plan_names(con: Connection, *, kinds: tuple[str, ...] = ("baseline", "working"),
               mark_active: bool = True) -> dict[int, str]:
    """Plan id -> name as shown in pickers (the active plan marked, unless ``mark_active`` is off)."""
    return {sid: f"{name} (active)" if active and mark_active else name for sid, name, active in plan.names(con, kinds)}


def active_plan(con: Connection) -> int:
    """The active plan (the one exported to the CRM)."""
    return int(plan.active_scenario(con))


def keep_valid(key: str, options) -> None:
    """Drop a remembered choice (or the chosen items of a multiselect) that is no longer among
    ``options`` — e.g. a plan deleted in another tab — before its widget is drawn."""
    if key not in st.session_state:
        return
    value, allowed = st.session_state[key], set(options)
    if isinstance(value, list):
        st.session_state[key] = [v for v in value if v in allowed]
    elif value not in allowed:
        del st.session_state[key]
