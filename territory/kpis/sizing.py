"""Sales-force sizing: how many reps a plan's workload (and, optionally, a revenue target) needs.

Formulas (``docs/sizing-quota.md``), overall and per region (the territories' reps' regions):

- workload W = visits + travel hours a year (the scorecard's definition);
- reps by workload = W / (C x u): C a rep's capacity hours a year (the reps file's median, else
  ``DEFAULT_CAPACITY_HOURS``), u the target utilisation;
- reps by revenue = R / (Q x a): R the revenue target, Q the quota of a fully ramped rep, a the
  share of quota a rep attains on average;
- FTE needed = the larger of the two;
- headcount H: the least whole number whose productive FTE in year one,
  H - n x m / 24 with n = max(H - T, 0) + r x H new hires (T reps today, r the yearly attrition,
  every leaver replaced), covers the FTE needed; a hire ramps linearly over m months, so yields
  half a rep for m months: m / 24 of a year lost per hire.

*What if N reps* (:func:`what_if`) rebalances the plan to N territories (``plans.rebalance``,
saved as a new scenario) and compares workload per territory before and after.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from territory.errors import ValidationError
from territory.kpis import scorecard
from territory.store import Connection

DEFAULT_CAPACITY_HOURS = 1_600.0  # 40 working weeks x 40 hours in front of or travelling to customers
NO_REGION = "(no region)"


@dataclass(frozen=True)
class Inputs:
    utilisation: float = 0.8
    capacity_hours: float | None = None  # None: the reps file's median capacity, else the default
    revenue_target: float | None = None
    quota_per_rep: float | None = None  # None with a revenue target: the reps' median quota
    attainment: float = 0.85
    ramp_months: float = 0.0
    attrition: float = 0.0  # share of reps leaving in a year, each replaced by a hire who ramps

    def __post_init__(self) -> None:
        if not 0 < self.utilisation <= 1:
            raise ValidationError("utilisation must be over 0 and at most 1 (e.g. 0.8 for 80 %)")
        if self.capacity_hours is not None and not 0 < self.capacity_hours <= 8_760:
            raise ValidationError("capacity must be between 1 and 8,760 hours a year")
        if self.revenue_target is not None and self.revenue_target < 0:
            raise ValidationError("the revenue target must be 0 or more")
        if self.quota_per_rep is not None and self.quota_per_rep <= 0:
            raise ValidationError("the quota per rep must be more than 0")
        if not 0 < self.attainment <= 2:
            raise ValidationError("attainment must be over 0 and at most 2 (e.g. 0.85 for 85 %)")
        if not 0 <= self.ramp_months <= 24:
            raise ValidationError("ramp must be 0 to 24 months")
        if not 0 <= self.attrition < 1:
            raise ValidationError("attrition must be 0 or more and under 1 (e.g. 0.15 for 15 % a year)")


@dataclass
class Sizing:
    inputs: Inputs
    capacity_hours: float  # what a rep has (the input or the reps file's median)
    quota_per_rep: float | None
    overall: dict  # workload_hours, reps_today, fte_workload, fte_revenue, fte_needed, headcount, hires
    regions: pd.DataFrame  # one row per region, the same columns
    territories: pd.DataFrame  # territory_id, name, rep_name, region, workload_hours
    formula: list[str] = field(default_factory=list)  # the formulas with this plan's numbers


def headcount(fte_needed: float, today: int, ramp_months: float, attrition: float) -> tuple[int, float]:
    """The least whole headcount whose first-year productive FTE covers ``fte_needed``, and the
    new hires it takes (see the module's docstring)."""
    if fte_needed <= 0:
        return 0, 0.0
    lost = ramp_months / 24
    least = max(math.ceil(fte_needed - 1e-9), 1)
    # past today's team each head adds 1 - lost x (1 + attrition): nothing when hires ramp too long
    for h in range(least, least + 10 * math.ceil(fte_needed + today) + 10):
        hires = max(h - today, 0) + attrition * h
        if h - hires * lost >= fte_needed - 1e-9:
            return h, hires
    raise ValidationError(f"with a {ramp_months:g}-month ramp and {attrition:.0%} attrition a year, new hires add "
                          f"too little in their first year to reach {fte_needed:.1f} productive reps: shorten the ramp "
                          "or lower the attrition (or size for the second year, when the hires are ramped)")


def size(sc: scorecard.Scorecard, inputs: Inputs = Inputs()) -> Sizing:
    """Reps needed for a plan's book (its scorecard, unfiltered), overall and per region."""
    terr = sc.territories
    caps = terr.drop_duplicates("rep_id")["rep_capacity"].dropna() if "rep_capacity" in terr else pd.Series(dtype=float)
    cap = inputs.capacity_hours or (float(caps.median()) if len(caps) and caps.median() > 0 else DEFAULT_CAPACITY_HOURS)
    quota_rep = inputs.quota_per_rep
    if inputs.revenue_target is not None and quota_rep is None:
        quotas = terr.drop_duplicates("rep_id")["rep_quota"].dropna()
        quota_rep = float(quotas.median()) if len(quotas) and quotas.median() > 0 else None
        if quota_rep is None:
            raise ValidationError("a revenue target needs a quota per rep: give one (the reps file has no quotas)")
    frame = terr.assign(region=terr["region"].fillna(NO_REGION))
    rows = []
    for region, part in frame.groupby("region", sort=True):
        rows.append({"region": region, **_row(part, inputs, cap, quota_rep, share=part["potential"].sum()
                                                / max(frame["potential"].sum(), 1e-12))})
    overall = _row(frame, inputs, cap, quota_rep, share=1.0)
    per = frame[["territory_id", "name", "rep_name", "region", "workload_hours"]].reset_index(drop=True)
    return Sizing(inputs, cap, quota_rep, overall, pd.DataFrame(rows), per, _formula(overall, inputs, cap, quota_rep))


def _row(part: pd.DataFrame, inputs: Inputs, cap: float, quota_rep: float | None, *, share: float) -> dict:
    """One line of the sizing (a region's revenue target is the overall one times its potential share)."""
    workload = float(part["workload_hours"].sum())
    today = int(part["rep_id"].dropna().nunique())
    fte_workload = workload / (cap * inputs.utilisation)
    fte_revenue = (inputs.revenue_target * share / (quota_rep * inputs.attainment)
                   if inputs.revenue_target is not None and quota_rep else None)
    needed = max(fte_workload, fte_revenue or 0.0)
    heads, hires = headcount(needed, today, inputs.ramp_months, inputs.attrition)
    return {"territories": len(part), "workload_hours": workload, "reps_today": today, "fte_workload": fte_workload,
            "fte_revenue": fte_revenue, "fte_needed": needed, "headcount": heads, "hires": hires,
            "change": heads - today}


def _formula(o: dict, inputs: Inputs, cap: float, quota_rep: float | None) -> list[str]:
    lines = [f"reps by workload = workload / (capacity × utilisation) = {o['workload_hours']:,.0f} h / "
             f"({cap:,.0f} h × {inputs.utilisation:.0%}) = {o['fte_workload']:.2f}"]
    if o["fte_revenue"] is not None:
        lines.append(f"reps by revenue = target / (quota per rep × attainment) = {inputs.revenue_target:,.0f} / "
                     f"({quota_rep:,.0f} × {inputs.attainment:.0%}) = {o['fte_revenue']:.2f}")
    lines.append(f"FTE needed = the larger = {o['fte_needed']:.2f}")
    lines.append(f"headcount = least H with H − hires × ramp / 24 ≥ FTE needed, hires = max(H − {o['reps_today']}, 0)"
                 f" + {inputs.attrition:.0%} × H, ramp {inputs.ramp_months:g} months: H = {o['headcount']}"
                 f" ({o['hires']:.1f} hires)")
    return lines


def what_if(con: Connection, scenario_id: int, n: int, name: str, *, tolerance: float = 0.10,
            measures: tuple[str, ...] = ("visit_hours", "potential"), time_limit: float = 60.0, seed: int = 0,
            progress=None) -> tuple[int, object, pd.DataFrame]:
    """A new scenario ``name`` with ``n`` territories: the plan rebalanced on ``measures`` (visit
    hours and potential, ± ``tolerance``), keeping today's territories as far as it can. Returns
    (its id, the rebalance preview, per territory of both plans: name, visit hours, workload
    (visits + travel from the rep's home; a new territory has no rep yet), plan)."""
    from territory.optimizer import Options
    from territory.plans import rebalance

    if n < 1:
        raise ValidationError("the number of reps must be 1 or more")
    name = name.strip()
    if not name or con.execute("SELECT count(*) FROM scenarios WHERE name = ?", [name]).fetchone()[0]:
        raise ValidationError(f"a plan named {name!r} exists already; choose another name" if name
                              else "give the new scenario a name")  # before a run of up to a minute, not after
    options = Options(balance=dict.fromkeys(measures, tolerance), seed=seed, time_limit=time_limit,
                      disruption_weight=1.0, progress=progress)
    preview = rebalance.rebalance(con, scenario_id, options, k=n)
    new = rebalance.save_as(con, preview, name)
    cols = ["name", "visit_hours", "workload_hours"]
    before = scorecard.build(con, scenario_id).territories[cols].assign(plan="today")
    after = scorecard.build(con, new).territories[cols].assign(plan=f"{n} reps")
    return new, preview, pd.concat([before, after], ignore_index=True)
