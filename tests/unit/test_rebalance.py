"""Rebalancing a stored plan: H3 units, a preview that writes nothing, accepting it as one
undo step, the accounts it moves, suggested moves, and a stale preview refused."""

from __future__ import annotations

import re

import h3
import numpy as np
import pandas as pd
import pytest

from territory import grid
from territory.optimizer import Options
from territory.plans import book, edits, graph, outcome, plan, planview, rebalance, totals


def test_h3_units_connect_across_gaps_and_islands_are_linked():
    denver = h3.latlng_to_cell(39.74, -104.99, 6)
    far = h3.latlng_to_cell(21.3, -157.8, 6)  # Honolulu: an island
    a, b = denver, h3.grid_ring(denver, 2)[0]  # two cells with one empty cell between them
    cells = pd.DataFrame({"cell": [h3.str_to_int(c) for c in (a, b, far)], "accounts": [3, 4, 5],
                          "potential": [1.0, 2.0, 3.0]})
    units = graph.units_from_cells(cells, buffer=0)
    ids = {int(i) for i in units.ids}
    assert {h3.str_to_int(a), h3.str_to_int(b), h3.str_to_int(far)} <= ids
    assert len(ids) == 4  # plus the empty cell that touches both
    assert len(units.links) == 1 and units.links[0][2] > 4000  # Honolulu joined, ~5,000 km away
    assert units.attrs["accounts"].sum() == 12


def test_towns_across_empty_land_are_linked_to_every_town_beside_them_not_only_the_nearest():
    def units_at(points):
        cells = pd.DataFrame({"cell": [h3.str_to_int(h3.latlng_to_cell(lat, lng, 6)) for lat, lng in points],
                              "accounts": [1] * len(points), "potential": [1.0] * len(points)})
        units = graph.units_from_cells(cells, buffer=0)
        where = {int(c): i for i, c in enumerate(units.ids)}
        index = [where[int(c)] for c in cells["cell"]]
        linked = {tuple(sorted((index.index(a), index.index(b)))) for a, b in units.edges.tolist()}
        return units, linked

    # three towns about 30 km apart in a triangle: each faces both others across empty land (a
    # tree of links would join only two pairs, and the third pair would share a territory only
    # through the town between them)
    units, linked = units_at([(39.0, -100.0), (39.0, -99.65), (39.23, -99.83)])
    assert len(units.links) == 3 and linked == {(0, 1), (0, 2), (1, 2)}
    assert all(20 < km < 40 for _, _, km in units.links)
    # nearly in a row, the middle town stands between the outer two: they are not linked past it
    units, linked = units_at([(39.0, -100.0), (39.03, -99.65), (39.0, -99.30)])
    assert len(units.links) == 2 and linked == {(0, 1), (1, 2)}


