"""Designer panels: toolbar, search, live KPIs, inspect, and the map's strokes (the Territories
panel is :mod:`territory.ui.territories`, the rebalance panel :mod:`territory.ui.rebalance`)."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import streamlit as st

from territory import grid, metrics
from territory.data import quality
from territory.errors import TerritoryError
from territory.maps import mapview, planmap
from territory.plans import book, edits, plan, planview, search, strokes, totals, units
from territory.plans.planview import View
from territory.ui import feedback, mapbridge, state

TOOLS = {"paint": "Paint", "erase": "Erase", "inspect": "Inspect", "split": "Split", "merge": "Merge"}
TOOL_HELP = {
    "split": "Click a cell to split it into its seven smaller cells (same territory), so a dense area can be "
             "shared; a drawn shape splits every cell inside it.",
    "merge": "Click one of seven split cells to merge them back into one, when they all belong to one territory.",
}


@st.cache_data(show_spinner=False, max_entries=8)
def _cells(data_version: int, res: int) -> pd.DataFrame:
    return grid.aggregate_cells(state.db(), res)


@st.cache_data(show_spinner=False, max_entries=4)
def _units(data_version: int, res: int, layout: bytes) -> pd.DataFrame:
    """The plan's units with their metrics: base cells, and the split cells of ``layout``."""
    return units.compose(np.frombuffer(layout, dtype=np.uint64), partial(_cells, data_version), res)


@st.cache_data(show_spinner=False, max_entries=8)
def cached_view(scenario_id: int, version: int, data_version: int) -> View:
    con = state.db()
    assignments, res = plan.assignments(con, scenario_id), plan.resolution(con, scenario_id)
    cells = _units(data_version, res, units.finer(assignments["cell"], res).tobytes())  # read the plan once
    return planview.build(con, scenario_id, version, data_version, cells, assignments=assignments)


def load_view(scenario_id: int) -> View:
    con = state.db()
    view = cached_view(scenario_id, edits.version(con, scenario_id), state.data_version(con))
    state.saw(scenario_id, view.version)
    return view


@st.cache_data(show_spinner="Drawing the map", max_entries=4)
def _base(data_version: int, res: int, layout: bytes, metric: str) -> dict:
    """The map's stable part: the units with accounts and the plan's split cells without any
    (so a stroke's patch need not carry them); shaded by a market measure, the market layer's
    cells without accounts too (white space to paint; otherwise they would only slow strokes)."""
    cells = _units(data_version, res, layout)
    if metrics.SUMMED[metric].source != "market":
        cells = cells[cells["accounts"] > 0]
    return planmap.base(cells, res, metric, also=np.frombuffer(layout, dtype=np.uint64))


@st.cache_data(show_spinner=False, max_entries=8)
def _plan_state(scenario_id: int, version: int, data_version: int, metric: str) -> dict:
    view = cached_view(scenario_id, version, data_version)
    layer = _base(data_version, view.resolution, view.layout, metric)
    return planmap.patch(layer, view.assignments, view.territories, version=version, strays=view.strays)


def plan_map(view: View, metric: str):
    """The base map: the same on every rerun until the data or the metric changes, so the
    browser keeps it (a fresh folium object each run: streamlit-folium rewrites what it renders)."""
    return planmap.plan_map(_base(view.data_version, view.resolution, view.layout, metric), reps=_rep_homes(view.data_version))


@st.cache_data(show_spinner=False, max_entries=2)
def _rep_homes(data_version: int) -> pd.DataFrame:
    return quality.reps(state.db())


