"""The app under AppTest, on a private copy of the small demo database."""

from __future__ import annotations

import shutil

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from territory import settings, store


@pytest.fixture
def app(demo_db, tmp_path, monkeypatch):
    """(AppTest after its first run on the default page, path of its database copy)."""
    db = tmp_path / "app.duckdb"
    shutil.copy(demo_db, db)
    return start(db, monkeypatch)


@pytest.fixture
def app_without_crm_rules(demo_db, tmp_path, monkeypatch):
    """:func:`app` on a copy whose baseline keeps no account with its CRM owner by a rule (every
    account follows its cell): for tests of the rules a user makes."""
    db = tmp_path / "app.duckdb"
    shutil.copy(demo_db, db)
    con = store.connect(db)
    con.execute("DELETE FROM rules WHERE origin = 'crm'")
    con.close()
    return start(db, monkeypatch)


def start(db, monkeypatch):
    """The app on database file ``db``, after its first run: (AppTest, db)."""
    monkeypatch.setenv(settings.DB_ENV_VAR, str(db))
    monkeypatch.setenv(settings.DEBUG_ENV_VAR, "1")  # a page that crashes fails the test (at.exception)
    st.cache_data.clear()  # results cached for another test's database copy (same plan versions)
    at = AppTest.from_file(str(settings.ROOT / "app.py"), default_timeout=90)
    at.run()
    assert not at.exception, at.exception
    return at, db


def open_page(app, script: str):
    """(AppTest switched to ``script`` and run without an exception, its database path)."""
    at, db = app
    at.switch_page(script).run()
    assert not at.exception, at.exception
    return at, db


def with_db(db, action):
    """``action(con)`` on its own connection to the app's database file, closed afterwards."""
    con = store.connect(db)
    try:
        return action(con)
    finally:
        con.close()
