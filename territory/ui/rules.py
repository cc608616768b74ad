"""Rules & reps page pieces: the plan's rules (named accounts, overlays) and the rep allocation."""

from __future__ import annotations

from functools import partial

import streamlit as st

from territory.data import quality
from territory.errors import TerritoryError
from territory.kpis import allocation
from territory.plans import plan, rules, search
from territory.ui import feedback, state

ANY = "(any)"


def show_message() -> None:
    feedback.show(state.RULES_MESSAGE)


def _act(action, done) -> None:
    """Run a change of plan ``sid`` in a widget callback (against the version this tab showed)."""
    feedback.act(state.RULES_MESSAGE, action, done)


def rule_table(con, sid: int) -> None:
    state.saw(sid, plan.version(con, sid))  # every write on this page is checked against it
    frame = rules.listing(con, sid)
    if frame.empty:
        st.info("This plan has no rules: every account belongs to the territory of its cell.")
        return
    st.dataframe(frame[["rule_id", "kind", "rule", "territory", "priority", "accounts"]], hide_index=True,
                 key="rules_table", column_config={"rule_id": "Id", "kind": "Kind", "rule": "Rule",
                                                   "territory": "Territory", "priority": "Priority",
                                                   "accounts": "Accounts it holds"})
    c1, c2 = st.columns([3, 1])
    rid = c1.selectbox("Rule", list(frame["rule_id"]), key="rules_delete_pick",
                       format_func=lambda r: f"{r}: {frame.set_index('rule_id').loc[r, 'rule']}")
    shown = frame.set_index("rule_id")
    c2.button("Delete rule", key="rules_delete", on_click=_act, args=(
        lambda: rules.delete(con, sid, int(rid), expected_version=state.seen(sid)),
        f"Deleted rule {rid} ({shown.loc[rid, 'rule']} → {shown.loc[rid, 'territory']})."))


def _territory_pick(con, sid: int, key: str) -> str:
    terr = plan.territories(con, sid).set_index("territory_id")
    return st.selectbox("Territory", list(terr.index), format_func=lambda t: terr.loc[t, "name"], key=key)


def _use_found(ids: list[str]) -> None:
    """A click on a search result puts its account id in the form."""
    rows = st.session_state["rules_found"].selection.rows
    if rows:
        st.session_state["rules_named_account"] = ids[rows[0]]


def named_form(con, sid: int) -> None:
    query = st.text_input("Find an account by name or id", key="rules_find")
    if query.strip():
        found = search.accounts(con, query)
        st.caption("Click a row to use that account.")
        st.dataframe(found, hide_index=True, key="rules_found", on_select=partial(_use_found, list(found["account_id"])),
                     selection_mode="single-row", column_config={
                         "account_id": "Account id", "name": "Account", "city": "City", "state": "State",
                         "industry": "Industry", "employees": "Employees"})
    st.text_input("Account id", key="rules_named_account")
    _territory_pick(con, sid, "rules_named_territory")

    def add() -> str:  # widget values as they are when the button is clicked
        account, tid = st.session_state["rules_named_account"], st.session_state["rules_named_territory"]
        rules.add_named(con, sid, account, tid, expected_version=state.seen(sid))
        return f"Account {account.strip()} now always goes to {plan.territory_name(con, sid, tid)}."

    st.button("Add named account", key="rules_named_add", on_click=_act, args=(add, str))


