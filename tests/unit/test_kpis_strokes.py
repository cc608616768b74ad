"""KPI math on a tiny drawn patch, contiguity, disruption, and map strokes -> cells.

Patch (resolution 7): a centre cell C with its ring of six, all with accounts::

        r r          territory A: C and three ring cells
       r C r         territory B: the other three ring cells
        r r
"""

from __future__ import annotations

import h3
import numpy as np
import pandas as pd
import pytest

from territory.errors import ValidationError
from territory.plans import strokes, totals
from territory.ui.mapbridge import pending


@pytest.fixture
def patch():
    centre = h3.latlng_to_cell(39.74, -104.99, 7)
    ring = [h3.str_to_int(c) for c in h3.grid_ring(centre, 1)]
    c = h3.str_to_int(centre)
    cells = pd.DataFrame({"cell": [c, *ring], "accounts": [10, 1, 2, 3, 4, 5, 6],
                          "potential": [100.0, 10, 20, 30, 40, 50, 60], "revenue_12m": 1.0,
                          "pipeline": 0.0, "weighted_pipeline": 0.0, "visit_hours": 2.0})
    assign = pd.DataFrame({"cell": [c, *ring], "territory_id": ["A", "A", "A", "A", "B", "B", "B"]})
    terr = pd.DataFrame({"territory_id": ["A", "B", "C"], "name": ["North", "South", "Empty"],
                         "color": ["#000000"] * 3})
    return cells, assign, terr, c, ring


def test_territory_sums_and_deviation_from_the_mean(patch):
    cells, assign, terr, _, _ = patch
    out = totals.territory_kpis(cells, assign, terr).set_index("territory_id")
    assert out.loc["A", "accounts"] == 10 + 1 + 2 + 3 and out.loc["B", "accounts"] == 15
    assert out.loc["A", "potential"] == 160 and out.loc["B", "potential"] == 150
    assert out.loc["C", "cells"] == 0 and out.loc["C", "potential"] == 0
    mean = (160 + 150 + 0) / 3
    assert out.loc["A", "dev_potential"] == pytest.approx((160 / mean - 1) * 100)


def test_balance_index():
    b = totals.balance([90, 100, 110])
    assert b.max_deviation_pct == pytest.approx(10.0)
    assert b.cv == pytest.approx(pd.Series([90, 100, 110]).std(ddof=0) / 100)


def test_unassigned_cells(patch):
    cells, assign, _, _, ring = patch
    left = totals.unassigned(cells, assign[assign["cell"] != ring[0]])
    assert left["cell"].tolist() == [ring[0]] and left["accounts"].sum() == 1


def test_contiguity_counts_pieces_and_finds_strays(patch):
    cells, assign, _, c, ring = patch
    parts = totals.contiguity(assign)
    assert len(parts["A"]) == 1  # the centre connects its ring cells
    split = assign[assign["cell"] != c]  # without the centre, A's ring cells may fall apart
    parts = totals.contiguity(split)
    expected = len(totals.pieces(split.loc[split["territory_id"] == "A", "cell"]))
    assert len(parts["A"]) == expected
    assert set(totals.stray_cells(parts)) == {x for p in parts["A"][1:] for x in p} | {x for p in parts["B"][1:] for x in p}
    far = h3.str_to_int(h3.latlng_to_cell(45.0, -93.0, 7))
    assert len(totals.pieces([c, far])) == 2


def test_brush_rings(patch):
    _, _, _, c, ring = patch
    assert strokes.brush(c, 0) == [c]
    assert strokes.brush(c, 1) == sorted([c, *ring])
    assert len(strokes.brush(c, 2)) == 19
    assert strokes.brush(c, 2, universe=[ring[0]]) == sorted([c, ring[0]])
    with pytest.raises(ValidationError):
        strokes.brush(c, 6)