def bridge(view: View, metric: str, on_event) -> None:
    """Send the plan's state to the map and receive its strokes (see ``bridge/index.html``);
    ``on_event(scenario_id, event)`` handles each (``painting.map_event``)."""
    patch = dict(_plan_state(view.scenario_id, view.version, view.data_version, metric))
    patch["settings"] = {
        "tool": st.session_state.get(state.DESIGN_TOOL, "paint"),
        "territory": st.session_state.get(state.DESIGN_TERRITORY),
        "brush": int(st.session_state.get(state.DESIGN_BRUSH, 0)),
        "only_unassigned": bool(st.session_state.get(state.DESIGN_ONLY_UNASSIGNED)),
    }
    patch["fit"] = st.session_state.get(state.DESIGN_FIT)
    patch["zoom_to"] = st.session_state.get(state.DESIGN_ZOOM)
    preview = st.session_state.get(state.DESIGN_PREVIEW_SHOWN) or st.session_state.get(state.DESIGN_PREVIEW)
    if st.session_state.get(state.DESIGN_PREVIEW) is None:  # discarded or accepted
        preview = None  # a rebalance preview: the map outlines what it changes
    patch["highlight"] = preview.outlined if preview is not None and preview.version == view.version else []
    mapbridge.send(patch, partial(on_event, view.scenario_id))


def toolbar(view: View) -> None:
    terr = view.territories
    names = dict(zip(terr["territory_id"], terr["name"]))
    chosen = st.session_state.get(state.DESIGN_TERRITORY)
    if chosen is not None and chosen not in names:  # another plan's choice: the browser may send its label
        by_name = {n: t for t, n in names.items()}
        st.session_state.pop(state.DESIGN_TERRITORY)
        if chosen in by_name:
            st.session_state[state.DESIGN_TERRITORY] = by_name[chosen]
    st.selectbox("Active territory", list(names), format_func=lambda t: names[t], key=state.DESIGN_TERRITORY)
    st.button("Zoom to the active territory", key="designer_zoom_active", on_click=zoom_to_territory,
              args=(st.session_state.get(state.DESIGN_TERRITORY),), disabled=not names)
    st.radio("Tool", list(TOOLS), format_func=TOOLS.get, horizontal=True, key=state.DESIGN_TOOL)
    tool = st.session_state.get(state.DESIGN_TOOL)
    if tool in TOOL_HELP:
        st.caption(TOOL_HELP[tool])
    st.slider("Brush size (rings of neighbours)", 0, strokes.MAX_BRUSH, 0, key=state.DESIGN_BRUSH)
    st.checkbox("Only unassigned cells", key=state.DESIGN_ONLY_UNASSIGNED)
    undo_n, redo_n = edits.history(state.db(), view.scenario_id)
    c1, c2 = st.columns(2)
    c1.button(f"Undo ({undo_n})", key="designer_undo", disabled=undo_n == 0, on_click=history_step, args=(view.scenario_id, True),
              width="stretch")
    c2.button(f"Redo ({redo_n})", key="designer_redo", disabled=redo_n == 0, on_click=history_step, args=(view.scenario_id, False),
              width="stretch")
    show_message()


def zoom_to_territory(territory_id: str | None) -> None:
    """The map fits the territory's cells (the browser knows them), once."""
    if territory_id:
        _once(state.DESIGN_ZOOM, territory=territory_id)


def zoom_to_bounds(bounds: list[list[float]] | None) -> None:
    """The map fits ``bounds``, once."""
    if bounds:
        _once(state.DESIGN_FIT, bounds=bounds)


def _once(key: str, **request) -> None:
    """A request for the map, numbered: the browser carries out each number once."""
    nonce = (st.session_state.get(key) or {"nonce": 0})["nonce"] + 1
    st.session_state[key] = {"nonce": nonce, **request}


def search_box(view: View) -> None:
    """Find an account, a city, a ZIP or a territory; choosing a result zooms the map there."""
    text = st.text_input("Search", key=state.DESIGN_SEARCH, placeholder="An account, a city, a ZIP or a territory",
                         label_visibility="collapsed")
    if not text:
        return
    hits = _hits(view.scenario_id, view.version, view.data_version, text)
    if not hits:
        st.caption(f"Nothing found for {feedback.plain(text)}.")
        return
    key = f"{SEARCH_HIT}_{text}"  # a new list for each search
    st.selectbox(f"{len(hits)} found: choose one to zoom there", range(len(hits)), index=None, key=key,
                 format_func=lambda i: hits[i].text, placeholder="Choose a result", on_change=_go_to, args=(hits, key))


