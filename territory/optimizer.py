"""Auto-rebalance: contiguous, compact territories balanced on up to three attributes.

Works on a generic graph of basic units (:class:`Units`: ids, planar positions in km, numeric
attributes, an adjacency edge list). H3 cells are one adapter
(:func:`territory.rebalance.units_from_cells`); ZIPs or counties can use the same engine.

Method (deterministic for a seed):

1. **Centres**: fixed ones (e.g. rep homes), the current territories' centres, or recursive
   coordinate bisection into K groups of equal weight (islands join their neighbours' group).
2. **Capacitated assignment** (Hess-Samuels) as one sparse linear programme (HiGHS): every
   unit to one of its nearest centres at least squared distance (plus a disruption cost
   against the current plan), every territory within half the tolerance on every attribute.
   Centres move to their territory's centre and the assignment is solved again (up to three
   rounds, within 30 % of the time limit); the best round is kept.
3. **Contiguity repair**: each territory keeps its heaviest piece; other pieces join the
   lightest territory they touch.
4. **Local search**: boundary moves (a unit, with any small part it would cut off, to a
   neighbouring territory) scored incrementally against one objective — squared relative
   deviation per attribute, heavily penalised beyond the tolerance, plus compactness (moment
   of inertia from running sums, O(1) per move) and disruption — accepted only when the
   territory it leaves stays in one piece. Empty units may be crossed towards a lighter
   territory (so light territories reach the weight beyond empty land).
5. **Shifting weight along the territory graph** (while the tolerance is not met): each
   territory's excess on the attribute furthest off is routed to the light territories over as
   few borders as possible (a linear programme on the K territories), and every border moves its
   flow as whole units, nearest to the receiving territory first, keeping the giving territory
   in one piece; then local search again (``ROUND_PASSES`` passes). This fixes regional
   imbalances — a cluster of heavy territories, balanced ones between, light ones beyond — that
   no single move can, because each one makes a neighbour worse. The best plan is kept.
6. **Report** (:class:`Report`): balance per attribute (max deviation, coefficient of
   variation), pieces per territory, compactness (moment of inertia, cut edges, largest
   within-territory distance), disruption and run time; when the tolerance is not met, a plain
   explanation of why. :func:`evaluate` reports any plan (e.g. a baseline's) the same way;
   :func:`suggest_moves` ranks single boundary moves for a plan kept as it is.
"""

from __future__ import annotations

import heapq
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linprog
from scipy.sparse import csgraph
from scipy.spatial import ConvexHull, cKDTree

from territory.errors import ValidationError

PENALTY = 200.0  # weight of squared deviation beyond the tolerance, against 1 within it
AIM = 0.8  # share of the tolerance the search aims at, so a plan does not end on the edge
COARSEN_ABOVE = 12_000  # more units than this: the assignment works on groups of nearby units
COARSE_GROUPS = 6_000
RESTARTS = 6  # starts tried while the tolerance is not met (and half the time limit is left)
BFS_LIMIT = 600  # units a quick connectivity check may visit before looking closer
PLATEAU = 1e-3  # how much compactness an empty unit may cost when it lets a light territory grow
PIECE_LIMIT = 300  # a part of a territory larger than this counts as its main body
ROUND_PASSES = 16  # local-search passes between two rounds of shifting weight along the territory graph
FLOW_ROUNDS = 30


@dataclass(frozen=True)
class Units:
    """Basic units: ids, planar positions in km (for compactness), numeric attributes, edges."""

    ids: np.ndarray
    xy: np.ndarray  # (n, 2) km
    attrs: pd.DataFrame  # one row per unit, numeric columns
    edges: np.ndarray  # (e, 2) positions, each undirected edge once
    links: tuple = ()  # (a, b, km) edges added to join islands, for the report

    def __post_init__(self) -> None:
        n = len(self.ids)
        if self.xy.shape != (n, 2) or len(self.attrs) != n:
            raise ValidationError("units: ids, positions and attributes must have one row per unit")


@dataclass
class Options:
    k: int | None = None  # number of territories (None: the current plan's)
    balance: dict[str, float] = field(default_factory=lambda: {"potential": 0.05})  # attribute -> tolerance
    centres: Sequence[int] | None = None  # a fixed centre unit per territory (e.g. rep homes)
    current: np.ndarray | None = None  # territory code per unit, -1 = none
    fixed: pd.DataFrame | None = None  # per territory code (index), attribute sums held whatever its units
    locked_units: np.ndarray | None = None  # bool per unit: keep its current territory
    locked_territories: Sequence[int] = ()  # codes kept exactly as they are
    disruption_weight: float = 0.0  # 0 = ignore the current plan beyond starting from it
    disruption_attr: str | None = "accounts"
    compactness_weight: float = 0.05
    seed: int = 0
    time_limit: float = 30.0  # seconds, counted from ``started_at``
    started_at: float | None = None  # time.perf_counter() when the caller's clock started (its set-up counts)
    progress: Callable[[float, str], None] | None = None  # (fraction done, message with the time left)
    cancel: Callable[[], bool] | None = None


@dataclass
class Report:
    balance: dict[str, dict[str, float]]  # attribute -> max_deviation_pct, cv, tolerance_pct, met
    pieces: dict[int, int]
    inertia_km2: float
    cut_edges: int
    max_span_km: float
    disruption: dict[str, float]  # attribute -> share moved
    seconds: float
    feasible: bool
    cancelled: bool = False
    explanation: list[str] = field(default_factory=list)
    links: tuple = ()

    @property
    def contiguous(self) -> bool:
        return all(p == 1 for p in self.pieces.values())


