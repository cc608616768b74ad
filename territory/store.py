"""The one module that owns DuckDB: connections, migrations, transactions, loads and saves.

Other modules receive a connection from here and run their (bound-parameter) SQL on it;
only this module creates, upgrades or names the database file.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from territory import settings
from territory.errors import ConflictError, DamagedDatabaseError, StoreError, TerritoryError
from territory.migrations import LATEST, MIGRATIONS

log = logging.getLogger(__name__)

Connection = duckdb.DuckDBPyConnection


def connect(path: str | os.PathLike[str] | None = None, *, upgrade_to: int = LATEST) -> Connection:
    """Open (creating if needed) the database and bring its schema up to ``upgrade_to``."""
    target = settings.db_path(path)
    if str(target) != ":memory:":
        target.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(target))
    except duckdb.Error as exc:
        raise explain(exc, target) from exc
    try:
        migrate(con, upgrade_to=upgrade_to)
    except duckdb.Error as exc:
        con.close()
        meaning = explain(exc, target)
        if isinstance(meaning, DamagedDatabaseError):  # a block that cannot be read; else a bug: as it is
            raise meaning from exc
        raise
    return con


_LOCK = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")
_DAMAGE = ("not a valid DuckDB database file", "Corrupt database file", "Could not read enough bytes",
           "checksum", "database has been invalidated", "Serialization Error", "INTERNAL Error")


def explain(exc: duckdb.Error, target: str | os.PathLike[str] | None = None) -> TerritoryError:
    """What a DuckDB error means for the user, as one :class:`TerritoryError` that says what to do:
    the file is in use (by which process), damaged (restore a backup), or another database error."""
    text = str(exc)
    name = Path(target).name if target else "the database"
    lock = _LOCK.search(text)
    if lock:
        program = Path(lock["program"]).name
        return StoreError(
            f"the database {name} is in use by another program ({program}, process {lock['pid']}): "
            "wait until it has finished (an import, the app) or close it, then try again; "
            "or work on another file with --db")
    if any(marker.lower() in text.lower() for marker in _DAMAGE):
        return DamagedDatabaseError(
            f"the database {name} is damaged and cannot be read ({text.strip().splitlines()[0][:160]}); "
            "nothing was written to it. Restore a backup (`territory restore BACKUP.zip`; the last "
            "automatic snapshots are in its .backups folder) or move the file away to start afresh")
    if isinstance(exc, duckdb.TransactionException) and "conflict" in text.lower():
        return ConflictError()
    return StoreError(f"the database reported an error: {text.strip().splitlines()[0][:200]}")


def schema_version(con: Connection) -> int:
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY, description VARCHAR,"
        " applied_at TIMESTAMP DEFAULT current_timestamp)"
    )
    row = con.execute("SELECT max(version) FROM schema_version").fetchall()[0]
    return int(row[0] or 0)


def migrate(con: Connection, *, upgrade_to: int = LATEST) -> int:
    """Apply every migration the database lacks, each atomically; return the new version."""
    current = schema_version(con)
    if current > LATEST:
        raise StoreError(
            f"the database has schema version {current}, newer than this app ({LATEST}); "
            "upgrade the app"
        )
    for version, description, statements in MIGRATIONS:
        if current < version <= upgrade_to:
            with transaction(con):
                for sql in statements:
                    con.execute(sql)
                con.execute(
                    "INSERT INTO schema_version (version, description) VALUES (?, ?)",
                    [version, description],
                )
            log.info("database migrated to version %s (%s)", version, description)
            current = version
    return current


@contextmanager
def transaction(con: Connection) -> Iterator[Connection]:
    """``BEGIN`` ... ``COMMIT``; any exception rolls everything back and re-raises.

    Two writers that really overlap (DuckDB's "Conflict on update") become a
    :class:`ConflictError`: the later one is refused with the stale-plan message, nothing is written.
    """
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
        con.execute("COMMIT")
    except duckdb.TransactionException as exc:
        _rollback(con)
        if "conflict" in str(exc).lower():  # not "transaction is aborted" after another error
            raise ConflictError() from exc
        raise
    except BaseException:
        _rollback(con)
        raise


def _rollback(con: Connection) -> None:
    try:
        con.execute("ROLLBACK")
    except duckdb.TransactionException:  # DuckDB already ended the failed transaction
        pass


@contextmanager
def unordered_writes(con: Connection, *, joins_as_written: bool = False) -> Iterator[Connection]:
    """Let DuckDB write rows in any order (faster in parallel); tables here have no order.

    ``joins_as_written`` keeps each join's right side as its hash table: a file read has no
    row count up front, and DuckDB would otherwise hash a million file rows to probe a small
    lookup table with them.
    """
    con.execute("SET preserve_insertion_order = false")
    if joins_as_written:
        con.execute("SET disabled_optimizers = 'build_side_probe_side'")
    try:
        yield con
    finally:
        con.execute("SET preserve_insertion_order = true")
        if joins_as_written:
            con.execute("RESET disabled_optimizers")


def value(con: Connection, sql: str, params: list | dict | None = None):
    """The first column of the first row of a query (None when it returns no row)."""
    rows = con.execute(sql, params).fetchall()  # all: an unfinished result would block the connection
    return rows[0][0] if rows else None


def is_empty(con: Connection) -> bool:
    """True when no accounts have been loaded yet."""
    return value(con, "SELECT count(*) FROM accounts") == 0


def counts(con: Connection) -> dict[str, int]:
    tables = ("accounts", "reps", "opportunities", "revenue_monthly", "scenarios")
    sql = "SELECT " + ", ".join(f"(SELECT count(*) FROM {t})" for t in tables)
    return dict(zip(tables, con.execute(sql).fetchall()[0]))


_TABLES = {
    "accounts", "reps", "opportunities", "revenue_monthly", "import_log",
    "scenarios", "territories", "cell_assignments", "edit_log", "schema_version", "rules", "promotions",
    "market_cells",
}


def fingerprint(con: Connection) -> dict[str, tuple]:
    """Row count and an order-independent hash per table: tests prove "unchanged" with it."""
    out = {}
    for table in sorted(_TABLES):
        row = con.execute(
            f"SELECT count(*), coalesce(sum(hash(t)), 0) FROM {table} AS t"
        ).fetchall()[0]
        out[table] = tuple(row)
    return out


def database_file(con: Connection) -> Path | None:
    row = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()[0]
    return Path(row[0]) if row and row[0] else None
