"""Exports of a plan back to the CRM and to people: ownership CSVs, GeoJSON, an Excel KPI report.

* **Salesforce** (Data Loader *Update* on Account): ``Id``, ``OwnerId`` (the territory's rep),
  ``Territory`` (name, map it to a custom field or leave it unmapped). With ``with_details``
  also ``Name``, ``BillingLatitude``, ``BillingLongitude``, so the file re-imports into this app
  (not by default: Data Loader's auto-match would write them into Salesforce, ZIP centroids
  included, for accounts that had no coordinates).
* **HubSpot** (companies import, update by ``Record ID``): ``Record ID``, ``Company owner``
  (the rep's e-mail, which HubSpot matches to its users; the rep id when there is none),
  ``Territory``; with ``with_details`` also ``Company name``, ``Latitude``, ``Longitude``.
* **GeoJSON** (RFC 7946): one feature per territory, its cells dissolved into polygons; a
  territory crossing the antimeridian is cut there, so every longitude is within ±180.
* **GeoPackage** and **Shapefile** (ArcGIS, QGIS, Maptitude): the same features and properties as
  the GeoJSON, EPSG:4326, written with geopandas; a Shapefile is several files, so it is written as
  a ``.zip`` of them when the file name ends in ``.zip`` (its field names are cut to 10 characters).
* **Excel**: one sheet per KPI view (territories, reps, districts, regions, pipeline by stage,
  revenue trend, forecasts) and a sheet of definitions.

Accounts the plan leaves unassigned, or puts in a territory without a rep, are not written to the
CRM files (the CRM keeps their owner); :class:`Export` counts them so the user is told.

**Safe to open.** A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return would run as a formula in Excel or LibreOffice; CSV files get a leading ``'`` on such
cells, as OWASP recommends (``formula_safe=False`` writes text exactly as stored, e.g. for a
Data Loader round trip of ids that really start with ``-``). The Excel report stores every text
as a text cell, never as a formula, whatever it starts with.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import h3
import numpy as np
import pandas as pd
from shapely.geometry import MultiPolygon, Polygon, box, mapping
from shapely.ops import unary_union

from territory import settings
from territory.errors import ValidationError
from territory.kpis import scorecard
from territory.plans import book, plan
from territory.store import Connection

FORMATS = settings.EXPORT_FORMATS
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Export:
    path: Path
    rows: int
    unassigned: int = 0  # accounts left out: no territory
    without_rep: int = 0  # accounts left out: their territory has no rep

    def summary(self) -> str:
        text = f"wrote {self.rows:,} rows to {self.path.name}"
        if self.unassigned or self.without_rep:
            text += (f"; left out (the CRM keeps their owner): {self.unassigned:,} unassigned accounts, "
                     f"{self.without_rep:,} in territories without a rep")
        return text


def ownership(con: Connection, scenario_id: int, *, changed_only: bool = False) -> tuple[pd.DataFrame, int, int]:
    """(accounts with a new owner, how many unassigned, how many in territories without a rep)."""
    acc = book.accounts(con, scenario_id)
    reps = con.execute("SELECT rep_id, email FROM reps").df().set_index("rep_id")["email"]
    unassigned = int(acc["territory_id"].isna().sum())
    no_rep = int((acc["territory_id"].notna() & acc["rep_id"].isna()).sum())
    out = acc[acc["rep_id"].notna()].copy()
    if changed_only:
        out = out[out["rep_id"] != out["owner_id"].fillna("")]
    out["email"] = out["rep_id"].map(reps)
    return out, unassigned, no_rep


def salesforce_csv(con: Connection, scenario_id: int, path: str | Path, *, changed_only: bool = False,
                   formula_safe: bool = True, with_details: bool = False) -> Export:
    acc, unassigned, no_rep = ownership(con, scenario_id, changed_only=changed_only)
    columns = {"Id": acc["account_id"], "OwnerId": acc["rep_id"], "Territory": acc["territory"]}
    if with_details:
        columns |= {"Name": acc["name"], "BillingLatitude": acc["lat"], "BillingLongitude": acc["lng"]}
    return _write_csv(pd.DataFrame(columns), path, unassigned, no_rep, formula_safe=formula_safe)


def hubspot_csv(con: Connection, scenario_id: int, path: str | Path, *, changed_only: bool = False,
                formula_safe: bool = True, with_details: bool = False) -> Export:
    acc, unassigned, no_rep = ownership(con, scenario_id, changed_only=changed_only)
    columns = {"Record ID": acc["account_id"], "Company owner": acc["email"].fillna(acc["rep_id"]),
               "Territory": acc["territory"]}
    if with_details:
        columns |= {"Company name": acc["name"], "Latitude": acc["lat"], "Longitude": acc["lng"]}
    return _write_csv(pd.DataFrame(columns), path, unassigned, no_rep, formula_safe=formula_safe)


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells that a spreadsheet would run as a formula start with ``'``."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if values.dtype != object and not pd.api.types.is_string_dtype(values):
            continue  # numbers stay numbers: -3.5 is a value, not a formula
        risky = values.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_STARTS))
        out[column] = values.where(~risky, "'" + values.astype(str))
    return out


def _write_csv(frame: pd.DataFrame, path: str | Path, unassigned: int, no_rep: int, *,
               formula_safe: bool = True) -> Export:
    path = Path(path)
    if formula_safe:
        frame = neutralise_formulas(frame)
    # UTF-8 with a byte-order mark: Excel and Data Loader then read accented names correctly
    frame.to_csv(path, index=False, encoding="utf-8-sig", float_format="%.7f")
    return Export(path, len(frame), unassigned, no_rep)


def territories_geojson(con: Connection, scenario_id: int) -> dict:
    """The plan's territories as a GeoJSON FeatureCollection of dissolved cell polygons."""
    terr = plan.territories(con, scenario_id).set_index("territory_id")
    assign = plan.assignments(con, scenario_id)
    acc = book.accounts(con, scenario_id).groupby("territory_id").agg(
        accounts=("account_id", "size"), potential=("potential", "sum"), revenue_12m=("revenue_12m", "sum"))
    features = []
    for tid, group in assign.groupby("territory_id"):
        cells = [h3.int_to_str(int(c)) for c in group["cell"]]
        t = terr.loc[tid]
        stats = acc.loc[tid] if tid in acc.index else pd.Series({"accounts": 0, "potential": 0.0, "revenue_12m": 0.0})
        features.append({"type": "Feature", "geometry": mapping(dissolve(cells)), "properties": {
            "territory_id": tid, "name": t["name"], "color": t["color"],
            "rep_id": None if pd.isna(t["rep_id"]) else t["rep_id"],
            "rep_name": None if pd.isna(t["rep_name"]) else t["rep_name"], "cells": len(cells),
            "accounts": int(stats["accounts"]), "potential": float(stats["potential"]),
            "revenue_12m": float(stats["revenue_12m"])}})
    return {"type": "FeatureCollection", "features": features}