class _State:
    """The plan and its running sums, with O(1) move deltas."""

    def __init__(self, units: Units, plan: np.ndarray, k: int, opts: Options, active: np.ndarray) -> None:
        self.plan = plan
        self.k = k
        n = len(plan)
        csr = sparse.coo_matrix((np.ones(len(units.edges)), (units.edges[:, 0], units.edges[:, 1])), shape=(n, n)).tocsr()
        csr = (csr + csr.T).tocsr()
        self.adj = [csr.indices[csr.indptr[i]:csr.indptr[i + 1]].tolist() for i in range(n)]
        self.names = list(opts.balance)
        self.tol = [opts.balance[a] for a in self.names]
        self.aim = [t * AIM for t in self.tol]  # the search aims inside the tolerance, not at its edge
        self.vals = units.attrs[self.names].to_numpy(dtype=float)
        self.val_rows = self.vals.tolist()
        self.x, self.y = units.xy[:, 0].tolist(), units.xy[:, 1].tolist()
        self.active = active  # territories the search may change
        fixed = np.zeros((k, len(self.names))) if opts.fixed is None else \
            opts.fixed.reindex(index=range(k), columns=self.names).fillna(0.0).to_numpy(dtype=float)
        total = self.vals.sum(axis=0) + fixed[active].sum(axis=0) \
            - sum(self.vals[plan == t].sum(axis=0) for t in range(k) if not active[t])
        self.target = [max(float(v) / max(int(active.sum()), 1), 1e-12) for v in total]
        self.sums = [[float(v) for v in fixed[t]] for t in range(k)]  # e.g. accounts held by rules
        self.sx, self.sy, self.sq, self.cnt = [0.0] * k, [0.0] * k, [0.0] * k, [0] * k
        for i, t in enumerate(plan.tolist()):
            if t >= 0:
                self._add(i, t, 1)
        inertia = sum(self.inertia(t) for t in range(k))
        self.gamma = opts.compactness_weight * k / max(inertia, 1e-9)  # compactness: ~weight in total
        self.current = opts.current if opts.current is not None else np.full(n, -1)
        self.cur = self.current.tolist()
        dis = units.attrs[opts.disruption_attr].to_numpy(dtype=float) if opts.disruption_attr in units.attrs else np.ones(n)
        self.dis = (dis / max(dis.sum(), 1e-12) * opts.disruption_weight).tolist()

    def _add(self, i: int, t: int, sign: int) -> None:
        row = self.sums[t]
        for a, v in enumerate(self.val_rows[i]):
            row[a] += sign * v
        x, y = self.x[i], self.y[i]
        self.sx[t] += sign * x
        self.sy[t] += sign * y
        self.sq[t] += sign * (x * x + y * y)
        self.cnt[t] += sign

    def load(self, t: int) -> float:
        """Territory t's first attribute relative to the target (1.0 = on target)."""
        return self.sums[t][0] / self.target[0]

    def inertia(self, t: int) -> float:
        c = self.cnt[t]
        return self.sq[t] - (self.sx[t] ** 2 + self.sy[t] ** 2) / c if c else 0.0

    def _bal(self, t: int, sums) -> float:
        out = 0.0
        for a, s in enumerate(sums):
            d = s / self.target[a] - 1.0
            over = abs(d) - self.aim[a]
            out += d * d + (PENALTY * over * over if over > 0 else 0.0)
        return out

    def delta(self, i: int, a: int, b: int) -> float:
        """Objective change of moving unit i from territory a to b."""
        v = self.val_rows[i]
        sa, sb = self.sums[a], self.sums[b]
        bal = (self._bal(a, [s - x for s, x in zip(sa, v)]) + self._bal(b, [s + x for s, x in zip(sb, v)])
               - self._bal(a, sa) - self._bal(b, sb))
        x, y = self.x[i], self.y[i]
        q = x * x + y * y
        ca, cb = self.cnt[a], self.cnt[b]
        ia = (self.sq[a] - q) - ((self.sx[a] - x) ** 2 + (self.sy[a] - y) ** 2) / (ca - 1) if ca > 1 else 0.0
        ib = (self.sq[b] + q) - ((self.sx[b] + x) ** 2 + (self.sy[b] + y) ** 2) / (cb + 1)
        comp = self.gamma * (ia + ib - self.inertia(a) - self.inertia(b))
        cur = self.cur[i]
        dis = self.dis[i] * ((cur == a) - (cur == b))
        return bal + comp + dis

    def move(self, i: int, b: int) -> None:
        a = int(self.plan[i])
        self._add(i, a, -1)
        self._add(i, b, 1)
        self.plan[i] = b

    def group_delta(self, group: list[int], a: int, b: int) -> float:
        """Objective change of moving several units together from a to b (from running sums)."""
        v = [sum(self.val_rows[i][x] for i in group) for x in range(len(self.names))]
        gx, gy = sum(self.x[i] for i in group), sum(self.y[i] for i in group)
        gq = sum(self.x[i] ** 2 + self.y[i] ** 2 for i in group)
        c = len(group)
        sa, sb = self.sums[a], self.sums[b]
        bal = (self._bal(a, [s - x for s, x in zip(sa, v)]) + self._bal(b, [s + x for s, x in zip(sb, v)])
               - self._bal(a, sa) - self._bal(b, sb))
        ca, cb = self.cnt[a] - c, self.cnt[b] + c
        ia = (self.sq[a] - gq) - ((self.sx[a] - gx) ** 2 + (self.sy[a] - gy) ** 2) / ca if ca > 0 else 0.0
        ib = (self.sq[b] + gq) - ((self.sx[b] + gx) ** 2 + (self.sy[b] + gy) ** 2) / cb
        comp = self.gamma * (ia + ib - self.inertia(a) - self.inertia(b))
        dis = sum(self.dis[i] * ((self.cur[i] == a) - (self.cur[i] == b)) for i in group)
        return bal + comp + dis

    def cut_off(self, i: int, a: int) -> list[int] | None:
        """The units of territory a that removing unit i would cut off from the rest: [] when
        none, None when i splits a into two large parts (then i cannot move)."""
        if self.stays_connected(i, a):
            return []
        plan, adj = self.plan, self.adj
        seen = {i}
        small, large = [], 0
        for s in (j for j in adj[i] if plan[j] == a):
            if s in seen:
                continue
            piece, queue = [s], deque([s])
            seen.add(s)
            while queue and len(piece) < PIECE_LIMIT:
                j = queue.popleft()
                for m in adj[j]:
                    if m not in seen and plan[m] == a:
                        seen.add(m)
                        piece.append(m)
                        queue.append(m)
            if queue or len(piece) >= PIECE_LIMIT:
                large += 1
            else:
                small.append(piece)
        if large > 1:
            return None
        if large == 0:  # every part is small: keep the largest where it is
            small.sort(key=len)
            small = small[:-1]
        return [u for piece in small for u in piece]

    def stays_connected(self, i: int, a: int) -> bool:
        """Does territory a stay in one piece without unit i? (bounded search; no = unsafe)."""
        plan, adj = self.plan, self.adj
        same = [j for j in adj[i] if plan[j] == a]
        if len(same) <= 1:
            return True
        todo = set(same[1:])
        seen = {i, same[0]}
        queue = deque([same[0]])
        while queue and len(seen) < BFS_LIMIT:
            j = queue.popleft()
            for m in adj[j]:
                if m not in seen and plan[m] == a:
                    if m in todo:
                        todo.discard(m)
                        if not todo:
                            return True
                    seen.add(m)
                    queue.append(m)
        return False

    def objective(self) -> float:
        bal = sum(self._bal(t, self.sums[t]) for t in range(self.k) if self.active[t])
        comp = self.gamma * sum(self.inertia(t) for t in range(self.k))
        dis = sum(d for d, c, p in zip(self.dis, self.cur, self.plan.tolist()) if c >= 0 and c != p)
        return bal + comp + dis


