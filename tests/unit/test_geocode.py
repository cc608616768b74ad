"""Offline ZIP geocoding and ZIP repair."""

import duckdb
import pytest

from territory import settings
from territory.data import geocode


@pytest.mark.parametrize(("raw", "fixed"), [
    ("2134", "02134"), ("02134", "02134"), ("02134-1234", "02134"), ("2134-1234", "02134"),
    ("501", "00501"), ("2134.0", "02134"), (" 80202 ", "80202"),
    ("ABC12", None), ("12", None), ("123456", None), ("", None), (None, None),
])
def test_repair_zip(raw, fixed):
    assert geocode.repair_zip(raw) == fixed


def test_sql_repair_matches_python_repair():
    values = ["2134", "02134-1234", "501", "2134.0", " 80202 ", "ABC12", "12", "123456"]
    con = duckdb.connect()
    sql = "SELECT " + geocode.ZIP_REPAIR_SQL.format(z="v") + " FROM (SELECT unnest(?::VARCHAR[]) AS v)"
    got = [r[0] for r in con.execute(sql, [values]).fetchall()]
    assert got == [geocode.repair_zip(v) for v in values]


def test_locate_zip_gives_the_centroid_offline():
    lat, lng = geocode.locate_zip("2134")  # Allston, Boston
    assert 42.3 < lat < 42.4 and -71.2 < lng < -71.1
    assert geocode.locate_zip("00000") is None


def test_zip_table_covers_the_country():
    table = geocode.zip_table()
    assert table.num_rows > 40_000
    assert len(set(table.column("zip_state").to_pylist())) >= 50


def test_zip_table_is_kept_on_disk_and_a_broken_copy_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "DATA_DIR", tmp_path)
    built = geocode.zip_table.__wrapped__()  # nothing on disk: built from the package, then kept
    (kept,) = (tmp_path / "cache").iterdir()
    assert geocode.zip_table.__wrapped__().equals(built)  # read back from the file
    kept.write_bytes(b"not an arrow file")
    assert geocode.zip_table.__wrapped__().equals(built)
    assert kept.read_bytes()[:6] == b"ARROW1"  # and the broken copy was replaced


def test_a_point_is_named_by_the_largest_place_near_it():
    """Messages say where a cell is by the largest town around it, not a neighbourhood's name."""
    assert geocode.nearest_place(40.75, -73.99) == "New York City, NY"  # Times Square is nearer
    assert geocode.nearest_place(35.08, -106.65) == "Albuquerque, NM"
    assert geocode.nearest_place(44.0, -103.0) == "Rapid City, SD"  # nothing within 30 km: the nearest
