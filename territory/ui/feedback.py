"""Messages to the user across reruns, and user text made safe for Streamlit's markdown."""

from __future__ import annotations

import re
from collections.abc import Callable

import streamlit as st

from territory.errors import TerritoryError

SHOW = {"ok": st.success, "warn": st.warning, "error": st.error}


def plain(text: str) -> str:
    """Text for Streamlit's markdown elements, with every markdown and LaTeX character escaped."""
    return re.sub(r"([\\`*_\[\]<>#!|$~])", r"\\\1", text)


def say(key: str, kind: str, text: str) -> None:
    """Keep a message ('ok', 'warn', 'error') under ``key`` for the next run."""
    st.session_state[key] = (kind, text)


def show(key: str, *, keep: bool = False) -> None:
    """Show the message under ``key`` (names in it are user text: shown as typed, never as
    markdown); ``keep`` leaves it for later runs too."""
    kind, text = (st.session_state.get if keep else st.session_state.pop)(key, (None, None))
    if text:
        SHOW[kind](plain(text))


def run(key: str, action: Callable[[], object], done: str) -> None:
    """Run a change and rerun; a ``TerritoryError`` becomes the message instead of a traceback."""
    try:
        action()
    except TerritoryError as exc:
        say(key, "error", str(exc))
    else:
        say(key, "ok", done)
    st.rerun()
