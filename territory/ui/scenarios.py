"""Scenarios page pieces: the plan list, create / manage forms, the comparison and the exports."""

from __future__ import annotations

import tempfile
from functools import partial
from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from territory import exports, metrics
from territory.errors import TerritoryError
from territory.kpis import charts
from territory.maps import mapview
from territory.plans import edits, scenarios
from territory.ui import feedback, state
from territory.ui.feedback import plain

EXPORTS = {"salesforce": ("Salesforce Data Loader CSV (Id, OwnerId)", "csv", "text/csv"),
           "hubspot": ("HubSpot companies CSV (Record ID, Company owner)", "csv", "text/csv"),
           "geojson": ("Territories as GeoJSON", "geojson", "application/geo+json"),
           "geopackage": ("Territories as GeoPackage (ArcGIS, QGIS)", "gpkg", "application/geopackage+sqlite3"),
           "shapefile": ("Territories as Shapefile (.zip)", "zip", "application/zip"),
           "excel": ("KPI report (Excel)", "xlsx",
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")}
COMPARED_LABELS = {m: metrics.LABELS[m] for m in scenarios.COMPARED}


def show_message() -> None:
    feedback.show(state.SCEN_MESSAGE)


def _run(action, done: str) -> None:
    feedback.run(state.SCEN_MESSAGE, action, done)


def _act(action, done: str) -> None:
    feedback.act(state.SCEN_MESSAGE, action, done)


def plan_table(con) -> pd.DataFrame:
    frame = scenarios.listing(con)
    for sid, version in zip(frame["scenario_id"], frame["version"]):
        state.saw(sid, version)  # the plans as this tab shows them: promote and delete are checked against it
    frame["active"] = frame["is_active"].map({True: "● active", False: ""})
    st.dataframe(frame[["name", "active", "kind", "parent", "territories", "rules", "version", "created_at", "notes"]],
                 hide_index=True, key="scenarios_table", column_config={
                     "name": "Plan", "active": "Active", "kind": "Kind", "parent": "Made from",
                     "territories": "Territories", "rules": "Rules", "version": "Edits", "notes": "Notes",
                     "created_at": st.column_config.DatetimeColumn("Created", format="YYYY-MM-DD HH:mm")})
    return frame


def create_form(con, names: dict[int, str]) -> None:
    active = state.active_plan(con)
    state.keep_valid("scenario_new_source", names)
    with st.form("scenario_create", clear_on_submit=True):
        name = st.text_input("Name", key="scenario_new_name", placeholder="e.g. West split in two")
        source = st.selectbox("Start from", list(names), index=list(names).index(active), format_func=names.get,
                              key="scenario_new_source", help="The active plan, the baseline or any scenario")
        notes = st.text_area("Notes", key="scenario_new_notes", height=68)
        if st.form_submit_button("Create scenario"):
            def create() -> None:
                sid = scenarios.create(con, name, source=source, notes=notes)
                st.session_state[state.DESIGN_PLAN] = sid  # the Designer opens the new scenario
                st.session_state[state.SCEN_COMPARE] = [active, sid]  # ... and it is compared with the active plan
            _run(create, f"Created {name.strip()!r}; open the Designer to paint it.")


def manage(con, frame: pd.DataFrame) -> None:
    rows = frame.set_index("scenario_id")
    state.keep_valid("scenario_manage", rows.index)
    sid = st.selectbox("Plan", list(rows.index), format_func=lambda s: rows.loc[s, "name"], key="scenario_manage")
    row = rows.loc[sid]
    c1, c2 = st.columns(2)
    c1.text_input("Rename to", value=row["name"], key=f"scenario_rename_{sid}")

    def rename() -> str:
        name = st.session_state[f"scenario_rename_{sid}"]  # as typed, read when the button is clicked
        scenarios.rename(con, sid, name, expected_version=state.seen(sid))
        return name.strip()

    c1.button("Rename", key="scenario_rename_go", on_click=feedback.act,
              args=(state.SCEN_MESSAGE, rename, lambda name: f"Renamed to {name!r}."))
    clone_name = c2.text_input("Clone as", value=f"{row['name']} (copy)", key=f"scenario_clone_{sid}")
    if c2.button("Clone", key="scenario_clone_go"):
        _run(lambda: scenarios.create(con, clone_name, source=sid), f"Cloned as {clone_name.strip()!r}.")
    st.text_area("Notes", value=row["notes"] if isinstance(row["notes"], str) else "", key=f"scenario_notes_{sid}")
    st.button("Save notes", key="scenario_notes_go", on_click=_act, args=(
        lambda: scenarios.set_notes(con, sid, st.session_state[f"scenario_notes_{sid}"], expected_version=state.seen(sid)),
        "Notes saved."))
    b1, b2, b3 = st.columns(3)
    if row["kind"] == "working" and b1.button("Open in Designer", key="scenario_open"):
        st.session_state[state.DESIGN_PLAN] = int(sid)
        st.switch_page("pages/designer.py")
    if not row["is_active"]:
        b2.button("Promote to active", key="scenario_promote", type="primary",
                  help="The active plan is the one exported to the CRM; the old one is kept", on_click=_act, args=(
                      lambda: scenarios.promote(con, sid, expected_version=state.seen(sid)),
                      f"{row['name']!r} is now the active plan."))
    confirm = b3.checkbox("Really delete", key=f"scenario_delete_ok_{sid}")
    b3.button("Delete", key="scenario_delete", disabled=not confirm, on_click=_act, args=(
        lambda: scenarios.delete(con, sid, expected_version=state.seen(sid)), f"Deleted {row['name']!r}."))
    hist = scenarios.history(con)
    if len(hist):
        st.markdown("**Active-plan history**")
        st.dataframe(hist, hide_index=True, key="scenarios_history")


@st.cache_data(show_spinner="Comparing", max_entries=8)
def _compare(ids: tuple[int, ...], versions: tuple[int, ...], data_version: int) -> scenarios.Comparison:
    return scenarios.compare(state.db(), list(ids))


@st.cache_data(show_spinner=False, max_entries=8)
def _changes(ids: tuple[int, ...], versions: tuple[int, ...], data_version: int) -> dict:
    cmp = _compare(ids, versions, data_version)
    return mapview.changes_layers(cmp.changed_cells, cmp.names)


MOVED_SHOWN = 1_000  # rows of the moved-accounts table on screen (all of them in the download)


def compare(con, names: dict[int, str]) -> None:
    ids = list(names)
    state.keep_valid(state.SCEN_COMPARE, ids)
    if state.SCEN_COMPARE not in st.session_state:  # first visit: the active plan and the newest one
        st.session_state[state.SCEN_COMPARE] = list(dict.fromkeys([state.active_plan(con), ids[-1]]))
    chosen = st.multiselect("Plans to compare (the first is the reference)", ids, format_func=names.get,
                            max_selections=scenarios.MAX_COMPARED, key=state.SCEN_COMPARE)
    if len(chosen) < 2:
        st.info("Choose two or three plans.")
        return
    versions = tuple(edits.version(con, s) for s in chosen)
    try:
        cmp = _compare(tuple(chosen), versions, state.data_version(con))
    except TerritoryError as exc:
        st.error(plain(str(exc)))
        return
    scores = cmp.scores.set_index("scenario").T
    labels = {"max_dev_potential_pct": "Balance: max deviation, potential (%)", "cv_potential": "Balance: CV, potential",
              "max_dev_accounts_pct": "Balance: max deviation, accounts (%)", "cv_accounts": "Balance: CV, accounts",
              "max_dev_visit_hours_pct": "Balance: max deviation, visit hours (%)",
              "cv_visit_hours": "Balance: CV, visit hours", "compactness": "Compactness (mean, 1 = disc)",
              "pieces": "Territory pieces", "unassigned_accounts": "Unassigned accounts",
              "disruption_accounts_pct": "Accounts changing territory vs baseline (%)",
              "disruption_revenue_pct": "Revenue changing territory vs baseline (%)"}
    st.markdown("**Scores**")  # a dataframe, not st.table: plan names are column headers and must stay text
    st.dataframe(scores.rename(index=labels).map(lambda v: f"{v:,.3g}" if isinstance(v, float) else f"{v:,}"),
                 key="scenarios_scores")
    metric = st.selectbox("Compare territories on", list(COMPARED_LABELS), format_func=COMPARED_LABELS.get,
                          key="scenarios_metric")
    st.plotly_chart(charts.scenario_deltas(cmp.kpis, metric, COMPARED_LABELS[metric]), width="stretch")
    wide = cmp.kpis.pivot_table(index="territory", columns="scenario", values=[metric, f"delta_{metric}"],
                                aggfunc="sum", sort=False)
    wide.columns = [f"{s} Δ" if m.startswith("delta_") else s for m, s in wide.columns]
    st.dataframe(wide.drop(columns=[f"{cmp.names[0]} Δ"], errors="ignore").reset_index(), hide_index=True,
                 key="scenarios_kpi_table", column_config={"territory": "Territory"})
    n = len(cmp.changed_cells)
    st.markdown(f"**{n:,} {'cell differs' if n == 1 else 'cells differ'}** (fill: territory in {plain(repr(cmp.names[-1]))}; "
                f"outline: in {plain(repr(cmp.names[0]))})")
    if len(cmp.changed_cells):
        st_folium(mapview.changes_map(_changes(tuple(chosen), versions, state.data_version(con))), height=420,
                  use_container_width=True, returned_objects=[], key="scenarios_map")
    moved = cmp.moved
    st.markdown(f"**{len(moved):,} accounts change territory or owner** "
                f"(\\${moved['revenue_12m'].sum():,.0f} revenue)")
    columns = ["scenario", "account_id", "name", "city", "state", "revenue_12m", "from_territory", "from_owner",
               "to_territory", "to_owner", "assigned_by"]
    if len(moved) > MOVED_SHOWN:  # tens of thousands of rows take seconds to reach the browser, and nobody reads them
        c1, c2 = st.columns([3, 1])
        c1.caption(f"The {MOVED_SHOWN:,} with the most revenue are shown; download all {len(moved):,}.")
        c2.download_button("Download all (CSV)", data=partial(_moved_csv, moved[columns]), file_name="moved-accounts.csv",
                           mime="text/csv", key="scenarios_moved_download", on_click="ignore")
        moved = moved.nlargest(MOVED_SHOWN, "revenue_12m")
    st.dataframe(moved[columns],
                 hide_index=True, key="scenarios_moved",
                 column_config={"scenario": "Scenario", "account_id": "Account id", "name": "Account", "city": "City",
                                "state": "State", "from_territory": "From territory", "from_owner": "From owner",
                                "to_territory": "To territory", "to_owner": "To owner", "assigned_by": "Placed by",
                                "revenue_12m": st.column_config.NumberColumn("Revenue 12m", format="dollar")})


def _moved_csv(moved: pd.DataFrame) -> bytes:
    """The moved accounts as CSV, safe to open in a spreadsheet (names are user text)."""
    return exports.neutralise_formulas(moved).to_csv(index=False).encode("utf-8-sig")


def _export_bytes(con, sid: int, fmt: str, changed_only: bool, formula_safe: bool, with_details: bool) -> bytes:
    """Runs when the download is clicked (Streamlit's deferred download)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"export.{EXPORTS[fmt][1]}"
        exports.export(con, sid, fmt, path, changed_only=changed_only, formula_safe=formula_safe,
                       with_details=with_details)
        return path.read_bytes()


ACTIVE = -1  # the export plan choice that means "whichever plan is active when you download"


@st.cache_data(show_spinner=False, max_entries=16)
def _owner_counts(sid: int, version: int, data_version: int, changed_only: bool) -> tuple[int, int, int, int]:
    """(accounts the CRM file will hold, how many of them change owner against the CRM today,
    unassigned, in territories without a rep), once per plan version."""
    acc, unassigned, no_rep = exports.ownership(state.db(), sid, changed_only=changed_only)
    return len(acc), int((acc["rep_id"] != acc["owner_id"].fillna("")).sum()), unassigned, no_rep


def export_panel(con, names: dict[int, str]) -> None:
    ids = list(names)
    active = state.active_plan(con)
    plain_names = state.plan_names(con, mark_active=False)
    c1, c2 = st.columns(2)
    state.keep_valid("export_plan", [ACTIVE, *ids])
    choice = c1.selectbox("Plan to export", [ACTIVE, *ids], key="export_plan",
                          format_func=lambda s: f"The active plan (now: {plain_names[active]})" if s == ACTIVE else names[s],
                          help="The active plan follows every promotion; or pick one plan by name.")
    sid = active if choice == ACTIVE else choice
    fmt = c2.selectbox("Format", list(EXPORTS), format_func=lambda f: EXPORTS[f][0], key="export_format")
    crm = fmt in ("salesforce", "hubspot")
    changed_only = st.checkbox("Only accounts whose owner changes (CRM files)", key="export_changed_only",
                               disabled=not crm)
    formula_safe = st.checkbox("Protect against spreadsheet formulas", value=True, key="export_formula_safe",
                               disabled=not crm,
                               help="A text cell starting with = + - @ gets a leading ' so that Excel does not run "
                                    "it. Turn off only to round-trip ids or names exactly through Data Loader.")
    with_details = st.checkbox("Also account names and coordinates", key="export_with_details", disabled=not crm,
                               help="To re-import the file into this app. Leave off for the CRM: Data Loader's "
                                    "auto-match would write them back, ZIP centroids included.")
    if crm:
        rows, changing, unassigned, no_rep = _owner_counts(sid, edits.version(con, sid), state.data_version(con),
                                                           changed_only)
        st.caption(f"Exports {plain(plain_names[sid])}: {rows:,} accounts, {changing:,} of them with a new owner "
                   "compared with the CRM today."
                   + (f" Left out (the CRM keeps their owner): {unassigned:,} unassigned, {no_rep:,} in territories "
                      "without a rep." if unassigned or no_rep else ""))
    else:
        st.caption(f"Exports {plain(plain_names[sid])}.")
    name = plain_names[sid]
    stem = "".join(ch if ch.isalnum() else "-" for ch in name).strip("-").lower()
    label = f"Download {EXPORTS[fmt][0]} · {plain(name)}"
    st.download_button(label, data=partial(_export_bytes, con, sid, fmt, changed_only, formula_safe, with_details),
                       file_name=f"{stem}-{fmt}.{EXPORTS[fmt][1]}", mime=EXPORTS[fmt][2],
                       key=f"export_download_{sid}_{fmt}_{changed_only}_{formula_safe}_{with_details}",  # one per file
                       on_click="ignore")
