"""Territory quotas: a plan's quota rule, applied to the plan's book whenever quotas are read.

A rule (:class:`Rule`) is stored on the scenario (a versioned write, :func:`set_rule`) and copied
with it, so a redesign keeps its rule and its quotas follow the new territories. The methods
(formulas in ``docs/sizing-quota.md``):

- ``reps``: each rep's quota from the reps file, split over the rep's territories by potential
  (evenly where they have none); what a plan without a rule uses;
- ``potential``: the company number split by each territory's share of potential;
- ``history``: by each territory's trailing 12 months of revenue times (1 + growth);
- ``blend``: ``blend`` x the potential share + (1 - ``blend``) x the history share.

The company number is the rule's ``total``, else the reps' quotas summed, else the trailing 12
months times (1 + growth). Mid-year (:func:`prorate`): until the plan's ``effective_date`` the
parent plan's quotas run, after it the plan's own, each account carrying its share of its
territory's quota (by potential).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from territory.errors import ValidationError
from territory.plans import plan
from territory.store import Connection

METHODS = {"reps": "Reps' quotas (from the reps file)", "potential": "Potential share",
           "history": "History (trailing 12 months × (1 + growth))", "blend": "Blend of potential and history"}
NO_NUMBER = ("no company number: the reps file has no quotas and there is no revenue history; split one with "
             "the potential method and the company number (CLI: --method potential --company AMOUNT)")
FAIR_BAND = 0.25  # quota / potential more than 25 % off the median: flagged
HEADERS = {"name": "Territory", "rep_name": "Rep", "quota": "Quota $", "potential": "Potential $",
           "history": "Revenue last 12 months $", "forecast": "Forecast next 12 months $",
           "quota_per_potential": "Quota / potential", "vs_median": "Quota / potential vs median",
           "fairness": "Fairness", "attainment": "Last 12 months / quota"}


@dataclass(frozen=True)
class Rule:
    method: str = "reps"
    total: float | None = None  # the company number (None: see the module's docstring)
    growth: float = 0.0  # history: next year's quota = trailing 12 months x (1 + growth)
    blend: float = 0.5  # blend: the weight of the potential share

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValidationError(f"unknown quota method {self.method!r}; use {', '.join(METHODS)}")
        if self.total is not None and not (np.isfinite(self.total) and self.total >= 0):
            raise ValidationError("the company number must be a number of 0 or more")
        if not -1 < self.growth <= 10:
            raise ValidationError("growth must be over -100 % and at most 1,000 % (e.g. 0.1 for 10 %)")
        if not 0 <= self.blend <= 1:
            raise ValidationError("the blend weight of potential must be between 0 and 1")


def rule(con: Connection, scenario_id: int) -> Rule:
    """The plan's quota rule (``reps`` when none was set)."""
    row = con.execute("SELECT quota_method, quota_total, quota_growth, quota_blend FROM scenarios"
                      " WHERE scenario_id = ?", [scenario_id]).fetchone()
    if row is None or row[0] is None:
        return Rule()
    return Rule(row[0], row[1], row[2] if row[2] is not None else 0.0, row[3] if row[3] is not None else 0.5)


def set_rule(con: Connection, scenario_id: int, new: Rule, *, expected_version: int | None = None) -> None:
    """Store the plan's quota rule (refused from a tab that has not seen the plan's latest version)."""
    with plan.change(con, scenario_id, expected_version):
        con.execute("UPDATE scenarios SET quota_method = ?, quota_total = ?, quota_growth = ?, quota_blend = ?"
                    " WHERE scenario_id = ?", [new.method, new.total, new.growth, new.blend, scenario_id])


def effective_date(con: Connection, scenario_id: int) -> dt.date | None:
    return con.execute("SELECT effective_date FROM scenarios WHERE scenario_id = ?", [scenario_id]).fetchone()[0]


def set_effective_date(con: Connection, scenario_id: int, day: dt.date | None, *,
                       expected_version: int | None = None) -> None:
    """The day the plan's changes (accounts moving, quota pro rata) take effect; None: none set."""
    with plan.change(con, scenario_id, expected_version):
        con.execute("UPDATE scenarios SET effective_date = ? WHERE scenario_id = ?", [day, scenario_id])


