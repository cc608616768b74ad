"""The Designer page in AppTest: the plain-widget path (select an area, assign) with the KPIs
shown before and after, undo, and refusal on a locked territory."""

from __future__ import annotations

import pandas as pd
import pytest

from territory import grid, store
from territory.plans import plan
from territory.ui import designer, state, territories
from tests.app.conftest import open_page


@pytest.fixture
def page(app):
    return open_page(app, "pages/designer.py")


def _kpis(at) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "Territory" in d.value.columns).set_index("Territory")


def _expected_after(db, territory_name: str, state_code: str) -> int:
    """Accounts the territory holds once every cell with an account in the state joins it."""
    con = store.connect(db)
    try:
        sid = plan.working_scenario(con)
        return con.execute(
            f"SELECT count(*) FROM accounts a LEFT JOIN cell_assignments ca ON ca.scenario_id = $sid "
            f"AND ca.cell = {grid.parent_sql('a.cell')} LEFT JOIN territories t USING (scenario_id, territory_id) "
            f"WHERE t.name = $name OR {grid.parent_sql('a.cell')} IN (SELECT DISTINCT {grid.parent_sql('cell')} "
            f"FROM accounts WHERE state = $state)",
            {"sid": sid, "name": territory_name, "state": state_code, **grid.parent_params(plan.resolution(con, sid))},
        ).fetchall()[0][0]
    finally:
        con.close()


def test_assign_a_state_updates_the_numbers_and_undo_restores_them(page):
    at, db = page
    active = at.sidebar.selectbox(key="designer_territory")
    name = next(o for o in active.options)
    before = _kpis(at)
    at.multiselect(key="designer_states").select("NM").run()
    at.button(key="designer_area_go").click().run()
    assert not at.exception, at.exception
    after = _kpis(at)
    assert "Painted" in at.success[0].value
    assert after.loc[name, "Accounts"] > before.loc[name, "Accounts"]
    # the numbers shown equal a direct count in the database
    assert after.loc[name, "Accounts"] == _expected_after(db, name, "NM")
    assert after["Accounts"].sum() == before["Accounts"].sum()  # accounts move, none vanish
    moved = next(m for m in at.metric if m.label == "Accounts moved")
    assert int(moved.value.replace(",", "")) > 0  # vs the baseline
    at.button(key="designer_undo").click().run()
    assert _kpis(at)["Accounts"].to_dict() == before["Accounts"].to_dict()


def test_painting_with_a_locked_territory_is_refused(page):
    at, _ = page
    at.toggle(key=_keys(at)["locked"]).set_value(True).run()
    at.button(key="designer_save_territory").click().run()
    before = _kpis(at)
    at.multiselect(key="designer_states").select("NM").run()
    at.button(key="designer_area_go").click().run()
    assert "locked" in at.error[0].value
    assert _kpis(at)["Accounts"].to_dict() == before["Accounts"].to_dict()


def _keys(at) -> dict[str, str]:
    """Widget keys of the active territory's settings form (keyed by plan and territory)."""
    return territories.territory_keys(at.session_state[state.DESIGN_PLAN], at.sidebar.selectbox(key="designer_territory").value)


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _preview(at) -> None:
    """A rebalance preview with a 10 s limit."""
    at.number_input(key="rebalance_time").set_value(10).run()
    at.button(key="rebalance_go").click().run()
    assert not at.exception, at.exception


def test_rebalance_preview_accept_and_undo(page):
    at, _ = page
    before = _metric(at, "Max deviation")
    _preview(at)
    assert "Cancel" not in [b.label for b in at.button]  # the run is over: nothing left to cancel
    previewed = _metric(at, "Max deviation, Potential ($)")
    assert float(previewed.rstrip("%")) < float(before.rstrip("%"))  # the preview is better balanced
    assert _metric(at, "Max deviation") == before  # and nothing is written yet
    split = _metric(at, "Split territories")
    moved = next(d.value for d in at.dataframe if "account_id" in d.value.columns)
    assert len(moved) > 0 and (moved["from"] != moved["to"]).all()
    at.button(key="rebalance_accept").click().run()
    assert not at.exception, at.exception
    assert "Rebalanced" in at.success[0].value
    assert _metric(at, "Max deviation") == previewed  # the plan is what the preview showed
    assert _metric(at, "Split") == split  # the preview counted split territories as the panel does
    at.button(key="designer_undo").click().run()
    assert _metric(at, "Max deviation") == before


def test_suggested_move_is_accepted_as_one_step(page):
    at, _ = page
    before = float(_metric(at, "Max deviation").rstrip("%"))
    at.button(key="suggest_go").click().run()
    assert not at.exception, at.exception
    first = next(t.value for t in at.text if t.value.startswith("1. the cell around "))  # a place, not a cell id
    expected = float(first.rsplit("→ ", 1)[1].rstrip("%"))
    at.button(key="suggest_accept_0").click().run()
    assert not at.exception, at.exception
    assert "Moved the cell around " in at.success[0].value
    after = float(_metric(at, "Max deviation").rstrip("%"))
    assert after == pytest.approx(expected, abs=0.05) and after <= before
    assert at.sidebar.button(key="designer_undo").label.startswith("Undo (1)")


def test_a_territory_name_is_shown_as_typed_not_as_markdown(page):
    at, _ = page
    name = "**Big** ![x](http://example.invalid/x.png) $5"
    at.text_input(key=_keys(at)["name"]).set_value(name).run()
    at.button(key="designer_save_territory").click().run()
    body = at.success[0].value
    assert r"\*\*Big\*\*" in body and r"\!\[x\]" in body and r"\$5" in body  # escaped, so shown literally
    assert name in next(d.value for d in at.dataframe if "Territory" in d.value.columns)["Territory"].tolist()


