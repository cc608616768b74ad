"""The measures that add up from accounts to cells to territories, each defined once.

Every surface that sums accounts (the cell roll-up, the Designer's live panel, the Scenarios
comparison, the optimizer, the maps) takes its list, order and labels from :data:`SUMMED`.
A measure sums either accounts (the CRM's book) or the market layer (``market_cells``: a market
universe per cell, :mod:`territory.market`); a roll-up of one source gives the other's measures
as zeros, and :func:`per_cell` adds the two side by side, so every surface sees every measure.
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
    source: str = "accounts"  # what it sums: "accounts" or "market" (the market layer's cells, {m}: its alias)
    whole: bool = False  # a count (a whole number) rather than an amount


SUMMED: dict[str, Metric] = {m.name: m for m in (
    Metric("accounts", "count(*)", "Accounts", "Accounts", True, True, "accounts whose cell (or rule) puts them in the territory",
           whole=True),
    Metric("potential", "sum({a}potential)", "Potential ($)", "Potential $", True, True, "Σ account potential (from the file, else derived)"),
    Metric("revenue_12m", "sum({a}revenue_12m)", "Revenue, last 12 months ($)", "Revenue 12m $", True, True,
           "Σ revenue of the last 12 months of revenue history"),
    Metric("pipeline", "sum({a}pipeline)", "Open pipeline ($)", "Open pipeline $", True, True, "Σ open opportunity amounts"),
    Metric("weighted_pipeline", "sum({a}weighted_pipeline)", "Weighted pipeline ($)", "Weighted pipeline $", False, False,
           "Σ open amount × stage probability"),
    Metric("visit_hours", "sum({visits})", "Visit hours (a year)", "Visit h", True, True,
           "visits a year by tier × minutes per visit (settings.Workload); travel is not included: it depends "
           "on where the rep lives (Workload on the KPIs page adds it)"),
    Metric("establishments", "sum({m}establishments)", "Market establishments", "Market establishments", True, True,
           "establishments of the market universe in the area, customers or not (the market layer)", "market", True),
    Metric("market_potential", "sum({m}market_potential)", "Market potential ($)", "Market potential $", True, True,
           "Σ potential of every establishment of the market universe, by the rule of account potential (the market "
           "layer)", "market"),
)}
NAMES = tuple(SUMMED)
MARKET = tuple(n for n, m in SUMMED.items() if m.source == "market")
BALANCEABLE = tuple(n for n, m in SUMMED.items() if m.balanceable)
COMPARED = tuple(n for n, m in SUMMED.items() if m.compared)
LABELS = {n: m.label for n, m in SUMMED.items()}
COLUMNS = {n: m.column for n, m in SUMMED.items()}


def visit_hours_sql(tier: str, workload: settings.Workload = settings.Workload()) -> tuple[str, dict[str, float]]:
    """The one visit-hours expression: (SQL over the tier column ``tier``, its named parameters)."""
    cases = " ".join(f"WHEN '{t}' THEN $hours_{t.lower()}" for t in settings.TIERS)
    return f"CASE {tier} {cases} ELSE 0 END", {f"hours_{t.lower()}": workload.hours(t) for t in settings.TIERS}


def sums_sql(alias: str = "", workload: settings.Workload = settings.Workload(), *,
             source: str = "accounts") -> tuple[str, dict[str, float]]:
    """Every summed measure over a group of rows of ``source`` (accounts, or the market layer's
    ``market_cells``) as a SELECT list (``... AS potential, ...``; the other source's measures
    are 0) and its named parameters; ``alias`` is the table's alias in the query ("" for none)."""
    a = f"{alias}." if alias else ""
    visits, params = visit_hours_sql(f"{a}tier", workload) if source == "accounts" else ("0", {})
    cols = (m.sql.format(a=a, m=a, visits=visits) if m.source == source else "0" for m in SUMMED.values())
    return ", ".join(f"({c})::{_type(m)} AS {m.name}" for c, m in zip(cols, SUMMED.values())), params


def _type(m: Metric) -> str:
    return "BIGINT" if m.whole else "DOUBLE"


def per_cell(accounts: str, market: str) -> str:
    """The accounts' and the market's roll-ups (each ``SELECT cell, <sums_sql>``) added up per
    cell: every cell of either, each measure from its own source."""
    sums = ", ".join(f"sum({n})::{_type(m)} AS {n}" for n, m in SUMMED.items())
    return f"SELECT cell, {sums} FROM ({accounts} UNION ALL {market}) GROUP BY cell"


def present(cells, metric: str):
    """The rows of a per-cell frame where ``metric``'s source is: cells with accounts, or with
    the market's establishments (what a map coloured by ``metric`` draws)."""
    return cells[cells["establishments" if SUMMED[metric].source == "market" else "accounts"] > 0]
