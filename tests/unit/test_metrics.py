"""Each summed measure is defined once (``territory.metrics``), and every surface shows the same
number for it per territory: the Designer's panel, the KPIs page, the Scenarios comparison, the
Excel report and what the optimizer balances."""

from __future__ import annotations

import pandas as pd
import pytest

from territory import exports, grid, metrics
from territory.kpis import scorecard
from territory.plans import plan, planview, rebalance, scenarios

# the KPI registry names two of the sums differently (it also has ratios and rep-based measures)
KPI_COLUMN = {"revenue_12m": "revenue"}
SHARED = ("accounts", "potential", "revenue_12m", "pipeline", "visit_hours")


def test_every_surface_shows_the_same_number_per_territory(demo_con, tmp_path):
    con = demo_con
    sid = plan.working_scenario(con)
    base = plan.baseline_scenario(con)
    designer = planview.build(con, sid, plan.version(con, sid), 0,
                              grid.aggregate_cells(con, plan.resolution(con, sid))).table.set_index("territory_id")
    kpis = scorecard.build(con, sid).territories.set_index("territory_id")
    names = kpis["name"]
    cmp = scenarios.compare(con, [base, sid])
    compared = cmp.kpis[cmp.kpis["scenario"] == cmp.names[1]].set_index("territory")
    path = exports.excel_report(con, sid, tmp_path / "report.xlsx").path
    excel = pd.read_excel(path, sheet_name="Territories").set_index("Territory")
    stored = rebalance._stored_plan(con, sid)  # what the optimizer balances: the units' sums + rule-held sums
    units = stored.units.attrs.groupby(stored.current).sum()
    engine = units.add(stored.fixed[list(units.columns)], fill_value=0).rename(index=dict(enumerate(stored.tids)))
    assert len(names) > 10
    for m in SHARED:
        kpi = kpis[KPI_COLUMN.get(m, m)]
        for tid, name in names.items():
            expected = kpi[tid]
            assert designer.loc[tid, m] == pytest.approx(expected), (m, name, "Designer")
            if m in scenarios.COMPARED:
                assert compared.loc[name, m] == pytest.approx(expected), (m, name, "Scenarios")
            header = scorecard.COLUMN_LABELS.get(KPI_COLUMN.get(m, m))
            assert excel.loc[name, header] == pytest.approx(expected, rel=1e-9), (m, name, "Excel")
            if m in rebalance.ATTRIBUTES:
                assert engine.loc[tid, m] == pytest.approx(expected), (m, name, "optimizer")


def test_labels_say_which_hours_they_are():
    assert metrics.LABELS["visit_hours"] == "Visit hours (a year)"
    assert "visits + travel" in scorecard.COLUMN_LABELS["workload_hours"]
    assert "visit_hours" in rebalance.ATTRIBUTES and "workload_hours" not in metrics.NAMES
    assert grid.CELL_METRICS == metrics.NAMES and set(scenarios.COMPARED) <= set(metrics.NAMES)
    sql, params = metrics.sums_sql("a")
    assert sql.count(" AS ") == len(metrics.NAMES) and params == {"hours_a": 24.0, "hours_b": 12.0, "hours_c": 4.0}
