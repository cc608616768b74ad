"""What goes into the engine and what comes out: units, options, the report, a suggested move."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from territory.errors import ValidationError


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

    def column(self, name: str | None) -> np.ndarray:
        """An attribute as floats; every unit weighs 1 where ``name`` is None or not an attribute."""
        if name is None or name not in self.attrs:
            return np.ones(len(self.ids))
        return self.attrs[name].to_numpy(dtype=float)


@dataclass
class Options:
    k: int | None = None  # number of territories (None: the current plan's)
    balance: dict[str, float] = field(default_factory=dict)  # attribute -> tolerance (one to three)
    centres: Sequence[int] | None = None  # a fixed centre unit per territory (e.g. rep homes)
    current: np.ndarray | None = None  # territory code per unit, -1 = none
    fixed: pd.DataFrame | None = None  # per territory code (index), attribute sums held whatever its units
    locked_units: np.ndarray | None = None  # bool per unit: keep its current territory
    locked_territories: Sequence[int] = ()  # codes kept exactly as they are
    disruption_weight: float = 0.0  # 0 = ignore the current plan beyond starting from it
    disruption_attr: str | None = None  # what a change of territory costs by (None: every unit the same)
    report_moved: tuple[str, ...] = ()  # attributes whose share changing territory the report gives
    compactness_weight: float = 0.05
    seed: int = 0
    time_limit: float = 30.0  # seconds, counted from ``started_at``
    started_at: float | None = None  # time.perf_counter() when the caller's clock started (its set-up counts)
    progress: Callable[[float, str], None] | None = None  # (fraction done, message with the time left)
    describe: Callable[[int], str] | None = None  # how messages name a unit, from its id (default "unit <id>")
    cancel: Callable[[], bool] | None = None


@dataclass
class Report:
    balance: dict[str, dict[str, float]]  # attribute -> max_deviation_pct, cv, tolerance_pct, met
    pieces: dict[int, int]
    inertia_km2: float
    cut_edges: int
    max_span_km: float
    disruption: dict[str, float]  # attribute (Options.report_moved) -> share changing territory
    seconds: float
    feasible: bool
    cancelled: bool = False
    explanation: list[str] = field(default_factory=list)
    links: tuple = ()
    frontier: list = field(default_factory=list)  # frontier.Point: plans from "move little" to the best balance
    compaction: dict = field(default_factory=dict)  # inertia_km2 / max_span_km: [before, after] the compactness phase
    unavoidable: dict[str, float] = field(default_factory=dict)  # balanced attribute -> least share any plan
    # within the tolerance must move (from the current plan: the larger of the excess over the upper
    # bounds and the shortfall under the lower ones, over the total)

    @property
    def contiguous(self) -> bool:
        return all(p == 1 for p in self.pieces.values())


@dataclass(frozen=True)
class Move:
    unit: int  # position
    source: int
    target: int
    score: float  # objective change (negative = better)
    max_deviation_pct: dict[str, float]  # per attribute, after the move
    inertia_change_km2: float
    disruption: float  # share of the disruption attribute this move changes (+ moves away from current)
