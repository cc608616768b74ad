"""Rep allocation on the tiny book: the known best pairing, reasons, weights, accepting."""

from __future__ import annotations

import math

import pytest

from territory import store
from territory.errors import ValidationError
from territory.kpis import allocation
from territory.plans import plan


@pytest.fixture
def swapped(tiny_con):
    """A working plan where each territory was given the other rep: the best answer is to swap back."""
    sid = plan.working_scenario(tiny_con)
    plan.update_territory(tiny_con, sid, "R1", rep_id="R2")
    plan.update_territory(tiny_con, sid, "R2", rep_id="R1")
    return tiny_con, sid


def test_the_assignment_gives_each_territory_its_nearest_related_rep(swapped):
    con, sid = swapped
    best = allocation.suggest(con, sid).set_index("territory_id")
    assert best["rep_id"].to_dict() == {"R1": "R1", "R2": "R2"}
    assert best["changes"].all()
    denver = best.loc["R1"]
    # potential-weighted distance from Ana's home: A1 (1000) at 0 km, A2 (3000) 1° north
    assert denver["distance_km"] == pytest.approx(0.75 * 6371.0088 * math.pi / 180)
    assert denver["distance"] == pytest.approx(1 - denver["distance_km"] / allocation.FAR_KM)
    assert denver["relationships"] == pytest.approx(1.0)
    assert "owns 100% of the revenue today" in denver["reasons"]
    assert "skills (finance, technology) cover 25% of the potential" in denver["reasons"]


def test_with_only_skills_the_pairing_maximises_total_skill_fit(swapped):
    """Skill fit = share of potential in the rep's industries. Denver's territory: A1 Technology
    1000 + A2 Retail 3000; Kansas City: all Retail. Ana (Technology) 25 % / 0 %, Ben (Retail)
    75 % / 100 %: Ana→Denver + Ben→KC = 1.25 beats Ben→Denver + Ana→KC = 0.75."""
    con, sid = swapped
    fits = allocation.scores(con, sid).set_index(["rep_id", "territory_id"])["skills"]
    assert [fits[p] for p in [("R1", "R1"), ("R1", "R2"), ("R2", "R1"), ("R2", "R2")]] == pytest.approx(
        [0.25, 0.0, 0.75, 1.0])
    best = allocation.suggest(con, sid, weights=allocation.Weights(skills=1, distance=0, relationships=0, capacity=0))
    assert best.set_index("territory_id")["rep_id"].to_dict() == {"R1": "R1", "R2": "R2"}
    assert best["fit"].sum() == pytest.approx(1.25)
    with pytest.raises(ValidationError, match="weights"):
        allocation.Weights(0, 0, 0, 0).normalised()


def test_accept_some_pairs_all_or_nothing(swapped):
    con, sid = swapped
    assert allocation.accept(con, sid, [("R1", "R1")]) == 1
    reps = plan.territories(con, sid).set_index("territory_id")["rep_id"]
    assert reps.to_dict() == {"R1": "R1", "R2": "R1"}
    before = store.fingerprint(con)
    with pytest.raises(ValidationError, match="no longer exists"):
        allocation.accept(con, sid, [("R2", "R2"), ("R1", "GONE")])
    assert store.fingerprint(con) == before


def test_territory_names_follow_their_new_rep_when_asked(swapped):
    con, sid = swapped
    terr = plan.territories(con, sid).set_index("territory_id")
    old_rep, new_rep = terr.loc["R1", "rep_name"], terr.loc["R2", "rep_name"]
    plan.update_territory(con, sid, "R1", name=f"Denver ({old_rep})")
    plan.update_territory(con, sid, "R2", name="Kansas City")
    allocation.accept(con, sid, [("R1", "R1"), ("R2", "R2")], rename=True)
    names = plan.territories(con, sid).set_index("territory_id")
    assert names.loc["R1", "name"] == f"Denver ({names.loc['R1', 'rep_name']})" != f"Denver ({old_rep})"
    assert names.loc["R2", "name"] == "Kansas City"  # not named after a rep: kept
    assert new_rep != old_rep