def solve(units: Units, opts: Options) -> tuple[np.ndarray, Report]:
    """The rebalanced plan (territory code per unit) and its :class:`Report`."""
    start = time.perf_counter() if opts.started_at is None else opts.started_at
    n = len(units.ids)
    if not 1 <= len(opts.balance) <= 3:
        raise ValidationError("balance on one to three attributes")
    missing = [a for a in opts.balance if a not in units.attrs]
    if missing:
        raise ValidationError(f"unknown attribute(s) {', '.join(missing)}; use {', '.join(units.attrs.columns)}")
    current = np.asarray(opts.current, dtype=np.int64) if opts.current is not None else None
    k = opts.k or (int(current.max()) + 1 if current is not None and (current >= 0).any() else 0)
    if k < 1 or k > n:
        raise ValidationError(f"number of territories {k}: use 1 to {n} (one unit at least each)")
    rng = np.random.default_rng(opts.seed)
    locked_t = np.zeros(k, dtype=bool)
    locked_t[[t for t in opts.locked_territories if 0 <= t < k]] = True
    fixed = np.zeros(n, dtype=bool)
    if current is not None:
        fixed |= locked_t[np.clip(current, 0, k - 1)] & (current >= 0)
        if opts.locked_units is not None:
            fixed |= np.asarray(opts.locked_units, dtype=bool) & (current >= 0)
    adj = _adjacency(n, units.edges)
    say = _with_time_left(opts.progress, start, opts.time_limit)
    cancelled = opts.cancel or (lambda: False)
    # the search stops a little early, so that the report is written within the time limit
    opts = replace(opts, time_limit=0.95 * opts.time_limit)

    say(0.02, "placing centres")
    keep_current = current is not None and opts.k in (None, int(current.max()) + 1) and (current >= 0).any()
    if opts.centres is not None:
        seeds = list(opts.centres)
        if len(seeds) != k:
            raise ValidationError(f"{len(seeds)} centres for {k} territories: give one per territory")
        centres = units.xy[seeds].astype(float)
    elif keep_current:  # the current territories' centres
        centres = np.array([units.xy[current == t].mean(axis=0) if (current == t).any() else units.xy[rng.integers(n)]
                            for t in range(k)])
    else:
        centres = units.xy[_seeds(units, k, next(iter(opts.balance)), rng)].astype(float)
    weight = units.attrs[next(iter(opts.balance))].to_numpy(dtype=float)
    best = None
    for attempt in range(RESTARTS):
        if attempt:  # another start: the best plan's centres, shaken (deterministic for the seed)
            spread = np.sqrt(np.ptp(units.xy, axis=0).prod() / k)
            centres = np.array([units.xy[best.plan == t].mean(axis=0) if (best.plan == t).any() else centres[t]
                                for t in range(k)])
            centres = centres + rng.normal(scale=0.3 * spread, size=centres.shape)
        plan = _start(units, adj, centres, opts, current, fixed, locked_t, weight, start, say, cancelled)
        state = _State(units, plan, k, opts, ~locked_t)
        was_cancelled = _search(state, fixed, locked_t, rng, start, opts, say, cancelled, max_passes=ROUND_PASSES)
        state, was_cancelled = _rebalance_rounds(units, state, opts, fixed, locked_t, rng, start, say, cancelled,
                                                 was_cancelled)
        if best is None or state.objective() < best.objective():
            best = state
        report = _report(units, best, opts, locked_t, time.perf_counter() - start, was_cancelled)
        out_of_time = time.perf_counter() - start > 0.5 * opts.time_limit
        if report.feasible or was_cancelled or out_of_time or opts.centres is not None:
            break
        say(min(0.1 + 0.85 * (time.perf_counter() - start) / opts.time_limit, 0.95),
            f"tolerance not met yet: trying another start ({attempt + 2} of {RESTARTS})")
    state = best
    say(1.0, "done")
    return state.plan.copy(), report


