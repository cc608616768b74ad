"""The objective scores a move and a whole plan from the same terms: for random moves on random
plans, the change it predicts is the change of the plan's value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.spatial import Delaunay

from territory.optimizer import Options, Units
from territory.optimizer.run import Run


def _instance(seed: int, n: int = 120, k: int = 5):
    """A random plan on a random planar graph (the last territory locked), and its objective."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 50, size=(n, 2))
    edges = {tuple(sorted((int(s[i]), int(s[j])))) for s in Delaunay(xy).simplices for i, j in ((0, 1), (1, 2), (0, 2))}
    attrs = pd.DataFrame({"a": rng.integers(0, 50, n), "b": rng.exponential(10, n), "w": rng.integers(1, 9, n)}).astype(float)
    units = Units(np.arange(n), xy, attrs, np.array(sorted(edges)))
    plan = rng.integers(0, k, n)
    current = np.where(rng.random(n) < 0.8, rng.integers(0, k, n), -1)  # some units had no territory
    held = pd.DataFrame({"a": rng.integers(0, 30, k), "b": rng.uniform(0, 20, k)}).astype(float)
    opts = Options(k=k, balance={"a": 0.05, "b": 0.02}, current=current, fixed=held, disruption_weight=3.0,
                   disruption_attr="w", compactness_weight=0.2, locked_territories=[k - 1], seed=seed)
    run = Run.prepare(units, opts)
    p = run.partition(plan)
    return p, run.score(p), k, rng


@pytest.mark.parametrize("seed", range(6))
def test_a_moves_delta_is_the_change_of_the_plans_value(seed):
    p, objective, k, rng = _instance(seed)
    checked = 0
    for _ in range(300):
        i = int(rng.integers(len(p.plan)))
        a, b = int(p.plan[i]), int(rng.integers(k - 1))  # never into the locked territory
        if a == b or a == k - 1 or p.cnt[a] <= 1:
            continue
        before = objective.value(p)
        predicted = objective.delta(p, i, a, b)
        p.move(i, b)
        assert objective.value(p) - before == pytest.approx(predicted, rel=1e-9, abs=1e-9)
        checked += 1
    assert checked > 150  # the moves tested are most of those drawn


@pytest.mark.parametrize("seed", range(4))
def test_a_groups_delta_is_the_change_of_the_plans_value(seed):
    p, objective, k, rng = _instance(seed)
    checked = 0
    for _ in range(100):
        a, b = (int(t) for t in rng.choice(k - 1, 2, replace=False))
        own = np.flatnonzero(p.plan == a)
        if len(own) < 3:
            continue
        group = [int(u) for u in rng.choice(own, int(rng.integers(1, len(own))), replace=False)]
        before = objective.value(p)
        predicted = objective.delta_group(p, group, a, b)
        for u in group:
            p.move(u, b)
        assert objective.value(p) - before == pytest.approx(predicted, rel=1e-9, abs=1e-9)
        checked += 1
    assert checked > 50


def test_the_objective_prefers_the_balanced_plan_and_the_current_one():
    """Two halves of a strip: the even split scores better than a lopsided one, and with a
    disruption weight the current plan scores better than an equally balanced other plan."""
    n = 20
    xy = np.column_stack([np.arange(n, dtype=float), np.zeros(n)])
    units = Units(np.arange(n), xy, pd.DataFrame({"a": np.ones(n)}), np.array([(i, i + 1) for i in range(n - 1)]))
    even, lopsided = np.repeat([0, 1], 10), np.repeat([0, 1], [14, 6])
    run = Run.prepare(units, Options(k=2, balance={"a": 0.05}))
    assert run.score(run.partition(even)).value(run.partition(even)) < run.objective.value(run.partition(lopsided))
    swapped = 1 - even
    run = Run.prepare(units, Options(k=2, balance={"a": 0.05}, current=even, disruption_weight=1.0))
    assert run.score(run.partition(even)).value(run.partition(even)) < run.objective.value(run.partition(swapped))
