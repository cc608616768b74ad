"""Row-level parsing and validation of an import, in SQL.

``select_columns`` reads each file column as text ``<field>`` (kept for reporting) and typed
``<field>__v`` beside it, in one pass into the temp table ``_parsed``; ``collect_problems``
fills ``_problems`` with one row per (row, column, value, reason), every problem at once;
``locate`` gives every row its coordinates. Nothing here writes a real table.
"""

from __future__ import annotations

import re

import numpy as np

from territory._readers import quote_ident
from territory.fields import DATASETS, Field, Kind
from territory.geocode import US_NAMES, ZIP_REPAIR_SQL
from territory.store import Connection

_CLEAN = "regexp_replace(trim({s}), '[[:space:]$€£¥]|USD|EUR', '', 'gi')"
_DOT_NUMBER = "[+-]?([0-9]+|[0-9]{1,3}(,[0-9]{3})+)(\\.[0-9]+)?([eE][+-]?[0-9]+)?"
_COMMA_NUMBER = "[+-]?([0-9]+|[0-9]{1,3}(\\.[0-9]{3})+)(,[0-9]+)?"
_DATE_FORMATS = "['%Y-%m-%d', '%m/%d/%Y', '%d.%m.%Y', '%Y/%m/%d', '%Y-%m', '%m/%Y', '%Y-%m-%d %H:%M:%S']"
_TRUE = "('true', 't', 'yes', 'y', '1')"
_FALSE = "('false', 'f', 'no', 'n', '0')"
_US_NAMES_RE = "|".join(re.escape(n) for n in US_NAMES if n)  # a fixed constant, no user input
# US with Alaska and Hawaii: used to spot latitude/longitude given the wrong way round.
_US_LAT = (18.0, 72.0)
_US_LNG = (-180.0, -64.0)


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
    """The select list of ``_good``: each field's typed value where it has one, else its text."""
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
# its city (the mean of the city's ZIP centroids), precision 'city'
_PLACE = {"accounts": ("city", "state"), "reps": ("home_city", "home_state")}
_PLACES_SQL = ("(SELECT upper(zip_city) AS place_city, zip_state AS place_state, avg(zip_lat) AS place_lat, "
               "avg(zip_lng) AS place_lng FROM _zips GROUP BY 1, 2)")


def _has_place(dataset: str, names: set[str]) -> bool:
    return all(f in names for f in _PLACE[dataset])


def _place_join(dataset: str, alias: str) -> str:
    city, state = _PLACE[dataset]
    return (f"LEFT JOIN {_PLACES_SQL} pl ON pl.place_city = upper(trim({alias}.{city})) "
            f"AND pl.place_state = upper(trim({alias}.{state}))")


def located_sql(dataset: str, names: set[str], table: str) -> str:
    """``table`` with ``_lat``, ``_lng``, ``_precision`` worked out in SQL: what ``locate`` gives,
    except the city fallback: a row with neither coordinates nor a known ZIP gets no location here
    (the one-pass load then leaves the file to the full check, which looks the city up for just
    those rows; a join of every row with the places would cost the common file 10 %)."""
    lat, lng, zip_field, _ = _LOCATION[dataset]
    ok = coords_ok_sql(dataset, names)
    lat_x = f"{lat}__v" if lat in names else "NULL::DOUBLE"
    lng_x = f"{lng}__v" if lng in names else "NULL::DOUBLE"
    rows = f"(SELECT *, {ok} AS _ok FROM {table}) t"
    zip_lat, zip_lng, zip_join = ("z.zip_lat", "z.zip_lng", f"LEFT JOIN _zips z ON z.zip = t.{zip_field}__v") \
        if zip_field in names else ("NULL::DOUBLE", "NULL::DOUBLE", "")
    return (f"SELECT t.*, CASE WHEN _ok THEN {lat_x} ELSE {zip_lat} END AS _lat, "
            f"CASE WHEN _ok THEN {lng_x} ELSE {zip_lng} END AS _lng, "
            f"CASE WHEN _ok THEN 'exact' WHEN {zip_lat} IS NOT NULL THEN 'zip' END AS _precision "
            f"FROM {rows} {zip_join}")