def test_preview_then_accept_is_one_undo_step(demo_con):
    sid = plan.working_scenario(demo_con)
    before = plan.assignments(demo_con, sid)
    history = edits.history(demo_con, sid)
    preview = rebalance.rebalance(demo_con, sid, Options(balance={"potential": 0.10}, seed=1, time_limit=20))
    assert preview.changed > 0 and preview.report.contiguous
    pd.testing.assert_frame_equal(plan.assignments(demo_con, sid), before)  # a preview writes nothing
    moved = rebalance.moved_accounts(demo_con, preview)
    assert len(moved) > 0 and set(moved.columns) >= {"account_id", "name", "from", "to", "revenue_12m"}
    assert (moved["from"] != moved["to"]).all()
    rebalance.accept(demo_con, preview)
    assert edits.history(demo_con, sid) == (history[0] + 1, 0)
    now = plan.assignments(demo_con, sid).set_index("cell")["territory_id"]
    assert all(now[c] == t for c, t in zip(preview.cells, preview.after))
    # the preview's counts are the plan's: cells with accounts or already in the plan, the empty
    # cells that joined, and split territories as the Designer's panel counts them
    cells = planview.unit_cells(demo_con, sid)  # the plan's units: split cells where the area was dense
    assert preview.refined > 0 and (grid.res_of(cells["cell"]) > plan.resolution(demo_con, sid)).any()
    # the map outlines every change on the cells it draws today: a unit split off a cell by its parent
    today = {h3.int_to_str(int(c)) for c in before["cell"]}
    split_off = [c for c in preview.cells if h3.int_to_str(c) not in today and c not in set(before["cell"])]
    assert split_off and set(preview.outlined) <= today | {h3.int_to_str(c) for c in preview.cells}
    assert {h3.cell_to_parent(h3.int_to_str(c), plan.resolution(demo_con, sid)) for c in split_off} <= set(preview.outlined)
    with_accounts = set(cells.loc[cells["accounts"] > 0, "cell"].astype(np.int64))  # not the market's cells alone
    counted = [c for c, b in zip(preview.cells, preview.before) if c in with_accounts or b is not None]
    assert preview.changed == len(counted) and preview.changed + preview.joined == len(preview.cells)
    pieces, _ = totals.split_pieces(plan.assignments(demo_con, sid))
    assert preview.split == sum(1 for n in pieces.values() if n > 1)
    # the accepted plan is as balanced as the report said, and as the preview's table said
    table = totals.territory_kpis(cells, plan.assignments(demo_con, sid), plan.territories(demo_con, sid),
                                offsets=book.rule_offsets(demo_con, sid))  # as the Designer's panel counts
    assert totals.balance(table["potential"]).max_deviation_pct == pytest.approx(
        preview.report.balance["potential"]["max_deviation_pct"], rel=1e-6)
    after = preview.totals_after(plan.territories(demo_con, sid)).set_index("territory_id")
    pd.testing.assert_series_equal(after["potential"], table.set_index("territory_id")["potential"], check_names=False)
    edits.undo(demo_con, sid)
    pd.testing.assert_frame_equal(plan.assignments(demo_con, sid).sort_values("cell").reset_index(drop=True),
                                  before.sort_values("cell").reset_index(drop=True))


def test_a_preview_of_an_older_version_is_refused(demo_con):
    sid = plan.working_scenario(demo_con)
    preview = rebalance.rebalance(demo_con, sid, Options(balance={"potential": 0.10}, seed=1, time_limit=10))
    cell = int(plan.assignments(demo_con, sid)["cell"].iloc[0])
    edits.assign(demo_con, sid, [cell], None)  # someone edits the plan meanwhile
    with pytest.raises(edits.ConflictError):
        rebalance.accept(demo_con, preview)


def test_locked_territory_keeps_its_cells(demo_con):
    sid = plan.working_scenario(demo_con)
    terr = plan.territories(demo_con, sid)
    tid = terr["territory_id"].iloc[0]
    plan.update_territory(demo_con, sid, tid, locked=True)
    mine = set(plan.assignments(demo_con, sid).query("territory_id == @tid")["cell"].astype(np.int64))
    preview = rebalance.rebalance(demo_con, sid, Options(balance={"potential": 0.10}, seed=1, time_limit=10))
    changed = dict(zip(preview.cells, preview.after))
    assert not mine & set(changed) and tid not in set(preview.after)


def test_suggested_moves_improve_balance_one_cell_at_a_time(demo_con):
    sid = plan.working_scenario(demo_con)
    opts = Options(balance={"potential": 0.05})
    moves = rebalance.suggestions(demo_con, sid, opts, top=5)
    assert moves and all(m.score < 0 for m in moves)
    assert all(m.accounts > 0 for m in moves)  # a move of an empty cell balances nothing: not suggested
    assert all(re.fullmatch(r"the cell around .+, [A-Z]{2}", m.where) for m in moves), [m.where for m in moves]
    cells = grid.aggregate_cells(demo_con, plan.resolution(demo_con, sid))
    first = moves[0]
    edits.assign(demo_con, sid, [first.cell], first.target)
    after = totals.territory_kpis(cells, plan.assignments(demo_con, sid), plan.territories(demo_con, sid),
                                offsets=book.rule_offsets(demo_con, sid))
    assert totals.balance(after["potential"]).max_deviation_pct == pytest.approx(first.max_deviation_pct["potential"], rel=1e-6)


