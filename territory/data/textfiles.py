"""Text files as CRMs and spreadsheets write them, made readable for DuckDB's CSV reader.

DuckDB reads UTF-8 with one kind of line ending. Excel and older Windows tools also write UTF-16
(with a byte-order mark) and Windows-1252, and files pasted together mix line endings. Only the
first megabyte is looked at up front (a full scan would cost as much as DuckDB's whole read);
a file that needs it is copied once, as UTF-8 with ``\\n`` line endings, into a scratch folder
that is deleted when the import ends. When DuckDB still fails, :func:`diagnose` reads the whole
file to say where and why: a quote opened and never closed, or bytes that are not UTF-8.
"""

from __future__ import annotations

import codecs
import csv
import tempfile
from dataclasses import dataclass
from pathlib import Path

from territory.errors import Problem, ValidationError

SAMPLE = 1 << 20
ENCODINGS = ("auto", "utf-8", "utf-16", "windows-1252", "latin-1")
MAX_LINE = 1 << 26  # 64 MiB: a very long cell (notes, a pasted document) still reads (only asked for when
# needed: DuckDB's buffers grow with it, and its default 2 MB reads a common file 40 % faster)


@dataclass(frozen=True)
class ReadOptions:
    """How to read a text file: what :func:`prepare` and the CSV reader are told."""

    encoding: str = "auto"
    normalise: bool = False  # make the line endings one kind
    long_lines: bool = False  # allow lines of up to MAX_LINE bytes
    decimal: str = "auto"  # the decimal separator of number columns: auto (per column), point, comma


def _latin1_fallback(err: UnicodeDecodeError) -> tuple[str, int]:
    """Windows-1252 leaves five bytes undefined; read them as Latin-1 instead of failing."""
    return err.object[err.start:err.end].decode("latin-1"), err.end


codecs.register_error("territory-latin1", _latin1_fallback)


@dataclass
class Prepared:
    """The file DuckDB should read, and what it was read as."""

    path: Path  # the original, or a UTF-8 copy with the same name in a scratch folder
    encoding: str
    normalised: bool = False  # line endings made one kind
    scratch: tempfile.TemporaryDirectory | None = None

    def close(self) -> None:
        if self.scratch is not None:
            self.scratch.cleanup()
            self.scratch = None


def prepare(path: Path, options: ReadOptions = ReadOptions()) -> Prepared:
    """``path`` as UTF-8 with one kind of line ending: the file itself when it is one already."""
    encoding, normalise = options.encoding, options.normalise
    if encoding not in ENCODINGS:
        raise ValidationError(f"unknown encoding {encoding!r}; use one of {', '.join(ENCODINGS)}")
    with path.open("rb") as fh:
        head = fh.read(SAMPLE)
    used = guess_encoding(head) if encoding == "auto" else encoding
    normalise = normalise or mixed_line_endings(head)
    if used in ("utf-8", "utf-8-sig") and not normalise:
        return Prepared(path, used, False)
    scratch = tempfile.TemporaryDirectory(prefix="territory-text-")
    copy = Path(scratch.name) / path.name  # same name: messages name the user's file
    codec = {"windows-1252": "cp1252", "utf-8": "utf-8-sig"}.get(used, used)
    with path.open("r", encoding=codec, errors="territory-latin1" if codec == "cp1252" else "strict",
                   newline="") as src, copy.open("w", encoding="utf-8", newline="") as out:
        carry = ""
        while chunk := src.read(1 << 22):
            text = carry + chunk
            carry = "\r" if text.endswith("\r") else ""  # a \r\n cut in two by the chunk size
            text = text[:-1] if carry else text
            out.write(text.replace("\r\n", "\n").replace("\r", "\n") if normalise else text)
        out.write("\n" if carry and normalise else carry)
    return Prepared(copy, used, normalise, scratch)