def fix_numbers(con: Connection, fields: list[Field], *, decimal: dict[str, str]) -> None:
    """Second chance for numbers the fast cast missed: currency, thousands separators, NaN (the
    columns read with decimal commas went through the full parser already)."""
    for f in fields:
        if f.kind in (Kind.NUMBER, Kind.LAT, Kind.LNG, Kind.PERCENT) and decimal.get(f.name, ".") == ".":
            n, v = f.name, f"{f.name}__v"
            con.execute(f"UPDATE _parsed SET {n} = NULL WHERE {v} IS NULL AND trim({n}) = ''")  # blank cell
            con.execute(
                f"UPDATE _parsed SET {v} = {number_sql(n, decimal)} "
                f"WHERE {n} IS NOT NULL AND ({v} IS NULL OR NOT isfinite({v}))"
            )


DECIMALS = {"auto": None, "point": ".", "comma": ","}  # what --decimal and the import panel offer


def detect_decimal(con: Connection, fields: list[Field], *, delimiter: str | None, table: str = "_sample",
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


# dataset -> (lat field, lng field, zip field, location required)
_LOCATION = {
    "accounts": ("lat", "lng", "postal_code", True),
    "reps": ("home_lat", "home_lng", "home_zip", False),
}


def coords_ok_sql(dataset: str, names: set[str]) -> str:
    """SQL true when a row has usable exact coordinates (in range, not 0/0, not swapped)."""
    lat, lng, _, _ = _LOCATION[dataset]
    if lat not in names or lng not in names:
        return "FALSE"
    return (
        f"coalesce({lat}__v BETWEEN -90 AND 90 AND {lng}__v BETWEEN -180 AND 180 "
        f"AND NOT ({lat}__v = 0 AND {lng}__v = 0) AND NOT {_swapped_sql(lat, lng, names)}, FALSE)"
    )


def locate(con: Connection, dataset: str, names: set[str]) -> dict[str, np.ndarray]:
    """Per row (file order): lat, lng and precision ('exact', 'zip', 'city' or None).

    Exact coordinates when usable, else the centroid of the row's US ZIP (joined only for
    the rows that need it, which is usually a few percent).
    """
    lat, lng, zip_field, _ = _LOCATION[dataset]
    ok = coords_ok_sql(dataset, names)
    lat_x = f"{lat}__v" if lat in names else "NULL::DOUBLE"
    lng_x = f"{lng}__v" if lng in names else "NULL::DOUBLE"
    # A scan's row order is not guaranteed: place every value by its rowid (= file position).
    d = con.execute(f"SELECT rowid AS rid, {ok} AS ok, {lat_x} AS lat, {lng_x} AS lng FROM _parsed").fetchnumpy()
    order = np.asarray(d["rid"], dtype=np.int64)
    good = np.zeros(len(order), dtype=bool)
    good[order] = np.asarray(d["ok"], dtype=bool)
    out_lat = np.full(len(order), np.nan)
    out_lng = np.full(len(order), np.nan)
    out_lat[order] = np.ma.filled(d["lat"].astype(float), np.nan)
    out_lng[order] = np.ma.filled(d["lng"].astype(float), np.nan)
    out_lat[~good], out_lng[~good] = np.nan, np.nan
    precision = np.where(good, "exact", None).astype(object)
    if zip_field in names and not good.all():
        z = con.execute(
            f"SELECT p.rowid AS rid, z.zip_lat, z.zip_lng FROM _parsed p "
            f"JOIN _zips z ON z.zip = p.{zip_field}__v WHERE NOT {ok}"
        ).fetchnumpy()
        rid = np.asarray(z["rid"], dtype=np.int64)
        out_lat[rid], out_lng[rid], precision[rid] = z["zip_lat"], z["zip_lng"], "zip"
    if _has_place(dataset, names) and np.isnan(out_lat).any():  # no coordinates, no known ZIP: the city
        c = con.execute(f"SELECT p.rowid AS rid, pl.place_lat, pl.place_lng FROM _parsed p {_place_join(dataset, 'p')} "
                        f"WHERE NOT {ok} AND pl.place_lat IS NOT NULL").fetchnumpy()
        rid = np.asarray(c["rid"], dtype=np.int64)
        rid_lat, rid_lng = np.asarray(c["place_lat"], dtype=float), np.asarray(c["place_lng"], dtype=float)
        still = np.isnan(out_lat[rid])
        out_lat[rid[still]], out_lng[rid[still]], precision[rid[still]] = rid_lat[still], rid_lng[still], "city"
    return {"_lat": out_lat, "_lng": out_lng, "_precision": precision}


def _swapped_sql(lat: str, lng: str, names: set[str]) -> str:
    """True when the point lies outside the US but its mirror (lng, lat) lies inside."""
    us = "TRUE"
    if "country" in names:
        # a regex, not IN: DuckDB plans an IN list as a join over every row, which CASE cannot skip
        us = f"(country IS NULL OR regexp_full_match(lower(trim(country)), '{_US_NAMES_RE}'))"
    inside = f"{{a}} BETWEEN {_US_LAT[0]} AND {_US_LAT[1]} AND {{b}} BETWEEN {_US_LNG[0]} AND {_US_LNG[1]}"
    # CASE evaluates the text test on country only for the few rows the geometry flags
    return (
        f"coalesce(CASE WHEN NOT ({inside.format(a=lat + '__v', b=lng + '__v')}) "
        f"AND ({inside.format(a=lng + '__v', b=lat + '__v')}) THEN {us} ELSE FALSE END, FALSE)"
    )


# (condition on _parsed, field whose text is reported, reason)
Check = tuple[str, str, str]


def match_account_ids(con: Connection, dataset: str) -> None:
    """Opportunities and revenue rows whose account id is a stored account's id in its other
    Salesforce form (15 or 18 characters) take the stored form; only ids without an exact match
    are looked at, and only accounts with the same first 15 characters are compared."""
    if dataset not in ("opportunities", "revenue"):
        return
    con.execute(
        "UPDATE _parsed SET account_id = m.stored FROM ("
        " SELECT p.given, min(a.account_id) AS stored FROM (SELECT DISTINCT account_id AS given FROM _parsed"
        "  WHERE account_id IS NOT NULL AND account_id NOT IN (SELECT account_id FROM accounts)) p"
        " JOIN accounts a ON left(a.account_id, 15) = left(p.given, 15) AND sf_key(a.account_id) = sf_key(p.given)"
        " GROUP BY 1) m WHERE _parsed.account_id = m.given")


def collect_problems(con: Connection, dataset: str, fields: list[Field], mapping: dict[str, str]) -> int:
    """Fill ``_problems(_row, column_name, value, reason)``; return how many there are.

    One combined scan answers "is anything wrong?"; only then does each check run on its
    own to say which row, column and why. Clean files (the usual case) pay one scan.
    """
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _problems "
        "(_row BIGINT, column_name VARCHAR, value VARCHAR, reason VARCHAR)"
    )
    checks = row_checks(dataset, fields)
    any_bad = " OR ".join(f"({c})" for c, _, _ in checks)
    if con.execute(f"SELECT count(*) FROM _parsed WHERE {any_bad}").fetchall()[0][0]:
        for condition, field, reason in checks:
            con.execute(
                f"INSERT INTO _problems SELECT rowid + 2, ?, CAST({field} AS VARCHAR), ? "
                f"FROM _parsed WHERE {condition}",
                [mapping[field], reason],
            )
    for f in fields:
        if f.kind is Kind.ID:
            _add_duplicates(con, f.name, mapping[f.name])
    return con.execute("SELECT count(*) FROM _problems").fetchall()[0][0]


