"""Rebalancing a stored plan: the H3 adapter for :mod:`territory.optimizer`, previews,
accepting a preview as one undo step, and suggested single moves.

Units come from :mod:`territory.plans.graph`; cells heavier than a share of a territory's target
are first split into finer units (:mod:`territory.plans.units`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from functools import lru_cache

import h3
import numpy as np
import pandas as pd

from territory import backup, grid, metrics
from territory.data import geocode
from territory.errors import ValidationError
from territory.optimizer import Options, Report, Units, evaluate, solve, suggest_moves
from territory.plans import book, edits, homes, plan, rules, totals, units
from territory.plans.graph import units_from_cells
from territory.store import Connection

ATTRIBUTES = metrics.BALANCEABLE
DISRUPTION = "accounts"  # a change of territory costs by the accounts it moves
MOVED = ("accounts", "potential", "revenue_12m")  # the report gives the share of these that changes territory
BUFFER_UP_TO = 15_000  # plans up to this many occupied cells get a ring of empty cells around them


@dataclass
class Preview:
    """A proposed plan: what would change, and the report."""

    scenario_id: int
    version: int
    cells: list[int]  # units whose territory changes (split cells: the parts whose territory changes)
    before: list[str | None]
    after: list[str]
    report: Report
    territories: list[str]  # territory ids by code
    changed: int = 0  # cells with accounts, or already in the plan, whose territory changes
    joined: int = 0  # empty cells between them that join a territory (to keep territories connected)
    split: int = 0  # territories in more than one piece afterwards, as the Designer's panel counts them
    plan_after: pd.DataFrame | None = None  # (cell, territory_id): the whole plan once accepted
    refined: int = 0  # cells of the plan split into finer ones (adaptive units) so dense areas can be shared
    unit_metrics: pd.DataFrame | None = None  # per unit of plan_after: the summed measures of its movable accounts
    held: pd.DataFrame | None = None  # per territory: the sums of the accounts its rules hold (they never move)
    stored: _StoredPlan | None = field(default=None, repr=False)  # what the run saw, to preview a frontier point
    outlined: list[str] = field(default_factory=list)  # what the map outlines: the changed units as the plan's
    # cells today (a finer unit the run splits off is outlined by the cell it is part of), H3 strings

    def totals_after(self, territories: pd.DataFrame) -> pd.DataFrame:
        """Per territory once accepted: ``totals.territory_kpis`` of the new plan, rules applied."""
        return totals.territory_kpis(self.unit_metrics, self.plan_after, territories, offsets=self.held)


@dataclass(frozen=True)
class _StoredPlan:
    """A stored plan as the engine sees it: units, territory codes, current codes and locks."""

    units: Units
    territories: pd.DataFrame
    tids: list[str]  # territory id by code
    current: np.ndarray  # code per unit, -1 = unassigned
    locked_units: np.ndarray
    locked_territories: list[int]
    fixed: pd.DataFrame  # per territory code: the sums of the accounts rules hold for it (they never move)
    refined: int = 0  # stored cells split into finer units


def _stored_plan(con: Connection, scenario_id: int, *, buffer: int | None = None,
                 split_over: dict[str, float] | None = None, k: int | None = None, at=None,
                 market: bool = False) -> _StoredPlan:
    """``buffer`` None: a ring of empty cells for plans up to ``BUFFER_UP_TO`` occupied cells.
    ``split_over`` (per metric, the most one unit may hold): heavier cells are split into finer
    units first (``units.adapt``); the stored plan is not changed. ``k`` other than the plan's
    number of territories: new territories (``NEW`` ids) or, for fewer, the lightest ones give
    up their cells. The market layer's cells without accounts are units only with ``market``."""
    assignments = plan.assignments(con, scenario_id)
    refined = 0
    if split_over:
        base = plan.resolution(con, scenario_id)
        at = at or _movable(con, scenario_id)
        locked = assignments.loc[assignments["locked"].fillna(False).astype(bool), "cell"]
        adapted = units.adapt(assignments, at, split_over, units.finest(con, scenario_id), locked=locked)
        refined = int((~assignments["cell"].astype(np.int64).isin(adapted["cell"])).sum())
        assignments = adapted.merge(assignments.assign(cell=assignments["cell"].astype(np.int64))[["cell", "locked"]],
                                    on="cell", how="left")
        cells = units.compose(units.finer(adapted["cell"], base), at, base)
    else:
        cells = book.movable_cells(con, scenario_id)
    if not market:  # a run that does not balance the market leaves its cells without accounts as they are
        cells = cells[(cells["accounts"] > 0) | cells["cell"].astype(np.int64).isin(assignments["cell"].astype(np.int64))]
    terr = plan.territories(con, scenario_id)
    if buffer is None:
        buffer = 1 if len(cells) <= BUFFER_UP_TO else 0  # fine plans: only the gaps between accounts
    built = units_from_cells(cells, extra=assignments["cell"].to_numpy(dtype=np.uint64), buffer=buffer)
    tids = _territory_ids(terr, cells, assignments, k)
    code = {t: i for i, t in enumerate(tids)}
    # territories that only hold rule accounts (e.g. "Strategic") stay off the map: locked
    rule_only = rules.territories(con, scenario_id) - set(assignments["territory_id"])
    index = assignments["cell"].astype(np.int64)
    now = pd.Series(assignments["territory_id"].map(code).to_numpy(), index=index)
    locked = pd.Series(assignments["locked"].fillna(False).to_numpy(), index=index)
    held = book.held_sums(con, scenario_id)
    fixed = held.assign(code=held["territory_id"].map(code)).dropna(subset=["code"]).set_index("code")
    return _StoredPlan(built, terr, tids, now.reindex(built.ids).fillna(-1).astype(np.int64).to_numpy(),
                       locked.reindex(built.ids).fillna(False).astype(bool).to_numpy(),
                       [code[t] for t, lk in zip(terr["territory_id"], terr["locked"].fillna(False))
                        if t in code and (lk or t in rule_only)], fixed, refined)


