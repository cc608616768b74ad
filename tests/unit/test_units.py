"""Adaptive units: plans whose cells mix H3 resolutions (split dense cells, merge them back)."""

from __future__ import annotations

import json

import h3
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, shape

from territory import exports, grid, store
from territory.errors import EditRefused
from territory.plans import book, edits, plan, planview, strokes, totals, units


def _densest(con, sid) -> int:
    """The plan cell with the most accounts."""
    cells = planview.unit_cells(con, sid)
    return int(cells["cell"].to_numpy()[cells["accounts"].to_numpy().argmax()])


def _owner(con, sid, cell: int) -> str:
    a = plan.assignments(con, sid)
    return a.set_index(a["cell"].astype(np.int64))["territory_id"][int(cell)]


def _sums(con, sid) -> pd.DataFrame:
    """Per territory, the summed measures as the Designer's panel computes them (rules applied)."""
    table = totals.territory_kpis(planview.unit_cells(con, sid), plan.assignments(con, sid), plan.territories(con, sid),
                                  offsets=book.rule_offsets(con, sid))
    return table.set_index("territory_id")[list(totals.SUMS)].sort_index()


def test_split_and_merge_keep_every_total_and_are_undo_steps(demo_con):
    sid = plan.working_scenario(demo_con)
    before, accounts = _sums(demo_con, sid), book.accounts(demo_con, sid)[["account_id", "territory_id"]]
    cell = _densest(demo_con, sid)
    territory = _owner(demo_con, sid, cell)
    edits.split(demo_con, sid, [cell])
    stored = plan.assignments(demo_con, sid)
    kids = [c for c in stored["cell"].astype(int) if grid.res_of([c])[0] == plan.resolution(demo_con, sid) + 1]
    assert cell not in set(stored["cell"]) and sorted(kids) == sorted(units.children(cell))
    assert {_owner(demo_con, sid, k) for k in kids} == {territory}
    pd.testing.assert_frame_equal(_sums(demo_con, sid), before)  # totals equal at every split level
    # split again, one level down, then paint one grandchild into another territory
    grandchild_parent = max(kids, key=lambda k: len(book.cell_accounts(demo_con, sid, k)))
    edits.split(demo_con, sid, [grandchild_parent])
    pd.testing.assert_frame_equal(_sums(demo_con, sid), before)
    other = next(t for t in plan.territories(demo_con, sid)["territory_id"] if t != territory)
    grandchild = max(units.children(grandchild_parent), key=lambda k: len(book.cell_accounts(demo_con, sid, k)))
    edits.assign(demo_con, sid, [grandchild], other)
    moved = set(book.cell_accounts(demo_con, sid, grandchild)["account_id"]) - set(
        book.cell_accounts(demo_con, sid, grandchild).dropna(subset=["placed_by"])["account_id"])
    now = book.accounts(demo_con, sid).set_index("account_id")["territory_id"]
    assert moved and set(now[list(moved)]) == {other}  # the account follows its finest cell
    with pytest.raises(EditRefused, match="different territories"):
        edits.merge(demo_con, sid, grandchild)
    edits.undo(demo_con, sid)
    edits.merge(demo_con, sid, grandchild)  # all seven of one territory again: back to their parent
    edits.merge(demo_con, sid, grandchild_parent)
    assert cell in set(plan.assignments(demo_con, sid)["cell"].astype(int))
    pd.testing.assert_frame_equal(book.accounts(demo_con, sid)[["account_id", "territory_id"]], accounts)
    for _ in range(2):  # two merges, then the two splits: undo walks back through each
        edits.undo(demo_con, sid)
    assert grandchild_parent not in set(plan.assignments(demo_con, sid)["cell"].astype(int))


def test_a_cell_and_its_part_never_both_belong_to_a_plan(demo_con):
    sid = plan.working_scenario(demo_con)
    cell = _densest(demo_con, sid)
    territory = _owner(demo_con, sid, cell)
    version = edits.version(demo_con, sid)
    with pytest.raises(EditRefused, match="a cell and a part of it"):
        edits.assign(demo_con, sid, [units.children(cell)[0]], territory)
    assert edits.version(demo_con, sid) == version  # nothing written
    assert units.violations(plan.assignments(demo_con, sid)["cell"]).size == 0


def test_splitting_is_refused_past_the_finest_resolution_and_for_locked_cells(demo_con):
    sid = plan.working_scenario(demo_con)
    cell = _densest(demo_con, sid)
    plan.lock_cells(demo_con, sid, [cell])
    with pytest.raises(EditRefused, match="locked"):
        edits.split(demo_con, sid, [cell])
    plan.lock_cells(demo_con, sid, [cell], locked=False)
    for _ in range(units.FINEST_STEPS):
        edits.split(demo_con, sid, [cell])
        cell = max(units.children(cell), key=lambda k: len(book.cell_accounts(demo_con, sid, k)))
    with pytest.raises(EditRefused, match="finest resolution"):
        edits.split(demo_con, sid, [cell])