def per_territory(book: pd.DataFrame, terr: pd.DataFrame, rule_: Rule) -> pd.Series:
    """Quota per territory (index ``territory_id``, every territory of ``terr``) from the plan's
    book (``plans.book.accounts``: potential, revenue_12m, territory_id) and its territories
    (territory_id, rep_id, rep_quota: the reps file's quota)."""
    ids = terr["territory_id"]
    placed = book[book["territory_id"].notna()]
    pot = placed.groupby("territory_id")["potential"].sum().reindex(ids, fill_value=0.0)
    rev = placed.groupby("territory_id")["revenue_12m"].sum().reindex(ids, fill_value=0.0)
    reps = _reps_split(terr, pot)
    if rule_.method == "reps":
        return reps
    total = rule_.total
    if total is None:
        total = float(reps.sum()) if rule_.method != "history" and reps.sum() > 0 else float(rev.sum()) * (1 + rule_.growth)
    raw = {"potential": _share(pot), "history": _share(rev),
           "blend": rule_.blend * _share(pot) + (1 - rule_.blend) * _share(rev)}[rule_.method]
    return total * _share(raw)


def company_number(book: pd.DataFrame, terr: pd.DataFrame, rule_: Rule) -> float:
    return float(per_territory(book, terr, rule_).sum())


def _share(values: pd.Series) -> pd.Series:
    """Each value's share of the sum (equal shares when the sum is 0: nothing to tell them apart)."""
    s = float(values.sum())
    return values / s if s > 0 else pd.Series(1.0 / max(len(values), 1), index=values.index)


def _reps_split(terr: pd.DataFrame, pot: pd.Series) -> pd.Series:
    """Each rep's quota over the rep's territories by potential (evenly if none); 0 without a rep."""
    t = terr[["territory_id", "rep_id", "rep_quota"]].assign(p=pot.reindex(terr["territory_id"]).to_numpy())
    share = t.groupby("rep_id", dropna=False)["p"].transform(lambda p: p / p.sum() if p.sum() > 0 else 1 / len(p))
    quota = (t["rep_quota"].fillna(0.0) * share).where(t["rep_id"].notna(), 0.0)
    return pd.Series(quota.to_numpy(dtype=float), index=t["territory_id"].to_numpy(), name="quota")


def table(book: pd.DataFrame, terr: pd.DataFrame, rule_: Rule, *, forecast: pd.Series | None = None,
          band: float = FAIR_BAND) -> pd.DataFrame:
    """Per territory: quota against potential, history (trailing 12 months) and, when given, the
    forecast of the next 12 months; quota / potential and a fairness flag (``high`` / ``low``:
    more than ``band`` off the median ratio, else ``fair``)."""
    ids = terr["territory_id"]
    placed = book[book["territory_id"].notna()]
    out = terr[["territory_id", "name", "rep_name"]].copy()
    out["potential"] = placed.groupby("territory_id")["potential"].sum().reindex(ids, fill_value=0.0).to_numpy()
    out["history"] = placed.groupby("territory_id")["revenue_12m"].sum().reindex(ids, fill_value=0.0).to_numpy()
    out["quota"] = per_territory(book, terr, rule_).reindex(ids).to_numpy()
    if forecast is not None:
        out["forecast"] = forecast.reindex(ids).to_numpy()
    out["quota_per_potential"] = out["quota"] / out["potential"].where(out["potential"] > 0)
    median = float(out["quota_per_potential"].median()) if out["quota_per_potential"].notna().any() else np.nan
    out["vs_median"] = out["quota_per_potential"] / median - 1 if median and np.isfinite(median) else np.nan
    out["fairness"] = np.select([out["vs_median"] > band, out["vs_median"] < -band], ["high", "low"], "fair")
    out["attainment"] = out["history"] / out["quota"].where(out["quota"] > 0)
    return out.reset_index(drop=True)


def year_fraction_after(day: dt.date) -> float:
    """The share of ``day``'s calendar year from ``day`` on (1.0 on 1 January)."""
    start, end = dt.date(day.year, 1, 1), dt.date(day.year + 1, 1, 1)
    return (end - day).days / (end - start).days


