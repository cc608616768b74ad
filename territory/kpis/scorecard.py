"""Leadership KPIs of a plan: per territory, per rep and rolled up to district and region.

Every KPI is a small function in ``REGISTRY`` computing one value per group from the sums in
:func:`sums` (so a territory, a rep and a region use the same definitions). Accounts come from
the plan's book (rules applied, :mod:`territory.plans.book`); filters narrow accounts by industry and
tier and territories by their rep's region.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from territory import grid, metrics, settings
from territory.errors import ForecastError
from territory.kpis import quota, segments
from territory.plans import book, plan, scenarios
from territory.store import Connection

if TYPE_CHECKING:  # statsmodels takes 1.4 s to import: loaded when a forecast is asked for
    from territory.kpis import forecast

TRAVEL_SPEED_KMH = 80.0  # average road speed for the travel estimate
VISITS_PER_TRIP = 3.0  # a trip from home serves this many accounts on average
ADDITIVE = ("accounts", "potential", "revenue", "white_space", "pipeline", "weighted_pipeline", "won", "lost",
            "visit_hours", "travel_hours", "distance_km_sum", "quota", "capacity_hours", *metrics.MARKET)


@dataclass(frozen=True)
class Kpi:
    name: str
    label: str
    fmt: str  # "money", "pct", "int", "hours", "km", "ratio"
    compute: Callable[[pd.DataFrame], pd.Series]
    help: str
    column: str  # a table column's header: short, unit last (the KPIs page, the Excel report)

    @property
    def choice(self) -> str:
        """The label with its unit, for pickers and axes."""
        unit = {"money": " ($)", "hours": " (hours)"}.get(self.fmt, "")
        return self.label if self.label.endswith(")") or not unit else self.label + unit


def _ratio(a: pd.Series, b: pd.Series) -> pd.Series:
    return (a / b.where(b > 0)).astype(float)


def _summed(metric: str, fmt: str, name: str | None = None) -> Kpi:
    """A KPI that is one of the summed measures: its label, help and header from ``metrics``."""
    m = metrics.SUMMED[metric]
    key = name or metric
    return Kpi(key, m.label, fmt, lambda s: s[key], m.help, m.column)


REGISTRY: dict[str, Kpi] = {k.name: k for k in [
    _summed("accounts", "int"),
    _summed("potential", "money"),
    _summed("revenue_12m", "money", name="revenue"),
    Kpi("penetration", "Penetration", "pct", lambda s: _ratio(s["revenue"], s["potential"]), "revenue / potential",
        "Penetration"),
    Kpi("white_space", "White space", "money", lambda s: s["white_space"],
        "potential not yet won: sum over accounts of max(potential − revenue, 0)", "White space $"),
    Kpi("quota", "Quota", "money", lambda s: s["quota"],
        "the plan's quota rule (Sizing & quota page; by default the rep's quota split over the rep's territories "
        "by potential)", "Quota $"),
    Kpi("attainment", "Attainment", "pct", lambda s: _ratio(s["revenue"], s["quota"]), "revenue 12m / quota",
        "Attainment"),
    _summed("pipeline", "money"),
    _summed("weighted_pipeline", "money"),
    Kpi("win_rate", "Win rate", "pct", lambda s: _ratio(s["won"], s["won"] + s["lost"]),
        "won / (won + lost) closed opportunities", "Win rate"),
    _summed("visit_hours", "hours"),
    Kpi("travel_hours", "Travel hours", "hours", lambda s: s["travel_hours"],
        f"visits × 2 × distance from the rep's home / {TRAVEL_SPEED_KMH:.0f} km/h / {VISITS_PER_TRIP:.0f} visits a trip",
        "Travel h"),
    Kpi("workload_hours", "Workload: visits + travel (hours)", "hours", lambda s: s["visit_hours"] + s["travel_hours"],
        "visits + travel", "Workload h (visits + travel)"),
    Kpi("utilisation", "Capacity used", "pct",
        lambda s: _ratio(s["visit_hours"] + s["travel_hours"], s["capacity_hours"]), "workload / rep capacity hours",
        "Capacity used"),
    _summed("establishments", "int"),
    _summed("market_potential", "money"),
    Kpi("market_share", "Share of market potential", "pct", lambda s: _ratio(s["potential"], s["market_potential"]),
        "account potential / market potential: how much of the territory's market the CRM already holds "
        "(the market layer; industry filters apply to it, tier and segment filters do not)", "Share of market"),
    Kpi("market_white_space", "Market white space", "money",
        lambda s: (s["market_potential"] - s["potential"]).clip(lower=0),
        "market potential the CRM does not hold yet: max(market potential − account potential, 0)",
        "Market white space $"),
    Kpi("mean_distance_km", "Mean distance (km)", "km", lambda s: _ratio(s["distance_km_sum"], s["located"]),
        "mean distance of the accounts from the rep's home", "Mean km from home"),
]}


MARKET_KPIS = ("establishments", "market_potential", "market_share", "market_white_space")  # with a market layer


@dataclass(frozen=True)
class Filters:
    regions: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()  # keys of segments.SEGMENTS


@dataclass(frozen=True)
class Scorecard:
    territories: pd.DataFrame  # one row per territory: name, rep, district, region, every KPI, balance, quality
    reps: pd.DataFrame
    districts: pd.DataFrame  # empty when no rep has a district
    regions: pd.DataFrame
    stages: pd.DataFrame  # territory, stage, open amount
    trend: pd.DataFrame  # territory_id, month, revenue
    accounts: pd.DataFrame = field(repr=False)  # the filtered book
    market_outside: dict = field(default_factory=dict)  # the market layer's measures in no territory's cells

    @property
    def has_market(self) -> bool:
        return bool(self.territories["market_potential"].sum() + sum(self.market_outside.values()))


def build(con: Connection, scenario_id: int, filters: Filters = Filters(), *,
          workload: settings.Workload = settings.Workload()) -> Scorecard:
    terr = _territories(con, scenario_id)
    acc = book.accounts(con, scenario_id, workload=workload)
    acc["segment"] = segments.assign(acc)  # from the whole book: a filter moves no account between segments
    quotas = quota.per_territory(acc, terr, quota.rule(con, scenario_id))  # a territory's, whatever the filters
    if filters.regions:
        terr = terr[terr["region"].isin(filters.regions)]
    acc = acc[acc["territory_id"].isin(terr["territory_id"])]
    if filters.industries:
        acc = acc[acc["industry"].isin(filters.industries)]
    if filters.tiers:
        acc = acc[acc["tier"].isin(filters.tiers)]
    if filters.segments:
        acc = acc[acc["segment"].isin(filters.segments)]
    acc = _with_travel(acc, terr, workload)
    opps = _opportunities(con, acc)
    market = book.market_by_territory(con, scenario_id, filters.industries)
    per = sums(acc, opps, terr, quotas)
    outside = market[market["territory_id"].isna()][list(metrics.MARKET)].sum().to_dict()
    table = terr.merge(per, on="territory_id", how="left").merge(market.dropna(subset=["territory_id"]),
                                                                 on="territory_id", how="left")
    table = _kpis(table.fillna({c: 0 for c in ADDITIVE}))
    mean = table["potential"].mean()
    table["dev_potential_pct"] = (table["potential"] / mean - 1) * 100 if mean else 0.0
    comp = scenarios.compactness(plan.assignments(con, scenario_id))
    table["compactness"] = table["territory_id"].map(comp)
    table["quality"] = quality(table)
    stages = opps[~opps["is_closed"]].groupby(["territory_id", "stage"], as_index=False)["amount"].sum()
    return Scorecard(table, rollup(table, "rep_name"), rollup(table, "district"), rollup(table, "region"), stages,
                     _trend(con, acc), acc, outside)


def sums(acc: pd.DataFrame, opps: pd.DataFrame, terr: pd.DataFrame, quotas: pd.Series) -> pd.DataFrame:
    """The additive inputs of the KPIs per territory (its quota, ``quotas``, and capacity included)."""
    g = acc.assign(accounts=1, revenue=acc["revenue_12m"],
                   white_space=(acc["potential"] - acc["revenue_12m"]).clip(lower=0),
                   located=acc["distance_km"].notna(), distance_km_sum=acc["distance_km"].fillna(0))
    out = g.groupby("territory_id")[["accounts", "potential", "revenue", "white_space", "pipeline",
                                     "weighted_pipeline", "visit_hours", "travel_hours", "distance_km_sum",
                                     "located"]].sum()
    closed = opps[opps["is_closed"]]
    out["won"] = closed[closed["is_won"]].groupby("territory_id").size()
    out["lost"] = closed[~closed["is_won"]].groupby("territory_id").size()
    # a rep's capacity, split over the rep's territories by potential (evenly if none)
    t = terr[["territory_id", "rep_id", "rep_capacity"]].merge(
        out["potential"].rename("p").reset_index(), on="territory_id", how="left").fillna({"p": 0})
    share = t.groupby("rep_id")["p"].transform(lambda p: p / p.sum() if p.sum() > 0 else 1 / len(p))
    out["capacity_hours"] = pd.Series((t["rep_capacity"] * share).to_numpy(), index=t["territory_id"])
    out["quota"] = quotas
    return out.fillna({"won": 0, "lost": 0}).reset_index()


def _kpis(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    for kpi in REGISTRY.values():
        frame[kpi.name] = kpi.compute(frame)
    return frame


def rollup(table: pd.DataFrame, by: str) -> pd.DataFrame:
    """Additive sums per ``by`` (rep, district, region) and the KPIs recomputed from them."""
    have = table.dropna(subset=[by])
    if have.empty:
        return pd.DataFrame(columns=[by, "territories", *REGISTRY])
    g = have.groupby(by)
    out = g[[*ADDITIVE, "located"]].sum()
    out["territories"] = g.size()
    return _kpis(out.reset_index())[[by, "territories", *REGISTRY]]


def quality(table: pd.DataFrame) -> pd.Series:
    """High: potential at least the mean and penetration at least the plan's overall one;
    low: potential under 80 % of the mean and penetration under the overall one; else medium."""
    mean_pot = table["potential"].mean()
    overall = table["revenue"].sum() / table["potential"].sum() if table["potential"].sum() else 0.0
    pen = table["penetration"].fillna(0)
    high = (table["potential"] >= mean_pot) & (pen >= overall)
    low = (table["potential"] < 0.8 * mean_pot) & (pen < overall)
    return pd.Series(np.select([high, low], ["high", "low"], "medium"), index=table.index)


def forecasts(sc: Scorecard, territory_ids: list[str], *, horizon: int = 6) -> dict[str, forecast.Forecast | str]:
    """territory -> its forecast, or the reason there is none."""
    from territory.kpis import forecast

    out: dict[str, forecast.Forecast | str] = {}
    for tid in territory_ids:
        series = sc.trend[sc.trend["territory_id"] == tid].set_index("month")["revenue"]
        try:
            out[tid] = forecast.forecast(series, horizon=horizon)
        except ForecastError as exc:
            out[tid] = str(exc)
    return out


def forecast_totals(sc: Scorecard, *, months: int = 12) -> pd.Series:
    """Each territory's forecast revenue summed over the next ``months`` (NaN where there is none)."""
    out = {tid: float(fc.forecast["mean"].sum()) if not isinstance(fc, str) else np.nan
           for tid, fc in forecasts(sc, list(sc.territories["territory_id"]), horizon=months).items()}
    return pd.Series(out, dtype=float)


