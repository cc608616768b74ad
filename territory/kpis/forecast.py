"""Monthly revenue forecasts with prediction intervals and a backtest, per territory.

statsmodels' ETS (exponential smoothing state-space) model: additive errors and a damped
additive trend. Once the months before the backtest window cover two full years, a model with a
yearly season is a candidate too (multiplicative when every month has revenue, else additive).
The backtest fits each candidate to all but the last ``holdout`` months and scores its forecast
of those months (MAPE and MAE); the candidate with the lower error makes the forecast, and
both errors are kept (``Forecast.compared``), so the error shown is the error of the chosen
method on this series and the choice can be checked.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from statsmodels.tools.sm_exceptions import ConvergenceWarning
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

from territory.errors import ForecastError

log = logging.getLogger(__name__)

MIN_MONTHS = 12  # fewer months of history: no forecast (the model would be guessing)
SEASON = 12


@dataclass(frozen=True)
class Forecast:
    history: pd.Series  # revenue per month (month-start timestamps)
    forecast: pd.DataFrame  # month, mean, lower, upper
    backtest: pd.DataFrame  # month, actual, predicted (the held-out months)
    mape_pct: float  # mean absolute percentage error of the backtest
    mae: float
    model: str
    level: float  # of the prediction interval
    compared: dict[str, float]  # backtest MAPE of every candidate model, the chosen one included


MODELS = {None: "ETS(A,Ad,N) damped trend", "add": "ETS(A,Ad,A) damped trend, yearly season",
          "mul": "ETS(A,Ad,M) damped trend, yearly season"}


def forecast(history: pd.Series, *, horizon: int = 6, holdout: int = 6, level: float = 0.9) -> Forecast:
    """Forecast ``horizon`` months after ``history`` (indexed by month) and backtest the method."""
    series = _monthly(history)
    if len(series) < MIN_MONTHS + holdout:
        raise ForecastError(f"a forecast needs at least {MIN_MONTHS + holdout} months of revenue; "
                            f"this series has {len(series)}")
    train, actual = series.iloc[:-holdout], series.iloc[-holdout:].to_numpy()
    candidates: list[str | None] = [None]
    if len(train) >= 2 * SEASON:
        candidates.append("mul" if (series > 0).all() else "add")
    scored = {}
    for seasonal in candidates:
        try:
            predicted = _fit(train, seasonal).forecast(holdout).to_numpy()
        except (ValueError, np.linalg.LinAlgError) as exc:  # a candidate that cannot fit is no candidate
            log.info("forecast: %s not fitted: %s", MODELS[seasonal], exc)
            continue
        scored[seasonal] = (_mape(actual, predicted), predicted)
    if not scored:
        raise ForecastError("the revenue series could not be fitted (too irregular for a forecast)")
    seasonal = min(scored, key=lambda m: (scored[m][0] if scored[m][0] == scored[m][0] else np.inf))
    mape, predicted = scored[seasonal]
    back = pd.DataFrame({"month": series.index[-holdout:], "actual": actual, "predicted": predicted})
    result = _fit(series, seasonal)
    frame = result.get_prediction(start=len(series), end=len(series) + horizon - 1).summary_frame(alpha=1 - level)
    months = pd.date_range(series.index[-1] + pd.offsets.MonthBegin(1), periods=horizon, freq="MS")
    out = pd.DataFrame({"month": months, "mean": frame["mean"].to_numpy(),
                        "lower": frame["pi_lower"].to_numpy(), "upper": frame["pi_upper"].to_numpy()})
    return Forecast(series, out, back, mape, float(np.abs(actual - predicted).mean()), MODELS[seasonal], level,
                    {MODELS[m]: v[0] for m, v in scored.items()})


def _mape(actual: np.ndarray, predicted: np.ndarray) -> float:
    nonzero = np.abs(actual) > 0
    err = np.abs(actual - predicted)
    return float(np.mean(err[nonzero] / np.abs(actual[nonzero])) * 100) if nonzero.any() else float("nan")


def _monthly(history: pd.Series) -> pd.Series:
    """Month-start index with no gaps (missing months are 0 revenue)."""
    s = history.copy()
    s.index = pd.to_datetime(s.index).to_period("M").to_timestamp()
    s = s.groupby(level=0).sum().sort_index()
    if s.empty:  # e.g. a territory with no revenue history
        return s.astype(float)
    full = pd.date_range(s.index.min(), s.index.max(), freq="MS")
    return s.reindex(full, fill_value=0.0).astype(float).asfreq("MS")


def _fit(series: pd.Series, seasonal: str | None):
    model = ETSModel(series, error="add", trend="add", damped_trend=True,
                     seasonal=seasonal, seasonal_periods=SEASON if seasonal else None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(disp=False)
