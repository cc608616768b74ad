"""The Designer's bridge to its map: a small Streamlit component (``bridge/index.html``) that
carries the plan's state to the map and the map's events back, as an acknowledged queue."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import streamlit as st
import streamlit.components.v1 as components

from territory.ui import state

_component = components.declare_component("designer_bridge", path=str(Path(__file__).parent / "bridge"))


def send(patch: dict, on_event: Callable[[dict], None]) -> None:
    """Send ``patch`` to the map; each map event not handled yet goes to ``on_event``, in order."""
    _component(patch=patch, ack=st.session_state.get(state.DESIGN_ACK), key=state.DESIGN_BRIDGE, default=None,
               on_change=partial(_receive, on_event), height=0)


def _receive(on_event: Callable[[dict], None]) -> None:
    events, ack = pending(st.session_state.get(state.DESIGN_BRIDGE), st.session_state.get(state.DESIGN_ACK))
    for event in events:
        on_event(event)
    st.session_state[state.DESIGN_ACK] = ack


def pending(value: dict | None, ack: dict | None) -> tuple[list[dict], dict]:
    """The map's events not handled yet, in order, and the acknowledgement that covers them.

    The browser sends ``{"session": id, "events": [{"seq": 1, ...}, ...]}`` and keeps resending
    events until the server acknowledges them (``{"session": id, "seq": last handled}``), so
    an event is handled exactly once even when two arrive during one rerun; a new browser
    session (a reload) starts its own numbering.
    """
    value = value or {}
    session = value.get("session")
    done = int((ack or {}).get("seq", 0)) if (ack or {}).get("session") == session else 0
    events = sorted((e for e in value.get("events") or [] if int(e.get("seq", 0)) > done), key=lambda e: int(e["seq"]))
    return events, {"session": session, "seq": int(events[-1]["seq"]) if events else done}