def row_checks(dataset: str, fields: list[Field], *, zip_lookup: bool = True) -> list[Check]:
    """Every check that looks at one row on its own (duplicates are checked across rows);
    ``zip_lookup=False`` leaves out the one that looks ZIPs up."""
    names = {f.name for f in fields}
    checks = [(cond, f.name, reason) for f in fields for cond, reason in _field_checks(f)]
    if dataset in _LOCATION:
        checks += _location_checks(dataset, names, zip_lookup=zip_lookup)
    if dataset in ("opportunities", "revenue"):
        checks.append(("account_id IS NOT NULL AND account_id NOT IN (SELECT account_id FROM accounts)",
                       "account_id", "unknown account id; import the accounts first or fix the id"))
    return checks


def _field_checks(f: Field) -> list[tuple[str, str]]:
    n, v = f.name, f"{f.name}__v"
    present = f"{n} IS NOT NULL"  # empty cells are NULL already (blank ones: fix_numbers)
    checks: list[tuple[str, str]] = []
    if f.required:
        # blank = NULL, or spaces only (which must start with a space or a tab: test that first)
        blank = f"CASE WHEN {n} IS NULL THEN TRUE WHEN ascii({n}) IN (9, 32) THEN trim({n}) = '' ELSE FALSE END"
        checks.append((blank, "is empty; this column is required"))
    if f.kind is Kind.NUMBER:
        checks += [
            (f"{present} AND {v} IS NULL", "is not a number (expected e.g. 1200000, 1,200,000.50 or $1,200,000)"),
            (f"{v} < 0", "is negative; expected 0 or more"),
        ]
    elif f.kind in (Kind.LAT, Kind.LNG):
        checks.append((f"{present} AND {v} IS NULL", "is not a number (expected decimal degrees, e.g. 40.7128)"))
    elif f.kind is Kind.PERCENT:
        checks += [
            (f"{present} AND {v} IS NULL", "is not a number (expected a percentage 0-100)"),
            (f"{v} < 0 OR {v} > 100", "is outside 0..100; expected a percentage"),
        ]
    elif f.kind is Kind.DATE:
        checks.append((f"{present} AND {v} IS NULL", "is not a date (expected YYYY-MM-DD or MM/DD/YYYY)"))
    elif f.kind is Kind.BOOL:
        checks.append((f"{present} AND {v} IS NULL", "is not true/false (expected true, false, 1, 0, yes or no)"))
    return checks