NEW = "new-"  # id prefix of the territories a rebalance to more territories adds (named when saved)


def _territory_ids(terr: pd.DataFrame, cells: pd.DataFrame, assignments: pd.DataFrame, k: int | None) -> list[str]:
    """The territories a run works with: the plan's, plus new ones or minus the lightest for ``k``."""
    tids = terr["territory_id"].tolist()
    if not k or k == len(tids):
        return tids
    if k < 1:
        raise ValidationError("the number of territories must be at least 1")
    if k > len(tids):
        return tids + [f"{NEW}{i}" for i in range(1, k - len(tids) + 1)]
    weight = assignments.merge(cells.assign(cell=cells["cell"].astype(np.int64)), on="cell", how="left")
    load = weight.groupby("territory_id")["potential"].sum().reindex(tids).fillna(0.0)
    keep = set(load.sort_values(ascending=False).index[:k])
    return [t for t in tids if t in keep]


def _movable(con: Connection, scenario_id: int):
    """``book.movable_at`` of the plan per resolution, each read once (adapting asks again and again)."""
    return lru_cache(maxsize=None)(lambda r: book.movable_at(con, scenario_id, r))


def split_limits(con: Connection, scenario_id: int, metrics_: list[str], share: float, at=None) -> dict[str, float]:
    """Per metric, the most one unit may hold: ``share`` of a territory's target (the total over
    the number of territories); ``at`` is :func:`_movable` when the caller has one."""
    k = max(len(plan.territories(con, scenario_id)), 1)
    total = (at or _movable(con, scenario_id))(plan.resolution(con, scenario_id))
    return {m: share * float(total[m].sum()) / k for m in metrics_ if m in total}


REFINED_BY = ("potential", "accounts", "visit_hours")  # what "Split dense cells" compares with a territory's target


def refine(con: Connection, scenario_id: int, *, share: float = units.SPLIT_SHARE,
           expected_version: int | None = None) -> edits.Edit | None:
    """Split every unlocked cell holding more than ``share`` of a territory's target (of any of
    ``REFINED_BY``) into its children, recursively to the plan's finest resolution: one undo step."""
    assignments = plan.assignments(con, scenario_id)
    at = _movable(con, scenario_id)
    locked = assignments.loc[assignments["locked"].fillna(False).astype(bool), "cell"]
    adapted = units.adapt(assignments, at, split_limits(con, scenario_id, list(REFINED_BY), share, at),
                          units.finest(con, scenario_id), locked=locked)
    now = dict(zip(assignments["cell"].astype(np.int64), assignments["territory_id"]))
    after = dict(zip(adapted["cell"].astype(np.int64), adapted["territory_id"]))
    cells = [c for c in now if c not in after] + [c for c in after if c not in now]
    return edits.apply_changes(con, scenario_id, cells, [after.get(c) for c in cells], action="split dense cells",
                               expected_version=expected_version)


