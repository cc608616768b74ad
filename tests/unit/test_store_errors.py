"""A locked or damaged database file gives one clear line (CLI) or message (app), and is never written."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from territory import cli, settings, store
from territory.errors import DamagedDatabaseError, StoreError


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def damaged(demo_db, tmp_path) -> Path:
    """A copy of the demo database with one block overwritten (as a failing disk or copy would)."""
    path = tmp_path / "damaged.duckdb"
    data = bytearray(demo_db.read_bytes())
    data[4096:4096 + 64] = os.urandom(64)
    path.write_bytes(bytes(data))
    return path


@pytest.fixture
def not_a_database(tmp_path) -> Path:
    path = tmp_path / "notes.duckdb"
    path.write_bytes(b"these are someone's notes, not a database\n" * 200)
    return path


@pytest.mark.parametrize("which", ["damaged", "not_a_database"])
def test_a_damaged_file_is_refused_with_what_to_do_and_left_as_it_was(request, which):
    path = request.getfixturevalue(which)
    before = _digest(path)
    with pytest.raises(DamagedDatabaseError, match="is damaged") as caught:
        store.connect(path)
    assert "territory restore" in str(caught.value) and path.name in str(caught.value)
    assert _digest(path) == before and not Path(f"{path}.wal").exists()


def test_the_cli_says_one_line_and_exits_1_on_a_damaged_file(damaged):
    before = _digest(damaged)
    result = CliRunner().invoke(cli.main, ["summary", "--db", str(damaged)])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: the database damaged.duckdb is damaged")
    assert "Traceback" not in result.output and _digest(damaged) == before


@pytest.fixture
def held(demo_db, tmp_path):
    """(database path, pid) while another process holds the database open for writing."""
    path = tmp_path / "held.duckdb"
    path.write_bytes(demo_db.read_bytes())
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('ready', flush=True); time.sleep(60)", str(path)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "ready"
    yield path, holder.pid
    holder.kill()
    holder.wait(timeout=10)


def test_a_locked_file_names_the_process_that_holds_it(held):
    path, pid = held
    with pytest.raises(StoreError, match=f"in use by another program .*process {pid}"):
        store.connect(path)
    result = CliRunner().invoke(cli.main, ["summary", "--db", str(path)])
    assert result.exit_code == 1 and f"process {pid}" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def _app_on(path: Path, monkeypatch) -> AppTest:
    monkeypatch.setenv(settings.DB_ENV_VAR, str(path))
    monkeypatch.delenv(settings.DEBUG_ENV_VAR, raising=False)  # as users run it
    at = AppTest.from_file(str(settings.ROOT / "app.py"), default_timeout=60)
    at.run()
    return at


def test_the_app_shows_a_clear_page_for_a_damaged_file_and_never_writes_it(damaged, monkeypatch):
    before = _digest(damaged)
    at = _app_on(damaged, monkeypatch)
    assert not at.exception, at.exception
    assert "is damaged" in at.error[0].value and "territory restore" in at.error[0].value
    assert _digest(damaged) == before


def test_the_app_says_which_process_holds_a_locked_file(held, monkeypatch):
    path, pid = held
    at = _app_on(path, monkeypatch)
    assert not at.exception, at.exception
    assert f"process {pid}" in at.error[0].value
