"""Read a CSV / Excel / Parquet file into a DuckDB temp table of text columns.

Everything is read as text so that validation sees exactly what the file says and can
report it by row and column; typed parsing happens in SQL afterwards (``checks``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import duckdb
import pandas as pd

from territory import store
from territory.data import textfiles
from territory.data.staging import Staging
from territory.errors import ValidationError
from territory.store import Connection

T = TypeVar("T")

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
    dialect: tuple = ()  # CSV: (quote, escape, new line) as every read uses them
    text: textfiles.Prepared | None = None  # CSV: the file as read (a UTF-8 copy when it was not UTF-8)
    options: textfiles.ReadOptions = textfiles.ReadOptions()

    def close(self) -> None:
        if self.text is not None:
            self.text.close()


class Reopen(ValidationError):
    """The file needs other read options than the ones it was opened with (``options``): a
    different encoding, one kind of line ending, or longer lines. Open it again with them."""

    def __init__(self, message: str, options: textfiles.ReadOptions) -> None:
        super().__init__(message)
        self.options = options


def quote_ident(name: str) -> str:
    """A column name from a file, safely quoted as an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


@contextmanager
def opened(con: Connection, path: str | Path, options: textfiles.ReadOptions = textfiles.ReadOptions()) -> Iterator[Source]:
    """:func:`open_source`, and its scratch copy deleted at the end."""
    source = open_source(con, path, options)
    try:
        yield source
    finally:
        source.close()


def open_source(con: Connection, path: str | Path, options: textfiles.ReadOptions = textfiles.ReadOptions()) -> Source:
    """Look at a file (header and format only) without loading it; ``options`` say how a text file
    is read. Call ``close()`` when done (or use :func:`opened`)."""
    path = Path(path)
    if not path.is_file():
        raise ValidationError(f"{path.name}: no such file")
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
    text = textfiles.prepare(path, options)
    try:
        return _open_csv(con, text, options)
    except BaseException:  # Reopen included: read_with_retries opens it again with other options
        text.close()
        raise


def read_with_retries(con: Connection, path: str | Path, options: textfiles.ReadOptions,
                      use: Callable[[Source, int], T]) -> T:
    """``use(source, attempt)`` on the opened file; when opening or reading it shows that the file
    needs other read options (:class:`Reopen`: an encoding, one kind of line ending, longer lines),
    open it again with them. Each retry changes one option, so this ends."""
    for attempt in range(4):
        try:
            with opened(con, path, options) as source:
                return use(source, attempt)
        except Reopen as again:
            options = again.options
    raise ValidationError(f"{Path(path).name}: cannot read the file")


