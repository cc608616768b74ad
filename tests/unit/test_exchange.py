"""The exact exchange across borders (optimizer.exchange): the moves that close the last gap to
the tolerance, chosen together, where the local search's one-at-a-time moves stop."""

from __future__ import annotations

import numpy as np
import pandas as pd

from territory import optimizer
from territory.optimizer import exchange, search
from territory.optimizer.run import Run
from territory.optimizer.start import edge_arrays


def _strip(cols: int, rows: int, a: np.ndarray, b: np.ndarray) -> optimizer.Units:
    """A grid of ``cols`` x ``rows`` unit squares, four neighbours each, two attributes."""
    xy = np.array([(x, y) for x in range(cols) for y in range(rows)], dtype=float)
    idx = np.arange(cols * rows).reshape(cols, rows)
    edges = [(idx[x, y], idx[x + 1, y]) for x in range(cols - 1) for y in range(rows)] + \
        [(idx[x, y], idx[x, y + 1]) for x in range(cols) for y in range(rows - 1)]
    return optimizer.Units(np.arange(cols * rows), xy, pd.DataFrame({"a": a, "b": b}), np.array(edges))


def _pieces(units: optimizer.Units, plan: np.ndarray) -> dict[int, int]:
    return optimizer.evaluate(units, plan, {"a": 0.05}).pieces


def test_a_chain_of_territories_passes_the_excess_on_in_one_exchange():
    # three territories in a row, 5 columns each: the left one 20 % over on both attributes (its
    # units weigh 1.2), the right one 20 % under (0.8), the middle one on target: units must go
    # left-to-middle and middle-to-right at once, the middle passing on what it takes in
    cols, rows = 15, 4
    w = np.repeat(np.r_[np.full(5, 1.2), np.ones(5), np.full(5, 0.8)], rows)
    units = _strip(cols, rows, w, w)
    start = np.repeat(np.arange(3), 5 * rows)
    opts = optimizer.Options(k=3, balance={"a": 0.05, "b": 0.05}, seed=0, time_limit=30)
    run = Run.prepare(units, opts)
    p = run.partition(start.copy())
    moved = exchange.exchange(run, p, seconds=10)
    assert moved > 0 and search.within(run, p)
    assert set(_pieces(units, p.plan).values()) == {1}  # every territory in one piece
    assert (p.plan[start == 0] != 0).any() and (p.plan[start == 1] == 2).any()  # the middle passed some on
    depth = np.abs(units.xy[p.plan != start, 0][:, None] - np.array([4.5, 9.5])).min(axis=1)
    assert depth.max() < exchange.DEPTH  # only units near a border move


def test_a_territory_over_on_one_attribute_and_under_on_the_other_swaps_units():
    # two territories side by side: the left one's border column carries attribute a only, the
    # right one's attribute b only, so the left is over on a and under on b, the right the reverse
    cols, rows = 10, 6
    a, b = np.ones(cols * rows), np.ones(cols * rows)
    left_edge, right_edge = np.arange(4 * rows, 5 * rows), np.arange(5 * rows, 6 * rows)
    a[left_edge], b[left_edge] = 3.0, 0.0
    a[right_edge], b[right_edge] = 0.0, 3.0
    units = _strip(cols, rows, a, b)
    start = np.repeat(np.arange(2), 5 * rows)
    run = Run.prepare(units, optimizer.Options(k=2, balance={"a": 0.05, "b": 0.05}, seed=0, time_limit=30))
    p = run.partition(start.copy())
    assert not search.within(run, p)
    assert exchange.exchange(run, p, seconds=10) > 0 and search.within(run, p)
    assert (p.plan[left_edge] == 1).any() and (p.plan[right_edge] == 0).any()  # both ways across the border
    assert set(_pieces(units, p.plan).values()) == {1}


def test_locked_territories_and_a_plan_within_the_tolerance_are_left_alone():
    cols, rows = 15, 4
    w = np.repeat(np.r_[np.full(5, 1.2), np.ones(5), np.full(5, 0.8)], rows)
    units = _strip(cols, rows, w, w)
    start = np.repeat(np.arange(3), 5 * rows)
    run = Run.prepare(units, optimizer.Options(k=3, balance={"a": 0.05}, seed=0, time_limit=30,
                                               current=start, locked_territories=(1,)))
    p = run.partition(start.copy())
    exchange.exchange(run, p, seconds=10)
    assert (p.plan[start == 1] == 1).all() and (p.plan == 1).sum() == (start == 1).sum()  # the locked one as it was
    even = _strip(cols, rows, np.ones(cols * rows), np.ones(cols * rows))
    run = Run.prepare(even, optimizer.Options(k=3, balance={"a": 0.05}, seed=0, time_limit=30))
    p = run.partition(start.copy())
    assert exchange.exchange(run, p, seconds=10) == 0 and np.array_equal(p.plan, start)


def test_articulation_points_are_the_units_that_hold_a_territory_together():
    # a path of four units in territory 0 and a ring of four in territory 1
    adj = [[1], [0, 2], [1, 3], [2], [5, 7], [4, 6], [5, 7], [6, 4]]
    plan = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    cut = exchange.articulation(plan, adj, np.ones(8, dtype=bool))
    assert cut.tolist() == [False, True, True, False, False, False, False, False]


def test_moves_that_together_leave_a_piece_apart_are_taken_back():
    # a path 0-1-2-3-4 with unit 5 hanging off 2; territories a = {0, 1}, b = {2, 5}, c = {3, 4}.
    # Chosen together: 1 from a to b (it touches b only through 2) and 2 from b to c: each is
    # fine alone, together unit 1 would stand apart from the rest of b
    edges = np.array([(0, 1), (1, 2), (2, 3), (3, 4), (2, 5)])
    xy = np.array([(0, 0), (1, 0), (2, 0), (3, 0), (4, 0), (2, 1)], dtype=float)
    units = optimizer.Units(np.arange(6), xy, pd.DataFrame({"a": np.ones(6)}), edges)
    start = np.array([0, 0, 1, 2, 2, 1])
    run = Run.prepare(units, optimizer.Options(k=3, balance={"a": 0.05}, seed=0, time_limit=30))
    p = run.partition(start.copy())
    exchange._apply(p, edge_arrays(p.adj), np.array([1, 2]), np.array([0, 1]), np.array([1, 2]), np.array([-1, -1]),
                    np.array([True, True]))
    assert set(_pieces(units, p.plan).values()) == {1}
    assert np.array(p.sums)[:, 0].tolist() == np.bincount(p.plan, minlength=3).tolist()  # running sums kept
