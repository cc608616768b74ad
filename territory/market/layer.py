"""The market layer in the planner's database: a cell table imported, checked and kept.

``territory market import`` (or the demo) loads a cell table written by either engine
(:mod:`territory.market.engines`) into ``market_cells``: cells at ``settings.MARKET_RES`` (a
finer table is rolled up on the way in), replacing the previous layer in one transaction after
a snapshot. From there the market sums join every roll-up of accounts (``metrics.MARKET``):
cells, plan units, territories, the maps, the KPIs and the optimizer.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from territory import backup, grid, metrics, settings, store
from territory.errors import Problem, ValidationError
from territory.market import engines, universe
from territory.store import Connection

REQUIRED = ("cell", "establishments", "market_potential")
OPTIONAL = ("industry", "employees")
# an H3 cell id: reserved bit 0, mode 1 (a cell), a base cell below 122 (bit layout as in grid.py)
_IS_CELL = "((cell >> 63) = 0 AND ((cell >> 59) & 15) = 1 AND ((cell >> 45) & 127) < 122)"


@dataclass(frozen=True)
class Loaded:
    import_id: int
    cells: int  # rows kept (cell × industry at MARKET_RES)
    establishments: int
    market_potential: int
    seconds: float


def import_cells(con: Connection, path: str | Path, *, snapshot: bool = True, source: str | Path | None = None) -> Loaded:
    """Replace the market layer by the cell table at ``path``; nothing changes when it is refused.
    With ``snapshot`` (the default) the database is backed up first (``backup.snapshot``);
    ``source`` is the file the import log names (default ``path``: e.g. the universe it came from)."""
    started = time.perf_counter()
    function, target = universe.source(path)
    if function != "read_parquet":
        raise ValidationError(f"{Path(path).name} is not a cell table: aggregate the universe first "
                              "(territory market aggregate UNIVERSE --out CELLS.parquet), then import CELLS.parquet")
    scan = "read_parquet($path)"
    try:
        columns = [d[0] for d in con.execute(f"SELECT * FROM {scan} LIMIT 0", {"path": target}).description]
    except duckdb.Error as exc:
        raise ValidationError(f"{Path(path).name} could not be read as Parquet: {exc}") from exc
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise ValidationError(f"{Path(path).name} is not a cell table (it has no {', '.join(missing)}; its columns: "
                              f"{', '.join(columns)}). A market universe is aggregated first: territory market "
                              "aggregate UNIVERSE --out CELLS.parquet, then territory market import CELLS.parquet")
    _check(con, scan, target, columns)
    cols = {c: (c if c in columns else "NULL") for c in OPTIONAL}
    rolled = (f"SELECT {grid.parent_sql('cell::UBIGINT')} AS cell, {cols['industry']}::VARCHAR AS industry,"
              " sum(establishments)::BIGINT AS establishments,"
              f" coalesce(sum({cols['employees']}), 0)::BIGINT AS employees,"
              f" sum(market_potential)::BIGINT AS market_potential FROM {scan} GROUP BY ALL")
    if snapshot:
        backup.snapshot(con, "market-import")
    with store.transaction(con):
        import_id = store.value(con, "SELECT nextval('import_seq')")
        con.execute("DELETE FROM market_cells")
        con.execute(f"INSERT INTO market_cells SELECT *, $import_id FROM ({rolled}) ORDER BY cell, industry",
                    {"path": target, "import_id": import_id, **grid.parent_params(settings.MARKET_RES)})
        cells, est, pot = con.execute("SELECT count(*), coalesce(sum(establishments), 0),"
                                      " coalesce(sum(market_potential), 0) FROM market_cells").fetchone()
        con.execute("INSERT INTO import_log VALUES (?, 'market', ?, now()::TIMESTAMP, now()::TIMESTAMP, ?, ?, 0, NULL, NULL)",
                    [import_id, str(source or path), int(est), int(cells)])
    return Loaded(int(import_id), int(cells), int(est), int(pot), time.perf_counter() - started)


def _check(con: Connection, scan: str, target: str, columns: list[str]) -> None:
    """The first row that is not a cell table's, by row and column, with what to do."""
    checks = [("cell", f"cell IS NULL OR NOT {_IS_CELL}", "is not an H3 cell id"),
              ("cell", f"((cell >> 52) & 15) < {settings.MARKET_RES}",
               f"is an H3 cell coarser than resolution {settings.MARKET_RES}: aggregate again with this version"),
              ("establishments", "establishments IS NULL OR establishments < 0", "must be a count of 0 or more"),
              ("market_potential", "market_potential IS NULL OR market_potential < 0", "must be an amount of 0 or more")]
    if "employees" in columns:
        checks.append(("employees", "employees < 0", "must be a count of 0 or more"))
    for column, bad, what in checks:
        try:
            row = con.execute(f"SELECT n, {column}::VARCHAR FROM (SELECT row_number() OVER () AS n, * FROM {scan})"
                              f" WHERE {bad} LIMIT 1",
                              {"path": target}).fetchone()
        except duckdb.Error as exc:  # e.g. text where a number belongs
            raise ValidationError(f"column {column} of the cell table could not be read: {exc}") from exc
        if row:
            raise ValidationError(f"row {row[0]}, column {column}: {row[1]!r} {what}",
                                  [Problem(int(row[0]), column, column, what)])


@dataclass(frozen=True)
class Status:
    establishments: int
    cells: int
    market_potential: float
    industries: int
    source: str | None
    imported_at: object


def status(con: Connection) -> Status | None:
    """The market layer in the database, or None when there is none."""
    row = con.execute("SELECT count(*), sum(establishments), sum(market_potential), count(DISTINCT industry)"
                      " FROM market_cells").fetchone()
    if not row[0]:
        return None
    src = con.execute("SELECT source, finished_at FROM import_log WHERE dataset = 'market'"
                      " ORDER BY import_id DESC LIMIT 1").fetchone() or (None, None)
    return Status(int(row[1]), int(row[0]), float(row[2]), int(row[3]), src[0], src[1])


def load(con: Connection, path: str | Path, *, progress: engines.Progress | None = None) -> tuple[Loaded, universe.Summary | None]:
    """The app's one step: a cell table is imported as it is; a market universe (CSV or Parquet
    of establishments) is aggregated on DuckDB first. Returns what was loaded and, for a
    universe, what the aggregation read and left out."""
    function, target = universe.source(path)
    if function == "read_parquet":
        try:
            columns = [d[0] for d in con.execute("SELECT * FROM read_parquet($path) LIMIT 0", {"path": target}).description]
        except duckdb.Error as exc:
            raise ValidationError(f"{Path(path).name} could not be read as Parquet: {exc}") from exc
        if set(REQUIRED) <= set(columns):
            return import_cells(con, path), None
    with tempfile.TemporaryDirectory(prefix="market-") as scratch:
        cells = Path(scratch) / "cells.parquet"
        summary = engines.aggregate(path, cells, progress=progress)
        if not summary.cells:
            raise ValidationError(f"{Path(path).name}: no establishment has a location; nothing to import "
                                  + " ".join(summary.problems()))
        return import_cells(con, cells, source=path), summary


def has_market(con: Connection) -> bool:
    return bool(store.value(con, "SELECT count(*) > 0 FROM (SELECT 1 FROM market_cells LIMIT 1)"))


def offered(con: Connection, names) -> list[str]:
    """``names`` (measures) without the market layer's when there is none (nothing to show)."""
    return [n for n in names if n not in metrics.MARKET or has_market(con)]
