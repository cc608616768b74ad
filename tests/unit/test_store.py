"""Schema migrations and round-trips through a real DuckDB file."""

import duckdb
import pytest

from territory import migrations, store
from territory.data import ingest
from territory.errors import StoreError


def test_new_database_is_at_the_latest_version(con):
    assert store.schema_version(con) == migrations.LATEST
    assert store.counts(con) == {"accounts": 0, "reps": 0, "opportunities": 0, "revenue_monthly": 0,
                                 "scenarios": 0}


def test_an_older_database_is_upgraded_and_keeps_its_data(db_path, accounts_file, monkeypatch):
    con = store.connect(db_path)
    ingest.import_file(con, accounts_file, "accounts")
    con.close()
    newer = migrations.MIGRATIONS + [
        (migrations.LATEST + 1, "accounts get a segment", ("ALTER TABLE accounts ADD COLUMN segment VARCHAR",)),
    ]
    monkeypatch.setattr(migrations, "MIGRATIONS", newer)
    monkeypatch.setattr(store, "MIGRATIONS", newer)
    monkeypatch.setattr(store, "LATEST", migrations.LATEST + 1)
    con = store.connect(db_path, upgrade_to=migrations.LATEST + 1)
    assert store.schema_version(con) == migrations.LATEST + 1
    assert con.execute("SELECT count(*), count(segment) FROM accounts").fetchall() == [(10, 0)]
    con.close()


def test_a_failed_migration_changes_nothing(db_path, monkeypatch):
    store.connect(db_path).close()
    broken = migrations.MIGRATIONS + [(migrations.LATEST + 1, "broken", (
        "CREATE TABLE half_done (x INTEGER)", "THIS IS NOT SQL"))]
    monkeypatch.setattr(store, "MIGRATIONS", broken)
    monkeypatch.setattr(store, "LATEST", migrations.LATEST + 1)
    with pytest.raises(duckdb.ParserException):
        store.connect(db_path, upgrade_to=migrations.LATEST + 1)
    monkeypatch.undo()
    con = store.connect(db_path)
    assert store.schema_version(con) == migrations.LATEST
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'half_done'").fetchall() == [(0,)]
    con.close()


def test_a_database_newer_than_the_app_is_refused(db_path):
    con = store.connect(db_path)
    con.execute("INSERT INTO schema_version (version, description) VALUES (999, 'future')")
    con.close()
    with pytest.raises(StoreError, match="newer than this app"):
        store.connect(db_path)


def test_data_survives_reopening_the_file(db_path, accounts_file):
    con = store.connect(db_path)
    ingest.import_file(con, accounts_file, "accounts")
    before = store.fingerprint(con)
    con.close()
    con = store.connect(db_path)
    assert store.fingerprint(con) == before
    assert con.execute("SELECT count(*) FROM import_log").fetchall() == [(1,)]
    con.close()


def test_database_path_from_environment(tmp_path, monkeypatch):
    from territory import settings

    monkeypatch.setenv(settings.DB_ENV_VAR, str(tmp_path / "env.duckdb"))
    assert settings.db_path() == tmp_path / "env.duckdb"
    assert settings.db_path(tmp_path / "flag.duckdb") == tmp_path / "flag.duckdb"
