"""Typing an import's text: each file column as text ``<field>`` (kept for reporting) and its
typed value ``<field>__v`` beside it, in SQL, with each number column's decimal separator."""

from __future__ import annotations

from territory.data.fields import Field, Kind
from territory.data.geocode import ZIP_REPAIR_SQL
from territory.data.readers import quote_ident
from territory.data.staging import Staging
from territory.store import Connection

_CLEAN = "regexp_replace(trim({s}), '[[:space:]$€£¥]|USD|EUR', '', 'gi')"
_DOT_NUMBER = "[+-]?([0-9]+|[0-9]{1,3}(,[0-9]{3})+)(\\.[0-9]+)?([eE][+-]?[0-9]+)?"
_COMMA_NUMBER = "[+-]?([0-9]+|[0-9]{1,3}(\\.[0-9]{3})+)(,[0-9]+)?"
_DATE_FORMATS = "['%Y-%m-%d', '%m/%d/%Y', '%d.%m.%Y', '%Y/%m/%d', '%Y-%m', '%m/%Y', '%Y-%m-%d %H:%M:%S']"
_TRUE = "('true', 't', 'yes', 'y', '1')"
_FALSE = "('false', 'f', 'no', 'n', '0')"


def number_sql(s: str, decimal: str) -> str:
    """SQL parsing text ``s`` to a finite DOUBLE, or NULL when it is not a number."""
    clean = _CLEAN.format(s=s)
    if decimal == ",":
        body = (
            f"CASE WHEN regexp_full_match({clean}, '{_COMMA_NUMBER}') "
            f"THEN CAST(replace(replace({clean}, '.', ''), ',', '.') AS DOUBLE) END"
        )
    else:
        fast = f"TRY_CAST({s} AS DOUBLE)"
        body = (
            f"CASE WHEN isfinite({fast}) THEN {fast} "
            f"WHEN regexp_full_match({clean}, '{_DOT_NUMBER}') "
            f"THEN CAST(replace({clean}, ',', '') AS DOUBLE) END"
        )
    return f"(CASE WHEN {s} IS NOT NULL THEN ({body}) END)"


def _typed_sql(field: Field, raw: str, decimal: str) -> str | None:  # decimal: this field's separator
    """SQL giving the typed value of one field from its text ``raw`` (fast path for numbers)."""
    if field.kind in (Kind.NUMBER, Kind.LAT, Kind.LNG, Kind.PERCENT):
        # Plain numbers parse with one cast; anything else ($, thousands, NaN) is fixed up
        # afterwards by ``fix_numbers`` on just those rows. Decimal commas need the full parser.
        return f"TRY_CAST({raw} AS DOUBLE)" if decimal == "." else number_sql(raw, decimal)
    if field.kind is Kind.ZIP:
        return ZIP_REPAIR_SQL.format(z=raw)
    if field.kind is Kind.DATE:
        return f"coalesce(TRY_CAST({raw} AS DATE), CAST(try_strptime(trim({raw}), {_DATE_FORMATS}) AS DATE))"
    if field.kind is Kind.BOOL:
        return (
            f"CASE WHEN lower(trim({raw})) IN {_TRUE} THEN TRUE "
            f"WHEN lower(trim({raw})) IN {_FALSE} THEN FALSE END"
        )
    return None


def select_columns(fields: list[Field], mapping: dict[str, str], *, decimal: dict[str, str]) -> list[str]:
    """Select expressions turning file columns into ``<field>`` (text) and ``<field>__v`` (typed);
    ``decimal`` is each number field's decimal separator (:func:`detect_decimal`)."""
    cols = []
    for f in fields:
        raw = f"nullif(CAST({quote_ident(mapping[f.name])} AS VARCHAR), '')"
        cols.append(f"{raw} AS {f.name}")
        typed = _typed_sql(f, raw, decimal.get(f.name, "."))
        if typed:
            cols.append(f"{typed} AS {f.name}__v")
    return cols


NUMERIC_KINDS = frozenset({Kind.NUMBER, Kind.LAT, Kind.LNG, Kind.PERCENT})
TYPED_KINDS = NUMERIC_KINDS | {Kind.ZIP, Kind.DATE, Kind.BOOL}  # staged with a typed ``<field>__v`` beside the text
# kinds the one-pass load handles: numbers come parsed from the reader, text stays text
ONE_PASS_KINDS = NUMERIC_KINDS | {Kind.ID, Kind.TEXT, Kind.ZIP}


def good_columns(fields: list[Field]) -> str:
    """The select list of the rows to write: each field's typed value where it has one, else its text."""
    return ", ".join(f"{f.name}__v AS {f.name}" if f.kind in TYPED_KINDS else f.name for f in fields)