def rebalance(con: Connection, scenario_id: int, options: Options, *, around_rep_homes: bool | None = None,
              keep_locks: bool = True, split_share: float | None = units.SPLIT_SHARE, k: int | None = None,
              anchor_homes: bool = False) -> Preview:
    """Run the optimizer on a stored plan; nothing is written (see :func:`accept`). The time limit
    counts from this call: reading the plan and building its graph are part of it. Cells holding
    more than ``split_share`` of a territory's target (of any balanced measure) are split into
    finer units first, down to the plan's finest resolution (None: the plan's cells as they are).
    ``k``: another number of territories (a preview of it can only be saved as a new scenario,
    :func:`save_as`). ``anchor_homes``: a territory that holds its rep's home keeps it;
    ``around_rep_homes`` (None: when homes are anchored and every territory's rep has a home)
    starts the territories from their reps' homes instead of today's centres."""
    options.started_at = time.perf_counter()
    options.disruption_attr = options.disruption_attr or DISRUPTION
    options.report_moved = options.report_moved or MOVED
    version = edits.version(con, scenario_id)
    at = _movable(con, scenario_id)
    target = split_limits(con, scenario_id, list(options.balance or ["potential"]), 1.0, at)  # per territory
    if empty := [metrics.LABELS[m] for m, v in target.items() if not v]:
        raise ValidationError(f"nothing to balance: {' and '.join(empty)} is 0 in this plan (a market measure needs "
                              "the market layer: territory market import)")
    stored = _stored_plan(con, scenario_id, split_over={m: v * split_share for m, v in target.items()}
                          if split_share else None, k=k, at=at,
                          market=bool(set(options.balance or ()) & set(metrics.MARKET)))
    new = any(t.startswith(NEW) for t in stored.tids)
    if around_rep_homes and new:
        raise ValidationError("new territories have no rep yet: rebalance around rep homes with today's territories")
    if around_rep_homes is None:
        around_rep_homes = anchor_homes and not new and homes.every_rep_has_one(con, stored.territories)
    options.current = stored.current
    options.k = len(stored.tids)
    options.fixed = stored.fixed
    if keep_locks:
        options.locked_units = stored.locked_units
        options.locked_territories = stored.locked_territories
    if anchor_homes:  # each territory keeps the unit of its rep's home (when it holds it today)
        held = homes.units_of(con, stored.units, stored.tids, stored.current, stored.territories)
        options.locked_units = (options.locked_units if options.locked_units is not None
                                else np.zeros(len(stored.units.ids), dtype=bool)) | held
    if around_rep_homes:
        options.centres = homes.centres(con, stored.territories, stored.units)
    options.describe = options.describe or describe_cell
    result, report = solve(stored.units, options)
    return _preview(con, scenario_id, version, stored, result, report)


def at_point(con: Connection, preview: Preview, index: int) -> Preview:
    """The preview of point ``index`` of ``preview.report.frontier`` (same run, same plan version):
    its plan, its counts, and a report for that plan with the same frontier."""
    point, r, stored = preview.report.frontier[index], preview.report, preview.stored
    report = evaluate(stored.units, point.plan, {m: b["tolerance_pct"] / 100 for m, b in r.balance.items()},
                      current=stored.current, report_moved=MOVED, fixed=stored.fixed,
                      locked_territories=stored.locked_territories, k=len(stored.tids))
    report = replace(report, frontier=r.frontier, seconds=r.seconds, unavoidable=r.unavoidable)
    return _preview(con, preview.scenario_id, preview.version, stored, point.plan, report)


