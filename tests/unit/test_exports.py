"""Exports: CRM ownership files re-import into a fresh database, GeoJSON is valid, Excel reads back."""

from __future__ import annotations

import json

import h3
import pandas as pd
import pytest
from click.testing import CliRunner
from pyproj import Geod
from shapely.geometry import Point, shape

from territory import cli, exports, store
from territory.data import ingest
from territory.plans import plan, rules


@pytest.fixture
def reassigned(tiny_con, tmp_path):
    """Working plan: Kansas City goes to Ana, A2 goes to Ben by a named-account rule."""
    sid = plan.working_scenario(tiny_con)
    plan.update_territory(tiny_con, sid, "R2", rep_id="R1")
    rules.add_named(tiny_con, sid, "A2", "R2")  # territory R2 now belongs to Ana too
    strategic = plan.create_territory(tiny_con, sid, "Strategic")  # no rep: its accounts stay out
    rules.add_overlay(tiny_con, sid, strategic, rules.Overlay(min_employees=1000))
    return tiny_con, sid


def _fresh_with_reps(tmp_path, tiny_con):
    con = store.connect(tmp_path / "fresh.duckdb")
    reps = tmp_path / "reps.csv"  # written by the tiny_con fixture
    ingest.import_file(con, reps, "reps")
    return con


def test_salesforce_file_reimports_with_the_plan_owners(reassigned, tmp_path):
    con, sid = reassigned
    lean = pd.read_csv(exports.salesforce_csv(con, sid, tmp_path / "lean.csv").path, dtype=str, encoding="utf-8-sig")
    assert list(lean.columns) == ["Id", "OwnerId", "Territory"]  # what Data Loader should update, no more
    result = exports.salesforce_csv(con, sid, tmp_path / "sf.csv", with_details=True)
    assert (result.rows, result.without_rep, result.unassigned) == (3, 1, 0)
    frame = pd.read_csv(tmp_path / "sf.csv", dtype=str, encoding="utf-8-sig")
    assert list(frame.columns[:3]) == ["Id", "OwnerId", "Territory"]
    assert dict(zip(frame["Id"], frame["OwnerId"])) == {"A1": "R1", "A2": "R1", "A3": "R1"}
    fresh = _fresh_with_reps(tmp_path, con)
    loaded = ingest.import_file(fresh, tmp_path / "sf.csv", "accounts")
    assert loaded.rows_loaded == 3 and loaded.rows_rejected == 0
    got = dict(fresh.execute("SELECT account_id, owner_id FROM accounts").fetchall())
    assert got == {"A1": "R1", "A2": "R1", "A3": "R1"}
    exact = fresh.execute("SELECT count(*) FROM accounts WHERE geocode = 'exact'").fetchall()[0][0]
    assert exact == 3


def test_hubspot_file_names_owners_by_email_and_reimports(reassigned, tmp_path):
    con, sid = reassigned
    lean = pd.read_csv(exports.hubspot_csv(con, sid, tmp_path / "lean.csv").path, dtype=str, encoding="utf-8-sig")
    assert list(lean.columns) == ["Record ID", "Company owner", "Territory"]
    exports.hubspot_csv(con, sid, tmp_path / "hs.csv", with_details=True)
    frame = pd.read_csv(tmp_path / "hs.csv", dtype=str, encoding="utf-8-sig")
    assert list(frame.columns[:2]) == ["Record ID", "Company owner"]
    assert set(frame["Company owner"]) == {"ana@example.com"}
    fresh = _fresh_with_reps(tmp_path, con)
    ingest.import_file(fresh, tmp_path / "hs.csv", "accounts")
    assert set(r[0] for r in fresh.execute("SELECT owner_id FROM accounts").fetchall()) == {"R1"}


def test_changed_only_lists_just_the_accounts_that_change_owner(reassigned, tmp_path):
    con, sid = reassigned
    exports.salesforce_csv(con, sid, tmp_path / "sf.csv", changed_only=True)
    frame = pd.read_csv(tmp_path / "sf.csv", dtype=str, encoding="utf-8-sig")
    assert frame["Id"].tolist() == ["A3"]  # A1 and A2 already belong to Ana in the CRM


def test_geojson_territories_contain_their_accounts(tiny_con, tmp_path):
    sid = plan.baseline_scenario(tiny_con)
    exports.geojson_file(tiny_con, sid, tmp_path / "t.geojson")
    data = json.loads((tmp_path / "t.geojson").read_text(encoding="utf-8"))
    feats = {f["properties"]["territory_id"]: f for f in data["features"]}
    assert set(feats) == {"R1", "R2"} and feats["R1"]["properties"]["accounts"] == 2
    cells = plan.assignments(tiny_con, sid)
    for cell, tid in zip(cells["cell"], cells["territory_id"]):
        lat, lng = h3.cell_to_latlng(h3.int_to_str(int(cell)))
        assert shape(feats[tid]["geometry"]).contains(Point(lng, lat))
        other = "R2" if tid == "R1" else "R1"
        assert not shape(feats[other]["geometry"]).contains(Point(lng, lat))


