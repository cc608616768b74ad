"""One run of the engine: what every step needs (:class:`Run`) and the time budget's phases."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from territory.errors import ValidationError
from territory.optimizer.model import Options, Units
from territory.optimizer.objective import Objective, Partition, adjacency


@dataclass(frozen=True)
class Budget:
    """The share of the time limit by which each phase ends."""

    starts: float = 0.3  # assignment rounds of a start (the rest is left to the local search)
    restarts: float = 0.5  # no new start after this while the tolerance is not met
    rounds: float = 0.8  # no new round of shifting weight along the territory graph
    search: float = 0.85  # every search stops; the rest is for the frontier and the report


BUDGET = Budget()


class Clock:
    """Seconds since the caller's clock started, against the time limit."""

    def __init__(self, started_at: float | None, limit: float) -> None:
        self.start = time.perf_counter() if started_at is None else started_at
        self.limit = limit

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def past(self, share: float) -> bool:
        """Is the phase that ends at ``share`` of the time limit over?"""
        return self.elapsed() > share * self.limit

    def progress(self) -> float:
        """A progress fraction for the search phases (10 % to 95 %)."""
        return min(0.1 + 0.85 * self.elapsed() / max(BUDGET.search * self.limit, 1e-9), 0.95)


@dataclass
class Run:
    """The units, the options and what follows from them, shared by every step of a run."""

    units: Units
    opts: Options
    k: int
    current: np.ndarray | None  # territory code per unit, -1 = none
    fixed: np.ndarray  # bool per unit: stays where it is (locked, or in a locked territory)
    locked: np.ndarray  # bool per territory: kept exactly as it is
    held: np.ndarray  # (k, attributes): sums each territory holds whatever its units
    adj: list[list[int]]
    rng: np.random.Generator
    clock: Clock
    say: Callable[[float, str], None]
    cancelled: Callable[[], bool]
    objective: Objective | None = None  # set from the first plan scored, the same for every start after
    origin: np.ndarray | None = None  # per territory: whose area today its centre is in (see .seats)

    @classmethod
    def prepare(cls, units: Units, opts: Options) -> Run:
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
        locked = np.zeros(k, dtype=bool)
        locked[[t for t in opts.locked_territories if 0 <= t < k]] = True
        fixed = np.zeros(n, dtype=bool)
        if current is not None:
            fixed |= locked[np.clip(current, 0, k - 1)] & (current >= 0)
            if opts.locked_units is not None:
                fixed |= np.asarray(opts.locked_units, dtype=bool) & (current >= 0)
        clock = Clock(opts.started_at, opts.time_limit)
        return cls(units, opts, k, current, fixed, locked, held_sums(opts, k), adjacency(n, units.edges),
                   np.random.default_rng(opts.seed), clock, _with_time_left(opts.progress, clock),
                   opts.cancel or (lambda: False))

    def partition(self, plan: np.ndarray) -> Partition:
        return Partition(self.units, plan, self.k, list(self.opts.balance), self.held, self.adj)

    def score(self, p: Partition) -> Objective:
        """The run's objective (made from the first plan it scores)."""
        if self.objective is None:
            self.objective = Objective(self.units, self.opts, p, ~self.locked, self.held)
        return self.objective


def held_sums(opts: Options, k: int) -> np.ndarray:
    if opts.fixed is None:
        return np.zeros((k, len(opts.balance)))
    return opts.fixed.reindex(index=range(k), columns=list(opts.balance)).fillna(0.0).to_numpy(dtype=float)


def _with_time_left(progress, clock: Clock) -> Callable[[float, str], None]:
    """The caller's progress callback, its message followed by the seconds left of the time limit."""
    if progress is None:
        return lambda _f, _m: None
    return lambda f, m: progress(f, f"{m} · {max(0.0, clock.limit - clock.elapsed()):.0f} s left")
