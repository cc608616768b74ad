"""A market universe, one batch at a time: every establishment to its H3 cell and its potential.

Both engines (:mod:`territory.market.engines` for DuckDB, :mod:`territory.market.spark` for
Spark) read the file their own way and hand each Arrow batch to :func:`partial`, the one place
that locates a row (its coordinates, else its ZIP's centroid), computes its cell at
``settings.MARKET_RES`` (polars-h3: vectorised Rust, no Python per row) and its market potential
by the documented rule of account potential (``settings``: the spend given, else employees ×
the industry's spend per employee, else revenue × ``REVENUE_SHARE``, else the fallback), in
whole dollars. Sums are of whole numbers, so the engines' cell tables are identical, not only
close: what differs between them is how they read, distribute and add up, never a value.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import polars as pl
import polars_h3 as plh3
import pyarrow as pa

from territory import settings
from territory.data import geocode
from territory.data.fields import Field, Kind, normalise
from territory.errors import ValidationError

FIELDS = (
    Field("establishment_id", Kind.ID, ("id", "establishmentid", "siteid", "locationid", "duns", "dunsnumber",
                                        "companyid", "recordid")),
    Field("lat", Kind.LAT, ("latitude", "lat")),
    Field("lng", Kind.LNG, ("longitude", "lng", "lon", "long")),
    Field("postal_code", Kind.ZIP, ("postalcode", "zip", "zipcode", "postcode")),
    Field("industry", Kind.TEXT, ("industry", "sector", "industryname")),
    Field("employees", Kind.NUMBER, ("employees", "numberofemployees", "employeecount", "headcount")),
    Field("annual_revenue", Kind.NUMBER, ("annualrevenue", "revenue", "sales")),
    Field("spend", Kind.NUMBER, ("spend", "potential", "marketpotential", "estimatedspend")),
)
NAMES = tuple(f.name for f in FIELDS)
NUMBERS = ("lat", "lng", "employees", "annual_revenue", "spend")
# the cell table both engines write, in this order, sorted by cell and industry
CELL_SCHEMA = pa.schema([("cell", pa.int64()), ("industry", pa.string()), ("establishments", pa.int64()),
                         ("employees", pa.int64()), ("market_potential", pa.int64())])
# what :func:`partial` returns: the cell table's columns and, per group, its problems
PARTIAL_SCHEMA = pa.schema([*CELL_SCHEMA, ("unreadable", pa.int64()), ("example", pa.string())])
NOWHERE = 0  # the cell of an establishment without a location (no valid coordinates, no known ZIP)


def source(path: str | Path) -> tuple[str, str]:
    """(DuckDB table function, the path or glob it reads) for a CSV or Parquet file, or a folder
    of Parquet files (a data lake's table); an error for anything else."""
    p = Path(path)
    if p.is_dir():
        if not any(p.rglob("*.parquet")):
            raise ValidationError(f"{p} holds no Parquet files: give a CSV or Parquet file, or a folder of Parquet files")
        return "read_parquet", str(p / "**" / "*.parquet")
    if not p.exists():
        raise ValidationError(f"{p} does not exist: check the path")
    kind = p.suffix.lower()
    if kind == ".parquet":
        return "read_parquet", str(p)
    if kind in (".csv", ".txt", ".gz"):
        return "read_csv", str(p)
    raise ValidationError(f"{p.name}: a market universe is read from CSV or Parquet (not {kind or 'a file without extension'})")


def mapping(columns: list[str]) -> dict[str, str]:
    """``{field: file column}`` by the columns' normalised names; an error (naming the columns
    found) when the file gives no location."""
    by_name = {normalise(c): c for c in columns}
    out = {}
    for f in FIELDS:
        hit = next((by_name[a] for a in (normalise(f.name), *f.aliases) if a in by_name), None)
        if hit is not None and hit not in out.values():
            out[f.name] = hit
    located = {"lat", "lng"} <= set(out) or "postal_code" in out
    if not located:
        raise ValidationError("the market universe has no location: give it latitude and longitude columns, or a ZIP "
                              f"column (its columns: {', '.join(columns) or 'none'})")
    return out


@dataclass(frozen=True)
class Summary:
    """What an aggregation read and what it could not place."""

    rows: int  # establishments read
    cells: int  # rows of the cell table (cell × industry)
    unlocated: int  # no valid coordinates and no known ZIP: left out
    unreadable: int  # a number that could not be read (employees, revenue, spend): the rule's next step used
    example: str | None  # an establishment id with a problem, to find it in the file
    seconds: float = 0.0
    engine: str = ""

    def problems(self) -> list[str]:
        out = []
        if self.unlocated:
            out.append(f"{self.unlocated:,} establishments have no valid coordinates and no known US ZIP: left out")
        if self.unreadable:
            out.append(f"{self.unreadable:,} establishments have a number that could not be read "
                       "(employees, revenue or spend): their potential uses the rule's next step")
        if out and self.example:
            out.append(f"for example the establishment with id {self.example!r}")
        return out


def _number(frame: pl.DataFrame, name: str) -> tuple[pl.Series, pl.Series]:
    """The column as numbers and where a given value could not be read (currency text like
    "$1,200" is read)."""
    if name not in frame.columns:
        empty = pl.Series(name, [None] * frame.height, dtype=pl.Float64)
        return empty, pl.Series([False] * frame.height)
    s = frame[name]
    if s.dtype == pl.String:
        text = s.str.strip_chars()
        given = text.is_not_null() & (text != "")
        values = text.str.replace_all(r"[$,\s]", "").cast(pl.Float64, strict=False)
    else:
        given = s.is_not_null()
        values = s.cast(pl.Float64, strict=False)
    values = values.fill_nan(None)
    return values.alias(name), given & values.is_null()


@lru_cache(maxsize=1)
def _lookups() -> tuple[pl.DataFrame, pl.DataFrame]:
    """(ZIP centroids, spend per employee by industry) as polars frames: built once per process
    (a Spark worker included), not per batch."""
    zips = pl.from_arrow(geocode.zip_table().select(["zip", "zip_lat", "zip_lng"]))
    spend = pl.DataFrame({"industry": list(settings.SPEND_PER_EMPLOYEE), "per": list(settings.SPEND_PER_EMPLOYEE.values())})
    return zips, spend


def _zips(frame: pl.DataFrame) -> tuple[pl.Series, pl.Series]:
    """Each row's ZIP centroid (null where there is no known ZIP), like ``geocode.repair_zip``."""
    text = frame["postal_code"].cast(pl.String).str.strip_chars().str.replace(r"\.0+$", "")
    head = text.str.split("-").list.first()
    ok = head.str.contains(r"^[0-9]{3,5}$") & (text.str.contains(r"^[0-9]{3,5}(-[0-9]{4})?$"))
    key = pl.when(ok).then(head.str.zfill(5)).otherwise(None)
    found = pl.DataFrame({"zip": frame.select(key).to_series()}).join(_lookups()[0], on="zip", how="left",
                                                                        maintain_order="left")
    return found["zip_lat"], found["zip_lng"]


def establishments(batch: pa.RecordBatch | pa.Table) -> pl.DataFrame:
    """One row per establishment of the batch (columns named as :data:`FIELDS`): ``cell``
    (:data:`NOWHERE` when it has no location), ``industry``, ``employees``, ``potential`` (whole
    dollars), ``unreadable`` (a number could not be read) and ``id``."""
    frame = pl.from_arrow(batch)
    if isinstance(frame, pl.Series):
        frame = frame.to_frame()
    n = frame.height
    nums, bad = {}, pl.Series([False] * n)
    for name in NUMBERS:
        nums[name], unread = _number(frame, name)
        if name in ("employees", "annual_revenue", "spend"):
            bad = bad | unread
    lat, lng = nums["lat"], nums["lng"]
    valid = (lat.is_between(-90, 90) & lng.is_between(-180, 180) & ~((lat == 0) & (lng == 0))).fill_null(False)
    nowhere = pl.Series([None] * n, dtype=pl.Float64)
    lat, lng = lat.zip_with(valid, nowhere), lng.zip_with(valid, nowhere)  # (0, 0) or out of range: no location
    if "postal_code" in frame.columns:
        zlat, zlng = _zips(frame)
        lat, lng = lat.fill_null(zlat), lng.fill_null(zlng)
    industry = (frame["industry"].cast(pl.String).str.strip_chars() if "industry" in frame.columns
                else pl.Series([None] * n, dtype=pl.String))
    industry = industry.replace("", None)
    per = pl.DataFrame({"industry": industry}).join(_lookups()[1], on="industry", how="left",
                                                    maintain_order="left")["per"]
    employees = nums["employees"].clip(lower_bound=0)
    work = pl.DataFrame({"lat": lat, "lng": lng, "industry": industry, "employees": employees,
                         "revenue": nums["annual_revenue"].clip(lower_bound=0),
                         "spend": nums["spend"].clip(lower_bound=0),
                         "per": per.fill_null(settings.DEFAULT_SPEND_PER_EMPLOYEE), "unreadable": bad,
                         "id": (frame["establishment_id"].cast(pl.String) if "establishment_id" in frame.columns
                                else pl.Series([None] * n, dtype=pl.String))})
    return work.select(
        pl.when(pl.col("lat").is_not_null() & pl.col("lng").is_not_null())
        .then(plh3.latlng_to_cell("lat", "lng", settings.MARKET_RES).cast(pl.Int64))
        .otherwise(pl.lit(NOWHERE, dtype=pl.Int64)).alias("cell"),
        "industry",
        pl.col("employees").round(0).cast(pl.Int64).fill_null(0).alias("employees"),
        pl.coalesce(pl.col("spend"), pl.col("employees") * pl.col("per"),
                    pl.col("revenue") * settings.REVENUE_SHARE, pl.lit(settings.FALLBACK_POTENTIAL))
        .round(0).cast(pl.Int64).alias("potential"),
        "unreadable", "id")


def partial(batch: pa.RecordBatch | pa.Table) -> pa.Table:
    """The batch's establishments summed per (cell, industry): :data:`PARTIAL_SCHEMA`. Partial
    sums of any split of a file add up to the file's (every sum is of whole numbers)."""
    rows = establishments(batch)
    problem = (pl.col("cell") == NOWHERE) | pl.col("unreadable")
    out = rows.group_by("cell", "industry").agg(
        pl.len().cast(pl.Int64).alias("establishments"), pl.col("employees").sum().alias("employees"),
        pl.col("potential").sum().alias("market_potential"), pl.col("unreadable").sum().cast(pl.Int64),
        pl.col("id").filter(problem).min().alias("example"))
    return out.to_arrow().cast(PARTIAL_SCHEMA)


def summary(totals: dict, *, cells: int, seconds: float, engine: str) -> Summary:
    """A :class:`Summary` from the whole file's ``rows``, ``unlocated``, ``unreadable`` and ``example``."""
    return Summary(int(totals.get("rows") or 0), cells, int(totals.get("unlocated") or 0),
                   int(totals.get("unreadable") or 0), totals.get("example"), seconds, engine)
