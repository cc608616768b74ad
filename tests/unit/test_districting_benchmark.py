"""The engine on a published districting instance (West Virginia's 55 counties, 3 districts,
±0.5 % population, contiguous; bench/data): it meets the tight tolerance and comes within a
bounded factor of the proven fewest cut edges (23), a compactness measure it does not optimise."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from territory import optimizer

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
from districting_bench import OPTIMUM_CUT_EDGES, TOLERANCE, instance  # noqa: E402


def test_the_data_is_the_published_instance():
    units = instance()
    assert len(units.ids) == 55 and len(units.edges) == 125
    assert units.attrs["pop"].sum() == 1_852_994  # West Virginia, 2010 census


@pytest.mark.parametrize("seed", [0, 1, 4])  # seed 4 gave up at 0.64 % after five starts without a better plan
def test_west_virginia_in_three_districts_within_half_a_percent(seed):
    units = instance()
    plan, report = optimizer.solve(units, optimizer.Options(k=3, balance={"pop": TOLERANCE}, seed=seed, time_limit=20))
    assert report.feasible and report.contiguous, report.explanation
    assert report.balance["pop"]["max_deviation_pct"] <= 0.5
    # ten seeds gave 27-38 cut edges (1.17-1.65x the optimum); a plan with long, ragged borders has many more
    assert OPTIMUM_CUT_EDGES <= report.cut_edges <= 1.8 * OPTIMUM_CUT_EDGES
