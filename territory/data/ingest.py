"""Import accounts, reps, opportunities and revenue history from CRM files.

One call, one transaction: read (``readers``) -> map columns (``fields``) -> type
(``parsing``) and check every row (``validation``) -> locate (``locating``: coordinates, ZIPs,
cities) -> index on H3 -> write (``writers``); the stages hand each other a ``Staging``. With the ``reject``
policy any bad row means nothing is written; with ``skip`` the good rows load and the bad
ones go to a rejects CSV (row, column, value, reason). A failure or a kill before COMMIT
leaves the database as it was.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from territory import backup, grid, settings, store
from territory.data import geocode, locating, parsing, readers, textfiles, validation, writers
from territory.data.fields import DATASETS, field_list, guess_mapping, validate_mapping
from territory.data.staging import Staging
from territory.errors import Problem, ValidationError
from territory.store import Connection

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
POLICIES = settings.IMPORT_POLICIES


@dataclass
class ImportResult:
    dataset: str
    import_id: int
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    mapping: dict[str, str]
    problems: list[Problem] = field(default_factory=list)
    rejects_path: Path | None = None
    geocoded_by_zip: int = 0
    potential_derived: int = 0
    owners_matched: int = 0  # accounts: distinct owners that are reps (also in another id form)
    owners_derived: int = 0  # accounts: owners that became reps (no reps file named them)
    no_owner: int = 0  # accounts without an owner
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # what the user may want to check (e.g. ambiguous decimals)


def owners_line(result: ImportResult) -> str:
    """What an accounts import did with the owners, in words ("" for other datasets)."""
    if result.dataset != "accounts":
        return ""
    parts = [f"{result.owners_matched:,} owners matched to reps"]
    if result.owners_derived:
        parts.append(f"{result.owners_derived:,} owners not in a reps file became reps")
    if result.no_owner:
        parts.append(f"{result.no_owner:,} accounts have no owner")
    return "; ".join(parts)


@dataclass(frozen=True)
class Preview:
    """What the import panel shows before loading: columns, guessed mapping, first rows."""

    columns: list[str]
    mapping: dict[str, str]
    head: pd.DataFrame


def preview(con: Connection, path: str | Path, dataset: str, *, overrides=None, rows: int = 5,
            encoding: str = "auto") -> Preview:
    return readers.read_with_retries(con, path, textfiles.ReadOptions(encoding=encoding), lambda source, _: Preview(
        source.columns, guess_mapping(source.columns, dataset, overrides=overrides), readers.head(con, source, rows)))


def import_file(
    con: Connection,
    path: str | Path,
    dataset: str,
    *,
    overrides: dict[str, str] | None = None,
    on_error: str = "reject",
    rejects_path: str | Path | None = None,
    progress: Progress | None = None,
    snapshot: bool = True,
    encoding: str = "auto",
    decimal: str = "auto",
    name: str | None = None,
) -> ImportResult:
    """Load one file into ``dataset``; see the module docstring for the guarantees.

    With ``snapshot`` (the default) a database that holds accounts is backed up first
    (``backup.snapshot``). ``encoding`` forces how a text file is read (``auto``: UTF-8 with or
    without a byte-order mark, UTF-16 with one, else Windows-1252). ``name`` is what messages and
    the import history call the file (an upload's own name rather than the server's copy).
    ``decimal`` (auto, point, comma) forces the decimal separator of every number column; auto
    judges each column from its own values (``parsing.detect_decimal``)."""
    if dataset not in DATASETS:
        raise ValidationError(f"unknown dataset {dataset!r}; use one of {', '.join(DATASETS)}")
    if on_error not in POLICIES:
        raise ValidationError(f"unknown error policy {on_error!r}; use reject or skip")
    report = progress or (lambda _f, _m: None)
    started = time.perf_counter()
    path = Path(path)
    label = Path(name) if name else path
    if decimal not in parsing.DECIMALS:
        raise ValidationError(f"unknown decimal separator {decimal!r}; use one of {', '.join(parsing.DECIMALS)}")
    report(0.02, f"reading {label.name}")
    stg = Staging()
    try:
        return readers.read_with_retries(
            con, path, textfiles.ReadOptions(encoding=encoding, decimal=decimal),
            lambda source, attempt: _load(con, stg, source, label, dataset, overrides, on_error, rejects_path, report,
                                          started, snapshot and attempt == 0))  # one snapshot, on the first try
    finally:
        stg.drop(con)


def _load(con, stg: Staging, source, path, dataset, overrides, on_error, rejects_path, report, started,
          snapshot) -> ImportResult:
    mapping = guess_mapping(source.columns, dataset, overrides=overrides)
    validate_mapping(mapping, dataset, columns=source.columns)
    if snapshot:  # the file is readable and mapped: keep a copy of what it may change
        backup.snapshot(con, f"before-import-{dataset}")
    fields = field_list(dataset, mapping)
    names = {f.name for f in fields}
    numbers = {f.name: mapping[f.name] for f in fields if f.kind in parsing.NUMERIC_KINDS}
    if numbers:  # the decimal separator is judged on the first rows of the number columns
        readers.sample_rows(con, source, numbers, stg)
    decimal, notes = parsing.detect_decimal(con, fields, delimiter=source.delimiter, table=stg.sample,
                                            forced=parsing.DECIMALS[source.options.decimal])
    fast = _one_pass(con, stg, path, source, dataset, mapping, fields, set(numbers.values()), decimal, on_error, report,
                     started)
    if fast is not None:
        fast.notes = notes
        return fast
    report(0.05, f"checking {path.name} row by row")
    rows_read = readers.stage(con, source, parsing.select_columns(fields, mapping, decimal=decimal), stg)
    report(0.3, f"read {rows_read:,} rows; checking them")
    parsing.fix_numbers(con, stg, fields, decimal=decimal)
    validation.match_account_ids(con, stg, dataset)
    geocode.register_zips(con)
    n_problems = validation.collect_problems(con, stg, dataset, fields, mapping)
    report(0.45, "geocoding and indexing")
    located, unlocated = _locate(con, stg, dataset, mapping, rows_read)
    problems = _fetch_problems(con, stg) if n_problems or unlocated else []
    if problems and on_error == "reject":
        bad = len({p.row for p in problems})
        raise ValidationError(
            f"{path.name}: {len(problems):,} problems in {bad:,} of {rows_read:,} rows; nothing was "
            "imported. Fix the rows listed, or choose to load the good rows and list the rest "
            "(the import panel's choice; --on-error skip in the CLI)",
            problems,
        )
    _good_view(con, stg, fields, located, filtered=bool(problems))
    report(0.7, "writing")
    with store.transaction(con), store.unordered_writes(con):
        import_id = _next_import_id(con)
        loaded = writers.WRITERS[dataset](con, stg.good, names, import_id)
        if dataset == "accounts":
            writers.link_owners(con, import_id)
        rejected = len({p.row for p in problems})
        _log_import(con, import_id, dataset, path, rows_read, loaded, rejected, on_error, mapping)
        report(0.95, "committing")
    result = _result(con, dataset, import_id, rows_read, loaded, rejected, mapping, problems, started)
    result.notes = notes
    if problems:
        result.rejects_path = _write_rejects(con, stg, rejects_path, dataset, import_id)
    report(1.0, f"imported {loaded:,} rows")
    log.info("imported %s rows of %s from %s", loaded, dataset, path)
    return result


class _NeedsFullCheck(Exception):
    """The one-pass load met a row or a file only the full path can report on."""


_PENDING = -1  # the import id of rows a one-pass load is writing, until they have passed every check
_FULL_CHECK = "territory: a row needs the full check"


def _one_pass(con, stg: Staging, path, source, dataset, mapping, fields, numbers: set[str], decimal, on_error, report,
              started) -> ImportResult | None:
    """Load a clean accounts file in one read, straight into the table; None: use the full path.

    The reader parses the numbers, every row check of ``validation`` runs inside the INSERT, and the
    first row that fails one stops it with ``error()``: the transaction rolls back and the full
    path reads the file again to report every problem by row and column. Duplicate ids are
    checked on the inserted rows, H3 cells computed from their stored coordinates. Most files
    are clean, so most imports read their file once and write each row once.
    """
    if dataset != "accounts" or set(decimal.values()) - {"."}:
        return None
    columns = parsing.typed_columns(fields, mapping)
    if columns is None or not readers.typed_view(con, source, numbers, stg):
        return None
    names = {f.name for f in fields}
    geocode.register_zips(con)
    stg.view(con, stg.typed, f"SELECT {', '.join(columns)} FROM {stg.source}")
    # a ZIP that is not known leaves the row without a location: "_lat IS NULL" below covers it
    failing = [c for c, _, _ in validation.row_checks(dataset, fields, zip_lookup=False)]
    # the reader parses "NaN" and "inf"; the full path reports them as not numbers
    failing += [f"NOT isfinite({f.name}__v)" for f in fields if f.kind in parsing.NUMERIC_KINDS]
    bad = " OR ".join(f"({c})" for c in failing)
    stg.view(con, stg.good,
             f"SELECT {parsing.good_columns(fields)}, _lat, _lng, _precision, 0::UBIGINT AS cell "
             f"FROM ({locating.located_sql(dataset, names, stg.typed)}) "
             f"WHERE CASE WHEN {bad} OR _lat IS NULL THEN error('{_FULL_CHECK}') ELSE TRUE END")
    report(0.1, f"reading {path.name}")
    try:
        with store.transaction(con), store.unordered_writes(con, joins_as_written=True):
            had_rows = writers.has_rows(con, "accounts")
            loaded = writers.write_accounts(con, stg.good, names, _PENDING, replace=False)
            duplicates = store.value(con, "SELECT count(*) - count(DISTINCT account_id) FROM accounts "
                                     "WHERE import_id = ?", [_PENDING])
            if not loaded or duplicates:
                raise _NeedsFullCheck("duplicate ids" if loaded else "no rows")
            if had_rows:  # a re-import replaces the accounts with the same ids
                con.execute("DELETE FROM accounts WHERE import_id IS DISTINCT FROM ? AND account_id IN "
                            "(SELECT account_id FROM accounts WHERE import_id = ?)", [_PENDING, _PENDING])
            report(0.7, "indexing on H3")
            import_id = _next_import_id(con)
            _index_pending(con, import_id)
            writers.link_owners(con, import_id)
            _log_import(con, import_id, dataset, path, loaded, loaded, 0, on_error, mapping)
            report(0.95, "committing")
    except (_NeedsFullCheck, duckdb.Error) as exc:
        log.info("%s: full check (%s)", path.name, readers.first_line(exc))
        return None
    report(1.0, f"imported {loaded:,} rows")
    log.info("imported %s rows of %s from %s in one pass", loaded, dataset, path)
    return _result(con, dataset, import_id, loaded, loaded, 0, mapping, [], started)


def _index_pending(con: Connection, import_id: int) -> None:
    """Give the pending rows their H3 cell and their import id (one UPDATE)."""
    rows = con.execute("SELECT rowid AS rid, lat, lng FROM accounts WHERE import_id = ?", [_PENDING]).fetchnumpy()
    con.register("_cells", pa.table({"rid": rows["rid"], "cell": grid.latlng_to_cells(rows["lat"], rows["lng"])}))
    try:
        con.execute("UPDATE accounts SET cell = c.cell, import_id = ? FROM _cells c WHERE accounts.rowid = c.rid",
                    [import_id])
    finally:
        con.unregister("_cells")


def _next_import_id(con: Connection) -> int:
    return store.value(con, "SELECT nextval('import_seq')")


def _log_import(con, import_id, dataset, path, rows_read, loaded, rejected, on_error, mapping) -> None:
    con.execute(
        "INSERT INTO import_log VALUES (?, ?, ?, now()::TIMESTAMP, now()::TIMESTAMP, ?, ?, ?, ?, ?)",
        [import_id, dataset, str(path), rows_read, loaded, rejected, on_error, json.dumps(mapping)],
    )


def _result(con, dataset, import_id, rows_read, loaded, rejected, mapping, problems, started) -> ImportResult:
    stats = _stats(con, import_id) if dataset == "accounts" else {}
    return ImportResult(dataset, import_id, rows_read, loaded, rejected, mapping, problems,
                        seconds=time.perf_counter() - started, **stats)


def _fetch_problems(con: Connection, stg: Staging) -> list[Problem]:
    rows = con.execute(f"SELECT * FROM {stg.problems} ORDER BY _row NULLS FIRST, column_name").fetchall()
    return [Problem(r[0], r[1], r[2], r[3]) for r in rows]


def _write_rejects(con: Connection, stg: Staging, target, dataset: str, import_id: int) -> Path:
    path = Path(target) if target else settings.DATA_DIR / "rejects" / f"{dataset}-{import_id}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    con.execute(
        f"COPY (SELECT _row AS row, column_name AS column, value, reason FROM {stg.problems} "
        "ORDER BY _row, column_name) TO ? (HEADER, DELIMITER ',')",
        [str(path)],
    )
    return path


def _locate(con: Connection, stg: Staging, dataset: str, mapping: dict[str, str], n: int) -> tuple[dict, int]:
    """Columns for every row by file position: row number, coordinates, (accounts) H3 cell.

    Accounts whose location resolves to nothing (e.g. 0/0 coordinates and no known ZIP) are
    added to ``stg.problems``; the second value says how many there are.
    """
    out = {"_rid": np.arange(n, dtype=np.int64), "_row": np.arange(2, n + 2, dtype=np.int64)}
    names = set(mapping)
    if dataset not in ("accounts", "reps"):
        return out, 0
    out.update(locating.locate(con, dataset, names, stg.parsed))
    if dataset != "accounts":
        return out, 0
    missing = np.isnan(out["_lat"])
    out["cell"] = grid.latlng_to_cells(np.where(missing, 0.0, out["_lat"]), np.where(missing, 0.0, out["_lng"]))
    if missing.any():
        con.execute(
            f"INSERT INTO {stg.problems} SELECT r, $column, NULL, 'no usable location: coordinates missing, "
            "0/0 or invalid, no known US ZIP and no known US city with its state; add coordinates or a 5-digit ZIP' "
            f"FROM unnest($rows::BIGINT[]) u(r) WHERE r NOT IN (SELECT _row FROM {stg.problems})",
            {"column": mapping.get("lat") or mapping.get("postal_code"), "rows": out["_row"][missing].tolist()},
        )
    return out, int(missing.sum())


def _good_view(con: Connection, stg: Staging, fields, located: dict, *, filtered: bool) -> None:
    """``stg.good``: typed columns of the rows without problems, with their location columns."""
    stg.arrow(con, stg.located, pa.table(located))
    where = f" WHERE _row NOT IN (SELECT _row FROM {stg.problems})" if filtered else ""
    # joined on rowid (the file position): a scan's order is not guaranteed on large tables
    stg.view(con, stg.good, f"SELECT {parsing.good_columns(fields)}, l.* "
                            f"FROM {stg.parsed} p JOIN {stg.located} l ON l._rid = p.rowid{where}")


def _stats(con: Connection, import_id: int) -> dict[str, int]:
    by_zip, n_derived, no_owner, owners, derived = con.execute(
        "SELECT count(*) FILTER (geocode = 'zip'), count(*) FILTER (potential_derived),"
        " count(*) FILTER (owner_id IS NULL), count(DISTINCT owner_id),"
        " (SELECT count(*) FROM reps WHERE derived AND import_id = ?) FROM accounts WHERE import_id = ?",
        [import_id, import_id]).fetchall()[0]
    return {"geocoded_by_zip": by_zip, "potential_derived": n_derived, "no_owner": no_owner,
            "owners_derived": derived, "owners_matched": owners - derived}
