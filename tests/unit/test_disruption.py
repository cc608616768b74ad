"""Disruption against the baseline and the working plan, on the small demo database."""

import shutil

import pytest

from territory import edits, grid, kpis, plan, store


@pytest.fixture
def demo(demo_db, tmp_path):
    path = tmp_path / "d.duckdb"
    shutil.copy(demo_db, path)
    con = store.connect(path)
    yield con
    con.close()


def test_working_plan_starts_as_the_baseline(demo):
    base = plan.baseline_scenario(demo)
    work = plan.working_scenario(demo)
    assert work != base and plan.working_scenario(demo) == work  # made once
    overall, per = kpis.disruption(demo, work, base)
    assert overall["accounts_moved"] == 0 and per.empty
    assert len(plan.assignments(demo, work)) == len(plan.assignments(demo, base))


def test_moving_one_cell_moves_exactly_its_accounts(demo):
    base, work = plan.baseline_scenario(demo), plan.working_scenario(demo)
    cells = grid.aggregate_cells(demo, plan.resolution(demo, work))
    assign = plan.assignments(demo, work).merge(cells, on="cell")
    row = assign.sort_values("accounts", ascending=False).iloc[0]
    other = next(t for t in plan.territories(demo, work)["territory_id"] if t != row["territory_id"])
    edits.assign(demo, work, [int(row["cell"])], other)
    overall, per = kpis.disruption(demo, work, base)
    assert overall["accounts_moved"] == row["accounts"]
    assert overall["revenue_moved"] == pytest.approx(row["revenue_12m"])
    per = per.set_index("territory_id")
    assert per.loc[other, "gained_accounts"] == row["accounts"]
    assert per.loc[row["territory_id"], "lost_accounts"] == row["accounts"]
