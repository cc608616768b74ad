"""Painting, erasing, locks, undo/redo and the two-tab conflict, on a tiny drawn patch.

The patch is a hexagon of radius 2 at resolution 7 around Denver (19 cells)::

          . . .
         . . . .          A = territory "North"  (the 7 cells of the inner ring + centre)
        . . A . .         B = territory "South"  (empty at first)
         . . . .          the outer 12 cells start unassigned
          . . .
"""

from __future__ import annotations

import h3
import pytest

from territory import store
from territory.plans import edits, plan
from territory.plans.edits import ConflictError, EditRefused


@pytest.fixture
def patch(con):
    centre = h3.latlng_to_cell(39.74, -104.99, 7)
    inner = [h3.str_to_int(c) for c in h3.grid_disk(centre, 1)]
    outer = [h3.str_to_int(c) for c in h3.grid_disk(centre, 2) if h3.str_to_int(c) not in inner]
    con.execute("INSERT INTO scenarios (scenario_id, name, kind, resolution) VALUES (1, 'p', 'working', 7)")
    con.execute("INSERT INTO territories (scenario_id, territory_id, name, color) VALUES "
                "(1, 'A', 'North', '#0072B2'), (1, 'B', 'South', '#E69F00')")
    con.execute("INSERT INTO cell_assignments (scenario_id, cell, territory_id) "
                "SELECT 1, unnest(?::UBIGINT[]), 'A'", [inner])
    return {"sid": 1, "inner": inner, "outer": outer, "centre": h3.str_to_int(centre)}


def _owner(con, cell):
    rows = con.execute("SELECT territory_id FROM cell_assignments WHERE scenario_id = 1 AND cell = ?", [cell]).fetchall()
    return rows[0][0] if rows else None


def test_a_stroke_is_one_step_and_changes_only_what_it_says(con, patch):
    edit = edits.assign(con, 1, patch["outer"][:3] + [patch["centre"]], "B")
    assert sorted(edit.cells) == sorted(patch["outer"][:3] + [patch["centre"]])
    assert edit.before.count("A") == 1 and edit.before.count(None) == 3
    assert all(_owner(con, c) == "B" for c in edit.cells)
    assert _owner(con, patch["inner"][1] if patch["inner"][1] != patch["centre"] else patch["inner"][2]) == "A"
    assert edits.history(con, 1) == (1, 0)


def test_a_stroke_that_changes_nothing_leaves_no_step(con, patch):
    assert edits.assign(con, 1, patch["inner"], "A") is None
    assert edits.history(con, 1) == (0, 0)
    assert edits.version(con, 1) == 0


def test_only_unassigned_leaves_assigned_cells_alone(con, patch):
    edit = edits.assign(con, 1, patch["inner"] + patch["outer"], "B", only_unassigned=True)
    assert sorted(edit.cells) == sorted(patch["outer"])
    assert all(_owner(con, c) == "A" for c in patch["inner"])


def test_erase_unassigns(con, patch):
    edits.assign(con, 1, [patch["centre"]], None)
    assert _owner(con, patch["centre"]) is None


def test_painting_with_a_locked_territory_is_refused(con, patch):
    plan.update_territory(con, 1, "B", locked=True)
    before = store.fingerprint(con)
    with pytest.raises(EditRefused, match="South.*locked"):
        edits.assign(con, 1, patch["outer"][:2], "B")
    assert store.fingerprint(con) == before


def test_painting_over_a_locked_territory_is_refused_and_partial_strokes_skip_it(con, patch):
    plan.update_territory(con, 1, "A", locked=True)
    with pytest.raises(EditRefused, match="locked"):
        edits.assign(con, 1, [patch["centre"]], "B")
    edit = edits.assign(con, 1, [patch["centre"], patch["outer"][0]], "B")
    assert edit.cells == [patch["outer"][0]] and edit.skipped_locked == 1
    assert _owner(con, patch["centre"]) == "A"


def test_locked_cells_are_kept(con, patch):
    plan.lock_cells(con, 1, [patch["centre"]])
    with pytest.raises(EditRefused, match="this cell is locked"):
        edits.assign(con, 1, [patch["centre"]], None)


def test_undo_and_redo_restore_exactly(con, patch):
    start = store.fingerprint(con)["cell_assignments"]
    edits.assign(con, 1, patch["outer"], "B")
    after = store.fingerprint(con)["cell_assignments"]
    edits.undo(con, 1)
    assert store.fingerprint(con)["cell_assignments"] == start
    assert edits.history(con, 1) == (0, 1)
    edits.redo(con, 1)
    assert store.fingerprint(con)["cell_assignments"] == after
    assert edits.undo(con, 1) is not None and edits.undo(con, 1) is None  # nothing more to undo


