"""Rules: named accounts beat overlays, overlays beat the map, and every consumer sees them."""

from __future__ import annotations

import pytest

from territory import store
from territory.errors import NotFoundError, ValidationError
from territory.kpis import scorecard
from territory.optimizer import Options
from territory.plans import book, edits, plan, rebalance, rules, totals


@pytest.fixture
def working(tiny_con):
    sid = plan.working_scenario(tiny_con)
    strategic = plan.create_territory(tiny_con, sid, "Strategic", rep_id="R1")
    return tiny_con, sid, strategic


def _owners(con, sid) -> dict:
    frame = book.accounts(con, sid)
    return dict(zip(frame["account_id"], zip(frame["territory_id"], frame["assigned_by"])))


def test_precedence_named_then_overlay_then_map(working):
    con, sid, strategic = working
    rules.add_overlay(con, sid, strategic, rules.Overlay(min_employees=1000))
    assert _owners(con, sid)["A4"] == (strategic, "overlay")
    assert _owners(con, sid)["A3"] == ("R2", "map")
    rules.add_named(con, sid, "A4", "R2")
    assert _owners(con, sid)["A4"] == ("R2", "named")  # a named account wins over the overlay


def test_overlays_apply_in_priority_order_and_need_every_condition(working):
    con, sid, strategic = working
    retail = plan.create_territory(con, sid, "Retail desk")
    rules.add_overlay(con, sid, strategic, rules.Overlay(industry="Retail", min_employees=1000), priority=50)
    rules.add_overlay(con, sid, retail, rules.Overlay(industry="Retail"), priority=60)
    owners = _owners(con, sid)
    assert owners["A4"][0] == strategic  # both match; priority 50 first
    assert owners["A2"][0] == retail and owners["A3"][0] == retail
    assert owners["A1"] == ("R1", "map")  # Technology matches neither


def test_rules_reach_kpis_and_the_rule_listing(working):
    con, sid, strategic = working
    rules.add_overlay(con, sid, strategic, rules.Overlay(tier="A"))
    card = scorecard.build(con, sid).territories.set_index("name")
    assert card.loc["Strategic", "accounts"] == 1 and card.loc["Strategic", "potential"] == 4000
    ben = card[card["rep_id"] == "R2"].iloc[0]
    assert ben["potential"] == 2000 and ben["revenue"] == 600
    moved, per = totals.disruption(con, sid, plan.baseline_scenario(con))  # the Designer's "changing territory"
    assert moved["accounts_moved"] == 1 and per.set_index("territory_id").loc[strategic, "gained_accounts"] == 1
    listing = rules.listing(con, sid)
    assert listing.loc[0, "rule"] == "tier = A" and listing.loc[0, "accounts"] == 1


def test_rule_offsets_move_ruled_sums_between_territories(working):
    con, sid, strategic = working
    rules.add_named(con, sid, "A2", strategic)
    off = book.rule_offsets(con, sid).set_index("territory_id")
    assert off.loc[strategic, "potential"] == 3000 and off.loc["R1", "potential"] == -3000
    assert off.loc[strategic, "accounts"] == 1 and off.loc["R1", "visit_hours"] == -12


def test_the_optimizer_leaves_ruled_accounts_out_of_the_cells_it_moves(working):
    con, sid, strategic = working
    before = rebalance._stored_plan(con, sid).units.attrs["potential"].sum()
    rules.add_overlay(con, sid, strategic, rules.Overlay(min_employees=1000))
    after = rebalance._stored_plan(con, sid).units.attrs["potential"].sum()
    assert before - after == pytest.approx(4000)
    preview = rebalance.rebalance(con, sid, Options(balance={"potential": 5.0}, time_limit=2))
    assert strategic not in set(preview.after)  # the overlay territory holds no cells


def test_bad_rules_are_refused_and_change_nothing(working):
    con, sid, _ = working
    before = store.fingerprint(con)
    with pytest.raises(NotFoundError, match="no account with id 'NOPE'"):
        rules.add_named(con, sid, "NOPE", "R1")
    with pytest.raises(NotFoundError, match="no territory 'T999'"):
        rules.add_overlay(con, sid, "T999", rules.Overlay(industry="Retail"))
    with pytest.raises(ValidationError, match="at least one condition"):
        rules.add_overlay(con, sid, "R1", rules.Overlay())
    with pytest.raises(ValidationError, match="tier 'Z'"):
        rules.add_overlay(con, sid, "R1", rules.Overlay(tier="Z"))
    assert store.fingerprint(con) == before


def test_rules_are_cloned_with_the_plan_and_removed_with_their_territory(working):
    con, sid, strategic = working
    rules.add_overlay(con, sid, strategic, rules.Overlay(min_employees=1000))
    copy = plan.clone(con, sid, "Copy")
    assert _owners(con, copy)["A4"] == (strategic, "overlay")
    edits.delete_territory(con, copy, strategic)
    assert rules.listing(con, copy).empty and len(rules.listing(con, sid)) == 1
    assert _owners(con, copy)["A4"] == ("R2", "map")