def dissolve(cells: list[str]) -> MultiPolygon:
    """H3 cells merged into (multi)polygons in lng/lat, cut at the antimeridian. Cells of mixed
    resolutions (split cells) are first brought to the finest one: h3 dissolves one resolution."""
    levels = {h3.get_resolution(c) for c in cells}
    if len(levels) > 1:
        cells = h3.uncompact_cells(cells, max(levels))
    shape = h3.h3shape_to_geo(h3.cells_to_h3shape(cells))
    polys = [shape["coordinates"]] if shape["type"] == "Polygon" else shape["coordinates"]
    parts = []
    for rings in polys:
        outer = _unwrap(np.asarray(rings[0], dtype=float))
        holes = [_unwrap(np.asarray(r, dtype=float), near=outer[:, 0].mean()) for r in rings[1:]]
        parts.extend(_split_antimeridian(Polygon(outer, holes)))
    merged = unary_union(parts)
    geoms = list(merged.geoms) if hasattr(merged, "geoms") else [merged]
    return MultiPolygon([g for g in geoms if isinstance(g, Polygon) and not g.is_empty])


def _unwrap(ring: np.ndarray, *, near: float | None = None) -> np.ndarray:
    """A ring's longitudes made continuous (no ±360 jumps), shifted by 360s to lie near ``near``."""
    lng = np.degrees(np.unwrap(np.radians(ring[:, 0])))
    if near is not None:
        lng += 360.0 * np.round((near - lng.mean()) / 360.0)
    return np.column_stack([lng, ring[:, 1]])


