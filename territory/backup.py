"""Backups: the whole database as one portable ``.zip``, restored in one transaction.

A backup is DuckDB's ``EXPORT DATABASE`` (``schema.sql``, ``load.sql`` and one Parquet file per
table: every account, plan, territory, rule and edit-history row) plus ``territory-backup.json``,
a manifest that says what it is. Parquet is read by any DuckDB version, so a backup outlives
the storage format of the database file it came from.

:func:`restore` imports the backup into a scratch file, upgrades its schema to this version of
the app, then replaces the content of every table of the target in **one transaction** (the app
may hold the database open; a failure leaves the target as it was) and moves the target's id
sequences past the restored ids. A target that holds data is only replaced when the caller says
so, and a snapshot of it is taken first.

:func:`snapshot` keeps the last few automatic backups in a folder beside the database file
(before every import, rebalance accept and restore).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from territory import settings, store
from territory.errors import TerritoryError, ValidationError
from territory.migrations import LATEST
from territory.store import Connection

log = logging.getLogger(__name__)

MANIFEST = "territory-backup.json"
FORMAT = 1


@dataclass(frozen=True)
class Backup:
    path: Path
    tables: dict[str, int]  # table -> rows
    seconds: float

    def summary(self) -> str:
        return (f"backed up {self.tables.get('accounts', 0):,} accounts and {self.tables.get('scenarios', 0):,} plans "
                f"({sum(self.tables.values()):,} rows in {len(self.tables)} tables) to {self.path.name} "
                f"in {self.seconds:.1f} s")


def tables(con: Connection) -> list[str]:
    """The app's tables in the main database (everything a backup holds)."""
    rows = con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
                       "AND schema_name = 'main' AND NOT temporary ORDER BY table_name").fetchall()
    return [r[0] for r in rows]


def backup(con: Connection, path: str | os.PathLike[str]) -> Backup:
    """Write the whole database to ``path`` (a .zip); the file appears only once it is complete."""
    started = time.perf_counter()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    counts = {t: int(store.value(con, f'SELECT count(*) FROM "{t}"')) for t in tables(con)}
    manifest = {"app": "territory", "format": FORMAT, "schema_version": store.schema_version(con),
                "created_at": datetime.now().isoformat(timespec="seconds"), "duckdb": duckdb.__version__,
                "tables": counts}
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        folder = Path(tmp) / "export"
        con.execute(f"EXPORT DATABASE '{_literal(folder)}' (FORMAT parquet)")  # a path we made: no user text
        partial = Path(tmp) / "backup.zip"
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as z:
            z.writestr(MANIFEST, json.dumps(manifest, indent=2))
            for file in sorted(folder.iterdir()):
                z.write(file, file.name)
        os.replace(partial, path)
    return Backup(path, counts, time.perf_counter() - started)


def read_manifest(path: str | os.PathLike[str]) -> dict:
    """The manifest of a backup file; a :class:`ValidationError` for anything that is not one."""
    path = Path(path)
    name = path.name
    try:
        with zipfile.ZipFile(path) as z:
            manifest = json.loads(z.read(MANIFEST))
            files = set(z.namelist())
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, UnicodeDecodeError, OSError) as exc:
        raise ValidationError(f"{name} is not a backup of this app (a .zip made by `territory backup` or the "
                              "Data page's Download backup); nothing was restored") from exc
    if not isinstance(manifest, dict) or manifest.get("app") != "territory" or not {"schema.sql", "load.sql"} <= files:
        raise ValidationError(f"{name} is not a backup of this app; nothing was restored")
    if int(manifest.get("schema_version", 0)) > LATEST:
        raise ValidationError(f"{name} was made by a newer version of the app (schema {manifest['schema_version']}, "
                              f"this one reads up to {LATEST}); upgrade the app to restore it")
    if any("/" in f or "\\" in f or f.startswith(".") for f in files):
        raise ValidationError(f"{name} holds unexpected paths; it is not a backup of this app")
    return manifest


