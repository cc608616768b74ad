"""Scenarios: lifecycle, promotion history, and the side-by-side comparison on the tiny book."""

from __future__ import annotations

import h3
import pytest

from territory import store
from territory.errors import ValidationError
from territory.plans import edits, plan, scenarios


def _cell_of(lat, lng, res=5) -> int:
    """The plan cell of an account at (lat, lng): the parent of its fine cell."""
    return h3.str_to_int(h3.cell_to_parent(h3.latlng_to_cell(lat, lng, 10), res))


@pytest.fixture
def moved(tiny_con):
    """A scenario from the baseline in which A2's cell (Ana's, north of Denver) went to Ben."""
    base = plan.baseline_scenario(tiny_con)
    sid = scenarios.create(tiny_con, "Ben takes the north", source=base, notes="what if")
    edits.assign(tiny_con, sid, [_cell_of(40.74, -104.99)], "R2")
    return tiny_con, base, sid


def test_compare_shows_deltas_moved_accounts_and_changed_cells(moved):
    con, base, sid = moved
    cmp = scenarios.compare(con, [base, sid])
    assert cmp.names == ["Baseline (CRM ownership)", "Ben takes the north"]
    after = cmp.kpis[cmp.kpis["scenario"] == "Ben takes the north"].set_index("territory_id")
    assert after.loc["R1", "potential"] == 1000 and after.loc["R1", "delta_potential"] == -3000
    assert after.loc["R2", "delta_potential"] == 3000 and after.loc["R2", "delta_accounts"] == 1
    assert cmp.moved[["account_id", "from_owner", "to_owner"]].values.tolist() == [["A2", "Ana", "Ben"]]
    assert cmp.changed_cells["cell"].tolist() == [_cell_of(40.74, -104.99)]
    scores = cmp.scores.set_index("scenario")
    assert scores.loc["Ben takes the north", "disruption_accounts_pct"] == pytest.approx(25)
    assert scores.loc["Baseline (CRM ownership)", "disruption_accounts_pct"] == 0
    # before: 4000 vs 6000 (±20 %); after: 1000 vs 9000 (±80 %)
    assert scores.loc["Baseline (CRM ownership)", "max_dev_potential_pct"] == pytest.approx(20)
    assert scores.loc["Ben takes the north", "max_dev_potential_pct"] == pytest.approx(80)


def test_compare_three_and_refuse_one_or_four(moved):
    con, base, sid = moved
    third = scenarios.create(con, "Copy", source=sid)
    cmp = scenarios.compare(con, [base, sid, third])
    assert cmp.moved.groupby("scenario").size().to_dict() == {"Ben takes the north": 1, "Copy": 1}
    with pytest.raises(ValidationError, match="choose 2 or 3"):
        scenarios.compare(con, [base])
    with pytest.raises(ValidationError, match="choose 2 or 3"):
        scenarios.compare(con, [base, sid, third, scenarios.create(con, "Four", source=base)])


def test_lifecycle_rename_notes_delete(moved):
    con, base, sid = moved
    scenarios.rename(con, sid, "  North to Ben ")
    scenarios.set_notes(con, sid, "review Monday")
    row = scenarios.listing(con).set_index("scenario_id").loc[sid]
    assert (row["name"], row["notes"], row["parent"]) == ("North to Ben", "review Monday", "Baseline (CRM ownership)")
    with pytest.raises(ValidationError, match="exists already"):
        scenarios.rename(con, sid, "Baseline (CRM ownership)")
    with pytest.raises(ValidationError, match="baseline cannot be deleted"):
        scenarios.delete(con, base)
    scenarios.delete(con, sid)
    assert sid not in set(scenarios.listing(con)["scenario_id"])
    assert con.execute("SELECT count(*) FROM cell_assignments WHERE scenario_id = ?", [sid]).fetchall()[0][0] == 0


def test_promote_keeps_the_old_active_plan_as_history(moved):
    con, base, sid = moved
    assert plan.active_scenario(con) == base
    scenarios.promote(con, sid)
    assert plan.active_scenario(con) == sid
    hist = scenarios.history(con)
    assert hist[["promoted", "replaced"]].values.tolist() == [["Ben takes the north", "Baseline (CRM ownership)"]]
    assert base in set(scenarios.listing(con)["scenario_id"])  # the old active plan is kept
    before = store.fingerprint(con)
    with pytest.raises(ValidationError, match="is the active plan"):
        scenarios.delete(con, sid)
    assert store.fingerprint(con) == before


def test_compactness_prefers_round_territories():
    centre = h3.latlng_to_cell(39.7, -104.9, 7)
    disk = [h3.str_to_int(c) for c in h3.grid_disk(centre, 2)]
    line = [h3.str_to_int(c) for c in h3.grid_path_cells(centre, h3.grid_ring(centre, 18)[0])][:19]
    import pandas as pd

    frame = pd.DataFrame({"cell": disk + line, "territory_id": ["round"] * 19 + ["long"] * 19})
    comp = scenarios.compactness(frame)
    assert comp["round"] > 0.8 and comp["long"] < 0.2
