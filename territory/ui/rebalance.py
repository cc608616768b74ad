"""The Designer's rebalance panel: auto-rebalance with a preview, and suggested single moves."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from territory import metrics
from territory.errors import TerritoryError
from territory.kpis import charts
from territory.maps import mapview
from territory.market import layer
from territory.optimizer import Options
from territory.plans import edits, outcome, rebalance, totals
from territory.plans.planview import View
from territory.ui import designer, feedback, state

METRICS = {m: metrics.LABELS[m] for m in rebalance.ATTRIBUTES}


def panel(view: View, on_change) -> None:
    """``on_change(text)`` reports an accepted change to the page's message line."""
    auto, moves = st.tabs(["Auto-rebalance", "Suggested moves"])
    with auto:
        _auto(view, on_change)
    with moves:
        _suggested(view, on_change)


def _options_form(prefix: str) -> Options | None:
    offered = layer.offered(state.db(), list(METRICS))  # the market's measures once there is a market layer
    state.keep_valid(f"{prefix}_metrics", offered)
    chosen = st.multiselect("Balance on (up to three)", offered, default=["potential"], max_selections=3,
                            format_func=METRICS.get, key=f"{prefix}_metrics")
    if not chosen:
        st.info("Choose at least one measure to balance.")
        return None
    cols = st.columns(len(chosen))
    tolerance = {m: cols[i].number_input(f"± % {METRICS[m]}", 1.0, 50.0, 5.0, 1.0, key=f"{prefix}_tol_{m}") / 100
                 for i, m in enumerate(chosen)}
    return Options(balance=tolerance)


def _auto(view: View, on_change) -> None:
    options = _options_form("rebalance")
    if options is None:
        return
    c1, c2, c3, c4 = st.columns(4)
    keep_locks = c1.checkbox("Keep locks", value=True, key="rebalance_keep_locks")
    anchor = c2.checkbox("Keep reps' homes", value=False, key="rebalance_homes",
                         help="Each territory keeps its rep's home and is rebuilt around it (when every "
                              "territory's rep has a home location). On sparse plans this can leave a "
                              "territory split: the preview says so.")
    options.disruption_weight = c3.number_input("Disruption weight", 0.0, 10.0, 1.0, 0.5, key="rebalance_disruption",
                                                help="0 ignores today's owners; higher keeps more accounts where they are")
    options.time_limit = c4.number_input("Time limit (s)", 5, 600, 30, 5, key="rebalance_time")
    if st.button("Preview rebalance", key="rebalance_go", type="primary"):
        for key in (state.DESIGN_PREVIEW, state.DESIGN_PREVIEW_SHOWN, POINT, POINT_PREVIEW, "rebalance_cap",
                    "rebalance_cap_note", "rebalance_anchoring"):
            st.session_state.pop(key, None)
        cancel = st.empty()  # only while the run lasts
        cancel.button("Cancel", key="rebalance_cancel", help="Stops the run; the plan is left as it is")
        bar = st.progress(0.0, text="Rebalancing")
        options.progress = lambda f, m: bar.progress(min(max(f, 0.0), 1.0), text=m)
        try:
            preview = rebalance.rebalance(state.db(), view.scenario_id, options, anchor_homes=anchor,
                                          around_rep_homes=None if anchor else False,
                                          keep_locks=keep_locks)
        except (TerritoryError, ValueError) as exc:
            cancel.empty()
            feedback.notice("error", exc)
            return
        bar.empty()
        cancel.empty()
        st.session_state[state.DESIGN_PREVIEW] = preview
    elif st.session_state.get("rebalance_cancel"):
        st.info("Rebalance cancelled: the plan is as it was.")
    preview = st.session_state.get(state.DESIGN_PREVIEW)
    if preview is None:
        return
    if preview.scenario_id != view.scenario_id or preview.version != view.version:
        st.warning("The plan has changed since this preview: run the preview again.")
        st.session_state.pop(state.DESIGN_PREVIEW, None)
        return
    _show_preview(view, preview, on_change)


POINT = "rebalance_point"  # the frontier point shown (index), and its preview
POINT_PREVIEW = "rebalance_point_preview"


