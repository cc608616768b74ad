"""The Data page, run by Streamlit's AppTest on a copy of a small demo database."""

from __future__ import annotations

import pytest

from territory import store
from territory.data import quality
from tests.conftest import sf_row, write_csv


@pytest.fixture
def page(app):
    return app  # the Data page is the default page


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _expected(db) -> dict:
    con = store.connect(db)
    try:
        return quality.summary(con)
    finally:
        con.close()


def test_summary_numbers_match_the_database(page):
    at, db = page
    metrics = _metrics(at)
    expected = _expected(db)
    assert metrics["Accounts"] == "2,000" and metrics["Reps"] == "30"
    assert metrics["Opportunities"] == f"{expected['opportunities']:,}"
    assert metrics["Potential"] == f"${expected['potential'] / 1e6:,.1f}M"
    geocode = at.markdown[0].value
    assert f"**{expected['geocode_exact']:,}** exact coordinates" in geocode
    assert f"**{expected['geocode_zip']:,}** located by ZIP centroid" in geocode
    assert at.caption[0].value.endswith("cells at resolution 5")


def test_geocode_quality_and_findings_are_shown(page):
    at, _ = page
    text = " ".join(m.value for m in at.markdown)
    assert "exact coordinates" in text and "located by ZIP centroid" in text
    assert any("located by ZIP centroid" in i.value for i in at.info)


def test_resolution_change_redraws_the_map(page):
    at, _ = page
    at.selectbox(key="data_map_res").select(7).run()
    assert at.caption[0].value.endswith("cells at resolution 7")


def test_bad_upload_shows_row_level_errors_and_loads_nothing(page, tmp_path):
    at, db = page
    bad = write_csv(tmp_path / "bad.csv", [sf_row(1), sf_row(2, BillingLatitude="123", BillingLongitude="5")])
    at.file_uploader(key="import_upload_0").set_value(("bad.csv", bad.read_bytes(), "text/csv")).run()
    at.button(key="import_go").click().run()
    assert not at.exception, at.exception
    assert "nothing was imported" in at.error[0].value
    problems = next(d.value for d in at.dataframe if "reason" in d.value.columns)
    assert problems[["row", "column"]].values.tolist() == [[3, "BillingLatitude"]]
    assert _metrics(at)["Accounts"] == "2,000"


def test_good_upload_adds_accounts_and_updates_the_numbers(page, tmp_path):
    at, db = page
    good = write_csv(tmp_path / "good.csv", [sf_row(i, Name=f"<b>New {i}</b>") for i in range(1, 6)])
    at.file_uploader(key="import_upload_0").set_value(("good.csv", good.read_bytes(), "text/csv")).run()
    mapping = at.dataframe(key="import_mapping_accounts").value
    assert dict(zip(mapping["file column"], mapping["field"]))["BillingLatitude"] == "lat"
    at.button(key="import_go").click().run()
    assert not at.exception, at.exception
    assert "Imported 5 of 5 rows into accounts." in at.success[0].value
    at.run()
    assert _metrics(at)["Accounts"] == "2,005"


def test_the_market_layer_is_described_and_colours_the_map(page):
    at, db = page
    con = store.connect(db)
    try:
        est, cells = con.execute("SELECT sum(establishments), count(*) FROM market_cells").fetchone()
    finally:
        con.close()
    status = [t.value for t in at.text if "establishments in" in t.value]
    assert status and status[0].startswith(f"{int(est):,} establishments in {int(cells):,} cells")
    assert "market.parquet" in status[0]  # the universe the demo's layer came from
    colour = at.selectbox(key="data_map_metric")
    assert "Market potential ($)" in colour.options  # offered once there is a market layer
    accounts_cells = int(at.caption[0].value.split()[0].replace(",", ""))
    colour.set_value("market_potential").run()
    assert not at.exception
    assert int(at.caption[0].value.split()[0].replace(",", "")) > accounts_cells  # white space is drawn