def _with_time_left(progress, start: float, limit: float) -> Callable[[float, str], None]:
    """The caller's progress callback, its message followed by the seconds left of the time limit."""
    if progress is None:
        return lambda _f, _m: None
    return lambda f, m: progress(f, f"{m} · {max(0.0, limit - (time.perf_counter() - start)):.0f} s left")


def _rebalance_rounds(units, state: _State, opts: Options, fixed, locked_t, rng, start, say, cancelled,
                      was_cancelled: bool) -> tuple[_State, bool]:
    """While the tolerance is not met and time is left: shift weight along the territory graph
    (:func:`_flow_balance`), then local search again; the best plan by the objective is kept."""
    best_plan, best_value = state.plan.copy(), state.objective()
    stale = 0
    for round_ in range(FLOW_ROUNDS):
        if was_cancelled or time.perf_counter() - start > 0.8 * opts.time_limit:
            break
        sums = np.array(state.sums)[~locked_t] / np.array(state.target)
        if (np.abs(sums - 1) <= np.array(state.tol) + 1e-11).all():  # every attribute within tolerance
            break
        say(min(0.1 + 0.85 * (time.perf_counter() - start) / opts.time_limit, 0.95),
            f"shifting weight between territories (round {round_ + 1})")
        if not _flow_balance(state, fixed, locked_t, start + opts.time_limit, cancelled):
            break
        was_cancelled = _search(state, fixed, locked_t, rng, start, opts, say, cancelled, max_passes=ROUND_PASSES)
        value = state.objective()
        if value < best_value:
            best_plan, best_value, stale = state.plan.copy(), value, 0
        else:
            stale += 1
            if stale == 2:  # two rounds without a better plan: the tolerance is out of reach this way
                break
    if not was_cancelled:  # polish to a local optimum with the time that is left
        was_cancelled = _search(state, fixed, locked_t, rng, start, opts, say, cancelled)
        if state.objective() < best_value:
            best_plan = state.plan.copy()
    if not np.array_equal(best_plan, state.plan):
        state = _State(units, best_plan, state.k, opts, state.active)
    return state, was_cancelled


def _start(units: Units, adj, centres: np.ndarray, opts: Options, current, fixed, locked_t, weight, start: float,
           say, cancelled) -> np.ndarray:
    """Assignment to centres, re-centred and solved again (up to three rounds, within 30 % of the
    time limit), each repaired to contiguity; the best round by the objective."""
    k = len(centres)
    best_plan, best_value = None, np.inf
    for round_ in range(1 if opts.centres is not None else 3):
        say(0.05 + 0.03 * round_, "assigning units to centres")
        plan = _assign_coarse(units, centres, opts, current, fixed, locked_t)
        _fill_empty(plan, units.xy, centres, fixed, locked_t)
        plan = _repair(plan, adj, fixed, k, weight, locked_t)
        value = _State(units, plan, k, opts, ~locked_t).objective()
        if value < best_value:
            best_plan, best_value = plan, value
        centres = np.array([units.xy[plan == t].mean(axis=0) if (plan == t).any() else centres[t] for t in range(k)])
        if cancelled() or time.perf_counter() - start > 0.3 * opts.time_limit:
            break  # leave most of the time to the local search
    return best_plan


def _fill_empty(plan: np.ndarray, xy: np.ndarray, centres: np.ndarray, fixed: np.ndarray, locked_t: np.ndarray) -> None:
    """Every unlocked territory gets at least the free unit nearest its centre."""
    for t in np.flatnonzero(np.bincount(plan[plan >= 0], minlength=len(centres)) == 0):
        if locked_t[t]:
            continue
        sizes = np.bincount(plan[plan >= 0], minlength=len(centres))
        free = np.flatnonzero(~fixed & ((plan < 0) | (sizes[np.maximum(plan, 0)] > 1)))
        if len(free):
            plan[free[np.argmin(((xy[free] - centres[t]) ** 2).sum(axis=1))]] = t