def _frontier(preview: rebalance.Preview) -> rebalance.Preview:
    """The balance-vs-disruption curve, a choice of plan on it (or a cap on accounts moved);
    returns the preview of the chosen plan (the run's best by default)."""
    points = preview.report.frontier
    if len(points) < 2:
        return preview
    best = len(points) - 1
    if st.session_state.get(POINT) not in range(len(points)):
        st.session_state[POINT] = best
    moved = [p.moved.get(rebalance.DISRUPTION, 0.0) * 100 for p in points]
    worst = [p.worst_pct for p in points]
    tol = max(b["tolerance_pct"] for b in preview.report.balance.values())
    floor = preview.report.unavoidable.get(rebalance.DISRUPTION)
    st.plotly_chart(charts.frontier_chart(moved, worst, chosen=st.session_state[POINT], tolerance_pct=tol,
                                          floor_pct=floor * 100 if floor is not None else None),
                    key="rebalance_frontier_chart", config={"displayModeBar": False})
    c1, c2 = st.columns([3, 2])
    c1.selectbox("Plan on the curve", range(len(points)), key=POINT, format_func=lambda i: (
        f"{moved[i]:.1f}% of accounts move, worst deviation {worst[i]:.1f}%"
        + (" (best balance)" if i == best else " (least change)" if i == 0 else "")))
    c2.number_input("Or: move at most (% of accounts)", 0.0, 100.0, value=None, step=1.0, key="rebalance_cap",
                    on_change=_cap, args=(points,), placeholder="e.g. 15")
    if st.session_state.get("rebalance_cap_note"):
        st.caption(st.session_state["rebalance_cap_note"])
    chosen = st.session_state[POINT]
    if chosen == best:
        return preview
    cached = st.session_state.get(POINT_PREVIEW)
    if cached is None or cached[0] is not preview or cached[1] != chosen:
        cached = (preview, chosen, rebalance.at_point(state.db(), preview, chosen))
        st.session_state[POINT_PREVIEW] = cached
    return cached[2]


def _anchoring(preview: rebalance.Preview) -> dict:
    """``outcome.anchoring`` once per preview shown (it takes about half a second on the demo)."""
    cached = st.session_state.get("rebalance_anchoring")
    if cached is None or cached[0] is not preview:
        cached = (preview, outcome.anchoring(state.db(), preview))
        st.session_state["rebalance_anchoring"] = cached
    return cached[1]


def _cap(points: list) -> None:
    cap = st.session_state.get("rebalance_cap")
    if cap is None:
        return
    index = outcome.pick(points, cap / 100)
    if index is None:
        st.session_state["rebalance_cap_note"] = (f"Every plan on the curve moves more than {cap:g}% of accounts; "
                                                  "the one that moves least is shown.")
        index = 0
    else:
        st.session_state["rebalance_cap_note"] = f"The best-balanced plan that moves at most {cap:g}% of accounts."
    st.session_state[POINT] = index


def _show_preview(view: View, preview: rebalance.Preview, on_change) -> None:
    preview = _frontier(preview)
    st.session_state[state.DESIGN_PREVIEW_SHOWN] = preview
    r = preview.report
    joined = f" (and {preview.joined:,} empty cells between them join a territory, to keep it in one piece)" \
        if preview.joined else ""
    refined = f" {preview.refined:,} dense cells are split into smaller ones so they can be shared." \
        if preview.refined else ""
    st.markdown(f"**Preview**: {preview.changed:,} cells with accounts change territory{joined} ({r.seconds:.1f} s)."
                + refined)
    cols = st.columns(len(r.balance) + 2)
    for col, (name, b) in zip(cols, r.balance.items()):
        now = totals.balance(view.table[name] if name in view.table else [0]).max_deviation_pct
        col.metric(f"Max deviation, {METRICS.get(name, name)}", f"{b['max_deviation_pct']:.1f}%",
                   f"{b['max_deviation_pct'] - now:+.1f} pts", delta_color="inverse")
    cols[-2].metric("Split territories", f"{preview.split}", help="Territories in more than one piece afterwards, "
                    "counted as the live panel counts them")
    shares = r.disruption
    cols[-1].metric("Accounts changing territory", f"{shares.get('accounts', 0):.1%}",
                    f"revenue {shares.get('revenue_12m', 0):.1%}", delta_color="off")
    floors = [f"{METRICS.get(m, m)}: {shares[m]:.1%} moved, at least {floor:.1%} had to"
              for m, floor in r.unavoidable.items() if m in shares]
    if floors:
        st.caption("Least share any plan within the tolerance moves from today's plan (what is over the upper "
                   "bounds must leave, what is under the lower ones must arrive) — " + "; ".join(floors) + ".")
    a = _anchoring(preview)
    st.caption(f"Territories keep a median {a['kept_median']:.0%} of today's potential (the least "
               f"{a['kept_least']:.0%}); {a['homes_inside_after']} of {a['reps_with_homes']} reps' homes are in their own "
               f"territory afterwards ({a['homes_inside_now']} today).")
    for line in r.explanation:
        feedback.notice("warn", line)
    after = _after_table(view, preview)
    st.dataframe(after, hide_index=True, column_config={
        "Potential now": st.column_config.NumberColumn(format="dollar"),
        "Potential after": st.column_config.NumberColumn(format="dollar")})
    moved = rebalance.moved_accounts(state.db(), preview)
    st.caption(f"{len(moved):,} accounts would move (largest revenue first)")
    st.dataframe(moved.head(500), hide_index=True, column_config={  # text, never HTML
        "account_id": "Account id", "name": "Account", "city": "City", "state": "State", "from": "From territory",
        "to": "To territory", "revenue_12m": st.column_config.NumberColumn("Revenue, last 12 months", format="dollar")})
    a, d = st.columns(2)
    if a.button("Accept (one undo step)", key="rebalance_accept", type="primary"):
        _write(lambda: rebalance.accept(state.db(), preview, expected_version=preview.version), state.DESIGN_PREVIEW,
               lambda edit: f"Rebalanced: {preview.changed:,} cells with accounts changed territory." if edit
               else "Nothing changed.", on_change)
    if d.button("Discard", key="rebalance_discard"):
        st.session_state.pop(state.DESIGN_PREVIEW, None)
        st.rerun()


