"""The Designer's Territories panel: create, rename, recolour, assign a rep, lock, delete."""

from __future__ import annotations

import streamlit as st

from territory.data import quality
from territory.plans import edits, plan
from territory.plans.planview import View
from territory.ui import feedback, state
from territory.ui.designer import count_cells, guard, say


def territory_keys(scenario_id: int, territory_id: str) -> dict[str, str]:
    """Widget keys of a territory's settings, per plan and territory: another plan's form never
    shows (or saves) this one's values."""
    return {field: f"designer_{field}_{scenario_id}_{territory_id}" for field in ("name", "color", "rep_id", "locked")}


def territory_manager(view: View) -> None:
    sid = view.scenario_id
    tid = st.session_state.get(state.DESIGN_TERRITORY)
    with st.form("designer_new_territory", clear_on_submit=True):
        st.text_input("New territory name", key="designer_new_name")
        st.form_submit_button("Create", on_click=_create_territory, args=(sid,))
    if tid not in set(view.territories["territory_id"]):
        return
    row = view.territories.set_index("territory_id").loc[tid]
    stored = {"name": row["name"], "color": row["color"] or "#888888",
              "rep_id": row["rep_id"] if isinstance(row["rep_id"], str) else plan.NO_REP, "locked": bool(row["locked"])}
    keys = territory_keys(sid, tid)
    form = _settings_form(keys, stored, view.version)
    shown = form["shown"]
    st.markdown(f"**{feedback.plain(row['name'])}**")
    st.text_input("Rename", value=shown["name"], key=keys["name"])
    st.color_picker("Colour", value=shown["color"], key=keys["color"])
    reps = quality.reps(state.db())
    rep_names = {plan.NO_REP: "(none)", **dict(zip(reps["rep_id"], reps["name"]))}
    st.selectbox("Rep", list(rep_names), format_func=rep_names.get, key=keys["rep_id"],
                 index=list(rep_names).index(shown["rep_id"]) if shown["rep_id"] in rep_names else 0)
    st.toggle("Locked", value=shown["locked"], key=keys["locked"])
    pending = _pending(keys, shown, rep_names)
    if pending:
        st.caption("Save will change: " + "; ".join(feedback.plain(p) for p in pending))
    st.button("Save territory", key="designer_save_territory", on_click=_save_territory, args=(sid, tid),
              disabled=not pending)
    n_cells = int((view.assignments["territory_id"] == tid).sum())
    with st.popover("Delete territory…"):
        st.markdown(f"Delete **{feedback.plain(row['name'])}**? Its {count_cells(n_cells)} become unassigned and its rules "
                    "go. Undo (Ctrl+Z) brings it back.")
        st.button(f"Delete {feedback.plain(row['name'])}", key="designer_delete_territory", type="primary",
                  on_click=_delete_territory, args=(sid, tid))
    st.button("Recolour so that neighbours differ", key="designer_recolour", on_click=_recolour, args=(sid,),
              help="Territories that touch a territory of the same colour get another colour; the others keep theirs.")


def _pending(keys: dict[str, str], shown: dict, rep_names: dict[str, str]) -> list[str]:
    """What Save would write: each setting the user changed from what the form showed."""
    words = {"name": "name", "color": "colour", "rep_id": "rep", "locked": "locked"}
    out = []
    for field, key in keys.items():
        new = st.session_state.get(key, shown[field])
        if new == shown[field]:
            continue
        old_text, new_text = (rep_names.get(shown[field], shown[field]), rep_names.get(new, new)) if field == "rep_id" \
            else ("yes" if shown[field] else "no", "yes" if new else "no") if field == "locked" else (shown[field], new)
        out.append(f"{words[field]} {old_text} → {new_text}")
    return out


def _recolour(scenario_id: int) -> None:
    changed = guard(lambda: plan.recolour(state.db(), scenario_id, expected_version=state.seen(scenario_id)))
    if changed is not False:
        say("ok", f"Recoloured {', '.join(changed)}; touching territories now differ." if changed
            else "No change: touching territories already have different colours.")


def _create_territory(scenario_id: int) -> None:
    name = st.session_state.get("designer_new_name", "")
    tid = guard(lambda: plan.create_territory(state.db(), scenario_id, name, expected_version=state.seen(scenario_id)))
    if tid:
        st.session_state[state.DESIGN_TERRITORY] = tid
        say("ok", f"Created territory {name.strip()}.")


def _settings_form(keys: dict[str, str], stored: dict, version: int) -> dict:
    """What a territory's settings form was filled from: ``{"shown": values, "version": plan version}``.

    Kept while the user edits it, so Save writes only what they changed from those values and is
    refused if the plan changed since (another tab); refreshed to the stored settings while untouched."""
    snapshot_key = keys["name"] + "_form"
    form = st.session_state.get(snapshot_key)
    untouched = form is None or all(st.session_state.get(k, form["shown"][f]) == form["shown"][f] for f, k in keys.items())
    if form is None or (untouched and (form["shown"] != stored or form["version"] != version)):
        for key in keys.values():
            st.session_state.pop(key, None)
        form = st.session_state[snapshot_key] = {"shown": stored, "version": version}
    return form


def _save_territory(scenario_id: int, territory_id: str) -> None:
    """Write only the settings the user changed from what the form showed, against the version it showed."""
    keys = territory_keys(scenario_id, territory_id)
    form = st.session_state.pop(keys["name"] + "_form", None) or {"shown": {}, "version": None}
    shown = form["shown"]
    changed = {f: st.session_state[k] for f, k in keys.items() if k in st.session_state and st.session_state[k] != shown.get(f)}
    for key in keys.values():  # the form shows the stored settings again (the new ones, or the latest on refusal)
        st.session_state.pop(key, None)
    if not changed:
        say("ok", "Nothing to save: no setting was changed.")
        return
    if guard(lambda: plan.update_territory(state.db(), scenario_id, territory_id, **changed,
                                            expected_version=form["version"])):
        words = {"name": f"renamed to {changed.get('name', '')}", "color": "new colour", "rep_id": "new rep",
                 "locked": "locked" if changed.get("locked") else "unlocked"}
        say("ok", f"Saved {changed.get('name', shown.get('name', ''))} ({', '.join(words[f] for f in changed)}).")


def _delete_territory(scenario_id: int, territory_id: str) -> None:
    edit = guard(lambda: edits.delete_territory(state.db(), scenario_id, territory_id,
                                                 expected_version=state.seen(scenario_id)))
    if edit:
        st.session_state.pop(state.DESIGN_TERRITORY, None)
        say("ok", f"Deleted territory {edit.deleted_name}; its {count_cells(len(edit.cells))} are unassigned. "
                  "Undo (Ctrl+Z) brings it back.")
