"""H3 indexing and roll-up must equal h3-py's reference cells exactly."""

import h3
import numpy as np
import pytest

from territory import grid, settings
from territory.data import ingest
from territory.errors import ValidationError
from tests.conftest import sf_row, write_csv


@pytest.fixture(scope="module")
def points():
    rng = np.random.default_rng(11)
    n = 3000
    return rng.uniform(-85, 85, n), rng.uniform(-180, 180, n)


def test_fine_cells_equal_h3py(points):
    lat, lng = points
    cells = grid.latlng_to_cells(lat, lng)
    ref = [h3.str_to_int(h3.latlng_to_cell(a, b, settings.FINE_RES)) for a, b in zip(lat, lng)]
    assert [int(c) for c in cells] == ref


@pytest.mark.parametrize("res", list(settings.PLAN_RESOLUTIONS))
def test_parent_masks_equal_h3py_cell_to_parent(points, res):
    lat, lng = points
    keep, fill = grid.parent_masks(res)
    for cell in grid.latlng_to_cells(lat, lng)[:500]:
        expected = h3.str_to_int(h3.cell_to_parent(h3.int_to_str(int(cell)), res))
        assert (int(cell) & keep) | fill == expected


def test_aggregate_cells_equals_a_python_groupby(con, tmp_path):
    """Roll-up goes through the hierarchy: an account's cell at res r is the parent of its
    fine cell (H3 children do not nest exactly, so this can differ from indexing at r)."""
    rng = np.random.default_rng(5)
    lat, lng = rng.uniform(39.0, 40.5, 400), rng.uniform(-105.5, -104.0, 400)
    tiers = rng.choice(["10", "500", "5000"], 400)  # employees -> tiers C, B, A
    rows = [sf_row(i, BillingLatitude=f"{a:.6f}", BillingLongitude=f"{b:.6f}", NumberOfEmployees=t)
            for i, (a, b, t) in enumerate(zip(lat, lng, tiers))]
    ingest.import_file(con, write_csv(tmp_path / "a.csv", rows), "accounts")
    stored = dict(con.execute("SELECT account_id, potential FROM accounts").fetchall())
    for res in (4, 6, 9):
        frame = grid.aggregate_cells(con, res).set_index("cell")
        expected_count, expected_potential, expected_hours = {}, {}, {}
        hours = {"10": 4.0, "500": 12.0, "5000": 24.0}
        for i, (a, b, t) in enumerate(zip(lat, lng, tiers)):
            fine = h3.latlng_to_cell(float(f"{a:.6f}"), float(f"{b:.6f}"), settings.FINE_RES)
            c = h3.str_to_int(h3.cell_to_parent(fine, res))
            expected_count[c] = expected_count.get(c, 0) + 1
            expected_potential[c] = expected_potential.get(c, 0) + stored[f"001{i:05d}"]
            expected_hours[c] = expected_hours.get(c, 0) + hours[t]
        assert {int(k): int(v) for k, v in frame["accounts"].items()} == expected_count
        for c, pot in expected_potential.items():
            assert frame.loc[c, "potential"] == pytest.approx(pot)
            assert frame.loc[c, "visit_hours"] == pytest.approx(expected_hours[c])


def test_workload_is_configurable(con, accounts_file):
    ingest.import_file(con, accounts_file, "accounts")  # 10 accounts of 50 employees: tier C
    frame = grid.aggregate_cells(con, 5, workload=settings.Workload({"C": 6.0}, 90.0))
    assert frame["visit_hours"].sum() == pytest.approx(10 * 6 * 1.5)


@pytest.mark.parametrize("res", [-1, 11, 5.5, "5"])
def test_bad_resolution_is_refused(con, res):
    with pytest.raises(ValidationError, match="resolution"):
        grid.aggregate_cells(con, res)


def test_every_imported_account_carries_the_cell_of_its_own_location(con, tmp_path):
    """Rows, coordinates and cells stay aligned through the import (incl. ZIP-located rows)."""
    rng = np.random.default_rng(9)
    n = 130_000  # more than one DuckDB row group (122,880 rows): scan order is not file order
    lat, lng = rng.uniform(30, 45, n), rng.uniform(-120, -75, n)
    rows = [sf_row(i, BillingLatitude=f"{a:.5f}", BillingLongitude=f"{b:.5f}") for i, (a, b) in enumerate(zip(lat, lng))]
    for i in range(0, n, 997):  # some rows only have a ZIP
        rows[i].update(BillingLatitude="", BillingLongitude="", BillingPostalCode="2134")
    ingest.import_file(con, write_csv(tmp_path / "a.csv", rows), "accounts")
    stored = con.execute("SELECT account_id, lat, lng, cell, geocode FROM accounts").fetchall()
    assert len(stored) == n
    expected = {r["Id"]: r for r in rows}
    for account_id, a, b, cell, precision in stored:
        assert cell == h3.str_to_int(h3.latlng_to_cell(a, b, settings.FINE_RES))
        src = expected[account_id]
        if src["BillingLatitude"]:
            assert (precision, a, b) == ("exact", float(src["BillingLatitude"]), float(src["BillingLongitude"]))
        else:
            assert precision == "zip" and 42.3 < a < 42.4