def _assign_coarse(units: Units, centres: np.ndarray, opts: Options, current, fixed, locked_t) -> np.ndarray:
    """:func:`_assign`, on groups of nearby units when there are many (a square grid over the
    positions with about ``COARSE_GROUPS`` occupied squares): the programme stays small, the
    local search then works unit by unit."""
    n = len(units.ids)
    if n <= COARSEN_ABOVE:
        return _assign(units, centres, opts, current, fixed=fixed, locked_t=locked_t)
    xy = units.xy
    side = np.sqrt(np.ptp(xy, axis=0).prod() / COARSE_GROUPS) or 1.0
    for _ in range(8):  # widen the squares until few enough are occupied
        keys = np.floor((xy - xy.min(axis=0)) / side).astype(np.int64)
        _, group = np.unique(keys[:, 0] * 1_000_003 + keys[:, 1], return_inverse=True)
        if group.max() + 1 <= 2 * COARSE_GROUPS:
            break
        side *= 1.4
    g = int(group.max()) + 1
    counts = np.bincount(group, minlength=g)
    gxy = np.column_stack([np.bincount(group, weights=xy[:, d], minlength=g) / counts for d in range(2)])
    attrs = pd.DataFrame({name: np.bincount(group, weights=units.attrs[name].to_numpy(dtype=float), minlength=g)
                          for name in units.attrs.columns})
    grouped = Units(np.arange(g), gxy, attrs, np.zeros((0, 2), dtype=np.int64))
    plan = _assign(grouped, centres, opts, None, fixed=np.zeros(g, dtype=bool), locked_t=locked_t)[group]
    if current is not None:
        plan[fixed] = current[fixed]
    return plan


def _assign(units: Units, centres: np.ndarray, opts: Options, current: np.ndarray | None, *,
            fixed: np.ndarray, locked_t: np.ndarray, nearest: int = 5) -> np.ndarray:
    """Capacitated assignment to centres as one linear programme (Hess-Samuels): each free unit
    to one of its nearest unlocked centres, minimising squared distance (and, with a current
    plan and a disruption weight, changes of territory), every territory within half the
    tolerance of the target on every attribute, counting the fixed units it already has (soft:
    a penalised slack keeps it feasible). Few units end up split; each goes to its larger share."""
    n = len(units.ids)
    plan = np.where(fixed, current if current is not None else -1, -1).astype(np.int64)
    free = np.flatnonzero(~fixed)
    open_t = np.flatnonzero(~locked_t)
    if len(free) == 0 or len(open_t) == 0:
        return plan
    f, k = len(free), len(open_t)
    m = min(nearest, k)
    dist, near = cKDTree(centres[open_t]).query(units.xy[free], k=m)
    dist, near = dist.reshape(f, m), near.reshape(f, m)  # near: index into open_t
    scale = max(float(np.median(dist[:, 0]) ** 2), 1e-9)
    cost = (dist ** 2 / scale).ravel()
    if current is not None and opts.disruption_weight > 0:
        dis = units.attrs[opts.disruption_attr].to_numpy(dtype=float) if opts.disruption_attr in units.attrs else np.ones(n)
        penalty = opts.disruption_weight * 50 * dis[free] / max(dis.mean(), 1e-12)
        cost = cost + (penalty[:, None] * (open_t[near] != np.asarray(current)[free][:, None])).ravel()
    cols = np.arange(f * m)
    a_eq = sparse.csr_matrix((np.ones(f * m), (np.repeat(np.arange(f), m), cols)), shape=(f, f * m))
    ub_rows, ub_vals, b_ub = [], [], []
    r = 0
    for name, tol in opts.balance.items():
        w = units.attrs[name].to_numpy(dtype=float)
        base = np.bincount(plan[fixed], weights=w[fixed], minlength=len(locked_t)) if fixed.any() else np.zeros(len(locked_t))
        target = (w.sum() - base[locked_t].sum()) / k
        wv = np.repeat(w[free], m)
        for sign, bound in ((1, target * (1 + tol / 2) - base[open_t]), (-1, -(target * (1 - tol / 2) - base[open_t]))):
            ub_rows.append(near.ravel() + r)
            ub_vals.append(sign * wv)
            b_ub.extend(bound.tolist())
            r += k
    ub = sparse.csr_matrix((np.concatenate(ub_vals), (np.concatenate(ub_rows), np.tile(cols, len(ub_rows)))), shape=(r, f * m))
    a_ub = sparse.hstack([ub, -sparse.identity(r, format="csr")], format="csr")
    a_eq = sparse.hstack([a_eq, sparse.csr_matrix((f, r))], format="csr")
    big = 1e4 * f / np.maximum(np.abs(np.array(b_ub, dtype=float)), 1e-12)  # a broken bound costs far more than distance
    res = linprog(np.concatenate([cost, big]), A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=np.ones(f), bounds=(0, None),
                  method="highs-ipm")
    choice = near[:, 0] if res.status != 0 else near[np.arange(f), res.x[: f * m].reshape(f, m).argmax(axis=1)]
    plan[free] = open_t[choice]
    return plan


def _adjacency(n: int, edges: np.ndarray) -> list[list[int]]:
    adj: list[list[int]] = [[] for _ in range(n)]
    for a, b in edges.tolist():
        adj[a].append(b)
        adj[b].append(a)
    return adj


def _seeds(units: Units, k: int, attr: str, rng: np.random.Generator) -> list[int]:
    """Centres by recursive coordinate bisection: split the units into two groups of equal
    weight across their longer extent, in proportion to the territories each side gets, until
    there are k groups; each group's centre of weight, snapped to a unit that carries weight.
    Far-off outliers (islands) join their neighbours' group instead of getting a centre."""
    w = units.attrs[attr].to_numpy(dtype=float)
    w = w + 1e-9 * max(float(w.max()), 1.0)
    xy = units.xy
    jitter = rng.normal(scale=1e-6, size=xy.shape)  # the seed breaks ties, nothing more

    def split(idx: np.ndarray, parts: int) -> list[np.ndarray]:
        if parts == 1 or len(idx) <= 1:
            return [idx]
        left_parts = parts // 2
        pts = xy[idx] + jitter[idx]
        dim = int(np.argmax(np.ptp(pts, axis=0)))
        order = idx[np.argsort(pts[:, dim])]
        cum = np.cumsum(w[order])
        cut = int(np.searchsorted(cum, cum[-1] * left_parts / parts)) + 1
        cut = min(max(cut, 1), len(order) - 1)
        return split(order[:cut], left_parts) + split(order[cut:], parts - left_parts)

    groups = split(np.arange(len(w)), k)
    out: list[int] = []
    for g in groups:
        centre = (xy[g] * w[g, None]).sum(axis=0) / w[g].sum()
        cand = g[np.argsort(((xy[g] - centre) ** 2).sum(axis=1))]
        heavy = cand[w[cand] >= np.median(w[g])]
        out.append(next(int(c) for c in (*heavy, *cand) if int(c) not in out))
    return out