def company_forecast(sc: Scorecard, *, horizon: int = 6) -> forecast.Forecast | str:
    """The forecast of every territory's revenue together (the company total of this selection)."""
    from territory.kpis import forecast

    series = sc.trend.groupby("month")["revenue"].sum()
    try:
        return forecast.forecast(series, horizon=horizon)
    except ForecastError as exc:
        return str(exc)


def _territories(con: Connection, scenario_id: int) -> pd.DataFrame:
    return con.execute(
        "SELECT t.territory_id, t.name, t.color, t.rep_id, r.name AS rep_name, r.district, r.region,"
        " r.home_lat, r.home_lng, r.quota AS rep_quota, r.capacity_hours AS rep_capacity"
        " FROM territories t LEFT JOIN reps r USING (rep_id) WHERE t.scenario_id = ? ORDER BY t.name",
        [scenario_id]).df()


def _with_travel(acc: pd.DataFrame, terr: pd.DataFrame, workload: settings.Workload) -> pd.DataFrame:
    homes = terr.set_index("territory_id")[["home_lat", "home_lng"]]
    h = homes.reindex(acc["territory_id"]).to_numpy()
    km = grid.distance_km(acc["lat"], acc["lng"], h[:, 0], h[:, 1])
    visits = acc["tier"].map(dict(workload.visits_per_year)).fillna(0).to_numpy()
    return acc.assign(distance_km=km, travel_hours=np.nan_to_num(visits * 2 * km / TRAVEL_SPEED_KMH / VISITS_PER_TRIP))