def account_quotas(book: pd.DataFrame, quotas: pd.Series) -> pd.Series:
    """Each account's share of its territory's quota, by potential (evenly in a territory without
    potential); 0 for an account no territory holds."""
    placed = book["territory_id"].notna()
    tid = book["territory_id"].where(placed)
    pot = book.groupby(tid)["potential"].transform("sum")
    count = book.groupby(tid)["potential"].transform("size")
    share = np.where(pot > 0, book["potential"] / pot.where(pot > 0), 1.0 / count)
    q = tid.map(quotas).fillna(0.0).to_numpy(dtype=float) * np.nan_to_num(share)
    return pd.Series(np.where(placed, q, 0.0), index=book.index)


def prorate(before: pd.DataFrame, before_quotas: pd.Series, after: pd.DataFrame, after_quotas: pd.Series,
            day: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The year's quota per territory when the plan ``after`` takes over from ``before`` on
    ``day``: (1 - f) x the quota before + f x the quota after, f the share of the year from
    ``day`` on. Returns (per territory: territory_id, quota_before, quota_after, year_quota;
    the accounts that change territory: account_id, name, from/to territory ids, quota_share (its
    share of its territory's quota before), moves (the part of it that moves: f x the share)).
    ``before``/``after``: the two plans' books (same accounts); quotas: per territory id."""
    f = year_fraction_after(day)
    ids = sorted(set(before_quotas.index) | set(after_quotas.index))
    per = pd.DataFrame({"territory_id": ids})
    per["quota_before"] = before_quotas.reindex(ids, fill_value=0.0).to_numpy()
    per["quota_after"] = after_quotas.reindex(ids, fill_value=0.0).to_numpy()
    per["year_quota"] = (1 - f) * per["quota_before"] + f * per["quota_after"]
    b = before.set_index("account_id")
    a = after.set_index("account_id").reindex(b.index)
    share = account_quotas(before, before_quotas).to_numpy()
    moved = (b["territory_id"].fillna("") != a["territory_id"].fillna("")).to_numpy()
    accounts = pd.DataFrame({"account_id": b.index[moved], "name": b["name"].to_numpy()[moved],
                             "from_territory_id": b["territory_id"].to_numpy()[moved],
                             "to_territory_id": a["territory_id"].to_numpy()[moved],
                             "quota_share": share[moved], "moves": f * share[moved]})
    return per, accounts


def prorate_plans(con: Connection, scenario_id: int, day: dt.date | None = None,
                  from_id: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`prorate` for a stored plan taking over on ``day`` (default: its effective date)
    from ``from_id`` (default: the plan it was copied from)."""
    from territory.plans import book

    day = day or effective_date(con, scenario_id)
    if day is None:
        raise ValidationError("set the day the plan takes effect first (its effective date)")
    if from_id is None:
        from_id = plan.parent(con, scenario_id)
    if from_id is None:
        raise ValidationError("this plan was copied from no plan: a mid-year change needs the plan it takes over from")
    books, quotas = [], []
    for sid in (from_id, scenario_id):
        b = book.accounts(con, sid)
        terr = territories(con, sid)
        books.append(b)
        quotas.append(per_territory(b, terr, rule(con, sid)))
    per, moving = prorate(books[0], quotas[0], books[1], quotas[1], day)
    names = {**territories(con, from_id).set_index("territory_id")["name"].to_dict(),
             **territories(con, scenario_id).set_index("territory_id")["name"].to_dict()}
    per.insert(1, "name", per["territory_id"].map(names))
    moving["from_territory"] = moving["from_territory_id"].map(names)
    moving["to_territory"] = moving["to_territory_id"].map(names)
    return per, moving


def territories(con: Connection, scenario_id: int) -> pd.DataFrame:
    """A plan's territories with what quotas need: territory_id, name, rep_id, rep_name, rep_quota."""
    return con.execute("SELECT t.territory_id, t.name, t.rep_id, r.name AS rep_name, r.quota AS rep_quota"
                       " FROM territories t LEFT JOIN reps r USING (rep_id) WHERE t.scenario_id = ?"
                       " ORDER BY t.name", [scenario_id]).df()
