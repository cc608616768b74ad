"""Read a CSV / Excel / Parquet file into a DuckDB temp table of text columns.

Everything is read as text so that validation sees exactly what the file says and can
report it by row and column; typed parsing happens in SQL afterwards (``_checks``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from territory.errors import ValidationError
from territory.store import Connection

CSV_SUFFIXES = {".csv", ".tsv", ".txt"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
PARQUET_SUFFIXES = {".parquet", ".pq"}


@dataclass(frozen=True)
class Source:
    """A file opened for import: its columns and the SQL relation that reads it."""

    path: Path
    columns: list[str]
    relation: str  # SQL text of a FROM-able relation; bind ``params`` with it
    params: list
    delimiter: str | None = None
    dialect: tuple = ()  # CSV: (quote, escape, new line) as the sniffer found them


def quote_ident(name: str) -> str:
    """A column name from a file, safely quoted as an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def open_source(con: Connection, path: str | Path) -> Source:
    """Look at a file (header and format only) without loading it."""
    path = Path(path)
    if not path.is_file():
        raise ValidationError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix not in CSV_SUFFIXES | EXCEL_SUFFIXES | PARQUET_SUFFIXES:
        raise ValidationError(
            f"{path.name}: unsupported file type {suffix or '(none)'}; "
            "use .csv, .tsv, .txt, .xlsx or .parquet"
        )
    if _is_blank(path):
        raise ValidationError(f"{path.name}: the file is empty; export it again with a header row and data")
    if suffix in EXCEL_SUFFIXES:
        return _open_excel(con, path)
    if suffix in PARQUET_SUFFIXES:
        relation, params = "read_parquet(?)", [str(path)]
        return Source(path, _describe(con, relation, params, path), relation, params)
    return _open_csv(con, path)


def _is_blank(path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(4096)
    return not head.lstrip(b"\xef\xbb\xbf").strip() and path.stat().st_size <= 4096


def _open_csv(con: Connection, path: Path) -> Source:
    params = [str(path)]
    try:
        delim, *dialect = con.execute("SELECT Delimiter, Quote, Escape, NewLineDelimiter "
                                      "FROM sniff_csv(?, header = true)", params).fetchall()[0]
    except duckdb.Error as exc:
        raise ValidationError(f"{path.name}: cannot read as CSV: {first_line(exc)}") from exc
    relation = "read_csv(?, all_varchar = true, header = true, delim = ?)"
    params = [str(path), delim]
    return Source(path, _describe(con, relation, params, path), relation, params, delim, tuple(dialect))


def _open_excel(con: Connection, path: Path) -> Source:
    try:
        frame = pd.read_excel(path, dtype=str, keep_default_na=False, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        raise ValidationError(f"{path.name}: cannot read as an Excel workbook: {exc}") from exc
    frame.columns = [str(c) for c in frame.columns]
    name = "_excel_source"
    con.register(name, frame)
    return Source(path, list(frame.columns), name, [])


def _describe(con: Connection, relation: str, params: list, path: Path) -> list[str]:
    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM {relation}", params).fetchall()
    except duckdb.Error as exc:
        raise ValidationError(f"{path.name}: cannot read the file: {first_line(exc)}") from exc
    return [r[0] for r in rows]


def typed_view(con: Connection, source: Source, numbers: set[str], name: str = "_src") -> bool:
    """A temp view ``name`` reading the file with the columns in ``numbers`` parsed as DOUBLE
    by the reader itself (text stays text). Reading it raises on the first value that does not
    parse. False for sources without such a reader (Excel)."""
    suffix = source.path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        # the dialect the sniffer found when the file was opened, so no second sniff; where its
        # sample had no quotes, the standard CSV quote (a later quoted cell still reads right)
        quote, escape, new_line = source.dialect
        quote = '"' if quote == "(empty)" else quote
        escape = quote if escape == "(empty)" else escape  # a quote doubled inside quotes, as in RFC 4180
        if new_line not in ("\\n", "\\r\\n", "\\r"):  # e.g. a one-line file: let the full path read it
            return False
        columns = {c: "DOUBLE" if c in numbers else "VARCHAR" for c in source.columns}
        try:
            relation = con.sql("SELECT * FROM read_csv(?, auto_detect = false, header = true, delim = ?, "
                               "quote = ?, escape = ?, new_line = ?, columns = ?)",
                               params=[str(source.path), source.delimiter, quote, escape, new_line, columns])
        except duckdb.Error:
            return False
    elif suffix in PARQUET_SUFFIXES:
        relation = con.read_parquet(str(source.path))
    else:
        return False
    relation.create_view(name, replace=True)
    return True


def stage(con: Connection, source: Source, columns: list[str], table: str = "_parsed") -> int:
    """One pass over the file into temp ``table``: ``columns`` are SQL select expressions.

    Row order is the file's (a plain projection keeps insertion order), so the n-th row of
    ``table`` is spreadsheet row n + 1 (the header is row 1).
    """
    sql = f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {', '.join(columns)} FROM {source.relation}"
    try:
        con.execute(sql, source.params)
    except duckdb.Error as exc:
        raise ValidationError(f"{source.path.name}: cannot read the file: {first_line(exc)}") from exc
    n = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    if n == 0:
        raise ValidationError(
            f"{source.path.name}: the file has a header row but no data rows; nothing to import"
        )
    return n


def sample_rows(con: Connection, source: Source, mapping: dict[str, str], *, rows: int = 20_000) -> str:
    """A temp table ``_sample`` with the first ``rows`` rows of the mapped columns, as text."""
    cols = ", ".join(f"CAST({quote_ident(col)} AS VARCHAR) AS {field}" for field, col in mapping.items())
    con.execute(f"CREATE OR REPLACE TEMP TABLE _sample AS SELECT {cols} FROM {source.relation} LIMIT {int(rows)}",
                source.params)
    return "_sample"


def first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