def guess_encoding(head: bytes) -> str:
    """UTF-8 (with or without a byte-order mark), UTF-16 with one, else Windows-1252."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut at the end of the sample
            return "windows-1252"
    return "utf-8"


def whole_file_check(path: Path) -> tuple[bool, bool]:
    """(is UTF-8, has mixed line endings) over the whole file: for the error path only."""
    decoder, utf8, kinds, carry = codecs.getincrementaldecoder("utf-8")(), True, [0, 0, 0], b""
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 24):
            chunk, carry = carry + chunk, b""
            if chunk.endswith(b"\r"):
                chunk, carry = chunk[:-1], b"\r"
            if utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
            crlf = chunk.count(b"\r\n")
            kinds = [kinds[0] + crlf, kinds[1] + chunk.count(b"\r") - crlf, kinds[2] + chunk.count(b"\n") - crlf]
    kinds[1] += len(carry)
    return utf8, sum(1 for k in kinds if k) > 1


def mixed_line_endings(head: bytes) -> bool:
    crlf = head.count(b"\r\n")
    kinds = (crlf, head.count(b"\r") - crlf, head.count(b"\n") - crlf)
    return sum(1 for k in kinds if k) > 1


def header(path: Path, delimiter: str, quote: str) -> list[str]:
    """The first record's column names (empty ones named by position); duplicates are refused,
    naming both positions, since either could be the column a field is mapped from."""
    with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as fh:
        first = next(csv.reader(fh, delimiter=delimiter, quotechar=quote or '"'), [])
    names = [n.strip() or f"column{i + 1}" for i, n in enumerate(first)]
    validate_header(names, path.name)
    return names


def validate_header(names: list[str], file_name: str) -> None:
    seen: dict[str, int] = {}
    problems = []
    for i, name in enumerate(names):
        key = name.casefold()  # SQL column names ignore case
        if key in seen:
            j = seen[key]
            problems.append(Problem(1, name, None, f"the header has this column twice: columns {j + 1} ({letter(j)}) "
                                                  f"and {i + 1} ({letter(i)}); rename or delete one of them"))
        else:
            seen[key] = i
    if problems:
        raise ValidationError(f"{file_name}: duplicate column names in the header row; nothing was imported", problems)


def letter(index: int) -> str:
    """The spreadsheet letter of a 0-based column index (0 -> A, 26 -> AA)."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def diagnose(path: Path, file_name: str, columns: list[str], delimiter: str, quote: str) -> ValidationError | None:
    """Why DuckDB could not read a prepared file, found by reading all of it: a quote opened at the
    start of a field and never closed (with its spreadsheet row and column). None if not that."""
    quote = quote or '"'
    row, opened, field = 1, None, 0  # spreadsheet row of the record being read (the header is row 1)
    with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as fh:
        for line in fh:
            if opened is None and quote not in line:
                row += 1
                continue
            opened, field = _scan_line(line, delimiter, quote, opened, row, field)
            if opened is None:
                row, field = row + 1, 0
    if opened is None:
        return None
    at_row, field = opened
    column = columns[field] if field < len(columns) else f"column {field + 1}"
    reason = "a quote opened here is never closed; add the closing quote or remove this one, then import again"
    return ValidationError(f"{file_name}: a quote is never closed; nothing was imported", [Problem(at_row, column, None, reason)])


def _scan_line(line: str, delimiter: str, quote: str, opened, row: int, field: int):
    """Carry the quoting state over one physical line: ``opened`` is (row, field) of a quote still
    open, ``field`` the index of the field the line starts in. Returns both after the line."""
    i, n = 0, len(line)
    at_start = opened is None
    inside = opened is not None
    while i < n:
        ch = line[i]
        if inside:
            if ch == quote:
                if i + 1 < n and line[i + 1] == quote:  # an escaped quote
                    i += 1
                else:
                    inside, opened = False, None
        elif ch == quote and at_start:
            inside, opened = True, (row, field)
        elif ch == delimiter:
            field += 1
            at_start = True
            i += 1
            continue
        at_start = False
        i += 1
    return (opened if inside else None), field