def typed_columns(fields: list[Field], mapping: dict[str, str]) -> list[str] | None:
    """Select expressions for the one-pass load from a reader that parsed the numbers itself.

    The names match ``select_columns`` so that every check applies unchanged; a number's
    ``<field>`` is the number itself (it parsed, so "not a number" cannot happen). None when
    a field needs the full path (dates, booleans, a required number).
    """
    if any(f.kind not in ONE_PASS_KINDS or (f.required and f.kind in NUMERIC_KINDS) for f in fields):
        return None
    cols = []
    for f in fields:
        col = quote_ident(mapping[f.name])
        if f.kind in NUMERIC_KINDS:
            cols += [f"CAST({col} AS DOUBLE) AS {f.name}", f"CAST({col} AS DOUBLE) AS {f.name}__v"]
            continue
        raw = f"nullif(CAST({col} AS VARCHAR), '')"
        cols.append(f"{raw} AS {f.name}")
        if f.kind is Kind.ZIP:
            cols.append(f"{ZIP_REPAIR_SQL.format(z=raw)} AS {f.name}__v")
    return cols


# dataset -> (city field, state field): a row with neither coordinates nor a known ZIP is placed at


def fix_numbers(con: Connection, stg: Staging, fields: list[Field], *, decimal: dict[str, str]) -> None:
    """Second chance for numbers the fast cast missed: currency, thousands separators, NaN (the
    columns read with decimal commas went through the full parser already)."""
    for f in fields:
        if f.kind in (Kind.NUMBER, Kind.LAT, Kind.LNG, Kind.PERCENT) and decimal.get(f.name, ".") == ".":
            n, v = f.name, f"{f.name}__v"
            con.execute(f"UPDATE {stg.parsed} SET {n} = NULL WHERE {v} IS NULL AND trim({n}) = ''")  # blank cell
            con.execute(
                f"UPDATE {stg.parsed} SET {v} = {number_sql(n, decimal)} "
                f"WHERE {n} IS NOT NULL AND ({v} IS NULL OR NOT isfinite({v}))"
            )


DECIMALS = {"auto": None, "point": ".", "comma": ","}  # what --decimal and the import panel offer


def detect_decimal(con: Connection, fields: list[Field], *, delimiter: str | None, table: str,
                   forced: str | None = None) -> tuple[dict[str, str], list[str]]:
    """Each number field's decimal separator, judged from that column's own values, and notes
    for the columns whose values could be read either way.

    Only unambiguous values count as evidence: ``1200,50`` or ``1.234,5`` say comma, ``1200.50``
    or ``1,234.5`` say point; ``1,200`` could be either. A column without evidence follows the
    others, else the file: a semicolon-separated file (European Excel) leans to commas. ``forced``
    ('.' or ',') sets every column.
    """
    numeric = [f.name for f in fields if f.kind in NUMERIC_KINDS]
    if not numeric:
        return {}, []
    if forced:
        return dict.fromkeys(numeric, forced), []
    comma = "regexp_full_match({n}, '.*[0-9]\\.[0-9]{{3}},[0-9].*|[^.]*[0-9],([0-9]{{1,2}}|[0-9]{{4,}})')"
    dot = "regexp_full_match({n}, '.*[0-9],[0-9]{{3}}\\.[0-9].*|[^,]*[0-9]\\.([0-9]{{1,2}}|[0-9]{{4,}})')"
    either = "regexp_full_match({n}, '[^.,]*[0-9][.,][0-9]{{3}}')"  # 1,200 or 1.200: a thousand, or 1.2
    sql = "SELECT " + ", ".join(f"count(*) FILTER ({comma.format(n=n)}), count(*) FILTER ({dot.format(n=n)}), "
                                f"count(*) FILTER ({either.format(n=n)})" for n in numeric) + f" FROM {table}"
    counts = con.execute(sql).fetchall()[0]
    evidence = {n: counts[3 * i:3 * i + 3] for i, n in enumerate(numeric)}
    lean = "," if delimiter == ";" else "."
    if any(c and not d for c, d, _ in evidence.values()) and not any(d for _, d, _ in evidence.values()):
        lean = ","  # commas somewhere and points nowhere: the file writes decimal commas
    out, notes = {}, []
    for n, (c, d, e) in evidence.items():
        out[n] = "," if c and not d else "." if d and not c else lean
        if e and not (c or d):
            notes.append(f"{n}: values like 1,200 could be a thousand or a decimal; read with a decimal "
                         f"{'comma' if out[n] == ',' else 'point'} (choose with --decimal or the import panel)")
    return out, notes


