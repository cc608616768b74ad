"""The KPIs page in AppTest: the numbers shown equal direct counts, filters and drill-downs work."""

from __future__ import annotations

import pandas as pd
import pytest

from territory import store
from territory.plans import book, plan
from tests.app.conftest import open_page


@pytest.fixture
def page(app):
    return open_page(app, "pages/kpis.py")


TABLES = {"kpis_territory_table": ("Territory", "Quality"), "kpis_rep_table": ("Territory", "Rep"),
          "kpis_forecast_table": ("Backtest MAPE",)}


def _table(at, name: str, index: int = 0) -> pd.DataFrame:
    """The ``index``-th dataframe shown with the columns of ``TABLES[name]``."""
    return [d.value for d in at.dataframe if set(TABLES[name]) <= set(d.value.columns)][index]


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _book(db) -> pd.DataFrame:
    con = store.connect(db)
    try:
        return book.accounts(con, plan.active_scenario(con))
    finally:
        con.close()


def test_headline_and_territory_table_match_the_database(page):
    at, db = page
    acc = _book(db)
    assert _metric(at, "Accounts") == f"{acc['territory_id'].notna().sum():,}"
    assert _metric(at, "Territories") == str(acc["territory_id"].nunique())
    table = _table(at, "kpis_territory_table").set_index("Territory")
    counts = acc.groupby("territory")["account_id"].size()
    assert table["Accounts"].to_dict() == counts.to_dict()
    pot = acc.groupby("territory")["potential"].sum()
    assert table["Potential $"].round(2).to_dict() == pot.round(2).to_dict()
    assert set(table["Quality"]) <= {"high", "medium", "low"} and len(set(table["Quality"])) > 1
    pen = acc.groupby("territory")["revenue_12m"].sum() / pot * 100
    assert table["Penetration"].round(6).to_dict() == pen.round(6).to_dict()


def test_filters_narrow_every_view(page):
    at, db = page
    at.sidebar.multiselect(key="kpis_tiers").select("A").run()
    assert not at.exception, at.exception
    acc = _book(db)
    assert _metric(at, "Accounts") == f"{(acc['tier'] == 'A').sum():,}"
    regions = at.sidebar.multiselect(key="kpis_regions")
    region = regions.options[0]
    regions.select(region).run()
    con = store.connect(db)
    try:
        in_region = {r[0] for r in con.execute("SELECT name FROM reps WHERE region = ?", [region]).fetchall()}
    finally:
        con.close()
    shown = set(_table(at, "kpis_territory_table")["Rep"])
    assert shown and shown <= in_region


def test_drill_into_a_territory_and_a_rep(page):
    at, db = page
    at.selectbox(key="kpis_territory").select_index(3).run()
    tid = at.selectbox(key="kpis_territory").value
    acc = _book(db)
    rows = acc[acc["territory_id"] == tid]
    assert any(t.value.startswith(f"{rows['territory'].iloc[0]} · rep: ") for t in at.text)
    # the drill-down's tiles come after the headline's
    assert [m.value for m in at.metric if m.label == "Accounts"][-1] == f"{len(rows):,}"
    rep = at.selectbox(key="kpis_rep")
    rep.select_index(1).run()
    reps = _table(at, "kpis_rep_table", -1)  # the drill-down's table comes last
    assert set(reps["Rep"]) == {at.selectbox(key="kpis_rep").value}
    assert len(reps) == (acc.drop_duplicates("territory_id")["rep_name"] == at.selectbox(key="kpis_rep").value).sum()


def test_forecast_table_shows_a_backtest_error_per_territory(page):
    at, _ = page
    fc = _table(at, "kpis_forecast_table")
    assert len(fc) == min(20, len(_table(at, "kpis_territory_table")))
    assert fc["Backtest MAPE"].between(0, 100).all()
    assert (fc["Next month low $"] < fc["Next month $"]).all() and (fc["Next month $"] < fc["Next month high $"]).all()


def test_own_import_without_a_plan_gets_a_baseline_on_first_open(tmp_path, monkeypatch, accounts_file):
    """A database with the user's own accounts (no demo, no plan yet): the pages work at once."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from territory import settings
    from territory.data import ingest

    db = tmp_path / "own.duckdb"
    con = store.connect(db)
    ingest.import_file(con, accounts_file, "accounts")
    con.close()
    monkeypatch.setenv(settings.DB_ENV_VAR, str(db))
    st.cache_data.clear()
    at = AppTest.from_file(str(settings.ROOT / "app.py"), default_timeout=90)
    at.run()
    at.switch_page("pages/kpis.py").run()
    assert not at.exception, at.exception
    assert _metric(at, "Territories") == "1" and _metric(at, "Accounts") == "10"


def _figures(at) -> list[dict]:
    import json
    return [json.loads(e.proto.spec) for e in at.get("plotly_chart")]


def test_kpis_read_at_a_glance_company_forecast_legends_and_plain_columns(page):
    at, db = page
    # the company total, forecast with the season the backtest chose
    assert _metric(at, "Company: next month").startswith("$") and _metric(at, "Company: next 6 months").startswith("$")
    chosen = next(c.value for c in at.caption if c.value.startswith("Model chosen by the backtest"))
    assert "yearly season" in chosen and "(chosen)" in chosen and "ETS(A,Ad,N)" in chosen
    table = _table(at, "kpis_forecast_table")
    assert table["Model"].str.contains("yearly season").mean() > 0.5  # the demo's ±20 % season is learnt
    seasonal = table[table["Model"].str.contains("yearly season")]
    assert (seasonal["Backtest MAPE"] <= seasonal["Without season: MAPE"]).all()  # chosen because it was better
    # colour is explained where it is used, big bubbles and outliers are named, fonts are readable
    figures = _figures(at)
    bars = next(f for f in figures if "by territory" in f["layout"]["title"]["text"])
    assert {d["name"] for d in bars["data"]} <= {"High quality", "Medium quality", "Low quality"}
    assert bars["layout"]["font"]["size"] >= 12 and all(d.get("customdata") for d in bars["data"])
    scatter = next(f for f in figures if "potential vs penetration" in f["layout"]["title"]["text"])
    assert 5 <= sum(bool(x) for d in scatter["data"] for x in d["text"]) < len(_table(at, "kpis_territory_table"))
    assert any("Colour: territory quality" in c.value for c in at.caption)
    # every column a user reads is a plain name (no code names like visit_hours)
    for frame in at.dataframe:
        for column in frame.value.columns:
            assert "_" not in str(column) and str(column)[:1].isupper(), column