def overlay_form(con, sid: int) -> None:
    industries = [ANY] + quality.values(con, "industry")
    c1, c2 = st.columns(2)
    c1.selectbox("Industry", industries, key="rules_overlay_industry")
    c2.selectbox("Tier", [ANY, "A", "B", "C"], key="rules_overlay_tier")
    c1.number_input("Employees at least (0 = any)", min_value=0, value=0, step=100, key="rules_overlay_employees")
    c2.number_input("Annual revenue at least (0 = any)", min_value=0, value=0, step=1_000_000,
                    key="rules_overlay_revenue")
    new = st.text_input("Into a new territory named (leave empty to pick one)", key="rules_overlay_new",
                        placeholder="e.g. Strategic")
    if not new.strip():
        _territory_pick(con, sid, "rules_overlay_territory")
    st.number_input("Priority (lower wins)", min_value=1, max_value=1000, value=100, key="rules_overlay_priority")

    def add() -> str:  # widget values as they are when the button is clicked
        get = st.session_state.get
        overlay = rules.Overlay(None if get("rules_overlay_industry") == ANY else get("rules_overlay_industry"),
                                None if get("rules_overlay_tier") == ANY else get("rules_overlay_tier"),
                                float(get("rules_overlay_employees") or 0) or None,
                                float(get("rules_overlay_revenue") or 0) or None)
        new_name = (get("rules_overlay_new") or "").strip()
        if new_name:  # a new territory first, then the overlay against the version that made
            target = plan.create_territory(con, sid, new_name, expected_version=state.seen(sid))
            expected = plan.version(con, sid)
        else:
            target, expected = get("rules_overlay_territory"), state.seen(sid)
        rules.add_overlay(con, sid, target, overlay, priority=int(get("rules_overlay_priority") or 100),
                          expected_version=expected)
        return f"Overlay added: {overlay.describe() or 'no condition'}."

    st.button("Add overlay", key="rules_overlay_add", on_click=_act, args=(add, str))


def allocation_panel(con, sid: int) -> None:
    st.caption("Fit per rep and territory, 0–1: skills vs the territory's industry mix, distance of its accounts "
               "from the rep's home, accounts the rep owns today, capacity vs workload. The pairing with the "
               "highest total fit is found with scipy's linear_sum_assignment.")
    cols = st.columns(4)
    weights = allocation.Weights(*(c.slider(label, 0.0, 1.0, default, 0.05, key=f"alloc_w_{name}") for c, (
        name, label, default) in zip(cols, [("skills", "Skills", 0.25), ("distance", "Distance", 0.30),
                                            ("relationships", "Relationships", 0.30), ("capacity", "Capacity", 0.15)])))
    if st.button("Suggest reps", key="alloc_suggest"):
        try:
            st.session_state[state.ALLOC_RESULT] = (sid, allocation.suggest(con, sid, weights=weights))
        except TerritoryError as exc:
            st.error(feedback.plain(str(exc)))
    stored = st.session_state.get(state.ALLOC_RESULT)
    if not stored or stored[0] != sid:
        return
    frame = stored[1].copy()
    current = plan.territories(con, sid).set_index("territory_id")["rep_name"]
    frame["current"] = frame["territory_id"].map(current)
    frame.insert(0, "accept", frame["changes"])
    edited = st.data_editor(
        frame[["accept", "territory", "current", "rep_name", "fit", "skills", "distance", "relationships", "capacity",
               "reasons"]],
        hide_index=True, key="alloc_table", disabled=["territory", "current", "rep_name", "fit", "skills", "distance",
                                                       "relationships", "capacity", "reasons"],
        column_config={"accept": st.column_config.CheckboxColumn("Accept"), "territory": "Territory",
                       "current": "Rep now", "rep_name": "Suggested rep",
                       "fit": st.column_config.ProgressColumn("Fit", min_value=0, max_value=1, format="percent"),
                       **{c: st.column_config.NumberColumn(c.title(), format="percent")
                          for c in ("skills", "distance", "relationships", "capacity")},
                       "reasons": st.column_config.TextColumn("Why", width="large")})
    st.caption(f"{int(frame['changes'].sum())} of {len(frame)} territories would get another rep.")
    picked = frame.loc[edited["accept"].to_numpy(), ["territory_id", "rep_id"]]
    st.checkbox("Rename territories named after their old rep", value=True, key="alloc_rename",
                help='"Boston (Ann Lee)" becomes "Boston (Raj Rao)" when Raj Rao takes it over.')

    def accept() -> None:
        st.session_state.pop(state.ALLOC_RESULT, None)
        allocation.accept(con, sid, list(picked.itertuples(index=False, name=None)),
                          rename=bool(st.session_state.get("alloc_rename")), expected_version=state.seen(sid))

    st.button(f"Accept {len(picked)} selected", key="alloc_accept", disabled=picked.empty, type="primary",
              on_click=_act, args=(accept, f"{len(picked)} territories have their suggested rep."))