def _repair(plan: np.ndarray, adj, fixed: np.ndarray, k: int, weight: np.ndarray, locked_t: np.ndarray) -> np.ndarray:
    """Every unit assigned and every territory in one piece (where the graph allows).

    A territory keeps its heaviest piece; each other piece joins the lightest territory it
    touches, so the repair costs as little balance as it can.
    """
    n = len(plan)
    # unassigned units join a neighbouring territory, breadth first
    queue = deque(i for i in range(n) if plan[i] >= 0)
    while queue:
        i = queue.popleft()
        for j in adj[i]:
            if plan[j] < 0:
                plan[j] = plan[i]
                queue.append(j)
    plan[plan < 0] = 0  # units with no path to any territory (not in a connected graph)
    w = weight + 1e-9 * max(float(weight.max()), 1.0) if len(weight) else weight
    ends = _edge_arrays(adj)
    for _ in range(20):
        labels = _pieces(plan, *ends)
        load = np.bincount(plan, weights=w, minlength=k)
        changed = False
        for t in range(k):
            own = np.flatnonzero(plan == t)
            if len(own) == 0:
                continue
            mass = pd.Series(w[own]).groupby(labels[own]).sum().sort_values(ascending=False)
            for lab in mass.index[1:]:
                piece = own[labels[own] == lab]
                if fixed[piece].any():
                    continue
                border = {int(plan[j]) for i in piece for j in adj[i] if plan[j] != t and not locked_t[plan[j]]}
                if border:
                    to = min(border, key=lambda b: load[b])
                    plan[piece] = to
                    moved = w[piece].sum()
                    load[t] -= moved
                    load[to] += moved
                    changed = True
        if not changed:
            break
    return plan