SEARCH_HIT = "designer_hit"


@st.cache_data(show_spinner=False, max_entries=16)
def _hits(scenario_id: int, version: int, data_version: int, text: str) -> list[search.Hit]:
    """Search once per plan version and text, not on every rerun (each stroke reruns the page)."""
    return search.search(state.db(), scenario_id, text)


def _go_to(hits: list[search.Hit], key: str) -> None:
    chosen = st.session_state.get(key)
    if chosen is None:
        return
    hit = hits[chosen]
    if hit.kind == "territory":
        zoom_to_territory(hit.territory_id)
    else:
        zoom_to_bounds(hit.bounds())


def show_message() -> None:
    feedback.show(state.DESIGN_MESSAGE, keep=True)


def say(kind: str, text: str) -> None:
    feedback.say(state.DESIGN_MESSAGE, kind, text)


def history_step(scenario_id: int, undo: bool) -> None:
    step = edits.undo if undo else edits.redo
    try:
        edit = step(state.db(), scenario_id, expected_version=state.seen(scenario_id))
    except TerritoryError as exc:
        say("warn", str(exc))
        return
    if edit:
        say("ok", f"{'Undid' if undo else 'Redid'} {describe(state.db(), scenario_id, edit)}.")
    else:
        say("ok", f"Nothing to {'undo' if undo else 'redo'}.")


def describe(con, scenario_id: int, edit: edits.Edit) -> str:
    """A history step in words, naming its territories: "paint of 12 cells into Boston"."""
    if edit.action == edits.DELETE:
        return f"the deletion of territory {edit.deleted_name}"
    into = sorted({plan.territory_name(con, scenario_id, t) for t in edit.after if t is not None})
    named = f" into {', '.join(into[:3])}{' and others' if len(into) > 3 else ''}" if into else ""
    return f"{edit.action} of {count_cells(len(edit.cells))}{named}"


def count_cells(n: int) -> str:
    """"1 cell", "12 cells"."""
    return f"{n:,} cell{'' if n == 1 else 's'}"


def plan_picker(scenario_id: int) -> None:
    """Which working plan to edit (scenarios are made on the Scenarios page)."""
    names = state.plan_names(state.db(), kinds=("working",))
    ids = list(names)

    def chosen() -> None:
        st.session_state[state.DESIGN_PLAN] = st.session_state[state.DESIGN_PLAN_PICK]

    if st.session_state.get(state.DESIGN_PLAN_PICK) != scenario_id:  # chosen elsewhere (Scenarios) or deleted
        st.session_state.pop(state.DESIGN_PLAN_PICK, None)
    st.selectbox("Plan", ids, index=ids.index(scenario_id), format_func=names.get, key=state.DESIGN_PLAN_PICK,
                 on_change=chosen, help="The scenario you paint. Create, compare and promote scenarios on the "
                 "Scenarios page.")