def test_neighbours_across_resolutions():
    centre = h3.str_to_int(h3.latlng_to_cell(39.74, -104.99, 5))
    ring = [h3.str_to_int(c) for c in h3.grid_ring(h3.int_to_str(centre), 1)]
    kids = units.children(ring[0])  # one neighbour split into its seven children
    cells = np.sort(np.array([centre, *ring[1:], *kids], dtype=np.uint64))
    near = units.touching(cells)
    pairs = {(int(cells[a]), int(cells[b])) for a, b in zip(near.a, near.b)}
    touching_centre = {b if a == centre else a for a, b in pairs if centre in (a, b)}
    assert set(ring[1:]) <= touching_centre  # the whole neighbours
    assert 2 <= len(touching_centre & set(kids)) <= 4  # the children along the shared edge, not the far ones
    assert not {a for a, b in pairs} & {b for a, b in pairs} - set(cells.tolist())
    # a territory made of the centre and the children of its neighbour is one piece; without the
    # children that touch, it is two
    frame = pd.DataFrame({"cell": cells.astype(np.int64), "territory_id": "T"})
    assert totals.split_pieces(frame)[0] == {"T": 1}
    far = pd.DataFrame({"cell": np.array([centre, *[k for k in kids if k not in touching_centre]], dtype=np.int64),
                        "territory_id": "T"})
    far = pd.concat([far, pd.DataFrame({"cell": [int(ring[3]), int(ring[4])], "territory_id": "U"})])
    counts, _ = totals.split_pieces(far, gap=0)
    assert counts["T"] == 2


def test_strokes_cover_units_of_any_resolution(demo_con):
    sid = plan.working_scenario(demo_con)
    cell = _densest(demo_con, sid)
    edits.split(demo_con, sid, [cell])
    cells = plan.assignments(demo_con, sid)["cell"].astype(int).tolist()
    kid = units.children(cell)[3]
    lat, lng = h3.cell_to_latlng(h3.int_to_str(kid))
    assert units.unit_at(lat, lng, cells, plan.resolution(demo_con, sid)) == kid
    brush = strokes.brush(kid, 1, universe=cells)
    assert kid in brush and set(brush) <= set(cells) and len(brush) >= 4  # siblings and coarse neighbours
    coarse = strokes.brush(cell, 0, universe=cells)  # the old parent id: the units inside it
    assert coarse == sorted({cell} | set(units.children(cell)))


def test_exports_dissolve_mixed_resolutions_to_valid_shapes(demo_con, tmp_path):
    sid = plan.working_scenario(demo_con)
    cell = _densest(demo_con, sid)
    edits.split(demo_con, sid, [cell])
    kid = units.children(cell)[0]
    other = next(t for t in plan.territories(demo_con, sid)["territory_id"] if t != _owner(demo_con, sid, kid))
    edits.assign(demo_con, sid, [kid], other)
    exports.geojson_file(demo_con, sid, tmp_path / "t.geojson")
    feats = {f["properties"]["territory_id"]: shape(f["geometry"])
             for f in json.loads((tmp_path / "t.geojson").read_text(encoding="utf-8"))["features"]}
    assert all(g.is_valid for g in feats.values())
    lat, lng = h3.cell_to_latlng(h3.int_to_str(kid))
    assert feats[other].contains(Point(lng, lat))  # the painted child is in its new territory's shape
    owner_of_rest = _owner(demo_con, sid, units.children(cell)[1])
    lat, lng = h3.cell_to_latlng(h3.int_to_str(units.children(cell)[1]))
    assert feats[owner_of_rest].contains(Point(lng, lat)) and not feats[other].contains(Point(lng, lat))


def test_an_existing_plan_opens_unchanged_after_the_migration(db_path, accounts_file):
    from territory.data import ingest

    old = store.connect(db_path, upgrade_to=4)  # a database as the previous version made it
    ingest.import_file(old, accounts_file, "accounts")
    old.execute("INSERT INTO scenarios (scenario_id, name, kind, is_active, resolution) VALUES (1, 'Old', 'working', true, 6)")
    old.execute("INSERT INTO territories (scenario_id, territory_id, name) VALUES (1, 'T1', 'Denver'), (1, 'T2', 'Other')")
    old.execute(f"INSERT INTO cell_assignments (scenario_id, cell, territory_id) SELECT DISTINCT 1,"
                f" {grid.parent_sql()}, 'T1' FROM accounts", grid.parent_params(6))
    before = old.execute("SELECT * FROM cell_assignments ORDER BY cell").df()
    owners = book.accounts(old, 1)[["account_id", "territory_id"]]
    old.close()
    con = store.connect(db_path)
    assert store.schema_version(con) >= 5
    pd.testing.assert_frame_equal(con.execute("SELECT * FROM cell_assignments ORDER BY cell").df(), before)
    pd.testing.assert_frame_equal(book.accounts(con, 1)[["account_id", "territory_id"]], owners)
    assert units.finest(con, 1) == 6 + units.FINEST_STEPS
    cell = int(before["cell"].iloc[0])
    edits.split(con, 1, [cell])  # and its cells can be split now
    assert len(plan.assignments(con, 1)) == len(before) - 1 + 7
    pd.testing.assert_frame_equal(book.accounts(con, 1)[["account_id", "territory_id"]], owners)


def test_scenario_compare_sees_a_split_as_no_change_and_a_repainted_part_as_one(demo_con):
    from territory.plans import scenarios

    base = plan.baseline_scenario(demo_con)
    sid = plan.working_scenario(demo_con)
    cell = _densest(demo_con, sid)
    edits.split(demo_con, sid, [cell])
    names = ["Baseline", "Working"]
    assert scenarios.changed_cells(demo_con, [base, sid], names).empty  # the same territories, finer cells
    kid = units.children(cell)[2]
    other = next(t for t in plan.territories(demo_con, sid)["territory_id"] if t != _owner(demo_con, sid, kid))
    edits.assign(demo_con, sid, [kid], other)
    changed = scenarios.changed_cells(demo_con, [base, sid], names)
    assert changed["cell"].tolist() == [kid]
    assert changed["Working"].iloc[0] == plan.territory_name(demo_con, sid, other)
