"""Rebalancing a stored plan: the H3 adapter for :mod:`territory.optimizer`, previews,
accepting a preview as one undo step, and suggested single moves.

Units are the plan's cells with accounts plus the empty cells between them (an empty cell
touching two or more occupied ones), so territories connect across small gaps; islands that
still stand apart are linked to their nearest unit and reported.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cached_property

import h3
import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix, csgraph
from scipy.spatial import cKDTree

from territory import backup, grid, metrics
from territory.data import geocode
from territory.errors import ValidationError
from territory.optimizer import Options, Report, Units, solve, suggest_moves
from territory.plans import book, edits, plan, rules, totals
from territory.store import Connection

ATTRIBUTES = metrics.BALANCEABLE
DISRUPTION = "accounts"  # a change of territory costs by the accounts it moves
MOVED = ("accounts", "potential", "revenue_12m")  # the report gives the share of these that changes territory
BUFFER_UP_TO = 15_000  # plans up to this many occupied cells get a ring of empty cells around them


def units_from_cells(cells: pd.DataFrame, *, extra: np.ndarray | None = None, buffer: int = 1) -> Units:
    """Units from cell metrics (``grid.aggregate_cells``): the cells with accounts, the empty
    cells up to ``buffer`` rings around them (so territories are regions, not speckles, and
    connect across the gaps between accounts), empty cells touching two occupied ones, and any
    ``extra`` cells (e.g. empty cells already in the plan)."""
    occupied = np.sort(cells["cell"].to_numpy(dtype=np.uint64))
    src, nb = grid.neighbour_pairs(occupied)
    outside = ~np.isin(nb, occupied)
    gaps, touching = np.unique(nb[outside], return_counts=True)
    connectors = gaps[touching >= (2 if buffer < 1 else 1)]
    ring = connectors
    for _ in range(max(buffer - 1, 0)):
        _, nb2 = grid.neighbour_pairs(ring)
        ring = np.setdiff1d(np.unique(nb2), np.concatenate([occupied, connectors]))
        connectors = np.concatenate([connectors, ring])
    ids = np.unique(np.concatenate([occupied, connectors, np.asarray(extra if extra is not None else [], dtype=np.uint64)]))
    frame = pd.DataFrame({"cell": ids}).merge(cells.assign(cell=cells["cell"].astype(np.uint64)), on="cell", how="left")
    attrs = frame.drop(columns=["cell"]).select_dtypes("number").fillna(0.0).reset_index(drop=True)
    latlng = np.array([h3.cell_to_latlng(h3.int_to_str(int(c))) for c in ids])
    lat0 = np.radians(latlng[:, 0].mean()) if len(latlng) else 0.0
    xy = np.column_stack([np.radians(latlng[:, 1]) * np.cos(lat0), np.radians(latlng[:, 0])]) * grid.EARTH_KM
    s, n = grid.neighbour_pairs(ids)
    pos = np.minimum(np.searchsorted(ids, n), len(ids) - 1)
    keep = (ids[pos] == n) & (s < pos)
    edges = np.column_stack([s[keep], pos[keep]]).astype(np.int64)
    edges, links = connect_islands(xy, edges)
    return Units(ids.astype(np.int64), xy, attrs, edges, tuple((int(ids[a]), int(ids[b]), km) for a, b, km in links))


def connect_islands(xy: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int, float]]]:
    """Join the graph's pieces with the shortest links between them (Borůvka: each piece to its
    nearest other piece, repeated until one piece is left), like roads between islands."""
    n = len(xy)
    links: list[tuple[int, int, float]] = []
    if n == 0:
        return edges, links
    tree = cKDTree(xy)
    edges = edges.reshape(-1, 2)
    while True:
        g = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
        count, labels = csgraph.connected_components(g, directed=False)
        if count == 1:
            return edges, links
        best: dict[int, tuple[float, int, int]] = {}
        dist, idx = tree.query(xy, k=min(16, n))
        for i, (ds, js) in enumerate(zip(dist, idx)):
            for d, j in zip(ds, js):
                if labels[j] != labels[i]:
                    if d < best.get(labels[i], (np.inf,))[0]:
                        best[labels[i]] = (float(d), i, int(j))
                    break
        for comp in set(range(count)) - set(best):  # far from everything: search outside it
            members, others = np.flatnonzero(labels == comp), np.flatnonzero(labels != comp)
            d, j = cKDTree(xy[others]).query(xy[members])
            b = int(np.argmin(d))
            best[comp] = (float(d[b]), int(members[b]), int(others[j[b]]))
        new = {tuple(sorted((a, b))): d for d, a, b in best.values()}
        links.extend((a, b, d) for (a, b), d in new.items())
        edges = np.vstack([edges, np.array(list(new), dtype=np.int64)])


@dataclass
class Preview:
    """A proposed plan: what would change, and the report."""

    scenario_id: int
    version: int
    cells: list[int]  # cells whose territory changes
    before: list[str | None]
    after: list[str]
    report: Report
    territories: list[str]  # territory ids by code
    changed: int = 0  # cells with accounts, or already in the plan, whose territory changes
    joined: int = 0  # empty cells between them that join a territory (to keep territories connected)
    split: int = 0  # territories in more than one piece afterwards, as the Designer's panel counts them

    @cached_property
    def cell_ids(self) -> list[str]:
        """The changed cells as H3 strings (what the map outlines), worked out once."""
        return [h3.int_to_str(c) for c in self.cells]


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


def _stored_plan(con: Connection, scenario_id: int, *, buffer: int | None = None) -> _StoredPlan:
    """``buffer`` None: a ring of empty cells for plans up to ``BUFFER_UP_TO`` occupied cells."""
    cells = book.movable_cells(con, scenario_id)
    assignments = plan.assignments(con, scenario_id)
    terr = plan.territories(con, scenario_id)
    if buffer is None:
        buffer = 1 if len(cells) <= BUFFER_UP_TO else 0  # fine plans: only the gaps between accounts
    units = units_from_cells(cells, extra=assignments["cell"].to_numpy(dtype=np.uint64), buffer=buffer)
    tids = terr["territory_id"].tolist()
    code = {t: i for i, t in enumerate(tids)}
    # territories that only hold rule accounts (e.g. "Strategic") stay off the map: locked
    rule_only = rules.territories(con, scenario_id) - set(assignments["territory_id"])
    index = assignments["cell"].astype(np.int64)
    now = pd.Series(assignments["territory_id"].map(code).to_numpy(), index=index)
    locked = pd.Series(assignments["locked"].fillna(False).to_numpy(), index=index)
    held = book.held_sums(con, scenario_id)
    fixed = held.assign(code=held["territory_id"].map(code)).dropna(subset=["code"]).set_index("code")
    return _StoredPlan(units, terr, tids, now.reindex(units.ids).fillna(-1).astype(np.int64).to_numpy(),
                       locked.reindex(units.ids).fillna(False).astype(bool).to_numpy(),
                       [code[t] for t, lk in zip(tids, terr["locked"].fillna(False)) if lk or t in rule_only], fixed)


def rebalance(con: Connection, scenario_id: int, options: Options, *, around_rep_homes: bool = False,
              keep_locks: bool = True) -> Preview:
    """Run the optimizer on a stored plan; nothing is written (see :func:`accept`). The time limit
    counts from this call: reading the plan and building its graph are part of it."""
    options.started_at = time.perf_counter()
    options.disruption_attr = options.disruption_attr or DISRUPTION
    options.report_moved = options.report_moved or MOVED
    version = edits.version(con, scenario_id)
    stored = _stored_plan(con, scenario_id)
    options.current = stored.current
    options.k = len(stored.tids)
    options.fixed = stored.fixed
    if keep_locks:
        options.locked_units = stored.locked_units
        options.locked_territories = stored.locked_territories
    if around_rep_homes:
        options.centres = _rep_centres(con, stored.territories, stored.units)
    options.describe = options.describe or describe_cell
    result, report = solve(stored.units, options)
    current, tids, ids = stored.current, stored.tids, stored.units.ids
    changed = np.flatnonzero(result != current)
    counted = (stored.units.column("accounts")[changed] > 0) | (current[changed] >= 0)
    cells, after = [int(ids[i]) for i in changed], [tids[result[i]] for i in changed]
    return Preview(scenario_id, version, cells, [tids[current[i]] if current[i] >= 0 else None for i in changed],
                   after, report, tids, int(counted.sum()), int((~counted).sum()),
                   _split_after(con, scenario_id, cells, after))


def describe_cell(cell: int) -> str:
    """A cell in words, for messages: "the cell around Albuquerque, NM"."""
    return f"the cell around {geocode.nearest_place(*grid.cell_center(cell))}"


def assignments_after(assignments: pd.DataFrame, cells: list[int], after: list[str]) -> pd.DataFrame:
    """The plan's (cell, territory_id) once ``cells`` go to the territories ``after`` (a preview's)."""
    now = assignments.assign(cell=assignments["cell"].astype(np.int64)).set_index("cell")["territory_id"]
    changes = pd.Series(after, index=pd.Index(cells, dtype=np.int64), dtype=object)
    merged = pd.concat([now.drop(changes.index, errors="ignore"), changes])
    return merged.rename("territory_id").rename_axis("cell").reset_index()


def _split_after(con: Connection, scenario_id: int, cells: list[int], after: list[str]) -> int:
    """Territories in more than one piece once ``cells`` go to ``after`` (``totals.split_pieces``,
    the Designer panel's count)."""
    counts, _ = totals.split_pieces(assignments_after(plan.assignments(con, scenario_id), cells, after))
    return sum(1 for n in counts.values() if n > 1)


def _rep_centres(con: Connection, terr: pd.DataFrame, units: Units) -> list[int]:
    reps = con.execute("SELECT rep_id, home_lat, home_lng FROM reps WHERE home_lat IS NOT NULL").df().set_index("rep_id")
    latlng = np.array([h3.cell_to_latlng(h3.int_to_str(int(c))) for c in units.ids])
    tree = cKDTree(latlng)
    out = []
    for rep in terr["rep_id"]:
        if rep not in reps.index:
            raise ValidationError("every territory needs a rep with a home location to rebalance around rep homes")
        out.append(int(tree.query([reps.loc[rep, "home_lat"], reps.loc[rep, "home_lng"]])[1]))
    return out


def accept(con: Connection, preview: Preview, *, expected_version: int | None = None) -> edits.Edit | None:
    """Write a preview as one undo step (refused if the plan changed since the preview), after a
    snapshot of the database (``backup.snapshot``); then recolour the territories that clash."""
    expected = preview.version if expected_version is None else expected_version
    plan.check_version(con, preview.scenario_id, expected)  # no snapshot for a write that will be refused
    backup.snapshot(con, "before-rebalance")
    edit = edits.apply_changes(con, preview.scenario_id, preview.cells, preview.after, action="rebalance",
                               expected_version=expected)
    if edit is not None:  # territories that now touch a territory of the same colour get another one
        plan.recolour(con, preview.scenario_id)
    return edit


def moved_accounts(con: Connection, preview: Preview) -> pd.DataFrame:
    """The accounts a preview would move: id, name, city, revenue, from and to territory."""
    if not preview.cells:
        return pd.DataFrame(columns=["account_id", "name", "city", "state", "revenue_12m", "from", "to"])
    moves = pd.DataFrame({"cell": np.array(preview.cells, dtype=np.uint64), "from_t": preview.before, "to_t": preview.after})
    con.register("_moves", moves)
    try:
        frame = con.execute(
            f"SELECT a.account_id, a.name, a.city, a.state, a.revenue_12m, m.from_t, m.to_t FROM accounts a "
            f"JOIN _moves m ON m.cell = {grid.parent_sql('a.cell')} "
            f"WHERE a.account_id NOT IN (SELECT account_id FROM ({rules.HELD_SQL}))"  # rules keep those where they are
            " ORDER BY a.revenue_12m DESC",
            {"sid": preview.scenario_id, **grid.parent_params(plan.resolution(con, preview.scenario_id))}).df()
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
