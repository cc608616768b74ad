"""The market layer: a universe to cells (the rule, by hand), DuckDB's streaming aggregation, the
import's checks, and the market's sums in every roll-up of a plan."""

from __future__ import annotations

import h3
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from territory import grid, metrics, settings, store
from territory.errors import ValidationError
from territory.kpis import scorecard
from territory.market import engines, layer, universe
from territory.plans import book, plan, planview, scenarios, totals

BOSTON = (42.3601, -71.0589)


def _universe(tmp_path, rows: list[dict], name: str = "universe.csv"):
    frame = pd.DataFrame(rows)
    path = tmp_path / name
    frame.to_csv(path, index=False) if name.endswith(".csv") else frame.to_parquet(path, index=False)
    return path


HAND = [  # what each row's potential must be, by the documented rule (settings)
    {"DUNS": "1", "Latitude": BOSTON[0], "Longitude": BOSTON[1], "Industry": "Technology", "Employees": "10"},  # 15,000
    {"DUNS": "2", "Latitude": BOSTON[0], "Longitude": BOSTON[1], "Industry": "Knitting", "Employees": "10"},  # 8,000
    {"DUNS": "3", "Latitude": BOSTON[0], "Longitude": BOSTON[1], "Industry": "Retail", "Revenue": "1000000"},  # 4,000
    {"DUNS": "4", "Latitude": BOSTON[0], "Longitude": BOSTON[1], "Industry": "Retail"},  # 20,000 (fallback)
    {"DUNS": "5", "Latitude": BOSTON[0], "Longitude": BOSTON[1], "Industry": "Retail", "Spend": "$1,200",
     "Employees": "500"},  # 1,200: the spend given wins
    {"DUNS": "6", "ZIP": "2134", "Industry": "Retail", "Employees": "many", "Revenue": "500000"},  # 2,000; ZIP 02134
    {"DUNS": "7", "Latitude": "95", "Longitude": "10", "Industry": "Retail"},  # no valid location
    {"DUNS": "8", "ZIP": "00000", "Industry": "Retail"},  # an unknown ZIP
]


def test_the_rule_the_cell_and_what_is_left_out_by_hand(tmp_path):
    path = _universe(tmp_path, HAND)
    out = tmp_path / "cells.parquet"
    summary = engines.aggregate(path, out)
    cells = engines.read_cells(out).to_pandas()
    boston = h3.str_to_int(h3.latlng_to_cell(*BOSTON, settings.MARKET_RES))
    got = cells.set_index(["cell", "industry"])["market_potential"].to_dict()
    assert got[(boston, "Technology")] == 15_000 and got[(boston, "Knitting")] == 8_000
    assert got[(boston, "Retail")] == 4_000 + 20_000 + 1_200
    zip_cell = cells[(cells["cell"] != boston) & (cells["industry"] == "Retail")]
    assert zip_cell["market_potential"].tolist() == [2_000] and zip_cell["establishments"].tolist() == [1]
    lat, lng = h3.cell_to_latlng(h3.int_to_str(int(zip_cell["cell"].iloc[0])))
    from territory.data import geocode

    assert grid.distance_km(lat, lng, *geocode.locate_zip("02134")) < 1  # its lost leading zero put back
    assert cells["establishments"].sum() == 6 and cells["employees"].sum() == 10 + 10 + 500
    assert (summary.rows, summary.unlocated, summary.unreadable) == (8, 2, 1)
    assert summary.example == "6"  # the smallest id with a problem: where to look in the file
    assert any("no valid coordinates" in p for p in summary.problems())


def test_csv_and_parquet_of_one_universe_give_one_table_in_any_batch_size(tmp_path):
    from territory import demo

    frame = demo.universe_frame(30_000, seed=5)
    frame.to_parquet(tmp_path / "u.parquet", index=False)
    frame.to_csv(tmp_path / "u.csv", index=False)
    engines.aggregate(tmp_path / "u.parquet", tmp_path / "a.parquet")
    engines.aggregate_duckdb(tmp_path / "u.csv", tmp_path / "b.parquet", batch_rows=7_000)  # partial sums add up
    a, b = engines.read_cells(tmp_path / "a.parquet"), engines.read_cells(tmp_path / "b.parquet")
    assert a.num_rows > 1_000 and a.equals(b)
    assert a.schema == universe.CELL_SCHEMA
    assert pa.compute.sum(a["establishments"]).as_py() == 30_000  # every row located (5 % by ZIP only)