def test_rectangle_and_polygon_cover_the_cells_inside(patch):
    _, _, _, c, ring = patch
    lat, lng = h3.cell_to_latlng(h3.int_to_str(c))
    inside = strokes.cells_in_rectangle(lat - 0.2, lng - 0.2, lat + 0.2, lng + 0.2, 7, universe=[c, *ring])
    assert inside == sorted([c, *ring])
    tiny = strokes.cells_in_rectangle(lat - 0.001, lng - 0.001, lat + 0.001, lng + 0.001, 7)
    assert tiny == [c]
    drawing = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[
        [lng - 0.2, lat - 0.2], [lng + 0.2, lat - 0.2], [lng + 0.2, lat + 0.2], [lng - 0.2, lat + 0.2], [lng - 0.2, lat - 0.2]]]}}
    assert strokes.from_drawing(drawing, 7, universe=[c, *ring]) == inside
    with pytest.raises(ValidationError):
        strokes.cells_in_rectangle(1, 1, 0, 2, 7)


def test_empty_gaps_do_not_split_but_other_territories_do():
    """Three cells in a straight line: x . y — the middle one empty, then held by B."""
    a = h3.latlng_to_cell(39.74, -104.99, 7)
    mid = h3.grid_ring(a, 1)[0]
    far = next(c for c in h3.grid_ring(mid, 1) if h3.grid_distance(a, c) == 2)
    x, m, y = (h3.str_to_int(c) for c in (a, mid, far))
    assert len(totals.pieces([x, y], gap=0)) == 2
    assert len(totals.pieces([x, y], gap=1)) == 1
    assert len(totals.pieces([x, y], blocked={m}, gap=1)) == 2
    assign = pd.DataFrame({"cell": [x, y, m], "territory_id": ["A", "A", "B"]})
    assert len(totals.contiguity(assign, gap=1)["A"]) == 2  # gap 2 could walk around B
    assert len(totals.contiguity(assign.iloc[:2], gap=2)["A"]) == 1


@pytest.mark.parametrize("seed", range(6))
def test_whole_plan_contiguity_matches_walking_each_territory(seed):
    """The one-graph contiguity equals the reference walk (``pieces``) on random messy plans:
    holes, enclaves, far-off cells and territories cut in two by others."""
    rng = np.random.default_rng(seed)
    centre = h3.latlng_to_cell(39.0 + seed, -100.0, 8)
    disk = [h3.str_to_int(c) for c in h3.grid_disk(centre, 9)]
    cells = rng.choice(disk, size=len(disk) // 2, replace=False)
    territories = rng.choice(["A", "B", "C", "D"], size=len(cells), p=[0.4, 0.3, 0.2, 0.1])
    assign = pd.DataFrame({"cell": cells.astype("uint64"), "territory_id": territories})
    every = {int(c) for c in cells}
    for gap in (0, 1, 2):
        reference = {t: sorted(sorted(p) for p in totals.pieces({int(c) for c in g["cell"]},
                                                              blocked=every - {int(c) for c in g["cell"]}, gap=gap))
                     for t, g in assign.groupby("territory_id")}
        fast = totals.contiguity(assign, gap=gap)
        assert {t: sorted(sorted(p) for p in ps) for t, ps in fast.items()} == reference
        counts, strays = totals.split_pieces(assign, gap=gap)
        assert counts == {t: len(ps) for t, ps in reference.items()}
        assert sorted(strays.tolist()) == sorted(totals.stray_cells(fast))
    assert any(n > 1 for n in totals.split_pieces(assign, gap=0)[0].values())  # the case is not trivial


def test_map_events_are_handled_once_and_in_order():
    value = {"session": "tab1", "events": [{"seq": 2, "kind": "click"}, {"seq": 1, "kind": "shape"}]}
    events, ack = pending(value, None)
    assert [e["seq"] for e in events] == [1, 2] and ack == {"session": "tab1", "seq": 2}
    # the browser resends until acknowledged: nothing is handled twice
    value["events"].append({"seq": 3, "kind": "click"})
    events, ack = pending(value, ack)
    assert [e["seq"] for e in events] == [3] and ack["seq"] == 3
    assert pending(value, ack)[0] == []
    # a reload is a new session with its own numbering
    events, ack = pending({"session": "tab1-reloaded", "events": [{"seq": 1}]}, ack)
    assert [e["seq"] for e in events] == [1] and ack == {"session": "tab1-reloaded", "seq": 1}
