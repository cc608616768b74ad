"""Messages to the user across reruns, and user text made safe for Streamlit's markdown."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable

import duckdb
import streamlit as st

from territory import settings, store
from territory.errors import ConflictError, StoreError, TerritoryError

log = logging.getLogger(__name__)

SHOW = {"ok": st.success, "warn": st.warning, "error": st.error}


_MARKUP = re.compile(r":[\w+\-/]+:"  # an icon or emoji shortcode (:smile:, :material/home:)
                     r"|[\\`*_\[\]<>#!|$~]"  # emphasis, code, links, images, HTML, headings, tables, LaTeX
                     r"|&(?=#?\w+;)")  # an HTML entity such as &lt;
_LIST_MARKER = re.compile(r"^(\d+)([.)])|^([-+])(?=\s)")  # "1. x", "- x" would start a list


def plain(text: object) -> str:
    """User text for Streamlit's markdown elements (messages, captions, labels): shown as typed.

    Every character that markdown, LaTeX (``$``), HTML, links, colour directives (``:red[x]``) or
    icon shortcodes (``:smile:``) need is backslash-escaped; line breaks become spaces, so a name
    cannot start a heading, quote or list of its own."""
    text = " ".join(str(text).split())
    text = _MARKUP.sub(_escape, text)
    return _LIST_MARKER.sub(lambda m: f"{m.group(1)}\\{m.group(2)}" if m.group(1) else f"\\{m.group(3)}", text)


def notice(kind: str, text: object) -> None:
    """Show ``text`` now as an 'ok', 'warn' or 'error' box, as plain text."""
    SHOW[kind](plain(text))


def _escape(match: re.Match) -> str:
    found = match.group(0)
    if len(found) > 1:  # a shortcode: both colons escaped, and what is between them
        return "\\:" + _MARKUP.sub(_escape, found[1:-1]) + "\\:"
    return "\\" + found


def say(key: str, kind: str, text: str) -> None:
    """Keep a message ('ok', 'warn', 'error') under ``key`` for the next run."""
    st.session_state[key] = (kind, text)


def show(key: str, *, keep: bool = False) -> None:
    """Show the message under ``key`` (names in it are user text: shown as typed, never as
    markdown); ``keep`` leaves it for later runs too."""
    kind, text = (st.session_state.get if keep else st.session_state.pop)(key, (None, None))
    if text:
        notice(kind, text)


FAILED = object()  # what attempt() returns for a refused change


def attempt(key: str, action: Callable[[], object]) -> object:
    """Run a change (in a widget callback): its result, or ``FAILED`` with the refusal as the
    message under ``key`` (a stale plan as a warning, any other ``TerritoryError`` or database
    error as an error, never a traceback)."""
    try:
        return action()
    except (TerritoryError, duckdb.Error) as exc:
        exc = store.explain(exc) if isinstance(exc, duckdb.Error) else exc
        say(key, "warn" if isinstance(exc, ConflictError) else "error", str(exc))
        return FAILED


def act(key: str, action: Callable[[], object], done: str | Callable[[object], str]) -> bool:
    """:func:`attempt`, and ``done`` (or ``done(result)``) as the message when it went through."""
    result = attempt(key, action)
    if result is FAILED:
        return False
    say(key, "ok", done(result) if callable(done) else done)
    return True


def run(key: str, action: Callable[[], object], done: str) -> None:
    """:func:`act`, then rerun (for a change made in the script body)."""
    act(key, action, done)
    st.rerun()


def unexpected(exc: Exception) -> None:
    """What a page could not handle, as one clear message instead of a traceback (``app.py``)."""
    if isinstance(exc, duckdb.Error):
        exc = store.explain(exc)
    if isinstance(exc, ConflictError):
        notice("warn", exc)
    elif isinstance(exc, StoreError):
        notice("error", f"The app cannot use its database: {exc}.")
        st.info("Reload this page once that is done. The data on disk is as it was: every change is one "
                "transaction, so nothing is ever half-written.")
    elif isinstance(exc, TerritoryError):
        notice("error", exc)
    elif os.environ.get(settings.DEBUG_ENV_VAR) == "1":
        raise exc
    else:
        log.exception("a page stopped on an unexpected error")
        st.error(f"Something went wrong on this page and it stopped ({plain(type(exc).__name__)}). Your data is "
                 "safe: every change is one transaction, so nothing was half-written. Reload the page to try "
                 "again; if it keeps happening, the server's log has the details for a bug report.")