def _preview(con: Connection, scenario_id: int, version: int, stored: _StoredPlan, result: np.ndarray,
             report: Report) -> Preview:
    current, tids, ids = stored.current, stored.tids, stored.units.ids
    changed = np.flatnonzero(result != current)
    counted = (stored.units.column("accounts")[changed] > 0) | (current[changed] >= 0)
    cells, after = [int(ids[i]) for i in changed], [tids[result[i]] for i in changed]
    kept = result >= 0
    plan_after = pd.DataFrame({"cell": ids[kept].astype(np.int64), "territory_id": [tids[c] for c in result[kept]]})
    split = sum(1 for n in totals.split_pieces(plan_after)[0].values() if n > 1)
    metrics_ = stored.units.attrs.assign(cell=ids.astype(np.int64))
    held = stored.fixed.reset_index(drop=True).drop(columns=["code"], errors="ignore")
    return Preview(scenario_id, version, cells, [tids[current[i]] if current[i] >= 0 else None for i in changed],
                   after, report, tids, int(counted.sum()), int((~counted).sum()), split, plan_after, stored.refined,
                   metrics_, held, stored, _outlined(cells, plan.assignments(con, scenario_id)["cell"]))


def _outlined(cells: list[int], plan_cells) -> list[str]:
    """``cells`` as the map draws the plan today: each is its own plan cell, or the plan cell it is
    part of (a unit the run split off a dense cell); once each, as H3 strings."""
    ids = np.asarray(cells, dtype=np.uint64)
    plan_cells = np.asarray(plan_cells, dtype=np.uint64)
    held = units.owner(ids, plan_cells, plan_cells)
    return list(dict.fromkeys(h3.int_to_str(int(c if up is None else up)) for c, up in zip(ids, held)))


def describe_cell(cell: int) -> str:
    """A cell in words, for messages: "the cell around Albuquerque, NM"."""
    return f"the cell around {geocode.nearest_place(*grid.cell_center(cell))}"


def assignments_after(assignments: pd.DataFrame, preview: Preview) -> pd.DataFrame:
    """The plan's (cell, territory_id) once ``preview`` is accepted."""
    if preview.plan_after is not None:
        return preview.plan_after
    now = assignments.assign(cell=assignments["cell"].astype(np.int64)).set_index("cell")["territory_id"]
    changes = pd.Series(preview.after, index=pd.Index(preview.cells, dtype=np.int64), dtype=object)
    merged = pd.concat([now.drop(changes.index, errors="ignore"), changes])
    return merged.rename("territory_id").rename_axis("cell").reset_index()


def _writes(con: Connection, preview: Preview, scenario_id: int | None = None,
            rename: dict[str, str] | None = None) -> tuple[list[int], list[str | None]]:
    """(cells, territories) that turn plan ``scenario_id`` (default: the preview's) into the
    preview's: changed territories, and for split cells the parent leaving (None) and its parts
    joining. ``rename`` maps the preview's territory ids to the plan's."""
    old = plan.assignments(con, preview.scenario_id if scenario_id is None else scenario_id)
    now = dict(zip(old["cell"].astype(np.int64), old["territory_id"]))
    new = assignments_after(old, preview)
    after = {c: (rename or {}).get(t, t) for c, t in zip(new["cell"].astype(np.int64), new["territory_id"])}
    cells = [c for c in now if c not in after] + [c for c, t in after.items() if now.get(c) != t]
    return cells, [after.get(c) for c in cells]


def accept(con: Connection, preview: Preview, *, expected_version: int | None = None) -> edits.Edit | None:
    """Write a preview as one undo step (refused if the plan changed since the preview), after a
    snapshot of the database (``backup.snapshot``); then recolour the territories that clash, and
    let the quotas follow (:func:`_quotas_follow`; an undo keeps the quota rule)."""
    expected = preview.version if expected_version is None else expected_version
    if set(preview.territories) != set(plan.territories(con, preview.scenario_id)["territory_id"]):
        raise ValidationError("this preview has another number of territories: save it as a new scenario instead")
    plan.check_version(con, preview.scenario_id, expected)  # no snapshot for a write that will be refused
    backup.snapshot(con, "before-rebalance")
    cells, after = _writes(con, preview)
    edit = edits.apply_changes(con, preview.scenario_id, cells, after, action="rebalance", expected_version=expected)
    if edit is not None:  # territories that now touch a territory of the same colour get another one
        plan.recolour(con, preview.scenario_id)
        _quotas_follow(con, preview.scenario_id, preview.scenario_id)
    return edit


def _quotas_follow(con: Connection, scenario_id: int, source_id: int) -> None:
    """A redesigned plan whose quotas came from the reps file (each rep kept their number, whatever
    their territory now holds) re-cuts the same company number by potential (``kpis.quota``)."""
    con.execute("UPDATE scenarios SET quota_method = 'potential', quota_total = (SELECT sum(quota) FROM reps WHERE"
                " rep_id IN (SELECT rep_id FROM territories WHERE scenario_id = $src)) WHERE scenario_id = $sid"
                " AND quota_method IS NULL", {"src": source_id, "sid": scenario_id})


