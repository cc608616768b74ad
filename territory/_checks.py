"""Row-level parsing and validation of a staged import, in SQL.

``parse`` turns the text table ``_raw`` into ``_parsed`` (text kept for reporting, typed
``<field>__v`` beside it); ``collect_problems`` fills ``_problems`` with one row per
(row, column, value, reason), every problem at once. Nothing here writes a real table.
"""

from __future__ import annotations

from territory.fields import DATASETS, Field, Kind
from territory.geocode import US_NAMES, ZIP_REPAIR_SQL
from territory.store import Connection

_CLEAN = "regexp_replace(trim({s}), '[[:space:]$€£¥]|USD|EUR', '', 'gi')"
_DOT_NUMBER = "[+-]?([0-9]+|[0-9]{1,3}(,[0-9]{3})+)(\\.[0-9]+)?([eE][+-]?[0-9]+)?"
_COMMA_NUMBER = "[+-]?([0-9]+|[0-9]{1,3}(\\.[0-9]{3})+)(,[0-9]+)?"
_DATE_FORMATS = "['%Y-%m-%d', '%m/%d/%Y', '%d.%m.%Y', '%Y/%m/%d', '%Y-%m', '%m/%Y', '%Y-%m-%d %H:%M:%S']"
_TRUE = "('true', 't', 'yes', 'y', '1')"
_FALSE = "('false', 'f', 'no', 'n', '0')"
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


def _typed_sql(field: Field, decimal: str) -> str | None:
    s = field.name
    if field.kind in (Kind.NUMBER, Kind.LAT, Kind.LNG, Kind.PERCENT):
        return number_sql(s, decimal)
    if field.kind is Kind.ZIP:
        return ZIP_REPAIR_SQL.format(z=s)
    if field.kind is Kind.DATE:
        return f"coalesce(TRY_CAST({s} AS DATE), CAST(try_strptime(trim({s}), {_DATE_FORMATS}) AS DATE))"
    if field.kind is Kind.BOOL:
        return (
            f"CASE WHEN lower(trim({s})) IN {_TRUE} THEN TRUE "
            f"WHEN lower(trim({s})) IN {_FALSE} THEN FALSE END"
        )
    return None


def detect_decimal(con: Connection, fields: list[Field], *, delimiter: str | None) -> str:
    """',' when the numbers use decimal commas (``1200,50``, ``1.234,5``), else '.'.

    Only unambiguous values count as evidence: ``1,200`` could be either and is ignored.
    A semicolon-separated file (European Excel) leans to ',' unless a value says otherwise.
    """
    numeric = [f.name for f in fields if f.kind in (Kind.NUMBER, Kind.LAT, Kind.LNG, Kind.PERCENT)]
    if not numeric:
        return "."
    comma = " OR ".join(
        f"regexp_full_match({n}, '.*[0-9]\\.[0-9]{{3}},[0-9].*|[^.]*[0-9],([0-9]{{1,2}}|[0-9]{{4,}})')"
        for n in numeric
    )
    dot = " OR ".join(
        f"regexp_full_match({n}, '.*[0-9],[0-9]{{3}}\\.[0-9].*|[^,]*[0-9]\\.([0-9]{{1,2}}|[0-9]{{4,}})')"
        for n in numeric
    )
    sql = f"SELECT count(*) FILTER ({comma}), count(*) FILTER ({dot}) FROM (SELECT * FROM _raw LIMIT 20000)"
    n_comma, n_dot = con.execute(sql).fetchall()[0]
    if n_comma and not n_dot:
        return ","
    return "," if delimiter == ";" and not n_dot else "."


def parse(con: Connection, dataset: str, fields: list[Field], *, decimal: str) -> None:
    """``_raw`` -> ``_parsed`` with ``_row``, the text columns and typed ``<field>__v``."""
    cols = ["rowid + 2 AS _row"]
    for f in fields:
        cols.append(f.name)
        typed = _typed_sql(f, decimal)
        if typed:
            cols.append(f"{typed} AS {f.name}__v")
    names = {f.name for f in fields}
    sql = f"CREATE OR REPLACE TEMP TABLE _parsed AS SELECT {', '.join(cols)} FROM _raw"
    location = _LOCATION.get(dataset)
    if location and location[2] in names:
        zip_field = location[2]
        sql = (
            f"CREATE OR REPLACE TEMP TABLE _parsed AS SELECT p.*, z.zip_lat, z.zip_lng "
            f"FROM (SELECT {', '.join(cols)} FROM _raw) p "
            f"LEFT JOIN _zips z ON z.zip = p.{zip_field}__v"
        )
    con.execute(sql)