def _opportunities(con: Connection, acc: pd.DataFrame) -> pd.DataFrame:
    opps = con.execute("SELECT account_id, stage, amount, probability, is_closed, is_won FROM opportunities").df()
    return opps.merge(acc[["account_id", "territory_id"]], on="account_id")


def _trend(con: Connection, acc: pd.DataFrame) -> pd.DataFrame:
    con.register("_scope", acc[["account_id", "territory_id"]])
    try:
        return con.execute("SELECT s.territory_id, m.month, sum(m.revenue) AS revenue FROM revenue_monthly m"
                           " JOIN _scope s USING (account_id) GROUP BY ALL ORDER BY 1, 2").df()
    finally:
        con.unregister("_scope")


# Column headers in plain words with their unit, for every table of KPIs (the KPIs page, the Excel
# report): the KPIs' own headers, in the order the tables show them, and the columns beside them
COLUMN_LABELS = {"name": "Territory", "rep_name": "Rep", "district": "District", "region": "Region",
                 "quality": "Quality",
                 **{k: REGISTRY[k].column for k in ("accounts", "potential", "revenue", "penetration", "white_space",
                                                   "quota", "attainment", "pipeline", "weighted_pipeline", "win_rate",
                                                   "workload_hours", "travel_hours", "mean_distance_km",
                                                   "utilisation", "establishments", "market_potential",
                                                   "market_share", "market_white_space")},
                 "dev_potential_pct": "Potential vs mean", "compactness": "Compactness",
                 "visit_hours": REGISTRY["visit_hours"].column}
