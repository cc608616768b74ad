"""Disruption against the baseline and the working plan, on the small demo database."""


import pytest

from territory import edits, grid, kpis, plan


def test_working_plan_starts_as_the_baseline(demo_con):
    base = plan.baseline_scenario(demo_con)
    work = plan.working_scenario(demo_con)
    assert work != base and plan.working_scenario(demo_con) == work  # made once
    overall, per = kpis.disruption(demo_con, work, base)
    assert overall["accounts_moved"] == 0 and per.empty
    assert len(plan.assignments(demo_con, work)) == len(plan.assignments(demo_con, base))


def test_moving_one_cell_moves_exactly_its_accounts(demo_con):
    base, work = plan.baseline_scenario(demo_con), plan.working_scenario(demo_con)
    cells = grid.aggregate_cells(demo_con, plan.resolution(demo_con, work))
    assign = plan.assignments(demo_con, work).merge(cells, on="cell")
    row = assign.sort_values("accounts", ascending=False).iloc[0]
    other = next(t for t in plan.territories(demo_con, work)["territory_id"] if t != row["territory_id"])
    edits.assign(demo_con, work, [int(row["cell"])], other)
    overall, per = kpis.disruption(demo_con, work, base)
    assert overall["accounts_moved"] == row["accounts"]
    assert overall["revenue_moved"] == pytest.approx(row["revenue_12m"])
    per = per.set_index("territory_id")
    assert per.loc[other, "gained_accounts"] == row["accounts"]
    assert per.loc[row["territory_id"], "lost_accounts"] == row["accounts"]