def _after_table(view: View, preview: rebalance.Preview) -> pd.DataFrame:
    after = preview.totals_after(view.territories)
    table = view.table[["territory_id", "name", "accounts", "potential"]].merge(
        after[["territory_id", "accounts", "potential", "dev_potential"]], on="territory_id", suffixes=(" now", " after"))
    return table.drop(columns=["territory_id"]).rename(columns={
        "name": "Territory", "accounts now": "Accounts now", "accounts after": "Accounts after",
        "potential now": "Potential now", "potential after": "Potential after", "dev_potential": "Δ potential % after"}).round(1)


def _suggested(view: View, on_change) -> None:
    options = _options_form("suggest")
    if options is None:
        return
    if st.button("Find suggested moves", key="suggest_go"):
        with st.spinner("Scoring boundary moves"):
            st.session_state[state.DESIGN_SUGGESTIONS] = (view.version, rebalance.suggestions(
                state.db(), view.scenario_id, options, top=10))
    version, moves = st.session_state.get(state.DESIGN_SUGGESTIONS, (None, []))
    if version is None:
        return
    if version != view.version:
        st.info("The plan has changed: find suggested moves again.")
        return
    if not moves:
        st.success("No single move improves the plan.")
        return
    names = dict(zip(view.territories["territory_id"], view.territories["name"]))
    for i, m in enumerate(moves):
        devs = ", ".join(f"{METRICS.get(k, k)} max dev → {v:.1f}%" for k, v in m.max_deviation_pct.items())
        c1, c2, c3 = st.columns([5, 1, 1])
        c1.text(f"{i + 1}. {m.where}: {names.get(m.source, m.source)} → {names.get(m.target, m.target)}; "
                f"{m.accounts:,} accounts; {devs}")  # st.text never renders markup
        c2.button("Show", key=f"suggest_show_{i}", help="Zoom the map to this cell",
                  on_click=designer.zoom_to_bounds, args=(mapview.bounds_of([m.cell], pad=0.6),))
        if c3.button("Accept", key=f"suggest_accept_{i}"):
            _write(lambda m=m: edits.assign(state.db(), view.scenario_id, [m.cell], m.target, action="move",
                                            expected_version=version),  # the version the moves were found on
                   state.DESIGN_SUGGESTIONS,
                   lambda _e, m=m: f"Moved {m.where} ({m.accounts:,} accounts) to {names.get(m.target, m.target)}.",
                   on_change)


def _write(change, stale_key: str, message, on_change) -> None:
    """Apply a change made from what this tab has seen (``change`` passes that version); refusals
    are shown, not raised."""
    try:
        result = change()
    except TerritoryError as exc:
        feedback.notice("error", exc)
        return
    st.session_state.pop(stale_key, None)
    on_change(message(result))
    st.rerun()