def restore(con: Connection, path: str | os.PathLike[str], *, replace: bool = False) -> dict[str, int]:
    """Replace everything in ``con``'s database with the backup at ``path``; returns rows per table.

    Refused (nothing changes) when the file is not a backup, or when the database holds accounts
    or plans and ``replace`` is not set; with ``replace`` a snapshot of the current data is taken first.
    """
    manifest = read_manifest(path)
    current = store.counts(con)
    if (current["accounts"] or current["scenarios"]) and not replace:
        raise ValidationError(
            f"this database already holds {current['accounts']:,} accounts and {current['scenarios']:,} plans; "
            "restoring replaces all of it: confirm that you want to replace it (--replace in the CLI)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "export"
        with zipfile.ZipFile(path) as z:  # first: the snapshot below may retire ``path`` if it is one
            z.extractall(folder)
        if current["accounts"] or current["scenarios"]:
            snapshot(con, "before-restore")
        scratch = Path(tmp) / "restore.duckdb"
        src = duckdb.connect(str(scratch))
        try:
            src.execute(f"IMPORT DATABASE '{_literal(folder)}'")
            store.migrate(src)  # a backup of an older version: brought up to this schema
        except duckdb.Error as exc:
            raise ValidationError(f"{Path(path).name} could not be read as a backup ({exc}); nothing was restored") \
                from exc
        finally:
            src.close()
        return _copy_into(con, scratch, manifest)


def _copy_into(con: Connection, scratch: Path, manifest: dict) -> dict[str, int]:
    con.execute(f"ATTACH '{_literal(scratch)}' AS restore_src (READ_ONLY)")
    try:
        with store.transaction(con):
            for table in tables(con):
                con.execute(f'DELETE FROM main."{table}"')
                if store.value(con, "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'restore_src' "
                               "AND table_name = ?", [table]):
                    con.execute(f'INSERT INTO main."{table}" BY NAME SELECT * FROM restore_src."{table}"')
            _advance_sequences(con)
        return {t: int(store.value(con, f'SELECT count(*) FROM main."{t}"')) for t in tables(con)}
    finally:
        con.execute("DETACH restore_src")


def _advance_sequences(con: Connection) -> None:
    """Move each id sequence past the highest value it had in the backup (ids are never reused)."""
    rows = con.execute(
        "SELECT s.sequence_name, coalesce(s.last_value, s.start_value - 1), coalesce(r.last_value, r.start_value - 1) "
        "FROM duckdb_sequences() s JOIN duckdb_sequences() r USING (sequence_name) "
        "WHERE s.database_name = current_database() AND r.database_name = 'restore_src'").fetchall()
    for name, here, there in rows:
        if there > here:  # a sequence only moves forward: draw the missing values
            con.execute(f"SELECT max(nextval('{name}')) FROM range(?)", [int(there - here)])


def snapshot(con: Connection, reason: str) -> Path | None:
    """An automatic backup before a change (``reason`` names it), keeping the last few; None for an
    in-memory or empty database. A failed snapshot is logged, never stops the change it protects."""
    folder = snapshot_dir(con)
    if folder is None or store.is_empty(con):
        return None
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    try:
        made = backup(con, folder / f"{stamp}-{reason}.zip").path
    except (OSError, duckdb.Error, TerritoryError) as exc:
        log.warning("could not take a snapshot before %s: %s", reason, exc)
        return None
    for old in snapshots(con)[settings.snapshots_kept():]:
        old.unlink(missing_ok=True)
    return made


def snapshots(con: Connection) -> list[Path]:
    """The automatic snapshots of this database, newest first."""
    folder = snapshot_dir(con)
    if folder is None or not folder.is_dir():
        return []
    return sorted(folder.glob("*.zip"), reverse=True)


def snapshot_dir(con: Connection) -> Path | None:
    db = store.database_file(con)
    return None if db is None or str(db) == ":memory:" else db.with_name(f"{db.stem}.backups")


def _literal(path: Path) -> str:
    """A path we created, as the inside of an SQL string literal (EXPORT/IMPORT/ATTACH take no parameters)."""
    return str(path).replace("'", "''")