def _add_duplicates(con: Connection, field: str, label: str) -> None:
    sql = (
        f"INSERT INTO _problems SELECT p._row, ?, p.{field}, "
        f"'duplicate id: first seen on row ' || d.first_row || '; ids must be unique' "
        f"FROM (SELECT rowid + 2 AS _row, {field} FROM _parsed) p "
        f"JOIN (SELECT {field} AS id, min(rowid) + 2 AS first_row FROM _parsed "
        f"WHERE {field} IS NOT NULL GROUP BY 1 HAVING count(*) > 1) d ON p.{field} = d.id "
        f"WHERE p._row > d.first_row"
    )
    con.execute(sql, [label])


def _location_checks(dataset: str, names: set[str], *, zip_lookup: bool = True) -> list[Check]:
    lat, lng, zip_field, required = _LOCATION[dataset]
    checks: list[Check] = []
    if lat in names and lng in names:
        la, ln = f"{lat}__v", f"{lng}__v"
        checks += [
            (f"{la} IS NOT NULL AND {lng} IS NULL", lat, "latitude without a longitude; fill both or neither"),
            (f"{ln} IS NOT NULL AND {lat} IS NULL", lng, "longitude without a latitude; fill both or neither"),
            (f"abs({la}) > 90 AND abs({la}) <= 180 AND abs({ln}) <= 90", lat,
             "latitude and longitude look swapped (latitude must be within -90..90); swap the two columns or their mapping"),
            (f"abs({la}) > 90 AND NOT (abs({la}) <= 180 AND abs({ln}) <= 90)", lat,
             "is outside -90..90; latitude must be within -90..90"),
            (f"abs({ln}) > 180", lng, "is outside -180..180; longitude must be within -180..180"),
            (f"abs({la}) <= 90 AND abs({ln}) <= 180 AND {_swapped_sql(lat, lng, names)}", lat,
             "latitude and longitude look swapped (the point is outside the US, its mirror inside); swap the two columns"),
        ]
    if not required:
        return checks
    raw_coords = f"{lat} IS NOT NULL OR {lng} IS NOT NULL" if lat in names and lng in names else "FALSE"
    no_place = " AND ({} IS NULL OR {} IS NULL)".format(*_PLACE[dataset]) if _has_place(dataset, names) else ""
    if zip_field in names and zip_lookup:
        checks.append((
            f"NOT ({raw_coords}) AND {zip_field} IS NOT NULL{no_place} "
            f"AND coalesce({zip_field}__v NOT IN (SELECT zip FROM _zips), TRUE)",
            zip_field,
            "is not a known US ZIP code and there are no coordinates; give a 5-digit ZIP or latitude/longitude",
        ))
    no_zip = f"{zip_field} IS NULL" if zip_field in names else "TRUE"
    checks.append((
        f"NOT ({raw_coords}) AND {no_zip}{no_place}",
        lat if lat in names else zip_field,
        "no location: no latitude/longitude, no ZIP and no city with its state; add coordinates or a US ZIP code",
    ))
    return checks


def field_list(dataset: str, mapping: dict[str, str]) -> list[Field]:
    return [f for f in DATASETS[dataset] if f.name in mapping]