def _pieces(plan: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A component label per unit over the edges (a, b) inside territories."""
    n = len(plan)
    inside = plan[a] == plan[b]
    g = sparse.coo_matrix((np.ones(int(inside.sum()), dtype=np.int8), (a[inside], b[inside])), shape=(n, n))
    return csgraph.connected_components(g, directed=False)[1]


def _search(state: _State, fixed, locked_t, rng, start, opts: Options, say, cancelled, max_passes: int = 10**9) -> bool:
    """Boundary moves until no move improves the objective, ``max_passes`` passes, the time is
    up, or cancel (then True)."""
    plan, adj = state.plan, state.adj
    movable = ~fixed & ~locked_t[plan]
    edges_a, edges_b = _edge_arrays(adj)

    tabu: dict[int, int] = {}

    def movable_fixed(group: list[int]) -> bool:
        return bool(fixed[group].any())

    passes = 0
    while True:
        passes += 1
        boundary = np.unique(np.concatenate([edges_a[plan[edges_a] != plan[edges_b]], edges_b[plan[edges_a] != plan[edges_b]]]))
        boundary = boundary[movable[boundary]]
        rng.shuffle(boundary)
        improved = 0
        for n_done, i in enumerate(boundary.tolist()):
            if n_done % 2000 == 0:
                if cancelled():
                    return True
                if time.perf_counter() - start > opts.time_limit:
                    return False
            a = int(plan[i])
            if state.cnt[a] <= 1:
                continue
            best, best_b = -1e-12, -1
            empty = not any(state.val_rows[i])
            plateau = False
            for b in {int(plan[j]) for j in adj[i]}:
                if b == a or locked_t[b] or tabu.get(i) == b:
                    continue
                d = state.delta(i, a, b)
                if empty and d < PLATEAU:
                    # an empty unit between territories: crossing it changes no balance, but it
                    # is how a light territory reaches the weight beyond; lean to the lighter one
                    gap = state.load(a) - state.load(b)
                    if gap > state.tol[0]:
                        d = -gap * 1e-6
                if d < best:
                    best, best_b = d, b
                    plateau = empty and d > -1e-5
            if best_b < 0:
                continue
            cut = state.cut_off(i, a)
            if cut == []:
                state.move(i, best_b)
                improved += 1
                if plateau:  # never straight back for compactness alone
                    tabu[i] = a
            elif cut and not movable_fixed(cut) and state.cnt[a] > len(cut) + 1:
                group = [i, *cut]  # the unit takes the part it would cut off along
                if state.group_delta(group, a, best_b) < -1e-12:
                    for u in group:
                        state.move(u, best_b)
                    improved += 1
        say(min(0.1 + 0.85 * (time.perf_counter() - start) / max(opts.time_limit, 1e-9), 0.95),
            f"pass {passes}: {improved:,} moves")
        if improved == 0 or passes >= max_passes:
            return False


def _flow_balance(state: _State, fixed: np.ndarray, locked_t: np.ndarray, deadline: float,
                  cancelled: Callable[[], bool] = lambda: False) -> int:
    """Shift weight between territories along a least-cost flow on the territory graph.

    Local moves cannot fix a regional imbalance: a cluster of heavy territories next to a cluster
    of light ones, with balanced ones between, where every single move makes a neighbour worse.
    Here each territory's excess on the attribute furthest off is routed to the light
    territories over as few borders as possible (a small linear programme on
    the K territories); each border then moves its flow as whole units, nearest to the receiving
    territory first, never splitting the one that gives. Returns how many units moved.
    """
    plan = state.plan
    sums = np.array(state.sums) / np.array(state.target)  # territory x attribute, 1.0 = on target
    live = state.active & ~locked_t & (np.array(state.cnt) > 0)
    worst = int(np.argmax(np.abs(sums[live] - 1).max(axis=0))) if live.any() else 0
    # route the attribute furthest off this round (the rounds take turns as that changes)
    unit_load = state.vals[:, worst] / state.target[worst]  # a unit's weight in targets
    load = sums[:, worst]
    ea, eb = _edge_arrays(state.adj)
    cross = (plan[ea] != plan[eb]) & (plan[ea] >= 0) & (plan[eb] >= 0)
    ta, tb = plan[ea][cross], plan[eb][cross]
    keep = live[ta] & live[tb]
    pairs = np.unique(np.column_stack([ta[keep], tb[keep]]), axis=0)  # both directions of every border
    if len(pairs) == 0:
        return 0
    nodes = np.flatnonzero(live)
    excess = load[nodes] - load[nodes].mean()
    row = {t: r for r, t in enumerate(nodes.tolist())}
    p = len(pairs)
    # out - in + slack_plus - slack_minus = excess; minimise flow, slack (unroutable) costs far more
    rows = np.concatenate([[row[a] for a in pairs[:, 0]], [row[b] for b in pairs[:, 1]],
                           np.arange(len(nodes)), np.arange(len(nodes))])
    cols = np.concatenate([np.arange(p), np.arange(p), p + np.arange(len(nodes)), p + len(nodes) + np.arange(len(nodes))])
    vals = np.concatenate([np.ones(p), -np.ones(p), np.ones(len(nodes)), -np.ones(len(nodes))])
    a_eq = sparse.csr_matrix((vals, (rows, cols)), shape=(len(nodes), p + 2 * len(nodes)))
    cost = np.concatenate([np.ones(p), np.full(2 * len(nodes), 1e3)])
    res = linprog(cost, A_eq=a_eq, b_eq=excess, bounds=(0, None), method="highs")
    if res.status != 0:
        return 0
    flows = res.x[:p]
    moved = 0
    for e in np.argsort(-flows, kind="stable").tolist():
        if flows[e] < 0.25 * min(state.tol) or time.perf_counter() > deadline or cancelled():
            break
        moved += _shift(state, int(pairs[e, 0]), int(pairs[e, 1]), float(flows[e]), unit_load, fixed)
    return moved


def _shift(state: _State, a: int, b: int, amount: float, unit_load: np.ndarray, fixed: np.ndarray) -> int:
    """Move about ``amount`` (in targets) from territory a to its neighbour b: a's units on the
    border first, nearest to b's centre, each only if a stays in one piece."""
    plan, adj = state.plan, state.adj
    cx, cy = state.sx[b] / state.cnt[b], state.sy[b] / state.cnt[b]

    def key(i: int) -> tuple[float, int]:
        return ((state.x[i] - cx) ** 2 + (state.y[i] - cy) ** 2, i)

    heap = sorted(key(i) for i in {i for j in np.flatnonzero(plan == b).tolist() for i in adj[j] if plan[i] == a})
    seen = {i for _, i in heap}
    shifted, moved, visits = 0.0, 0, 0
    while heap and visits < 20_000:
        _, i = heapq.heappop(heap)
        visits += 1
        if plan[i] != a or fixed[i] or state.cnt[a] <= 1:
            continue
        w = float(unit_load[i])
        if shifted + w - amount > amount - shifted:  # overshooting by more than it closes: skip it
            continue
        if not state.stays_connected(i, a):
            continue
        state.move(i, b)
        shifted += w
        moved += 1
        if shifted >= amount:
            break
        for j in adj[i]:
            if j not in seen and plan[j] == a:
                seen.add(j)
                heapq.heappush(heap, key(j))
    return moved


def _edge_arrays(adj) -> tuple[np.ndarray, np.ndarray]:
    a = np.array([i for i, nb in enumerate(adj) for _ in nb], dtype=np.int64)
    b = np.array([j for nb in adj for j in nb], dtype=np.int64)
    return a, b


def evaluate(units: Units, plan: np.ndarray, balance: dict[str, float], *, current: np.ndarray | None = None,
             seconds: float = 0.0) -> Report:
    """The report for any plan (e.g. a baseline method's), by the same measures."""
    opts = Options(k=int(plan.max()) + 1, balance=balance, current=current)
    k = opts.k
    state = _State(units, np.asarray(plan, dtype=np.int64).copy(), k, opts, np.ones(k, dtype=bool))
    return _report(units, state, opts, np.zeros(k, dtype=bool), seconds, False)


def _report(units: Units, state: _State, opts: Options, locked_t, seconds: float, cancelled: bool) -> Report:
    plan, k = state.plan, state.k
    active = ~locked_t
    bal = {}
    for a, name in enumerate(state.names):
        sums = np.array([state.sums[t][a] for t in range(k)])[active]
        dev = np.abs(sums / state.target[a] - 1) * 100 if len(sums) else np.zeros(0)
        mx = float(dev.max()) if len(dev) else 0.0
        bal[name] = {"max_deviation_pct": mx, "cv": float(sums.std() / sums.mean()) if sums.mean() else 0.0,
                     "tolerance_pct": state.tol[a] * 100, "met": mx <= state.tol[a] * 100 + 1e-9}
    labels = _pieces(plan, units.edges[:, 0], units.edges[:, 1])
    pieces = {t: int(len(np.unique(labels[plan == t]))) for t in range(k)}
    e = units.edges
    cut = int((plan[e[:, 0]] != plan[e[:, 1]]).sum()) if len(e) else 0
    disruption = {}
    if opts.current is not None:
        cur = np.asarray(opts.current)
        had = cur >= 0
        for name in ("accounts", "revenue_12m"):
            if name in units.attrs:
                v = units.attrs[name].to_numpy(dtype=float)
                disruption[name] = float(v[had & (cur != plan)].sum() / v.sum()) if v.sum() else 0.0
    report = Report(bal, pieces, float(sum(state.inertia(t) for t in range(k))), cut, _max_span(units.xy, plan, k),
                    disruption, seconds, all(b["met"] for b in bal.values()), cancelled, links=units.links)
    report.explanation = _explain(units, state, report, locked_t, opts)
    return report


def _max_span(xy: np.ndarray, plan: np.ndarray, k: int) -> float:
    """The largest distance between two units of one territory (over convex hull corners)."""
    best = 0.0
    for t in range(k):
        pts = xy[plan == t]
        if len(pts) > 3:
            try:
                pts = pts[ConvexHull(pts).vertices]
            except Exception:  # noqa: BLE001 - collinear points: use them all
                pass
        if len(pts) > 1:
            d = np.sqrt(((pts[:, None, :] - pts[None, :, :]) ** 2).sum(axis=2))
            best = max(best, float(d.max()))
    return best


def _explain(units: Units, state: _State, report: Report, locked_t, opts: Options) -> list[str]:
    out = []
    if report.cancelled:
        out.append("Cancelled: this is the best plan found so far.")
    for a, name in enumerate(state.names):
        b = report.balance[name]
        if b["met"]:
            continue
        heaviest = int(np.argmax(state.vals[:, a]))
        share = state.vals[heaviest, a] / state.target[a]
        line = f"{name}: the largest deviation is {b['max_deviation_pct']:.1f}%, beyond ±{b['tolerance_pct']:.0f}%."
        if share > 1 + state.tol[a]:
            line += (f" One unit ({units.ids[heaviest]}) alone holds {share:.0%} of a territory's target, more than a "
                     f"territory may hold: use a finer resolution or fewer territories.")
        elif share > 0.25:
            line += (f" Units are coarse for this many territories (the heaviest, {units.ids[heaviest]}, holds "
                     f"{share:.0%} of a territory's target), so the last steps to the target cannot be made: "
                     f"use a finer resolution or fewer territories.")
        elif locked_t.any() or (opts.locked_units is not None and np.asarray(opts.locked_units).any()):
            line += " Locked cells or territories leave too little to move: unlock some."
        elif report.seconds >= opts.time_limit:
            line += " The time limit was reached: allow more time."
        else:
            line += (" The attributes pull in different directions (or contiguity blocks the moves that would help): "
                     "widen the tolerance or balance on fewer attributes.")
        out.append(line)
    if locked_t.any():
        out.append(f"{int(locked_t.sum())} locked territories were kept as they are and are not counted in the balance.")
    if units.links:
        out.append(f"{len(units.links)} islands were joined to their nearest unit to keep territories connected.")
    return out


@dataclass(frozen=True)
class Move:
    unit: int  # position
    source: int
    target: int
    score: float  # objective change (negative = better)
    max_deviation_pct: dict[str, float]  # per attribute, after the move
    inertia_change_km2: float
    disruption: float  # share of the disruption attribute this move changes (+ moves away from current)


def suggest_moves(units: Units, plan: np.ndarray, opts: Options, *, top: int = 10) -> list[Move]:
    """The best single boundary moves for ``plan`` (kept as it is), best first.

    Each move keeps the territory it leaves in one piece and leaves locked units and locked
    territories alone; only moves that improve the objective are listed.
    """
    plan = np.asarray(plan, dtype=np.int64).copy()
    k = opts.k or int(plan.max()) + 1
    locked_t = np.zeros(k, dtype=bool)
    locked_t[[t for t in opts.locked_territories if 0 <= t < k]] = True
    state = _State(units, plan, k, opts, ~locked_t)
    fixed = np.asarray(opts.locked_units, dtype=bool) if opts.locked_units is not None else np.zeros(len(plan), bool)
    found = []
    for i in range(len(plan)):
        a = int(plan[i])
        if a < 0 or fixed[i] or locked_t[a] or state.cnt[a] <= 1:
            continue
        for b in {int(plan[j]) for j in state.adj[i]} - {a, -1}:
            if locked_t[b]:
                continue
            d = state.delta(i, a, b)
            if d < -1e-12:
                found.append((d, i, a, b))
    found.sort()
    out = []
    for d, i, a, b in found:
        if len(out) >= top:
            break
        if not state.stays_connected(i, a):
            continue
        before = state.inertia(a) + state.inertia(b)
        state.move(i, b)
        devs = {name: float(max(abs(state.sums[t][x] / state.target[x] - 1) for t in range(k) if not locked_t[t]) * 100)
                for x, name in enumerate(state.names)}
        inertia = state.inertia(a) + state.inertia(b) - before
        state.move(i, a)
        cur = state.cur[i]
        out.append(Move(i, a, b, d, devs, inertia, (state.dis[i] if opts.disruption_weight else 0.0) * ((cur == a) - (cur == b))))
    return out
