"""Disruption against the baseline and the working plan, on the small demo database."""


import h3
import pytest

from territory import grid
from territory.plans import book, edits, plan, totals


def test_working_plan_starts_as_the_baseline(demo_con):
    base = plan.baseline_scenario(demo_con)
    work = plan.working_scenario(demo_con)
    assert work != base and plan.working_scenario(demo_con) == work  # made once
    overall, per = totals.disruption(demo_con, work, base)
    assert overall["accounts_moved"] == 0 and per.empty
    assert len(plan.assignments(demo_con, work)) == len(plan.assignments(demo_con, base))


def test_moving_one_cell_moves_exactly_its_accounts_that_follow_the_map(demo_con):
    """The baseline holds the accounts of a cell's minority owners for their owner (named-account
    rules, so it is the CRM exactly); painting the cell moves the others, and only them."""
    base, work = plan.baseline_scenario(demo_con), plan.working_scenario(demo_con)
    cells = grid.aggregate_cells(demo_con, plan.resolution(demo_con, work))
    assign = plan.assignments(demo_con, work).merge(cells, on="cell")
    row = assign.sort_values("accounts", ascending=False).iloc[0]
    book_before = book.accounts(demo_con, work)
    res = plan.resolution(demo_con, work)
    in_cell = book_before["cell"].map(lambda c: h3.str_to_int(h3.cell_to_parent(h3.int_to_str(int(c)), res)) == row["cell"])
    follows = book_before[in_cell & (book_before["assigned_by"] == "map")]
    assert 0 < len(follows) <= row["accounts"]
    other = next(t for t in plan.territories(demo_con, work)["territory_id"] if t != row["territory_id"])
    edits.assign(demo_con, work, [int(row["cell"])], other)
    overall, per = totals.disruption(demo_con, work, base)
    assert overall["accounts_moved"] == len(follows)
    assert overall["revenue_moved"] == pytest.approx(follows["revenue_12m"].sum())
    per = per.set_index("territory_id")
    assert per.loc[other, "gained_accounts"] == len(follows)
    assert per.loc[row["territory_id"], "lost_accounts"] == len(follows)
