"""The checks an import's rows must pass, in SQL: every problem at once, by row and column.

One combined scan answers "is anything wrong?"; only then does each check run on its own to say
which row, column and why. Nothing here writes a real table.
"""

from __future__ import annotations

from territory import store
from territory.data.fields import Field, Kind
from territory.data.locating import LOCATION, PLACE, has_place, swapped_sql
from territory.data.staging import Staging
from territory.store import Connection

# (condition on a row of the staged fields, field whose text is reported, reason)
Check = tuple[str, str, str]


def match_account_ids(con: Connection, stg: Staging, dataset: str) -> None:
    """Opportunities and revenue rows whose account id is a stored account's id in its other
    Salesforce form (15 or 18 characters) take the stored form; only ids without an exact match
    are looked at, and only accounts with the same first 15 characters are compared."""
    if dataset not in ("opportunities", "revenue"):
        return
    con.execute(
        f"UPDATE {stg.parsed} SET account_id = m.stored FROM ("
        f" SELECT p.given, min(a.account_id) AS stored FROM (SELECT DISTINCT account_id AS given FROM {stg.parsed}"
        "  WHERE account_id IS NOT NULL AND account_id NOT IN (SELECT account_id FROM accounts)) p"
        " JOIN accounts a ON left(a.account_id, 15) = left(p.given, 15) AND sf_key(a.account_id) = sf_key(p.given)"
        f" GROUP BY 1) m WHERE {stg.parsed}.account_id = m.given")


def collect_problems(con: Connection, stg: Staging, dataset: str, fields: list[Field], mapping: dict[str, str]) -> int:
    """Fill ``stg.problems`` (_row, column_name, value, reason) from ``stg.parsed``; return how
    many problems there are. Clean files (the usual case) pay one scan."""
    stg.problems_table(con)
    checks = row_checks(dataset, fields)
    any_bad = " OR ".join(f"({c})" for c, _, _ in checks)
    if store.value(con, f"SELECT count(*) FROM {stg.parsed} WHERE {any_bad}"):
        for condition, field, reason in checks:
            con.execute(
                f"INSERT INTO {stg.problems} SELECT rowid + 2, ?, CAST({field} AS VARCHAR), ? "
                f"FROM {stg.parsed} WHERE {condition}",
                [mapping[field], reason],
            )
    for f in fields:
        if f.kind is Kind.ID:
            _add_duplicates(con, stg, f.name, mapping[f.name])
    return store.value(con, f"SELECT count(*) FROM {stg.problems}")


def row_checks(dataset: str, fields: list[Field], *, zip_lookup: bool = True) -> list[Check]:
    """Every check that looks at one row on its own (duplicates are checked across rows);
    ``zip_lookup=False`` leaves out the one that looks ZIPs up."""
    names = {f.name for f in fields}
    checks = [(cond, f.name, reason) for f in fields for cond, reason in _field_checks(f)]
    if dataset in LOCATION:
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


def _add_duplicates(con: Connection, stg: Staging, field: str, label: str) -> None:
    sql = (
        f"INSERT INTO {stg.problems} SELECT p._row, ?, p.{field}, "
        f"'duplicate id: first seen on row ' || d.first_row || '; ids must be unique' "
        f"FROM (SELECT rowid + 2 AS _row, {field} FROM {stg.parsed}) p "
        f"JOIN (SELECT {field} AS id, min(rowid) + 2 AS first_row FROM {stg.parsed} "
        f"WHERE {field} IS NOT NULL GROUP BY 1 HAVING count(*) > 1) d ON p.{field} = d.id "
        f"WHERE p._row > d.first_row"
    )
    con.execute(sql, [label])


def _location_checks(dataset: str, names: set[str], *, zip_lookup: bool = True) -> list[Check]:
    lat, lng, zip_field, required = LOCATION[dataset]
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
            (f"abs({la}) <= 90 AND abs({ln}) <= 180 AND {swapped_sql(lat, lng, names)}", lat,
             "latitude and longitude look swapped (the point is outside the US, its mirror inside); swap the two columns"),
        ]
    if not required:
        return checks
    raw_coords = f"{lat} IS NOT NULL OR {lng} IS NOT NULL" if lat in names and lng in names else "FALSE"
    no_place = " AND ({} IS NULL OR {} IS NULL)".format(*PLACE[dataset]) if has_place(dataset, names) else ""
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