def test_a_new_stroke_clears_redo(con, patch):
    edits.assign(con, 1, patch["outer"][:1], "B")
    edits.undo(con, 1)
    edits.assign(con, 1, patch["outer"][1:2], "B")
    assert edits.history(con, 1) == (1, 0) and edits.redo(con, 1) is None


def test_history_is_bounded_to_the_newest_steps(con, patch, monkeypatch):
    assert edits.HISTORY_LIMIT >= 50
    monkeypatch.setattr(edits, "HISTORY_LIMIT", 60)
    cells = patch["outer"]
    for i in range(70):  # every stroke changes its cell: B on even passes, A on odd ones
        edits.assign(con, 1, [cells[i % len(cells)]], "B" if (i // len(cells)) % 2 == 0 else "A")
    assert edits.history(con, 1) == (60, 0)
    undone = sum(1 for _ in iter(lambda: edits.undo(con, 1), None))
    assert undone == 60


def test_history_survives_reopening_the_database(db_path, patch, con):
    edits.assign(con, 1, patch["outer"][:2], "B")
    con.close()
    again = store.connect(db_path)
    assert edits.history(again, 1) == (1, 0)
    edits.undo(again, 1)
    assert _owner(again, patch["outer"][0]) is None
    again.close()


def test_two_tabs_do_not_silently_overwrite_each_other(con, patch):
    seen_by_tab1 = seen_by_tab2 = edits.version(con, 1)
    edits.assign(con, 1, patch["outer"][:1], "B", expected_version=seen_by_tab1)
    with pytest.raises(ConflictError, match="changed elsewhere"):
        edits.assign(con, 1, patch["outer"][:1], "A", expected_version=seen_by_tab2)
    assert _owner(con, patch["outer"][0]) == "B"
    with pytest.raises(ConflictError):
        edits.undo(con, 1, expected_version=seen_by_tab2)


def test_deleting_a_territory_is_an_undo_step_that_puts_back_its_cells_and_settings(con, patch):
    edits.assign(con, 1, patch["outer"][:3], "B")
    plan.update_territory(con, 1, "B", name="North <i>", color="#123456", locked=True)
    before = plan.territories(con, 1).set_index("territory_id").loc["B"].to_dict()
    edit = edits.delete_territory(con, 1, "B")
    assert edit.action == edits.DELETE and sorted(edit.cells) == sorted(patch["outer"][:3])
    assert "B" not in set(plan.territories(con, 1)["territory_id"])
    assert all(_owner(con, c) is None for c in patch["outer"][:3])
    assert edits.history(con, 1)[0] >= 2
    edits.undo(con, 1)
    assert plan.territories(con, 1).set_index("territory_id").loc["B"].to_dict() == before
    assert all(_owner(con, c) == "B" for c in patch["outer"][:3])
    edits.redo(con, 1)
    assert "B" not in set(plan.territories(con, 1)["territory_id"])
    edits.undo(con, 1)
    edits.undo(con, 1)  # and the paint before the delete undoes as usual
    assert all(_owner(con, c) != "B" for c in patch["outer"][:3])
    with pytest.raises(EditRefused, match="no territory"):
        edits.delete_territory(con, 1, "nope")


def test_undoing_a_delete_is_refused_when_a_new_territory_took_its_id(con, patch):
    tid = plan.create_territory(con, 1, "First")
    edits.delete_territory(con, 1, tid)
    assert plan.create_territory(con, 1, "Second") == tid  # ids are handed out again
    before = store.fingerprint(con)
    with pytest.raises(EditRefused, match="created since has its id"):
        edits.undo(con, 1)
    assert store.fingerprint(con) == before  # nothing half-done


def test_territory_create_rename_recolour_delete(con, patch):
    tid = plan.create_territory(con, 1, "West <b>")
    plan.update_territory(con, 1, tid, name="Far West", color="#123456")
    frame = plan.territories(con, 1).set_index("territory_id")
    assert (frame.loc[tid, "name"], frame.loc[tid, "color"]) == ("Far West", "#123456")
    edits.assign(con, 1, patch["outer"][:4], tid)
    assert len(edits.delete_territory(con, 1, tid).cells) == 4
    assert all(_owner(con, c) is None for c in patch["outer"][:4])
    with pytest.raises(ValueError, match="colour"):
        plan.update_territory(con, 1, "A", color="red")