def _split_antimeridian(poly: Polygon) -> list[Polygon]:
    pieces = []
    for shift in (-360.0, 0.0, 360.0):
        window = box(-180.0 - shift, -90.0, 180.0 - shift, 90.0)
        part = poly.intersection(window)
        if part.is_empty:
            continue
        for g in getattr(part, "geoms", [part]):
            if isinstance(g, Polygon) and g.area > 0:
                pieces.append(Polygon(np.asarray(g.exterior.coords) + [shift, 0],
                                      [np.asarray(i.coords) + [shift, 0] for i in g.interiors]))
    return pieces


def geojson_file(con: Connection, scenario_id: int, path: str | Path) -> Export:
    data = territories_geojson(con, scenario_id)
    path = Path(path)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return Export(path, len(data["features"]))


SHAPEFILE_FIELDS = {"territory_id": "territory", "revenue_12m": "revenue12m"}  # names of at most 10 characters


def gis_file(con: Connection, scenario_id: int, path: str | Path, *, driver: str) -> Export:
    """The territories as a GeoPackage (``driver='GPKG'``) or a Shapefile (``'ESRI Shapefile'``)."""
    import geopandas as gpd  # only here: a GIS export is the one thing that needs it
    import shapely

    data = territories_geojson(con, scenario_id)
    frame = gpd.GeoDataFrame.from_features(data["features"], crs="EPSG:4326")
    frame["geometry"] = shapely.make_valid(frame.geometry.to_numpy())
    path = Path(path)
    if driver == "GPKG":
        frame.to_file(path, driver="GPKG", layer="territories")
        return Export(path, len(frame))
    frame = frame.rename(columns=SHAPEFILE_FIELDS)
    if path.suffix.lower() != ".zip":
        frame.to_file(path, driver=driver, encoding="utf-8")
        return Export(path, len(frame))
    with tempfile.TemporaryDirectory() as tmp:
        shp = Path(tmp) / f"{path.stem}.shp"
        frame.to_file(shp, driver=driver, encoding="utf-8")
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
            for part in sorted(Path(tmp).iterdir()):
                z.write(part, part.name)
    return Export(path, len(frame))


# the report's own columns in plain words with units (the KPI columns: scorecard.COLUMN_LABELS); shares
# (penetration, attainment, win rate, capacity used) are fractions in the cells, as Excel formats them
EXCEL_HEADERS = {"territory": "Territory", "territories": "Territories", "dev_potential_pct": "Potential vs mean %",
                 "penetration": "Penetration (share)", "attainment": "Attainment (share)", "win_rate": "Win rate (share)",
                 "utilisation": "Capacity used (share)", "market_share": "Share of market (share)", "month": "Month",
                 "mean": "Forecast $",
                 "lower": "Forecast low (90 %) $", "upper": "Forecast high (90 %) $",
                 "backtest_mape_pct": "Backtest error %", "model": "Model", "column": "Column in the data",
                 "definition": "Definition"}


