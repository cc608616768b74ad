"""Leadership KPIs on the hand-computable book of ``tests/conftest.py::TINY_DOC``."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from territory.kpis import forecast, scorecard
from territory.plans import plan

KM_PER_DEGREE = 6371.0088 * math.pi / 180  # haversine: 1° of latitude


@pytest.fixture
def card(tiny_con):
    return scorecard.build(tiny_con, plan.baseline_scenario(tiny_con)).territories.set_index("rep_id")


def test_sales_kpis_match_the_hand_computed_values(card):
    ana, ben = card.loc["R1"], card.loc["R2"]
    assert (ana["accounts"], ana["potential"], ana["revenue"]) == (2, 4000, 120)
    assert (ben["accounts"], ben["potential"], ben["revenue"]) == (2, 6000, 1800)
    assert ana["penetration"] == pytest.approx(120 / 4000) and ben["penetration"] == pytest.approx(0.3)
    assert ana["white_space"] == pytest.approx(880 + 3000) and ben["white_space"] == pytest.approx(1400 + 2800)
    assert ana["quota"] == 100 and ana["attainment"] == pytest.approx(1.2)
    assert ben["attainment"] == pytest.approx(1800 / 200)
    assert (ana["pipeline"], ana["weighted_pipeline"]) == (100, pytest.approx(60))
    assert (ben["pipeline"], ben["weighted_pipeline"]) == (1000, pytest.approx(800))
    assert ana["win_rate"] == pytest.approx(0.5) and ben["win_rate"] == 0


def test_workload_travel_balance_and_quality(card):
    ana, ben = card.loc["R1"], card.loc["R2"]
    assert ana["visit_hours"] == 4 + 12 and ben["visit_hours"] == 4 + 24  # tiers C + B, C + A
    # A2 sits 1° north of Ana's home: 12 visits × 2 ways × 111.2 km / 80 km/h / 3 visits a trip
    assert ana["travel_hours"] == pytest.approx(12 * 2 * KM_PER_DEGREE / 80 / 3, rel=1e-6)
    assert ben["travel_hours"] == pytest.approx(0, abs=1e-6)
    assert ana["mean_distance_km"] == pytest.approx(KM_PER_DEGREE / 2, rel=1e-6)
    assert ana["utilisation"] == pytest.approx((16 + 12 * 2 * KM_PER_DEGREE / 240) / 1000)
    assert ana["dev_potential_pct"] == pytest.approx(-20) and ben["dev_potential_pct"] == pytest.approx(20)
    assert (ana["quality"], ben["quality"]) == ("medium", "high")
    assert 0 < ana["compactness"] <= 1 and ben["compactness"] == pytest.approx(1)  # one cell is a disc


def test_pipeline_by_stage_and_trend(tiny_con):
    sc = scorecard.build(tiny_con, plan.baseline_scenario(tiny_con))
    stages = sc.stages.set_index(["territory_id", "stage"])["amount"]
    assert stages.to_dict() == {("R1", "Proposal"): 100, ("R2", "Negotiation"): 1000}
    trend = sc.trend.groupby("territory_id")["revenue"].agg(["sum", "size"])
    assert trend.loc["R1"].tolist() == [120, 12] and trend.loc["R2"].tolist() == [1800, 12]


def test_rollups_recompute_ratios_from_sums(tiny_con):
    sc = scorecard.build(tiny_con, plan.baseline_scenario(tiny_con))
    regions = sc.regions.set_index("region")
    assert regions.loc["West", "potential"] == 4000 and regions.loc["Central", "attainment"] == pytest.approx(9)
    assert list(sc.districts["district"]) == ["Central North", "West North"]
    reps = sc.reps.set_index("rep_name")
    assert reps.loc["Ana", "territories"] == 1 and reps.loc["Ana", "penetration"] == pytest.approx(0.03)


def test_filters_narrow_accounts_and_territories(tiny_con):
    sid = plan.baseline_scenario(tiny_con)
    retail = scorecard.build(tiny_con, sid, scorecard.Filters(industries=("Retail",))).territories.set_index("rep_id")
    assert retail.loc["R1", "accounts"] == 1 and retail.loc["R1", "potential"] == 3000
    tier_a = scorecard.build(tiny_con, sid, scorecard.Filters(tiers=("A",))).territories.set_index("rep_id")
    assert tier_a["accounts"].to_dict() == {"R1": 0, "R2": 1}
    west = scorecard.build(tiny_con, sid, scorecard.Filters(regions=("West",)))
    assert list(west.territories["rep_id"]) == ["R1"] and west.accounts["account_id"].tolist() == ["A1", "A2"]


def _months(n: int) -> pd.DatetimeIndex:
    return pd.date_range("2023-01-01", periods=n, freq="MS")


def test_forecast_continues_a_trend_with_widening_intervals():
    rng = np.random.default_rng(1)
    history = pd.Series(1000 + 20 * np.arange(30) + rng.normal(0, 5, 30), index=_months(30))
    fc = forecast.forecast(history, horizon=6)
    assert fc.mape_pct < 2  # a clean trend is easy: the backtest says so
    assert (fc.forecast["lower"] < fc.forecast["mean"]).all() and (fc.forecast["mean"] < fc.forecast["upper"]).all()
    width = fc.forecast["upper"] - fc.forecast["lower"]
    assert width.is_monotonic_increasing
    assert fc.forecast["mean"].iloc[0] > history.iloc[-1]  # the trend goes on
    assert list(fc.forecast["month"]) == list(pd.date_range("2025-07-01", periods=6, freq="MS"))


def test_backtest_only_sees_the_training_months():
    """A jump in the held-out months cannot be predicted, so the backtest error must show it."""
    values = np.r_[np.full(18, 100.0), np.full(6, 300.0)]
    fc = forecast.forecast(pd.Series(values, index=_months(24)), holdout=6)
    assert fc.backtest["predicted"].max() < 150
    assert fc.mape_pct > 50
    assert fc.backtest["actual"].tolist() == [300.0] * 6


def test_a_yearly_season_is_learnt_when_its_backtest_beats_the_model_without_it():
    """Three years with a ±25 % yearly swing: the seasonal model is tried, wins the backtest by a
    wide margin, and its forecast goes up and down with the season (a flat line would not)."""
    rng = np.random.default_rng(3)
    months = _months(36)
    season = 1 + 0.25 * np.sin(2 * np.pi * (months.month - 1) / 12)
    history = pd.Series(10_000 * season * (1 + 0.005 * np.arange(36)) * rng.lognormal(0, 0.03, 36), index=months)
    fc = forecast.forecast(history, horizon=6)
    flat, seasonal = forecast.MODELS[None], forecast.MODELS["mul"]
    assert set(fc.compared) == {flat, seasonal}
    assert fc.model == seasonal and fc.mape_pct == fc.compared[seasonal]
    assert fc.compared[seasonal] < fc.compared[flat] / 2  # the backtest comparison, both scored on the same months
    expected = 1 + 0.25 * np.sin(2 * np.pi * (fc.forecast["month"].dt.month - 1) / 12)
    assert np.corrcoef(fc.forecast["mean"], expected)[0, 1] > 0.9  # it follows the season
    # two years: the months before the backtest cover only 18, so no season is tried
    short = forecast.forecast(history.iloc[-24:], horizon=6)
    assert list(short.compared) == [flat] and short.model == flat


def test_short_histories_get_a_reason_not_a_forecast(tiny_con):
    sc = scorecard.build(tiny_con, plan.baseline_scenario(tiny_con))
    out = scorecard.forecasts(sc, ["R1"])
    assert "at least 18 months" in out["R1"]
    with pytest.raises(ValueError, match="18 months"):
        forecast.forecast(pd.Series([1.0] * 10, index=_months(10)))
