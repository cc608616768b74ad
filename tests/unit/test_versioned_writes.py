"""Every write to a plan is versioned: a second tab that has not seen the latest plan is refused.

Each test plays two tabs on one database: both read the plan's version, tab 1 writes, then tab 2
writes with the version it saw. Tab 2 must get the stale-plan refusal and change nothing.
"""

from __future__ import annotations

import threading

import pytest

from territory import store
from territory.errors import STALE_PLAN, ConflictError
from territory.kpis import allocation
from territory.plans import edits, plan, rules, scenarios


def _tid(con, sid, i=0):
    return plan.territories(con, sid)["territory_id"].iloc[i]


def _cell(con, sid, i=0):
    return int(plan.assignments(con, sid)["cell"].iloc[i])


def _account(con):
    return con.execute("SELECT min(account_id) FROM accounts").fetchall()[0][0]


# (what tab 2 tries, given the connection, plan id and the version it saw)
STALE_WRITES = {
    "create territory": lambda c, s, v: plan.create_territory(c, s, "Tab two", expected_version=v),
    "rename territory": lambda c, s, v: plan.update_territory(c, s, _tid(c, s), name="Tab two", expected_version=v),
    "recolour territory": lambda c, s, v: plan.update_territory(c, s, _tid(c, s), color="#123456", expected_version=v),
    "assign a rep": lambda c, s, v: plan.update_territory(c, s, _tid(c, s), rep_id=plan.NO_REP, expected_version=v),
    "unlock territory": lambda c, s, v: plan.update_territory(c, s, _tid(c, s), locked=False, expected_version=v),
    "delete territory": lambda c, s, v: edits.delete_territory(c, s, _tid(c, s, 1), expected_version=v),
    "lock cells": lambda c, s, v: plan.lock_cells(c, s, [_cell(c, s, 1)], expected_version=v),
    "paint": lambda c, s, v: edits.assign(c, s, [_cell(c, s, 1)], _tid(c, s, 2), expected_version=v),
    "undo": lambda c, s, v: edits.undo(c, s, expected_version=v),
    "named-account rule": lambda c, s, v: rules.add_named(c, s, _account(c), _tid(c, s, 1), expected_version=v),
    "overlay rule": lambda c, s, v: rules.add_overlay(c, s, _tid(c, s, 1), rules.Overlay(tier="A"), expected_version=v),
    "delete rule": lambda c, s, v: rules.delete(c, s, int(rules.listing(c, s)["rule_id"].iloc[0]), expected_version=v),
    "accept rep allocation": lambda c, s, v: allocation.accept(
        c, s, [(_tid(c, s, 1), c.execute("SELECT min(rep_id) FROM reps").fetchall()[0][0])], expected_version=v),
    "rename plan": lambda c, s, v: scenarios.rename(c, s, "Tab two's plan", expected_version=v),
    "plan notes": lambda c, s, v: scenarios.set_notes(c, s, "Tab two's notes", expected_version=v),
    "promote": lambda c, s, v: scenarios.promote(c, s, expected_version=v),
    "delete plan": lambda c, s, v: scenarios.delete(c, s, expected_version=v),
}


@pytest.mark.parametrize("kind", list(STALE_WRITES))
def test_a_stale_tab_is_refused_for_every_kind_of_write(demo_con, kind):
    con = demo_con
    sid = scenarios.create(con, "Shared plan", source=plan.baseline_scenario(con))
    edits.assign(con, sid, [_cell(con, sid, 3)], None)  # an undo step exists
    rules.add_named(con, sid, _account(con), _tid(con, sid))  # a rule exists
    seen_by_both = plan.version(con, sid)
    plan.update_territory(con, sid, _tid(con, sid), locked=True, expected_version=seen_by_both)  # tab 1 locks
    before = store.fingerprint(con)
    with pytest.raises(ConflictError, match="changed elsewhere"):
        STALE_WRITES[kind](con, sid, seen_by_both)
    assert store.fingerprint(con) == before  # nothing was written: the lock holds
    assert bool(plan.territories(con, sid).set_index("territory_id").loc[_tid(con, sid), "locked"])


def test_a_tab_that_has_seen_the_latest_version_writes(demo_con):
    sid = scenarios.create(demo_con, "Fresh", source=plan.baseline_scenario(demo_con))
    v = plan.version(demo_con, sid)
    plan.update_territory(demo_con, sid, _tid(demo_con, sid), name="Renamed", expected_version=v)
    assert plan.version(demo_con, sid) == v + 1
    assert "Renamed" in set(plan.territories(demo_con, sid)["name"])


def test_two_writes_that_really_overlap_become_the_same_refusal_not_a_traceback(demo_con):
    """Two cursors (two tabs of the app) write the same plan in overlapping transactions: the
    second gets DuckDB's write conflict, turned into the stale-plan refusal."""
    sid = scenarios.create(demo_con, "Contested", source=plan.baseline_scenario(demo_con))
    tab1, tab2 = demo_con.cursor(), demo_con.cursor()
    inside, go_on = threading.Event(), threading.Event()
    outcome = {}

    def first() -> None:
        with plan.change(tab1, sid, None):
            tab1.execute("UPDATE territories SET name = 'one' WHERE scenario_id = ? AND territory_id = ?",
                         [sid, _tid(tab1, sid)])
            inside.set()
            go_on.wait(10)

    worker = threading.Thread(target=first)
    worker.start()
    inside.wait(10)
    try:
        plan.update_territory(tab2, sid, _tid(tab2, sid), name="two")
    except ConflictError as exc:
        outcome["refused"] = str(exc)
    finally:
        go_on.set()
        worker.join()
    assert outcome.get("refused") == STALE_PLAN
    assert "one" in set(plan.territories(demo_con, sid)["name"])