def save_as(con: Connection, preview: Preview, name: str) -> int:
    """Write a preview into a new scenario (a copy of its plan; never the active plan): new
    territories are created ("New territory 1", ...), territories the preview dropped are
    deleted; its quotas follow (:func:`_quotas_follow`). Returns the new scenario's id."""
    sid = plan.clone(con, preview.scenario_id, name)
    _quotas_follow(con, sid, preview.scenario_id)
    existing = set(plan.territories(con, sid)["territory_id"])
    rename = {t: plan.create_territory(con, sid, f"New territory {t[len(NEW):]}") for t in preview.territories
              if t not in existing}
    cells, after = _writes(con, preview, sid, rename)
    edits.apply_changes(con, sid, cells, after, action="rebalance")
    for t in sorted(existing - set(preview.territories)):
        edits.delete_territory(con, sid, t)
    plan.recolour(con, sid)
    return sid


def moved_accounts(con: Connection, preview: Preview) -> pd.DataFrame:
    """The accounts a preview would move: id, name, city, revenue, from and to territory."""
    if not preview.cells:
        return pd.DataFrame(columns=["account_id", "name", "city", "state", "revenue_12m", "from", "to"])
    moves = pd.DataFrame({"cell": np.array(preview.cells, dtype=np.uint64), "from_t": preview.before, "to_t": preview.after})
    levels = sorted(set(grid.res_of(moves["cell"]).tolist()))
    params: dict = {"sid": preview.scenario_id}
    matches = []
    for r in levels:  # the changed units may mix resolutions: one join per resolution
        matches.append(f"SELECT m.*, {grid.parent_sql('a.cell', f'r{r}')} AS unit, a.account_id FROM accounts a"
                       f" JOIN _moves m ON m.cell = {grid.parent_sql('a.cell', f'r{r}')}")
        params |= grid.parent_params(r, f"r{r}")
    con.register("_moves", moves)
    try:
        frame = con.execute(
            f"SELECT a.account_id, a.name, a.city, a.state, a.revenue_12m, m.from_t, m.to_t FROM accounts a "
            f"JOIN ({' UNION ALL '.join(matches)}) m USING (account_id) "
            f"WHERE a.account_id NOT IN (SELECT account_id FROM ({rules.HELD_SQL}))"  # rules keep those where they are
            " ORDER BY a.revenue_12m DESC", params).df()
    finally:
        con.unregister("_moves")
    names = dict(zip(*[plan.territories(con, preview.scenario_id)[c] for c in ("territory_id", "name")]))
    return frame.assign(**{"from": frame["from_t"].map(names).fillna("unassigned"), "to": frame["to_t"].map(names)}).drop(
        columns=["from_t", "to_t"])


@dataclass(frozen=True)
class Suggestion:
    cell: int
    source: str  # territory ids
    target: str
    score: float  # objective change, negative = better
    max_deviation_pct: dict[str, float]  # per balanced attribute, after the move
    inertia_change_km2: float
    accounts: int  # accounts in the cell (they would change territory)
    where: str  # the cell in words ("the cell around Albuquerque, NM")


def suggestions(con: Connection, scenario_id: int, options: Options, *, top: int = 10) -> list[Suggestion]:
    """The best single boundary moves for the stored plan, best first (nothing is written)."""
    stored = _stored_plan(con, scenario_id, buffer=0)
    options.disruption_attr = options.disruption_attr or DISRUPTION
    options.describe = options.describe or describe_cell
    options.k = len(stored.tids)
    options.fixed = stored.fixed
    options.locked_units = stored.locked_units
    options.locked_territories = stored.locked_territories
    units, tids = stored.units, stored.tids
    accounts = units.attrs["accounts"].to_numpy() if "accounts" in units.attrs else np.zeros(len(units.ids))
    return [Suggestion(int(units.ids[m.unit]), tids[m.source], tids[m.target], m.score, m.max_deviation_pct,
                       m.inertia_change_km2, int(accounts[m.unit]), options.describe(int(units.ids[m.unit])))
            for m in suggest_moves(units, stored.current, options, top=top)]
