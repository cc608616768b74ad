"""A plan with its running sums (:class:`Partition`) and the one objective it is scored by
(:class:`Objective`).

The objective, lower is better, is the sum of three terms:

- **balance**: per territory that may change and per balanced attribute, the squared relative
  deviation from the target, plus ``PENALTY`` times the squared part of it beyond ``AIM`` of
  the tolerance (the search aims inside the tolerance, not at its edge), plus, for the part
  beyond ``EDGE_AT`` of the tolerance (just inside it), ``HARD`` times that part times itself
  plus ``EDGE`` (steep and, from the edge on, never flat), times the disruption weight when that
  is over 1: the weight trades disruption against balance within the tolerance, not past it;
- **compactness**: ``gamma`` times the moment of inertia of every territory (km²), where gamma
  makes the term about ``compactness_weight`` per territory on the first plan scored;
- **disruption**: per unit not in its current territory, its share of the disruption attribute
  times ``disruption_weight``.

:meth:`Objective.value` scores a whole plan and :meth:`Objective.delta` the change a move of one
or more units would make, from the same three terms (a test checks that they agree).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import numpy as np

from territory.optimizer.model import Options, Units

PENALTY = 200.0  # weight of squared deviation beyond the aim, against 1 within it
HARD = 10_000.0  # and beyond the edge, times the disruption weight when that is over 1
EDGE_AT = 0.98  # share of the tolerance where that term starts (a plan a high weight holds there is within)
EDGE = 0.01  # it also rises linearly (HARD x EDGE per unit): a squared term alone is flat at the edge,
# and a plan could sit just past it rather than move a few accounts
AIM = 0.8  # share of the tolerance the search aims at, so a plan does not end on the edge
BFS_LIMIT = 600  # units a quick connectivity check may visit before looking closer
PIECE_LIMIT = 300  # a part of a territory larger than this counts as its main body


def adjacency(n: int, edges: np.ndarray) -> list[list[int]]:
    adj: list[list[int]] = [[] for _ in range(n)]
    for a, b in edges.tolist():
        adj[a].append(b)
        adj[b].append(a)
    return adj


def inertia(sx: float, sy: float, sq: float, count: int) -> float:
    """Moment of inertia about the centre of units with these sums of x, y and x² + y²."""
    return sq - (sx * sx + sy * sy) / count if count else 0.0


class Partition:
    """Territory code per unit, with per territory running sums (attributes, positions, count)
    kept up to date by :meth:`move`, and the connectivity questions a move asks."""

    def __init__(self, units: Units, plan: np.ndarray, k: int, names: Sequence[str], held: np.ndarray,
                 adj: list[list[int]] | None = None) -> None:
        self.plan = plan
        self.k = k
        self.adj = adj if adj is not None else adjacency(len(plan), units.edges)
        self.vals = units.attrs[list(names)].to_numpy(dtype=float)
        self.val_rows = self.vals.tolist()
        self.x, self.y = units.xy[:, 0].tolist(), units.xy[:, 1].tolist()
        self.sums = [[float(v) for v in held[t]] for t in range(k)]  # held: e.g. accounts rules keep there
        self.sx, self.sy, self.sq, self.cnt = [0.0] * k, [0.0] * k, [0.0] * k, [0] * k
        for i, t in enumerate(plan.tolist()):
            if t >= 0:
                self._add(i, t, 1)

    def _add(self, i: int, t: int, sign: int) -> None:
        row = self.sums[t]
        for a, v in enumerate(self.val_rows[i]):
            row[a] += sign * v
        x, y = self.x[i], self.y[i]
        self.sx[t] += sign * x
        self.sy[t] += sign * y
        self.sq[t] += sign * (x * x + y * y)
        self.cnt[t] += sign

    def move(self, i: int, b: int) -> None:
        self._add(i, int(self.plan[i]), -1)
        self._add(i, b, 1)
        self.plan[i] = b

    def inertia(self, t: int) -> float:
        return inertia(self.sx[t], self.sy[t], self.sq[t], self.cnt[t])

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

    def sides(self, i: int, a: int) -> list[list[int]]:
        """The parts territory a falls into without unit i (a full search: for the rare move
        that hands one whole side to a neighbour, see ``search.shift``)."""
        plan, adj = self.plan, self.adj
        seen, parts = {i}, []
        for s in (j for j in adj[i] if plan[j] == a):
            if s in seen:
                continue
            piece, queue = [s], deque([s])
            seen.add(s)
            while queue:
                for m in adj[queue.popleft()]:
                    if m not in seen and plan[m] == a:
                        seen.add(m)
                        piece.append(m)
                        queue.append(m)
            parts.append(piece)
        return parts


class Objective:
    """Balance + compactness + disruption (see the module's docstring), for one run."""

    def __init__(self, units: Units, opts: Options, first: Partition, active: np.ndarray,
                 held: np.ndarray) -> None:
        self.names = list(opts.balance)
        self.tol = [opts.balance[a] for a in self.names]
        self.aim = [t * AIM for t in self.tol]
        self.edge = [t * EDGE_AT for t in self.tol]
        # past the tolerance itself the balance rules: no disruption weight buys its way out
        self.hard = HARD * max(1.0, opts.disruption_weight)
        self.active = active  # territories the search may change (the balance counts these)
        k = first.k
        plan = first.plan
        total = first.vals.sum(axis=0) + held[active].sum(axis=0) \
            - sum(first.vals[plan == t].sum(axis=0) for t in range(k) if not active[t])
        self.target = [max(float(v) / max(int(active.sum()), 1), 1e-12) for v in total]
        spread = sum(first.inertia(t) for t in range(k))
        self.gamma = opts.compactness_weight * k / max(spread, 1e-9)
        current = opts.current if opts.current is not None else np.full(len(plan), -1)
        self.cur = np.asarray(current).tolist()
        dis = units.column(opts.disruption_attr)
        self.dis = (dis / max(dis.sum(), 1e-12) * opts.disruption_weight).tolist()

    def balance(self, sums: Sequence[float]) -> float:
        """One territory's balance term, from its attribute sums."""
        out = 0.0
        for a, s in enumerate(sums):
            d = s / self.target[a] - 1.0
            off = d if d >= 0 else -d
            out += d * d
            if off > self.aim[a]:  # the search's hot path: the two tiers only when they apply
                out += PENALTY * (off - self.aim[a]) ** 2
                if off > self.edge[a]:
                    out += self.hard * (off - self.edge[a]) * (EDGE + off - self.edge[a])
        return out

    def load(self, p: Partition, t: int) -> float:
        """Territory t's first attribute relative to the target (1.0 = on target)."""
        return p.sums[t][0] / self.target[0]

    def value(self, p: Partition) -> float:
        bal = sum(self.balance(p.sums[t]) for t in range(p.k) if self.active[t])
        comp = self.gamma * sum(p.inertia(t) for t in range(p.k))
        dis = sum(d for d, c, t in zip(self.dis, self.cur, p.plan.tolist()) if c >= 0 and c != t)
        return bal + comp + dis

    def delta(self, p: Partition, i: int, a: int, b: int) -> float:
        """The change of :meth:`value` if unit i moved from territory a to b."""
        x, y = p.x[i], p.y[i]
        cur = self.cur[i]
        return self._change(p, a, b, p.val_rows[i], x, y, x * x + y * y, 1,
                            self.dis[i] * ((cur == a) - (cur == b)))

    def delta_group(self, p: Partition, group: Sequence[int], a: int, b: int) -> float:
        """The change of :meth:`value` if the units ``group`` moved together from a to b."""
        v = [sum(p.val_rows[i][x] for i in group) for x in range(len(self.names))]
        gx, gy = sum(p.x[i] for i in group), sum(p.y[i] for i in group)
        gq = sum(p.x[i] ** 2 + p.y[i] ** 2 for i in group)
        dis = sum(self.dis[i] * ((self.cur[i] == a) - (self.cur[i] == b)) for i in group)
        return self._change(p, a, b, v, gx, gy, gq, len(group), dis)

    def shape_delta(self, p: Partition, group: Sequence[int], a: int, b: int) -> float:
        """:meth:`delta_group` without the balance term (compactness and disruption), for the
        compactness phase, where the tolerance is a hard bound instead (:meth:`stays_within`)."""
        v = [sum(p.val_rows[i][x] for i in group) for x in range(len(self.names))]
        return self.delta_group(p, group, a, b) - self._balance_change(p, a, b, v)

    def stays_within(self, p: Partition, group: Sequence[int], a: int, b: int, share: float = AIM) -> bool:
        """Are territories a and b within ``share`` of the tolerance (by default the aim, so a
        plan does not end on its edge) on every attribute after the move (or, for one that is
        not, no further off than before)?"""
        for x, (target, tol) in enumerate(zip(self.target, (t * share for t in self.tol))):
            v = sum(p.val_rows[i][x] for i in group)
            for t, sign in ((a, -1), (b, 1)):
                if not self.active[t]:
                    continue
                before = abs(p.sums[t][x] / target - 1)
                after = abs((p.sums[t][x] + sign * v) / target - 1)
                if after > tol and after > before:
                    return False
        return True

    def balance_delta(self, p: Partition, i: int, a: int, b: int) -> float:
        """The balance term's part of :meth:`delta` (negative: the move improves the balance)."""
        return self._balance_change(p, a, b, p.val_rows[i])

    def _balance_change(self, p: Partition, a: int, b: int, v) -> float:
        sa, sb = p.sums[a], p.sums[b]
        return (self.balance([s - x for s, x in zip(sa, v)]) + self.balance([s + x for s, x in zip(sb, v)])
                - self.balance(sa) - self.balance(sb))

    def _change(self, p: Partition, a: int, b: int, v, gx: float, gy: float, gq: float, c: int,
                dis: float) -> float:
        bal = self._balance_change(p, a, b, v)
        after = (inertia(p.sx[a] - gx, p.sy[a] - gy, p.sq[a] - gq, p.cnt[a] - c)
                 + inertia(p.sx[b] + gx, p.sy[b] + gy, p.sq[b] + gq, p.cnt[b] + c))
        return bal + self.gamma * (after - p.inertia(a) - p.inertia(b)) + dis