def _is_blank(path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(4096)
    return not head.lstrip(b"\xef\xbb\xbf").strip() and path.stat().st_size <= 4096


def _open_csv(con: Connection, text: textfiles.Prepared, options: textfiles.ReadOptions) -> Source:
    """The dialect from DuckDB's sniffer, the header from the first record, and one explicit
    reader for every later read (no second sniff; a quote is always a quote, as in RFC 4180)."""
    path = text.path
    line = ", max_line_size = ?" if options.long_lines else ""
    try:
        delim, quote, escape, new_line = con.execute(
            f"SELECT Delimiter, Quote, Escape, NewLineDelimiter FROM sniff_csv(?, header = true{line})",
            [str(path), *([textfiles.MAX_LINE] if options.long_lines else [])]).fetchall()[0]
    except duckdb.Error as exc:
        raise _sniff_error(text, options, exc) from exc
    quote = '"' if quote == "(empty)" else quote  # the sample had no quotes: the standard one
    escape = quote if escape == "(empty)" else escape  # a quote doubled inside quotes
    columns = textfiles.header(path, delim, quote)
    sql = f"auto_detect = false, header = true, delim = ?, quote = ?, escape = ?, columns = ?{line}"
    params = [str(path), delim, quote, escape, {c: "VARCHAR" for c in columns},
              *([textfiles.MAX_LINE] if options.long_lines else [])]
    if new_line in ("\\n", "\\r\\n", "\\r"):
        sql += ", new_line = ?"
        params.append(new_line)
    return Source(path, columns, f"read_csv(?, {sql})", params, delim, (quote, escape, new_line), text, options)


def _again(exc: duckdb.Error, text: textfiles.Prepared, options: textfiles.ReadOptions, *, whole_file: bool):
    """The read options that may read the file after ``exc``, or None: longer lines, Windows-1252
    for bytes that are not UTF-8, one kind of line ending (``whole_file``: look at all of it)."""
    message = str(exc).lower()
    if "line size" in message and not options.long_lines:
        return replace(options, long_lines=True)
    auto_utf8 = options.encoding == "auto" and text.encoding in ("utf-8", "utf-8-sig")
    if "unicode" in message and auto_utf8:
        return replace(options, encoding="windows-1252")
    if whole_file:
        utf8, mixed = textfiles.whole_file_check(text.path)
        if not utf8 and auto_utf8:
            return replace(options, encoding="windows-1252")
        if mixed and not options.normalise:
            return replace(options, normalise=True)
    return None


def _sniff_error(text: textfiles.Prepared, options: textfiles.ReadOptions, exc: duckdb.Error) -> ValidationError:
    path = text.path
    better = _again(exc, text, options, whole_file=True)
    if better is not None:
        return Reopen(f"{path.name}: reading it again", better)
    delim = _likely_delimiter(path)
    found = textfiles.diagnose(path, path.name, textfiles.header(path, delim, '"'), delim, '"')
    return found or ValidationError(f"{path.name}: cannot read as CSV: {first_line(exc)}")


def _likely_delimiter(path: Path) -> str:
    with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as fh:
        first = fh.readline()
    return max([",", ";", "\t", "|"], key=first.count)


def _open_excel(con: Connection, path: Path) -> Source:
    try:
        raw = pd.read_excel(path, dtype=str, keep_default_na=False, engine="openpyxl", header=None)
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        raise ValidationError(f"{path.name}: cannot read as an Excel workbook: {exc}") from exc
    names = [str(c).strip() or f"column{i + 1}" for i, c in enumerate(raw.iloc[0])] if len(raw) else []
    textfiles.validate_header(names, path.name)
    frame = raw.iloc[1:].reset_index(drop=True)
    frame.columns = names
    name = "_excel_source"
    con.register(name, frame)
    return Source(path, list(frame.columns), name, [])


def _describe(con: Connection, relation: str, params: list, path: Path) -> list[str]:
    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM {relation}", params).fetchall()
    except duckdb.Error as exc:
        raise ValidationError(f"{path.name}: cannot read the file: {first_line(exc)}") from exc
    return [r[0] for r in rows]


def typed_view(con: Connection, source: Source, numbers: set[str], stg: Staging) -> bool:
    """A temp view ``stg.source`` reading the file with the columns in ``numbers`` parsed as DOUBLE
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
            long_lines = source.options.long_lines
            relation = con.sql("SELECT * FROM read_csv(?, auto_detect = false, header = true, delim = ?, quote = ?, "
                               f"escape = ?, new_line = ?, columns = ?{', max_line_size = ?' if long_lines else ''})",
                               params=[str(source.path), source.delimiter, quote, escape, new_line, columns,
                                       *([textfiles.MAX_LINE] if long_lines else [])])
        except duckdb.Error:
            return False
    elif suffix in PARQUET_SUFFIXES:
        relation = con.read_parquet(str(source.path))
    else:
        return False
    relation.create_view(stg.source, replace=True)
    stg.made[stg.source] = "VIEW"
    return True


def stage(con: Connection, source: Source, columns: list[str], stg: Staging) -> int:
    """One pass over the file into the temp table ``stg.parsed``: ``columns`` are SQL select
    expressions. Row order is the file's (a plain projection keeps insertion order), so its n-th
    row is spreadsheet row n + 1 (the header is row 1)."""
    try:
        stg.table(con, stg.parsed, f"SELECT {', '.join(columns)} FROM {source.relation}", source.params)
    except duckdb.Error as exc:
        raise read_error(source, exc) from exc
    n = store.value(con, f"SELECT count(*) FROM {stg.parsed}")
    if n == 0:
        raise ValidationError(
            f"{source.path.name}: the file has a header row but no data rows; nothing to import"
        )
    return n


def sample_rows(con: Connection, source: Source, mapping: dict[str, str], stg: Staging, *, rows: int = 20_000) -> str:
    """The temp table ``stg.sample``: the first ``rows`` rows of the mapped columns, as text."""
    cols = ", ".join(f"CAST({quote_ident(col)} AS VARCHAR) AS {field}" for field, col in mapping.items())
    try:
        stg.table(con, stg.sample, f"SELECT {cols} FROM {source.relation} LIMIT {int(rows)}", source.params)
    except duckdb.Error as exc:
        raise read_error(source, exc) from exc
    return stg.sample


def head(con: Connection, source: Source, rows: int) -> pd.DataFrame:
    """The first ``rows`` rows as text (the import panel's preview)."""
    try:
        return con.execute(f"SELECT * FROM {source.relation} LIMIT {int(rows)}", source.params).df()
    except duckdb.Error as exc:
        raise read_error(source, exc) from exc


def read_error(source: Source, exc: duckdb.Error) -> ValidationError:
    """Why DuckDB could not read the file, said in the file's terms (row, column) where possible."""
    name = source.path.name
    if source.text is not None:
        better = _again(exc, source.text, source.options, whole_file=False)
        if better is not None:
            return Reopen(f"{name}: reading it again", better)
    if source.text is not None and source.dialect:
        found = textfiles.diagnose(source.path, name, source.columns, source.delimiter, source.dialect[0])
        if found is not None:
            return found
    return ValidationError(f"{name}: cannot read the file: {first_line(exc)}. If it was saved by Excel, save it "
                           "again as 'CSV UTF-8 (comma delimited)' and import that")


def first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