def test_a_universe_without_a_location_or_a_folder_without_parquet_is_refused_clearly(tmp_path):
    path = _universe(tmp_path, [{"id": 1, "industry": "Retail", "employees": 3}])
    with pytest.raises(ValidationError, match="no location.*latitude and longitude.*ZIP"):
        engines.aggregate(path, tmp_path / "c.parquet")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValidationError, match="holds no Parquet"):
        engines.aggregate(tmp_path / "empty", tmp_path / "c.parquet")
    with pytest.raises(ValidationError, match="does not exist"):
        engines.aggregate(tmp_path / "nowhere.csv", tmp_path / "c.parquet")


def _cells_file(tmp_path, rows: list[tuple], name="cells.parquet"):
    frame = pd.DataFrame(rows, columns=["cell", "industry", "establishments", "employees", "market_potential"])
    path = tmp_path / name
    frame.to_parquet(path, index=False)
    return path


def test_the_import_rolls_a_finer_table_up_and_a_bad_row_changes_nothing(con, tmp_path):
    fine = h3.latlng_to_cell(*BOSTON, 10)
    kids = [h3.str_to_int(c) for c in h3.cell_to_children(h3.cell_to_parent(fine, 9), 10)]
    good = _cells_file(tmp_path, [(k, "Retail", 2, 10, 1_000) for k in kids])
    loaded = layer.import_cells(con, good)
    assert (loaded.cells, loaded.establishments, loaded.market_potential) == (1, 14, 7_000)
    assert con.execute("SELECT cell FROM market_cells").fetchone()[0] == h3.str_to_int(h3.cell_to_parent(fine, 9))
    before = store.fingerprint(con)
    bad = _cells_file(tmp_path, [(kids[0], "Retail", 1, 1, 10), (12345, "Retail", 1, 1, 10)], "bad.parquet")
    with pytest.raises(ValidationError, match=r"row 2, column cell: '12345' is not an H3 cell"):
        layer.import_cells(con, bad)
    coarse = _cells_file(tmp_path, [(h3.str_to_int(h3.cell_to_parent(fine, 5)), "Retail", 1, 1, 10)], "coarse.parquet")
    with pytest.raises(ValidationError, match="coarser than resolution 9"):
        layer.import_cells(con, coarse)
    negative = _cells_file(tmp_path, [(kids[0], "Retail", 1, 1, -5)], "negative.parquet")
    with pytest.raises(ValidationError, match="row 1, column market_potential"):
        layer.import_cells(con, negative)
    universe_file = _universe(tmp_path, HAND[:2], "universe.parquet")
    with pytest.raises(ValidationError, match="is not a cell table.*aggregate"):
        layer.import_cells(con, universe_file)
    assert store.fingerprint(con) == before  # refused: the layer and everything else as they were


def test_the_market_joins_every_roll_up_and_adds_up_everywhere(demo_con):
    con = demo_con
    total = layer.status(con)
    assert total is not None and total.establishments > 4 * 1_500  # the demo's universe: 4 per account
    sid = plan.working_scenario(con)
    for res in (5, 7):  # equal at every resolution
        cells = grid.aggregate_cells(con, res)
        assert cells["market_potential"].sum() == total.market_potential
        assert cells["accounts"].sum() == store.value(con, "SELECT count(*) FROM accounts")
    # split a dense cell: the plan's units still hold the same market, every cell once
    from territory.plans import edits

    at5 = grid.aggregate_cells(con, 5)
    busiest = at5[at5["cell"].astype(np.int64).isin(plan.assignments(con, sid)["cell"].astype(np.int64))].nlargest(
        1, "market_potential")["cell"].iloc[0]
    edits.split(con, sid, [int(busiest)])
    assert (grid.res_of(plan.assignments(con, sid)["cell"]) > 5).any()
    per_unit = planview.unit_cells(con, sid)
    assert per_unit["market_potential"].sum() == pytest.approx(total.market_potential)
    # per territory (the KPIs) + outside every territory = the layer
    sc = scorecard.build(con, sid)
    assert sc.has_market
    assert sc.territories["market_potential"].sum() + sc.market_outside["market_potential"] == pytest.approx(
        total.market_potential)
    t = sc.territories
    assert np.allclose(t["market_share"], t["potential"] / t["market_potential"], equal_nan=True)
    assert (t["market_white_space"] >= 0).all() and t["market_white_space"].sum() > 0
    # the Designer's panel and the Scenarios comparison agree with the KPIs per territory
    view = planview.build(con, sid, 0, 0, per_unit)
    panel = view.table.set_index("territory_id")["market_potential"]
    kpis = t.set_index("territory_id")["market_potential"]
    assert np.allclose(panel.reindex(kpis.index).fillna(0), kpis.fillna(0))
    cmp = scenarios.compare(con, [plan.baseline_scenario(con), sid])
    mine = cmp.kpis[cmp.kpis["scenario"] == cmp.names[1]].set_index("territory_id")["market_potential"]
    assert np.allclose(mine.reindex(kpis.index), kpis.fillna(0))
    # the market's cells without accounts are white space, not unassigned work
    assert (totals.unassigned(per_unit, view.assignments)["accounts"] > 0).all()
    assert set(metrics.MARKET) <= set(metrics.BALANCEABLE)