def excel_report(con: Connection, scenario_id: int, path: str | Path, *, filters=scorecard.Filters()) -> Export:
    """The KPI views of the plan, one sheet each, plus the KPI definitions."""
    sc = scorecard.build(con, scenario_id, filters)
    kpi_cols = [k for k in scorecard.REGISTRY if sc.has_market or k not in scorecard.MARKET_KPIS]
    terr = sc.territories[["name", "rep_name", "district", "region", *kpi_cols, "dev_potential_pct", "compactness",
                           "quality"]].rename(columns={"name": "territory"})
    names = sc.territories.set_index("territory_id")["name"]
    fc_rows = []
    for tid, fc in scorecard.forecasts(sc, list(sc.territories["territory_id"])).items():
        if not isinstance(fc, str):
            fc_rows.append(fc.forecast.assign(territory=names[tid], backtest_mape_pct=fc.mape_pct, model=fc.model))
    sheets = {
        "Territories": terr,
        **{title: frame if sc.has_market else frame.drop(columns=[c for c in scorecard.MARKET_KPIS if c in frame])
           for title, frame in (("Reps", sc.reps), ("Districts", sc.districts), ("Regions", sc.regions))},
        "Pipeline by stage": sc.stages.assign(territory=sc.stages["territory_id"].map(names)).pivot_table(
            index="territory", columns="stage", values="amount", aggfunc="sum", fill_value=0).reset_index(),
        "Revenue trend": sc.trend.assign(territory=sc.trend["territory_id"].map(names)).pivot_table(
            index="month", columns="territory", values="revenue", aggfunc="sum", fill_value=0).reset_index(),
        "Forecast": pd.concat(fc_rows, ignore_index=True) if fc_rows else pd.DataFrame(),
        "Definitions": pd.DataFrame([(k.label, k.name, k.help) for k in scorecard.REGISTRY.values()],
                                    columns=["KPI", "column", "definition"]),
    }
    headers = {**scorecard.COLUMN_LABELS, **EXCEL_HEADERS}
    path = Path(path)
    with pd.ExcelWriter(path, engine="openpyxl") as xl:
        for name, frame in sheets.items():
            frame.rename(columns=headers).to_excel(xl, sheet_name=name, index=False)
            _as_text(xl.sheets[name])
    return Export(path, len(terr))


def table_file(frame: pd.DataFrame, path: str | Path) -> Export:
    """A table (e.g. quotas, key accounts) as CSV or, for a path ending in ``.xlsx``, Excel; its
    text is data in both: formula-like CSV cells start with ``'``, Excel stores them as text."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        with pd.ExcelWriter(path, engine="openpyxl") as xl:
            frame.to_excel(xl, sheet_name="Sheet1", index=False)
            _as_text(xl.sheets["Sheet1"])
    elif path.suffix.lower() == ".csv":
        neutralise_formulas(frame).to_csv(path, index=False, encoding="utf-8-sig")
    else:
        raise ValidationError(f"{path.name}: write a .csv or an .xlsx file")
    return Export(path, len(frame))


def _as_text(sheet) -> None:
    """Store every text that openpyxl took for a formula (it starts with ``=``) as plain text."""
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"


def export(con: Connection, scenario_id: int, fmt: str, path: str | Path, *, changed_only: bool = False,
           formula_safe: bool = True, with_details: bool = False) -> Export:
    """Any export by name (what the CLI and the Scenarios page call)."""
    crm = {"changed_only": changed_only, "formula_safe": formula_safe, "with_details": with_details}
    if fmt == "salesforce":
        return salesforce_csv(con, scenario_id, path, **crm)
    if fmt == "hubspot":
        return hubspot_csv(con, scenario_id, path, **crm)
    if fmt == "geojson":
        return geojson_file(con, scenario_id, path)
    if fmt in ("geopackage", "shapefile"):
        return gis_file(con, scenario_id, path, driver="GPKG" if fmt == "geopackage" else "ESRI Shapefile")
    if fmt == "excel":
        return excel_report(con, scenario_id, path)
    raise ValidationError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