# dataset -> (lat field, lng field, zip field, location required)
_LOCATION = {
    "accounts": ("lat", "lng", "postal_code", True),
    "reps": ("home_lat", "home_lng", "home_zip", False),
}


def location_sql(dataset: str, names: set[str]) -> tuple[str, str, str]:
    """SQL for (lat, lng, precision) of each ``_parsed`` row: exact coordinates, else ZIP."""
    lat, lng, zip_field, _ = _LOCATION[dataset]
    has_xy = lat in names and lng in names
    good = _coords_ok_sql(lat, lng, names) if has_xy else "FALSE"
    has_zip = zip_field in names
    zlat, zlng = ("zip_lat", "zip_lng") if has_zip else ("NULL", "NULL")
    lat_x = f"{lat}__v" if has_xy else "NULL"
    lng_x = f"{lng}__v" if has_xy else "NULL"
    return (
        f"(CASE WHEN {good} THEN {lat_x} ELSE {zlat} END)",
        f"(CASE WHEN {good} THEN {lng_x} ELSE {zlng} END)",
        f"(CASE WHEN {good} THEN 'exact' WHEN {zlat} IS NOT NULL THEN 'zip' END)",
    )


def _coords_ok_sql(lat: str, lng: str, names: set[str]) -> str:
    return (
        f"({lat}__v BETWEEN -90 AND 90 AND {lng}__v BETWEEN -180 AND 180 "
        f"AND NOT ({lat}__v = 0 AND {lng}__v = 0) AND NOT {_swapped_sql(lat, lng, names)})"
    )


def _swapped_sql(lat: str, lng: str, names: set[str]) -> str:
    """True when the point lies outside the US but its mirror (lng, lat) lies inside."""
    us = "TRUE"
    if "country" in names:
        us = f"(country IS NULL OR lower(trim(country)) IN {tuple(n for n in US_NAMES if n)})"
    inside = f"{{a}} BETWEEN {_US_LAT[0]} AND {_US_LAT[1]} AND {{b}} BETWEEN {_US_LNG[0]} AND {_US_LNG[1]}"
    return (
        f"coalesce({us} AND NOT ({inside.format(a=lat + '__v', b=lng + '__v')}) "
        f"AND ({inside.format(a=lng + '__v', b=lat + '__v')}), FALSE)"
    )


