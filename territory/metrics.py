"""The measures that add up from accounts to cells to territories, each defined once.

Every surface that sums accounts (the cell roll-up, the Designer's live panel, the Scenarios
comparison, the optimizer, the maps) takes its list, order and labels from :data:`SUMMED`.
Leadership's ratios and the measures that need a rep (travel, workload = visits + travel,
quota, attainment) are the KPI registry's (``scorecard.REGISTRY``); where both show hours, the
labels say which: **Visit hours** here (what the accounts need, wherever the rep lives),
**Workload (visits + travel)** on the KPIs page and in the Excel report.
"""

from __future__ import annotations

from dataclasses import dataclass

from territory import settings


@dataclass(frozen=True)
class Metric:
    name: str  # the column in every frame and the key in every option
    sql: str  # how it sums over a group of accounts ({a}: the accounts table's alias and a dot, or "")
    label: str  # with its unit, for choices, axes and legends
    column: str  # a table column's header (short, unit last)
    balanceable: bool  # the optimizer can balance on it
    compared: bool  # the Scenarios comparison shows it per territory
    help: str


SUMMED: dict[str, Metric] = {m.name: m for m in (
    Metric("accounts", "count(*)", "Accounts", "Accounts", True, True, "accounts whose cell (or rule) puts them in the territory"),
    Metric("potential", "sum({a}potential)", "Potential ($)", "Potential $", True, True, "Σ account potential (from the file, else derived)"),
    Metric("revenue_12m", "sum({a}revenue_12m)", "Revenue, last 12 months ($)", "Revenue 12m $", True, True,
           "Σ revenue of the last 12 months of revenue history"),
    Metric("pipeline", "sum({a}pipeline)", "Open pipeline ($)", "Open pipeline $", True, True, "Σ open opportunity amounts"),
    Metric("weighted_pipeline", "sum({a}weighted_pipeline)", "Weighted pipeline ($)", "Weighted pipeline $", False, False,
           "Σ open amount × stage probability"),
    Metric("visit_hours", "sum({visits})", "Visit hours (a year)", "Visit h", True, True,
           "visits a year by tier × minutes per visit (settings.Workload); travel is not included: it depends "
           "on where the rep lives (Workload on the KPIs page adds it)"),
)}
NAMES = tuple(SUMMED)
BALANCEABLE = tuple(n for n, m in SUMMED.items() if m.balanceable)
COMPARED = tuple(n for n, m in SUMMED.items() if m.compared)
LABELS = {n: m.label for n, m in SUMMED.items()}
COLUMNS = {n: m.column for n, m in SUMMED.items()}


def visit_hours_sql(tier: str, workload: settings.Workload = settings.Workload()) -> tuple[str, dict[str, float]]:
    """The one visit-hours expression: (SQL over the tier column ``tier``, its named parameters)."""
    cases = " ".join(f"WHEN '{t}' THEN $hours_{t.lower()}" for t in settings.TIERS)
    return f"CASE {tier} {cases} ELSE 0 END", {f"hours_{t.lower()}": workload.hours(t) for t in settings.TIERS}


def sums_sql(alias: str = "", workload: settings.Workload = settings.Workload()) -> tuple[str, dict[str, float]]:
    """Every summed measure over a group of accounts, as a SELECT list (``... AS potential, ...``)
    and its named parameters; ``alias`` is the accounts table's alias in the query ("" for none)."""
    a = f"{alias}." if alias else ""
    visits, params = visit_hours_sql(f"{a}tier", workload)
    return ", ".join(f"{m.sql.format(a=a, visits=visits)} AS {m.name}" for m in SUMMED.values()), params
