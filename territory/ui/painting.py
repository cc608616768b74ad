"""The Designer's strokes: map clicks and shapes (paint, erase, inspect, split, merge), select by
area, and splitting dense cells; each change is one undo step (:mod:`territory.plans.edits`)."""

from __future__ import annotations

import streamlit as st

from territory import grid
from territory.data import quality
from territory.errors import TerritoryError
from territory.plans import edits, plan, rebalance, strokes, units
from territory.plans.planview import View
from territory.ui import designer, state


def refine_button(view: View) -> None:
    st.button("Split dense cells", key="designer_refine", on_click=_refine, args=(view.scenario_id,),
              help=f"Split every cell holding more than {units.SPLIT_SHARE:.0%} of a territory's target (potential, "
                   "accounts or visit hours) into smaller ones, down to the plan's finest resolution: one undo step")


def map_event(scenario_id: int, event: dict) -> None:
    """A click (brush ring, or inspect) or a drawn rectangle/polygon -> one stroke; Ctrl+Z / Ctrl+Y."""
    if event.get("kind") in ("undo", "redo"):
        designer.history_step(scenario_id, event["kind"] == "undo")
        return
    con = state.db()
    view = designer.cached_view(scenario_id, edits.version(con, scenario_id), state.data_version(con))
    universe = _universe(view)
    tool = st.session_state.get(state.DESIGN_TOOL)
    try:
        if event.get("kind") == "shape":
            cells = strokes.cells_in_polygon([(float(lat), float(lng)) for lat, lng in event.get("ring") or []],
                                             view.resolution, universe=universe)
            if tool in ("split", "merge", "inspect"):
                _reshape(scenario_id, tool, sorted(set(cells) & set(view.assignments["cell"].astype(int))))
                return
        else:
            cell = units.unit_at(event["lat"], event["lng"], universe, view.resolution)
            if tool == "inspect":
                st.session_state[state.DESIGN_INSPECT] = cell
                return
            if tool in ("split", "merge"):
                _reshape(scenario_id, tool, [cell])
                return
            cells = strokes.brush(cell, int(st.session_state.get(state.DESIGN_BRUSH, 0)), universe=universe)
    except (TerritoryError, KeyError, TypeError, ValueError) as exc:
        designer.say("error", f"That map action could not be read: {exc}")
        return
    if not cells:
        designer.say("ok", "No plan cells inside that shape.")
        return
    apply_stroke(scenario_id, cells)


def _universe(view: View) -> set[int]:
    """What a stroke can cover: the plan's units with accounts and its cells (``strokes``)."""
    return set(view.cells["cell"].astype(int)) | set(view.assignments["cell"].astype(int))


def area_form(view: View) -> None:
    """Select a region with plain widgets (states, or a latitude/longitude box) and assign it."""
    con = state.db()
    states = quality.values(con, "state")
    chosen = st.multiselect("States", states, key=state.DESIGN_STATES)
    st.button("Apply to the cells of these states", key="designer_area_go", disabled=not chosen,
              on_click=_apply_area, args=(view.scenario_id, view.resolution))


def _apply_area(scenario_id: int, res: int) -> None:
    con = state.db()
    universe = _universe(designer.cached_view(scenario_id, edits.version(con, scenario_id), state.data_version(con)))
    level = max(grid.res_of(sorted(universe)).max(initial=res), res)
    inside = grid.cells_of_states(con, int(level), st.session_state.get(state.DESIGN_STATES) or [])
    apply_stroke(scenario_id, units.overlapping(inside, universe))


def apply_stroke(scenario_id: int, cells: list[int]) -> None:
    """One stroke = one edit: paint with the active territory, or erase."""
    erase = st.session_state.get(state.DESIGN_TOOL) == "erase"
    target = None if erase else st.session_state.get(state.DESIGN_TERRITORY)
    edit = _write(lambda: edits.assign(state.db(), scenario_id, cells, target,
                                       only_unassigned=bool(st.session_state.get(state.DESIGN_ONLY_UNASSIGNED)),
                                       expected_version=state.seen(scenario_id)))
    if edit is FAILED:
        return
    if edit is None:
        designer.say("ok", "Nothing changed: those cells already look like that.")
        return
    state.saw(scenario_id, edits.version(state.db(), scenario_id))  # our own stroke
    skipped = f" ({edit.skipped_locked} locked cells left alone)" if edit.skipped_locked else ""
    where = "" if erase else f" into {plan.territory_name(state.db(), scenario_id, target)}"
    designer.say("ok", f"{'Erased' if erase else 'Painted'} {designer.count_cells(len(edit.cells))}{where}{skipped}.")


def _reshape(scenario_id: int, tool: str, cells: list[int]) -> None:
    """Split cells into their children, or merge a split cell with its siblings: one undo step."""
    con = state.db()
    if tool == "inspect" or (tool == "merge" and len(cells) != 1):
        designer.say("warn", "Merge and Inspect work on one cell: click it." if tool == "merge" else
            "Inspect works on one cell: click it.")
        return
    if not cells:
        designer.say("ok", "No plan cells inside that shape.")
        return
    edit = _write(lambda: edits.split(con, scenario_id, cells, expected_version=state.seen(scenario_id))
                  if tool == "split" else edits.merge(con, scenario_id, cells[0], expected_version=state.seen(scenario_id)))
    if edit is FAILED:
        return
    state.saw(scenario_id, edits.version(con, scenario_id))
    n = sum(1 for t in edit.after if t is not None) if edit else 0
    designer.say("ok", f"Split {designer.count_cells(len(cells))} into {n:,} smaller ones." if tool == "split"
        else "Merged seven cells back into one.")


def _refine(scenario_id: int) -> None:
    con = state.db()
    edit = _write(lambda: rebalance.refine(con, scenario_id, expected_version=state.seen(scenario_id)))
    if edit is FAILED:
        return
    if edit is None:
        designer.say("ok", f"No cell holds more than {units.SPLIT_SHARE:.0%} of a territory's target that can still be split.")
        return
    state.saw(scenario_id, edits.version(con, scenario_id))
    parents = sum(1 for t in edit.after if t is None)
    designer.say("ok", f"Split {designer.count_cells(parents)} into {designer.count_cells(len(edit.cells) - parents)}: dense areas can now "
        "be shared between territories.")


FAILED = object()  # what _write returns when the change was refused


def _write(action):
    """Run a plan change: its edit (None: nothing changed), or ``FAILED`` with the reason as the
    Designer's message (a warning when another tab changed the plan first)."""
    try:
        return action()
    except edits.ConflictError as exc:
        designer.say("warn", str(exc))
    except TerritoryError as exc:
        designer.say("error", str(exc))
    return FAILED