def collect_problems(
    con: Connection, dataset: str, fields: list[Field], mapping: dict[str, str]
) -> int:
    """Fill ``_problems(_row, column, value, reason)``; return how many problems there are."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _problems "
        "(_row BIGINT, column_name VARCHAR, value VARCHAR, reason VARCHAR)"
    )
    names = {f.name for f in fields}
    for f in fields:
        for condition, reason in _field_checks(f):
            _add(con, f.name, mapping[f.name], condition, reason)
        if f.kind is Kind.ID:
            _add_duplicates(con, f.name, mapping[f.name])
    if dataset in _LOCATION:
        _add_location_checks(con, dataset, names, mapping)
    if dataset in ("opportunities", "revenue"):
        _add(
            con, "account_id", mapping["account_id"],
            "account_id IS NOT NULL AND account_id NOT IN (SELECT account_id FROM accounts)",
            "unknown account id; import the accounts first or fix the id",
        )
    return con.execute("SELECT count(*) FROM _problems").fetchall()[0][0]


def _field_checks(f: Field) -> list[tuple[str, str]]:
    n, v = f.name, f"{f.name}__v"
    checks: list[tuple[str, str]] = []
    if f.required:
        checks.append((f"{n} IS NULL", "is empty; this column is required"))
    if f.kind is Kind.NUMBER:
        checks += [
            (f"{n} IS NOT NULL AND {v} IS NULL", "is not a number (expected e.g. 1200000, 1,200,000.50 or $1,200,000)"),
            (f"{v} < 0", "is negative; expected 0 or more"),
        ]
    elif f.kind in (Kind.LAT, Kind.LNG):
        checks.append((f"{n} IS NOT NULL AND {v} IS NULL", "is not a number (expected decimal degrees, e.g. 40.7128)"))
    elif f.kind is Kind.PERCENT:
        checks += [
            (f"{n} IS NOT NULL AND {v} IS NULL", "is not a number (expected a percentage 0-100)"),
            (f"{v} < 0 OR {v} > 100", "is outside 0..100; expected a percentage"),
        ]
    elif f.kind is Kind.DATE:
        checks.append((f"{n} IS NOT NULL AND {v} IS NULL", "is not a date (expected YYYY-MM-DD or MM/DD/YYYY)"))
    elif f.kind is Kind.BOOL:
        checks.append((f"{n} IS NOT NULL AND {v} IS NULL", "is not true/false (expected true, false, 1, 0, yes or no)"))
    return checks


def _add(con: Connection, value_col: str, label: str, condition: str, reason: str) -> None:
    sql = (
        f"INSERT INTO _problems SELECT _row, ?, CAST({value_col} AS VARCHAR), ? "
        f"FROM _parsed WHERE {condition}"
    )
    con.execute(sql, [label, reason])


def _add_duplicates(con: Connection, field: str, label: str) -> None:
    sql = (
        f"INSERT INTO _problems SELECT p._row, ?, p.{field}, "
        f"'duplicate id: first seen on row ' || d.first_row || '; ids must be unique' "
        f"FROM _parsed p JOIN (SELECT {field} AS id, min(_row) AS first_row FROM _parsed "
        f"WHERE {field} IS NOT NULL GROUP BY 1 HAVING count(*) > 1) d ON p.{field} = d.id "
        f"WHERE p._row > d.first_row"
    )
    con.execute(sql, [label])


def _add_location_checks(con: Connection, dataset: str, names: set[str], mapping: dict[str, str]) -> None:
    lat, lng, zip_field, required = _LOCATION[dataset]
    if lat in names and lng in names:
        la, ln = f"{lat}__v", f"{lng}__v"
        for cond, col, reason in (
            (f"{la} IS NOT NULL AND {ln} IS NULL AND {lng} IS NULL", lat, "latitude without a longitude; fill both or neither"),
            (f"{ln} IS NOT NULL AND {la} IS NULL AND {lat} IS NULL", lng, "longitude without a latitude; fill both or neither"),
            (f"abs({la}) > 90 AND abs({la}) <= 180 AND abs({ln}) <= 90", lat,
             "latitude and longitude look swapped (latitude must be within -90..90); swap the two columns or their mapping"),
            (f"abs({la}) > 90 AND NOT (abs({la}) <= 180 AND abs({ln}) <= 90)", lat, "is outside -90..90; latitude must be within -90..90"),
            (f"abs({ln}) > 180", lng, "is outside -180..180; longitude must be within -180..180"),
            (f"abs({la}) <= 90 AND abs({ln}) <= 180 AND {_swapped_sql(lat, lng, names)}", lat,
             "latitude and longitude look swapped (the point is outside the US, its mirror inside); swap the two columns"),
        ):
            _add(con, col, mapping[col], cond, reason)
    if not required:
        return
    loc_lat, _, _ = location_sql(dataset, names)
    coords_bad = "FALSE"
    if lat in names and lng in names:
        coords_bad = f"({lat}__v IS NULL) <> ({lng}__v IS NULL) OR NOT {_coords_ok_sql(lat, lng, names)}"
    if zip_field in names:
        _add(
            con, zip_field, mapping[zip_field],
            f"{loc_lat} IS NULL AND {zip_field} IS NOT NULL AND NOT coalesce({coords_bad}, FALSE)",
            "is not a known US ZIP code and there are no coordinates; give a 5-digit ZIP or latitude/longitude",
        )
    label_col = lat if lat in names else zip_field
    _add(
        con, label_col, mapping[label_col],
        f"{loc_lat} IS NULL AND {zip_field if zip_field in names else 'NULL'} IS NULL "
        f"AND {lat if lat in names else 'NULL'} IS NULL",
        "no location: no latitude/longitude and no ZIP; add coordinates or a US ZIP code",
    )


def bad_rows_sql() -> str:
    return "SELECT DISTINCT _row FROM _problems WHERE _row IS NOT NULL"


def field_list(dataset: str, mapping: dict[str, str]) -> list[Field]:
    return [f for f in DATASETS[dataset] if f.name in mapping]
