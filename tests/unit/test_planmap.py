"""The Designer map's stable base and per-stroke patch."""

from __future__ import annotations

import json

import h3
import pandas as pd
import pytest

from territory.maps import planmap
from territory.plans import colours, plan


@pytest.fixture
def cells():
    centre = h3.latlng_to_cell(41.88, -87.63, 6)
    ids = [h3.str_to_int(c) for c in h3.grid_disk(centre, 1)]
    return pd.DataFrame({"cell": ids, "accounts": range(1, 8), "potential": [10.0 * i for i in range(1, 8)],
                         "revenue_12m": 0.0, "pipeline": 0.0, "weighted_pipeline": 0.0, "visit_hours": 1.0})


def _territories():
    return pd.DataFrame({"territory_id": ["t1", "t2"], "name": ["North <b>&", "South"],
                         "color": ["#112233", "#445566"], "locked": [False, True]})


def test_base_lists_every_cell_once_in_a_stable_order(cells):
    layer = planmap.base(cells, 6, "potential")
    assert sorted(layer["cells"]) == sorted(h3.int_to_str(int(c)) for c in cells["cell"])
    assert len(layer["shade"]) == len(cells) and set(layer["shade"]) <= set("0123")
    # the potential shading rises with the potential
    by_id = dict(zip(layer["cells"], layer["shade"]))
    low, high = cells.sort_values("potential")["cell"].iloc[[0, -1]]
    assert by_id[h3.int_to_str(int(low))] < by_id[h3.int_to_str(int(high))]
    # the same data gives the same base (the browser keeps it); another metric does not
    assert planmap.base(cells.sample(frac=1, random_state=1), 6, "potential")["id"] == layer["id"]
    assert planmap.base(cells, 6, "accounts")["id"] != layer["id"]


def test_patch_gives_each_cell_its_territory_and_marks_strays(cells):
    layer = planmap.base(cells, 6)
    ids = cells["cell"].tolist()
    outside = h3.str_to_int(h3.latlng_to_cell(45.0, -93.0, 6))  # painted, but has no accounts
    assign = pd.DataFrame({"cell": [ids[0], ids[1], ids[2], outside], "territory_id": ["t1", "t2", "t1", "t2"],
                           "locked": [False, True, False, False]})
    p = planmap.patch(layer, assign, _territories(), version=7, strays={ids[2]})
    slot = dict(zip(layer["cells"], p["assign"]))
    assert slot[h3.int_to_str(ids[0])] == 1 and slot[h3.int_to_str(ids[1])] == 2
    assert slot[h3.int_to_str(ids[2])] == -1  # territory 1, split off
    assert sum(1 for s in p["assign"] if s == 0) == len(ids) - 3  # the rest unassigned
    assert p["extra"] == [[h3.int_to_str(outside), 2]]
    assert p["locked"] == [h3.int_to_str(ids[1])]
    assert p["territories"][0] == {"id": "t1", "name": "North <b>&", "color": "#112233", "locked": False}
    assert p["territories"][1]["locked"] is True and p["version"] == 7


def test_base_map_carries_names_only_as_data_and_is_the_same_on_every_build(cells):
    from streamlit_folium import _get_map_string

    layer = planmap.base(cells, 6)
    reps = pd.DataFrame({"name": ["Jo <script>alert(1)</script>"], "home_lat": [41.9], "home_lng": [-87.6]})
    first = _get_map_string(planmap.plan_map(layer, reps=reps))
    assert first == _get_map_string(planmap.plan_map(layer, reps=reps))  # so Streamlit sends it once
    assert "<script>alert" not in first  # the name travels as JSON data, drawn with textContent
    payload = json.loads(first.split("L.territoryPlan(")[1].split(").addTo(")[0])
    assert payload["cells"] == layer["cells"] and "_ints" not in payload
    assert payload["homes"] == [[41.9, -87.6, "Jo <script>alert(1)</script>"]]


def test_touching_territories_get_different_colours_from_a_palette_without_black(demo_con):
    sid = plan.baseline_scenario(demo_con)
    assignments, terr = plan.assignments(demo_con, sid), plan.territories(demo_con, sid)
    shown = dict(zip(terr["territory_id"], terr["color"]))
    touching = [p for p, w in colours.adjacency(assignments).items() if w >= colours.TOUCHING]
    assert len(touching) > 20  # the demo's territories do touch
    assert colours.clashes(assignments, shown) == []
    assert set(shown.values()) <= set(colours.PALETTE) and "#000000" not in colours.PALETTE


def test_recolour_changes_only_the_territories_that_clash(demo_con):
    sid = plan.working_scenario(demo_con)
    assignments, terr = plan.assignments(demo_con, sid), plan.territories(demo_con, sid)
    before = dict(zip(terr["territory_id"], terr["color"]))
    a, b = next(tuple(p) for p, w in colours.adjacency(assignments).items() if w >= colours.TOUCHING)
    plan.update_territory(demo_con, sid, a, color=before[b])  # a user makes two neighbours look alike
    assert colours.clashes(assignments, {**before, a: before[b]})
    version = plan.version(demo_con, sid)
    names = dict(zip(terr["territory_id"], terr["name"]))
    assert plan.recolour(demo_con, sid, expected_version=version) in ([names[a]], [names[b]])
    after = dict(zip(*plan.territories(demo_con, sid)[["territory_id", "color"]].T.to_numpy()))
    assert colours.clashes(assignments, after) == []
    assert {t for t in after if after[t] != before[t]} <= {a, b}
    assert plan.version(demo_con, sid) == version + 1


def test_split_cells_without_accounts_are_in_the_base_not_in_every_patch(cells):
    from territory.plans import units

    empty = [c for c in units.children(int(cells["cell"].iloc[0]))]  # a split cell's parts, no accounts
    with_empty = planmap.base(cells, 6, "potential", also=empty)
    plain = planmap.base(cells, 6, "potential")
    assert len(with_empty["cells"]) == len(cells) + len(empty) and with_empty["levels"] == [6, 7]
    # the shading of the cells with accounts does not change because of the empty ones
    shade = dict(zip(with_empty["cells"], with_empty["shade"]))
    assert all(shade[c] == s for c, s in zip(plain["cells"], plain["shade"]))
    assignments = pd.DataFrame({"cell": empty, "territory_id": "t1", "locked": False})
    assert planmap.patch(with_empty, assignments, _territories(), version=1)["extra"] == []
    assert len(planmap.patch(plain, assignments, _territories(), version=1)["extra"]) == len(empty)