def kpi_panel(view: View) -> None:
    t = view.table
    active = t[t["territory_id"] == st.session_state.get(state.DESIGN_TERRITORY)]
    if not active.empty:
        row = active.iloc[0]
        st.text(f"Active territory: {row['name']}")  # st.text never renders markup
        a1, a2, a3 = st.columns(3)
        a1.metric("Active: accounts", f"{int(row['accounts']):,}")
        a2.metric("Active: potential", f"${row['potential'] / 1e6:,.2f}M")
        a3.metric("Active: vs mean", f"{row['dev_potential']:+.1f}%")
    bal = totals.balance(t["potential"])
    c1, c2, c3 = st.columns(3)
    c1.metric("Max deviation", f"{bal.max_deviation_pct:.1f}%",
              help="Of potential: the territory furthest from the mean, in % of the mean")
    c2.metric("CV", f"{bal.cv:.2f}", help="Coefficient of variation of potential across territories (0 = equal)")
    c3.metric("Split", f"{int((t['pieces'] > 1).sum())}", help="Territories in more than one piece")
    n_cells, n_acc = len(view.unassigned), int(view.unassigned["accounts"].sum())
    d = view.disruption
    c4, c5, c6 = st.columns(3)
    c4.metric("Unassigned", f"{n_cells:,} cells", f"{n_acc:,} accounts", delta_color="off")
    c5.metric("Accounts moved", f"{d.get('accounts_moved', 0):,}", f"{d.get('accounts_share', 0):.1%}", delta_color="off",
              help="Accounts whose territory changes against the baseline (CRM ownership), rules applied")
    c6.metric("Revenue moved", f"${d.get('revenue_moved', 0) / 1e6:,.2f}M", f"{d.get('revenue_share', 0):.1%}",
              delta_color="off", help="Last 12 months' revenue of the accounts that change territory")
    if n_cells:
        st.button("Zoom to unassigned", key="designer_zoom_unassigned", on_click=zoom_to_bounds,
                  args=(mapview.bounds_of(view.unassigned["cell"]),))
    held = int(view.ruled["accounts"].clip(lower=0).sum()) if len(view.ruled) else 0
    if held:
        st.caption(f"{held:,} accounts are placed by rules (named accounts, overlays): they count in their rule's "
                   "territory wherever you paint their cells. Rules are on the Rules & reps page.")
    market = ["market_potential"] if t["market_potential"].sum() else []  # with a market layer
    shown = t[["name", "accounts", "potential", "dev_potential", "revenue_12m", "visit_hours", "pipeline", *market,
               "cells", "pieces", "gained_accounts", "lost_accounts"]].rename(columns={
        **metrics.COLUMNS, "name": "Territory", "dev_potential": "Δ potential %", "cells": "Cells",
        "pieces": "Pieces", "gained_accounts": "Gained", "lost_accounts": "Lost"})
    money = st.column_config.NumberColumn(format="compact")  # 27.7M: the header says $
    st.dataframe(shown.round({"Δ potential %": 1}), hide_index=True, column_config={
        metrics.COLUMNS[m]: money for m in ("potential", "revenue_12m", "pipeline", "market_potential")})


def inspect_panel(view: View) -> None:
    cell = st.session_state.get(state.DESIGN_INSPECT)
    if cell is None:
        st.caption("Choose the Inspect tool and click a cell to list its accounts.")
        return
    frame = book.cell_accounts(state.db(), view.scenario_id, int(cell))
    held = int(frame["placed_by"].notna().sum())
    st.markdown(f"**Cell {format(int(cell), 'x')}**: {len(frame):,} accounts"
                + (f", {held:,} of them held by rules (painting the cell does not move them)" if held else ""))
    st.dataframe(frame, hide_index=True, column_config={  # st.dataframe shows text, never HTML
        "account_id": "Account id", "name": "Account", "city": "City", "state": "State", "industry": "Industry",
        "tier": "Tier", "owner_id": "Owner (CRM)", "placed_by": "Held by rule",
        "potential": st.column_config.NumberColumn("Potential", format="dollar"),
        "revenue_12m": st.column_config.NumberColumn("Revenue, last 12 months", format="dollar")})


def guard(action):
    """Run a plan change (``feedback.attempt``): its result (True if it returned nothing), or False
    when it was refused (the reason is the Designer's message)."""
    result = feedback.attempt(state.DESIGN_MESSAGE, action)
    return False if result is feedback.FAILED else True if result is None else result


METRICS = {"potential": mapview.METRIC_LABELS["potential"], **mapview.METRIC_LABELS}  # the Data map's choices, potential first