def test_an_industry_filter_narrows_the_market_too(demo_con):
    sid = plan.working_scenario(demo_con)
    whole = book.market_by_territory(demo_con, sid)["market_potential"].sum()
    retail = book.market_by_territory(demo_con, sid, ("Retail",))["market_potential"].sum()
    direct = store.value(demo_con, "SELECT sum(market_potential) FROM market_cells WHERE industry = 'Retail'")
    assert 0 < retail < whole and retail == pytest.approx(direct)
    sc = scorecard.build(demo_con, sid, scorecard.Filters(industries=("Retail",)))
    assert sc.territories["market_potential"].sum() + sc.market_outside["market_potential"] == pytest.approx(direct)


def test_without_a_market_layer_nothing_changes_and_balancing_it_is_refused(con, accounts_file, tmp_path):
    from territory.data import ingest
    from territory.optimizer import Options
    from territory.plans import rebalance

    ingest.import_file(con, accounts_file, "accounts")
    sid = plan.create_baseline(con, resolution=5)
    assert layer.status(con) is None and layer.offered(con, list(metrics.NAMES)) == [
        n for n in metrics.NAMES if n not in metrics.MARKET]
    sc = scorecard.build(con, sid)
    assert not sc.has_market and (sc.territories["market_potential"] == 0).all()
    with pytest.raises(ValidationError, match="nothing to balance: Market potential.*territory market import"):
        rebalance.rebalance(con, sid, Options(balance={"market_potential": 0.05}, time_limit=5))
    assert "Market potential $" not in _report_columns(con, sid, tmp_path)  # no empty market columns in the report


def _report_columns(con, sid, tmp_path) -> list[str]:
    from territory import exports

    path = exports.excel_report(con, sid, tmp_path / "report.xlsx").path
    return list(pd.read_excel(path, sheet_name="Territories").columns)


def test_the_excel_report_carries_the_market(demo_con, tmp_path):
    sid = plan.working_scenario(demo_con)
    columns = _report_columns(demo_con, sid, tmp_path)
    assert {"Market potential $", "Share of market (share)", "Market white space $"} <= set(columns)
    sheet = pd.read_excel(tmp_path / "report.xlsx", sheet_name="Territories")
    assert sheet["Market potential $"].sum() == pytest.approx(scorecard.build(demo_con, sid).territories[
        "market_potential"].sum())


def test_the_optimizer_balances_the_market(demo_con):
    from territory.optimizer import Options
    from territory.plans import rebalance

    sid = plan.working_scenario(demo_con)
    market_only_before = _market_only_plan_cells(demo_con, sid)
    before = totals.balance(scenarios.per_territory(book.accounts(demo_con, sid), plan.territories(demo_con, sid),
                                                    book.market_by_territory(demo_con, sid))["market_potential"])
    preview = rebalance.rebalance(demo_con, sid, Options(balance={"market_potential": 0.10}, seed=2, time_limit=25))
    after = preview.report.balance["market_potential"]["max_deviation_pct"]
    assert preview.report.contiguous and after < before.max_deviation_pct / 2
    rebalance.accept(demo_con, preview)
    written = scorecard.build(demo_con, sid).territories["market_potential"]
    assert totals.balance(written).max_deviation_pct == pytest.approx(after, abs=0.5)  # the preview is what is written
    # the market's cells without accounts joined territories: white space now has an owner
    assert _market_only_plan_cells(demo_con, sid) > market_only_before


def _market_only_plan_cells(con, sid) -> int:
    per_unit = planview.unit_cells(con, sid)
    planned = per_unit[per_unit["cell"].astype(np.int64).isin(plan.assignments(con, sid)["cell"].astype(np.int64))]
    return int(((planned["accounts"] == 0) & (planned["market_potential"] > 0)).sum())
