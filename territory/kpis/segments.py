"""Account segments by potential and penetration, and the key accounts a rep takes away.

Every account of a plan's book falls in one segment (formulas in ``docs/sizing-quota.md``):

- **maintain**: penetration (revenue 12 m / potential) at or above the book's overall one;
- **grow**: potential at or above the book's median, a customer (revenue > 0) under-penetrated;
- **win**: potential at or above the median, no revenue yet (a prospect);
- **deprioritise**: the rest (below-median potential, under-penetrated).

The two thresholds come from the whole book (:func:`thresholds`), so a filter never moves an
account between segments.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from territory import grid
from territory.store import Connection

SEGMENTS = {"grow": "Grow", "win": "Win", "maintain": "Maintain", "deprioritise": "Deprioritise"}
HELP = {"grow": "high potential, a customer under-penetrated: the largest white space with a foot in the door",
        "win": "high potential, no revenue yet: prospects worth winning",
        "maintain": "penetration at or above the book's overall: protect and serve",
        "deprioritise": "lower potential, under-penetrated: serve at low cost"}

HEADERS = {"account_id": "Account id", "name": "Account", "city": "City", "state": "State", "industry": "Industry",
           "tier": "Tier", "segment": "Segment", "potential": "Potential $", "revenue_12m": "Revenue last 12 months $",
           "white_space": "White space $", "pipeline": "Open pipeline $", "last_activity": "Last activity"}


@dataclass(frozen=True)
class Thresholds:
    potential: float  # the book's median account potential: at or above is "high"
    penetration: float  # the book's overall revenue / potential: at or above is "maintain"


def thresholds(book: pd.DataFrame) -> Thresholds:
    pot = book["potential"].fillna(0.0)
    total = float(pot.sum())
    return Thresholds(float(pot.median()) if len(pot) else 0.0,
                      float(book["revenue_12m"].fillna(0.0).sum()) / total if total > 0 else 0.0)


def assign(book: pd.DataFrame, limits: Thresholds | None = None) -> pd.Series:
    """The segment key of every account (index as ``book``)."""
    limits = limits or thresholds(book)
    pot = book["potential"].fillna(0.0).to_numpy(dtype=float)
    rev = book["revenue_12m"].fillna(0.0).to_numpy(dtype=float)
    pen = np.divide(rev, pot, out=np.where(rev > 0, np.inf, 0.0), where=pot > 0)
    high = pot >= limits.potential
    keys = np.select([(pen >= limits.penetration) & (rev > 0), high & (rev > 0), high],
                     ["maintain", "grow", "win"], "deprioritise")
    return pd.Series(keys, index=book.index, name="segment")


def mix(book: pd.DataFrame, names: pd.Series) -> pd.DataFrame:
    """One row per territory (``names``: id -> name), a column per segment: ``<segment>_accounts``,
    then ``<segment>_potential`` (:func:`breakdown` by segment, side by side)."""
    long = breakdown(book, names, "segment")
    out = pd.DataFrame(index=names.index)
    for measure in ("accounts", "potential"):
        wide = long.pivot_table(index="territory_id", columns="category", values=measure, aggfunc="sum",
                                observed=False, fill_value=0)
        for key in SEGMENTS:
            out[f"{key}_{measure}"] = wide[key].reindex(names.index, fill_value=0).to_numpy() if key in wide else 0
    out.insert(0, "territory", names.to_numpy())
    return out.reset_index()


BREAKDOWNS = {"segment": "Segment", "tier": "Tier", "industry": "Industry"}
OTHER = "(other)"


def breakdown(book: pd.DataFrame, names: pd.Series, by: str = "segment", *, most: int = 8) -> pd.DataFrame:
    """Per territory (``names``: territory id -> name) and category of ``by`` (segment, tier or
    industry): accounts and potential, long format. Segments come in their fixed order; tiers
    and industries by potential, the ``most`` largest by name and the rest as "(other)"."""
    if by not in BREAKDOWNS:
        raise ValueError(by)
    placed = book[book["territory_id"].isin(names.index)]
    category = placed[by].fillna("(none)").astype(str)
    if by == "segment":
        order = list(SEGMENTS)
    else:
        ranked = placed.groupby(category)["potential"].sum().sort_values(ascending=False).index.tolist()
        order = ranked[:most] + ([OTHER] if len(ranked) > most else [])
        category = category.where(category.isin(ranked[:most]), OTHER)
    out = placed.assign(category=category).groupby(["territory_id", "category"], as_index=False).agg(
        accounts=("account_id", "size"), potential=("potential", "sum"))
    out["territory"] = out["territory_id"].map(names)
    out["category"] = pd.Categorical(out["category"], categories=order, ordered=True)
    return out.sort_values(["territory_id", "category"]).reset_index(drop=True)


def key_accounts(con: Connection, book: pd.DataFrame, territory_id: str, *, top: int = 25) -> pd.DataFrame:
    """A territory's key accounts: the largest white space first (potential not yet won), with
    the open pipeline and the last activity (the latest of an opportunity's close date and a
    month with revenue)."""
    acc = book[book["territory_id"] == territory_id].copy()
    acc["white_space"] = (acc["potential"] - acc["revenue_12m"]).clip(lower=0)
    acc = acc.sort_values(["white_space", "pipeline", "account_id"], ascending=[False, False, True]).head(top)
    last = _last_activity(con, acc["account_id"].tolist())
    acc["last_activity"] = last.reindex(acc["account_id"]).to_numpy()  # NaT: no activity on record
    acc["segment"] = acc["segment"].map(SEGMENTS) if "segment" in acc else None
    return acc[["account_id", "name", "city", "state", "industry", "tier", "segment", "potential", "revenue_12m",
                "white_space", "pipeline", "last_activity"]].reset_index(drop=True)


def _last_activity(con: Connection, ids: list[str]) -> pd.Series:
    frame = con.execute(
        "SELECT account_id, max(day) AS last FROM ("
        " SELECT account_id, close_date AS day FROM opportunities WHERE account_id IN (SELECT unnest(?::VARCHAR[]))"
        " UNION ALL SELECT account_id, month FROM revenue_monthly"
        " WHERE revenue > 0 AND account_id IN (SELECT unnest(?::VARCHAR[]))) GROUP BY 1", [ids, ids]).df()
    return frame.set_index("account_id")["last"]


def cells(book: pd.DataFrame, resolution: int, segment: str) -> pd.DataFrame:
    """The map layer: per cell at ``resolution``, accounts, potential and the potential of the
    accounts in ``segment`` (column ``value``)."""
    if segment not in SEGMENTS:
        raise ValueError(segment)
    located = book[book["cell"].notna()]
    parent = grid.parents(located["cell"].to_numpy(dtype=np.uint64), resolution)
    frame = located.assign(cell=parent, value=located["potential"].where(located["segment"] == segment, 0.0))
    out = frame.groupby("cell", as_index=False).agg(accounts=("account_id", "size"), potential=("potential", "sum"),
                                                   value=("value", "sum"))
    return out[out["value"] > 0].reset_index(drop=True)