def test_dissolve_cuts_territories_at_the_antimeridian():
    centre = h3.latlng_to_cell(52.0, 179.99, 5)
    cells = list(h3.grid_disk(centre, 3))
    geom = exports.dissolve(cells)
    assert geom.is_valid and len(geom.geoms) == 2  # one piece each side of ±180°
    lngs = [x for poly in geom.geoms for x, _ in poly.exterior.coords]
    assert min(lngs) >= -180 and max(lngs) <= 180
    area = abs(Geod(ellps="WGS84").geometry_area_perimeter(geom)[0]) / 1e6
    expected = sum(h3.cell_area(c, "km^2") for c in cells)
    assert area == pytest.approx(expected, rel=0.01)


def test_excel_report_has_one_sheet_per_view(tiny_con, tmp_path):
    sid = plan.baseline_scenario(tiny_con)
    exports.excel_report(tiny_con, sid, tmp_path / "k.xlsx")
    sheets = pd.read_excel(tmp_path / "k.xlsx", sheet_name=None)
    assert list(sheets) == ["Territories", "Reps", "Districts", "Regions", "Pipeline by stage", "Revenue trend",
                            "Forecast", "Definitions"]
    terr = sheets["Territories"].set_index("Rep")  # headers in plain words with units
    assert terr.loc["Ana", "Potential $"] == 4000 and terr.loc["Ben", "Attainment (share)"] == pytest.approx(9)
    definitions = sheets["Definitions"].set_index("Column in the data")
    assert "revenue / potential" in definitions.loc["penetration", "Definition"]


def test_cli_exports_every_format(tiny_con, db_path, tmp_path):
    tiny_con.close()
    runner = CliRunner()
    for fmt, name in (("salesforce", "a.csv"), ("hubspot", "b.csv"), ("geojson", "c.geojson"), ("excel", "d.xlsx")):
        result = runner.invoke(cli.main, ["export", fmt, str(tmp_path / name), "--db", str(db_path)])
        assert result.exit_code == 0, result.output
        assert (tmp_path / name).stat().st_size > 0
    assert "wrote 4 rows to a.csv" in runner.invoke(
        cli.main, ["export", "salesforce", str(tmp_path / "a.csv"), "--db", str(db_path)]).output
    bad = runner.invoke(cli.main, ["export", "excel", str(tmp_path / "x.xlsx"), "--plan", "nope", "--db", str(db_path)])
    assert bad.exit_code != 0 and "no plan named 'nope'" in bad.output


@pytest.mark.parametrize("fmt, name", [("geopackage", "plan.gpkg"), ("shapefile", "plan.zip"), ("shapefile", "plan.shp")])
def test_gis_files_read_back_with_one_valid_feature_per_territory(demo_con, tmp_path, fmt, name):
    import geopandas as gpd

    sid = plan.active_scenario(demo_con)
    result = exports.export(demo_con, sid, fmt, tmp_path / name)
    source = f"zip://{result.path}" if name.endswith(".zip") else str(result.path)
    frame = gpd.read_file(source)
    expected = exports.territories_geojson(demo_con, sid)["features"]
    assert len(frame) == len(expected) == len(plan.territories(demo_con, sid)) == result.rows
    assert frame.crs.to_epsg() == 4326 and frame.geometry.is_valid.all()
    assert set(frame.geom_type) <= {"Polygon", "MultiPolygon"}
    key = "territory_id" if fmt == "geopackage" else "territory"
    by_id = {f["properties"]["territory_id"]: f["properties"] for f in expected}
    assert {row[key]: (row["name"], int(row["accounts"])) for _, row in frame.iterrows()} == {
        t: (p["name"], p["accounts"]) for t, p in by_id.items()}
    assert abs(frame.total_bounds[0]) <= 180 and abs(frame.total_bounds[2]) <= 180


def test_excel_report_headers_are_plain_words(demo_con, tmp_path):
    import openpyxl

    path = exports.export(demo_con, plan.active_scenario(demo_con), "excel", tmp_path / "kpis.xlsx").path
    book = openpyxl.load_workbook(path, read_only=True)
    raw = {(sheet.title, cell.value) for sheet in book.worksheets for cell in next(sheet.iter_rows(max_row=1))
           if isinstance(cell.value, str) and "_" in cell.value and sheet.title not in ("Pipeline by stage", "Revenue trend")}
    assert not raw  # no snake_case column names (stage and territory names are data, left as they are)
    territories = next(sheet for sheet in book.worksheets if sheet.title == "Territories")
    header = [c.value for c in next(territories.iter_rows(max_row=1))]
    assert header[:2] == ["Territory", "Rep"] and "Potential $" in header and "Penetration (share)" in header