def test_create_then_delete_asks_first_and_undo_brings_the_territory_back(page):
    at, db = page
    at.sidebar.text_input(key="designer_new_name").input("Zeta <b>")
    at.sidebar.button(key="FormSubmitter:designer_new_territory-Create").click().run()
    assert not at.exception and "Created territory Zeta <b>" in at.sidebar.success[0].value.replace("\\", "")
    assert at.sidebar.selectbox(key="designer_territory").value is not None
    at.multiselect(key="designer_states").select("NM").run()
    at.button(key="designer_area_go").click().run()  # Zeta gets New Mexico's cells
    painted = _kpis(at).loc["Zeta <b>", "Cells"]
    assert painted > 0 and "into Zeta" in at.sidebar.success[0].value.replace("\\", "")
    delete = at.sidebar.button(key="designer_delete_territory")
    assert delete.label.replace("\\", "") == "Delete Zeta <b>"  # the confirmation names it; nothing is gone yet
    assert "Zeta <b>" in _kpis(at).index
    delete.click().run()
    message = at.sidebar.success[0].value.replace("\\", "")
    assert f"Deleted territory Zeta <b>; its {painted:,} cells are unassigned" in message
    assert "Zeta <b>" not in _kpis(at).index
    at.sidebar.button(key="designer_undo").click().run()
    assert "Undid the deletion of territory Zeta <b>" in at.sidebar.success[0].value.replace("\\", "")
    assert _kpis(at).loc["Zeta <b>", "Cells"] == painted


def test_save_shows_what_will_change_and_only_then_is_enabled(page):
    at, _ = page
    save = at.sidebar.button(key="designer_save_territory")
    assert save.disabled
    keys = territories.territory_keys(at.session_state[state.DESIGN_PLAN], at.sidebar.selectbox(key="designer_territory").value)
    old = at.sidebar.text_input(key=keys["name"]).value
    at.sidebar.text_input(key=keys["name"]).set_value("North <i>").run()
    caption = " ".join(c.value for c in at.sidebar.caption).replace("\\", "")
    assert f"Save will change: name {old} → North <i>" in caption
    assert not at.sidebar.button(key="designer_save_territory").disabled


def test_search_offers_places_and_territories_that_zoom_the_map(page):
    at, _ = page
    active = at.sidebar.selectbox(key="designer_territory")
    tid, label = active.value, active.options[active.index]
    at.text_input(key=state.DESIGN_SEARCH).set_value("Boston, MA").run()
    results = at.selectbox(key=f"{designer.SEARCH_HIT}_Boston, MA")
    assert results.options[0] == "Place: Boston, MA" and results.value is None  # nothing moves until one is chosen
    results.set_value(0).run()
    (south, west), (north, east) = at.session_state[state.DESIGN_FIT]["bounds"]
    assert south < 42.36 < north and west < -71.06 < east
    query = label.split(" (")[0]
    at.text_input(key=state.DESIGN_SEARCH).set_value(query).run()
    results = at.selectbox(key=f"{designer.SEARCH_HIT}_{query}")
    results.set_value(next(i for i, o in enumerate(results.options) if o.startswith("Territory: "))).run()
    assert at.session_state[state.DESIGN_ZOOM]["territory"] == tid  # the map fits it (planmap.js zoomTo)


def test_a_plan_on_the_frontier_is_previewed_and_accepted_as_one_step(page):
    at, _ = page
    before = _metric(at, "Max deviation")
    _preview(at)
    assert len(at.get("plotly_chart")) >= 1  # the balance-vs-disruption curve
    point = at.selectbox(key="rebalance_point")
    assert len(point.options) >= 2 and point.value == len(point.options) - 1  # the best balance first
    best_dev = float(_metric(at, "Max deviation, Potential ($)").rstrip("%"))
    best_moved = float(_metric(at, "Accounts changing territory").rstrip("%"))
    point.set_value(0).run()  # the plan that moves least
    assert not at.exception, at.exception
    least_dev = float(_metric(at, "Max deviation, Potential ($)").rstrip("%"))
    least_moved = float(_metric(at, "Accounts changing territory").rstrip("%"))
    assert least_moved < best_moved and least_dev > best_dev
    assert f"{least_moved:.1f}% of accounts move" in point.options[0]
    at.number_input(key="rebalance_cap").set_value(100.0).run()  # a cap everything meets: the best again
    assert at.selectbox(key="rebalance_point").value == len(point.options) - 1
    at.selectbox(key="rebalance_point").set_value(0).run()
    steps = at.sidebar.button(key="designer_undo").label
    at.button(key="rebalance_accept").click().run()
    assert not at.exception, at.exception
    assert f"{least_dev:.1f}%" == _metric(at, "Max deviation")  # the plan is the point's
    assert at.sidebar.button(key="designer_undo").label != steps
    at.button(key="designer_undo").click().run()
    assert _metric(at, "Max deviation") == before


def test_split_dense_cells_keeps_every_total_and_undoes(page):
    at, _ = page
    before = _kpis(at)
    at.sidebar.button(key="designer_refine").click().run()
    assert not at.exception, at.exception
    assert "Split" in at.success[0].value and "dense areas" in at.success[0].value
    after = _kpis(at)
    cols = ["Accounts"] + [c for c in before.columns if c.startswith("Potential")]
    pd.testing.assert_frame_equal(after[cols], before[cols])  # finer cells, the same totals
    assert (after["Cells"] >= before["Cells"]).all() and after["Cells"].sum() > before["Cells"].sum()
    assert any("dense areas split finer" in c.value for c in at.caption)
    at.button(key="designer_undo").click().run()
    assert _kpis(at)["Cells"].to_dict() == before["Cells"].to_dict()
