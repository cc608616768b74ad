"""Where each imported row is: exact coordinates when usable (in range, not 0/0, not swapped),
else its US ZIP's centroid, else its city's (the mean of the city's ZIP centroids)."""

from __future__ import annotations

import re

import numpy as np

from territory.data.geocode import US_NAMES
from territory.store import Connection

_US_NAMES_RE = "|".join(re.escape(n) for n in US_NAMES if n)  # a fixed constant, no user input
# US with Alaska and Hawaii: used to spot latitude/longitude given the wrong way round.
_US_LAT = (18.0, 72.0)
_US_LNG = (-180.0, -64.0)

# its city (the mean of the city's ZIP centroids), precision 'city'
PLACE = {"accounts": ("city", "state"), "reps": ("home_city", "home_state")}
_PLACES_SQL = ("(SELECT upper(zip_city) AS place_city, zip_state AS place_state, avg(zip_lat) AS place_lat, "
               "avg(zip_lng) AS place_lng FROM _zips GROUP BY 1, 2)")


def has_place(dataset: str, names: set[str]) -> bool:
    return all(f in names for f in PLACE[dataset])


def place_join(dataset: str, alias: str) -> str:
    city, state = PLACE[dataset]
    return (f"LEFT JOIN {_PLACES_SQL} pl ON pl.place_city = upper(trim({alias}.{city})) "
            f"AND pl.place_state = upper(trim({alias}.{state}))")


def located_sql(dataset: str, names: set[str], table: str) -> str:
    """``table`` with ``_lat``, ``_lng``, ``_precision`` worked out in SQL: what ``locate`` gives,
    except the city fallback: a row with neither coordinates nor a known ZIP gets no location here
    (the one-pass load then leaves the file to the full check, which looks the city up for just
    those rows; a join of every row with the places would cost the common file 10 %)."""
    lat, lng, zip_field, _ = LOCATION[dataset]
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



# dataset -> (lat field, lng field, zip field, location required)
LOCATION = {
    "accounts": ("lat", "lng", "postal_code", True),
    "reps": ("home_lat", "home_lng", "home_zip", False),
}


def coords_ok_sql(dataset: str, names: set[str]) -> str:
    """SQL true when a row has usable exact coordinates (in range, not 0/0, not swapped)."""
    lat, lng, _, _ = LOCATION[dataset]
    if lat not in names or lng not in names:
        return "FALSE"
    return (
        f"coalesce({lat}__v BETWEEN -90 AND 90 AND {lng}__v BETWEEN -180 AND 180 "
        f"AND NOT ({lat}__v = 0 AND {lng}__v = 0) AND NOT {swapped_sql(lat, lng, names)}, FALSE)"
    )


def locate(con: Connection, dataset: str, names: set[str], table: str) -> dict[str, np.ndarray]:
    """Per row of ``table`` (file order): lat, lng and precision ('exact', 'zip', 'city' or None).

    Exact coordinates when usable, else the centroid of the row's US ZIP (joined only for
    the rows that need it, which is usually a few percent).
    """
    lat, lng, zip_field, _ = LOCATION[dataset]
    ok = coords_ok_sql(dataset, names)
    lat_x = f"{lat}__v" if lat in names else "NULL::DOUBLE"
    lng_x = f"{lng}__v" if lng in names else "NULL::DOUBLE"
    # A scan's row order is not guaranteed: place every value by its rowid (= file position).
    d = con.execute(f"SELECT rowid AS rid, {ok} AS ok, {lat_x} AS lat, {lng_x} AS lng FROM {table}").fetchnumpy()
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
            f"SELECT p.rowid AS rid, z.zip_lat, z.zip_lng FROM {table} p "
            f"JOIN _zips z ON z.zip = p.{zip_field}__v WHERE NOT {ok}"
        ).fetchnumpy()
        rid = np.asarray(z["rid"], dtype=np.int64)
        out_lat[rid], out_lng[rid], precision[rid] = z["zip_lat"], z["zip_lng"], "zip"
    if has_place(dataset, names) and np.isnan(out_lat).any():  # no coordinates, no known ZIP: the city
        c = con.execute(f"SELECT p.rowid AS rid, pl.place_lat, pl.place_lng FROM {table} p {place_join(dataset, 'p')} "
                        f"WHERE NOT {ok} AND pl.place_lat IS NOT NULL").fetchnumpy()
        rid = np.asarray(c["rid"], dtype=np.int64)
        rid_lat, rid_lng = np.asarray(c["place_lat"], dtype=float), np.asarray(c["place_lng"], dtype=float)
        still = np.isnan(out_lat[rid])
        out_lat[rid[still]], out_lng[rid[still]], precision[rid[still]] = rid_lat[still], rid_lng[still], "city"
    return {"_lat": out_lat, "_lng": out_lng, "_precision": precision}


def swapped_sql(lat: str, lng: str, names: set[str]) -> str:
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