def test_the_frontier_runs_from_moving_little_to_the_best_balance(demo_con):
    sid = plan.working_scenario(demo_con)
    preview = rebalance.rebalance(demo_con, sid, Options(balance={"potential": 0.10}, seed=1, time_limit=15,
                                                         disruption_weight=1))
    points = preview.report.frontier
    assert len(points) >= 2
    moved = [p.moved["accounts"] for p in points]
    worst = [p.worst_pct for p in points]
    assert moved == sorted(moved) and all(a > b for a, b in zip(worst, worst[1:]))  # more moved, better balance
    assert worst[-1] == pytest.approx(preview.report.balance["potential"]["max_deviation_pct"])
    assert moved[0] < 0.5 * moved[-1]
    # a point is previewed with its own counts and report, and accepted as one undo step
    first = rebalance.at_point(demo_con, preview, 0)
    assert first.report.disruption["accounts"] == pytest.approx(moved[0])
    assert first.report.balance["potential"]["max_deviation_pct"] == pytest.approx(worst[0])
    assert first.changed < preview.changed and first.report.frontier == points
    steps = edits.history(demo_con, sid)[0]
    rebalance.accept(demo_con, first)
    assert edits.history(demo_con, sid)[0] == steps + 1
    stored = plan.assignments(demo_con, sid)
    after = dict(zip(first.plan_after["cell"], first.plan_after["territory_id"]))
    assert dict(zip(stored["cell"].astype(np.int64), stored["territory_id"])) == after
    assert outcome.pick(points, moved[0] / 2) is None and outcome.pick(points, 1.0) == len(points) - 1


def test_cli_rebalance_reports_writes_nothing_unless_saved_and_can_change_k(demo_db, tmp_path):
    import json
    import shutil

    from click.testing import CliRunner

    from territory import cli, store

    db = tmp_path / "copy.duckdb"
    shutil.copy(demo_db, db)
    runner = CliRunner()
    con = store.connect(db)
    before, active = store.fingerprint(con), plan.active_scenario(con)
    con.close()
    args = ["rebalance", "--balance", "potential=10", "--balance", "accounts=10", "--time-limit", "8", "--db", str(db)]
    out = runner.invoke(cli.main, [*args, "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert set(data["balance"]) == {"potential", "accounts"} and {"max_deviation_pct", "met"} <= set(data["balance"]["accounts"])
    assert {"accounts", "potential"} <= set(data["moved"]) and isinstance(data["contiguous"], bool)
    assert data["seconds"] <= 8 * 1.2 and len(data["frontier"]) >= 1 and data["saved_as"] is None
    con = store.connect(db)
    assert store.fingerprint(con) == before  # nothing written
    con.close()
    saved = runner.invoke(cli.main, [*args, "--k", "7", "--save-as", "Seven <script>", "--max-moved", "100"])
    assert saved.exit_code == 0, saved.output
    con = store.connect(db)
    new = [sid for sid, name, _ in plan.names(con) if name == "Seven <script>"]
    assert len(new) == 1 and plan.active_scenario(con) == active
    assert len(plan.territories(con, new[0])) == 7 == plan.assignments(con, new[0])["territory_id"].nunique()
    con.close()
    for bad, message in ((["--balance", "colour=5"], "not a measure to balance"),
                         (["--balance", "potential=abc"], "tolerance in %"),
                         (["--balance", "potential=5", "--k", "9"], "add --save-as")):
        res = runner.invoke(cli.main, ["rebalance", *bad, "--db", str(db)])
        assert res.exit_code != 0 and message in res.output and "Traceback" not in res.output


def test_keep_homes_keeps_every_territory_with_its_reps_home(demo_con):
    sid = plan.working_scenario(demo_con)
    preview = rebalance.rebalance(demo_con, sid, Options(balance={"potential": 0.10}, seed=2, time_limit=8),
                                  anchor_homes=True)
    a = outcome.anchoring(demo_con, preview)
    assert a["reps_with_homes"] == len(plan.territories(demo_con, sid)) > 0
    assert a["homes_inside_after"] == a["homes_inside_now"] > 0
    assert 0 <= a["kept_least"] <= a["kept_median"] <= 1
    rebalance.accept(demo_con, preview)
    stored = plan.assignments(demo_con, sid)
    owner = plan.territories(demo_con, sid).set_index("rep_id")["territory_id"]
    cells = stored["cell"].astype(np.int64).tolist()
    territory = dict(zip(cells, stored["territory_id"]))
    from territory.plans import units

    inside = 0
    for rep in demo_con.execute("SELECT rep_id, home_lat, home_lng FROM reps").df().itertuples():
        home = units.unit_at(rep.home_lat, rep.home_lng, cells, plan.resolution(demo_con, sid))
        inside += territory.get(home) == owner[rep.rep_id]  # the stored plan, as the map shows it
    assert inside == a["homes_inside_after"]
