"""What-if scenarios: create, clone, rename, annotate, delete, compare and promote plans.

A scenario is a plan (``territory.plans.plan``); the baseline is today's CRM alignment and the
*active* plan is the one exported back to the CRM. Promoting a scenario makes it active and
records the change in ``promotions``; the previously active plan stays as it was (history).
"""

from __future__ import annotations

from dataclasses import dataclass

import h3
import numpy as np
import pandas as pd

from territory import grid, metrics, store
from territory.errors import NotFoundError, ValidationError
from territory.plans import book, plan, totals, units
from territory.store import Connection

COMPARED = metrics.COMPARED
MAX_COMPARED = 3


def listing(con: Connection) -> pd.DataFrame:
    """Every plan: id, name, kind, active flag, notes, parent, version, created, territories, rules."""
    return con.execute(
        "SELECT s.scenario_id, s.name, s.kind, s.is_active, s.notes, p.name AS parent, s.resolution, s.version,"
        " s.created_at, (SELECT count(*) FROM territories t WHERE t.scenario_id = s.scenario_id) AS territories,"
        " (SELECT count(*) FROM rules r WHERE r.scenario_id = s.scenario_id) AS rules"
        " FROM scenarios s LEFT JOIN scenarios p ON p.scenario_id = s.parent_id"
        " ORDER BY s.kind = 'baseline' DESC, s.scenario_id"
    ).df()


def create(con: Connection, name: str, *, source: int, notes: str = "") -> plan.ScenarioId:
    """A new working scenario copied from plan ``source`` (the active plan, the baseline or any)."""
    sid = plan.clone(con, source, _valid_name(name))
    if notes:
        set_notes(con, sid, notes)
    return sid


def rename(con: Connection, scenario_id: int, name: str, *, expected_version: int | None = None) -> None:
    name = _valid_name(name)
    with plan.change(con, scenario_id, expected_version):
        _get(con, scenario_id)
        if store.value(con, "SELECT count(*) FROM scenarios WHERE name = ? AND scenario_id <> ?",
                       [name, scenario_id]):
            raise ValidationError(f"a plan named {name!r} exists already; choose another name")
        con.execute("UPDATE scenarios SET name = ? WHERE scenario_id = ?", [name, scenario_id])


def set_notes(con: Connection, scenario_id: int, notes: str, *, expected_version: int | None = None) -> None:
    if len(notes) > 5000:
        raise ValidationError("notes are limited to 5,000 characters")
    with plan.change(con, scenario_id, expected_version):
        _get(con, scenario_id)
        con.execute("UPDATE scenarios SET notes = ? WHERE scenario_id = ?", [notes, scenario_id])


def delete(con: Connection, scenario_id: int, *, expected_version: int | None = None) -> None:
    """Delete a working scenario; the baseline and the active plan cannot be deleted."""
    row = _get(con, scenario_id)
    if row["kind"] == "baseline":
        raise ValidationError("the baseline cannot be deleted: it is what disruption is measured against")
    if row["is_active"]:
        raise ValidationError(f"{row['name']!r} is the active plan; promote another plan first, then delete it")
    with store.transaction(con):
        plan.check_version(con, scenario_id, expected_version)
        plan.delete_rows(con, scenario_id)


def promote(con: Connection, scenario_id: int, *, expected_version: int | None = None) -> None:
    """Make a plan the active one (the one exports use); the previous active plan is kept.
    Refused when the plan changed since the caller saw it (``expected_version``)."""
    _get(con, scenario_id)
    with store.transaction(con):
        plan.check_version(con, scenario_id, expected_version)
        prev = con.execute("SELECT scenario_id FROM scenarios WHERE is_active").fetchall()
        con.execute("UPDATE scenarios SET is_active = (scenario_id = ?)", [scenario_id])
        con.execute("INSERT INTO promotions (scenario_id, previous_id) VALUES (?, ?)",
                    [scenario_id, prev[0][0] if prev else None])


def history(con: Connection) -> pd.DataFrame:
    """Promotions, newest first: when, which plan became active, which one it replaced."""
    return con.execute(
        "SELECT p.promoted_at, coalesce(s.name, '(deleted plan ' || p.scenario_id || ')') AS promoted,"
        " coalesce(o.name, CASE WHEN p.previous_id IS NULL THEN NULL"
        "  ELSE '(deleted plan ' || p.previous_id || ')' END) AS replaced"
        " FROM promotions p LEFT JOIN scenarios s ON s.scenario_id = p.scenario_id"
        " LEFT JOIN scenarios o ON o.scenario_id = p.previous_id ORDER BY p.promoted_at DESC, p.rowid DESC"
    ).df()


@dataclass(frozen=True)
class Comparison:
    names: list[str]  # the scenarios, the first is the reference
    kpis: pd.DataFrame  # one row per (territory, scenario): the COMPARED sums and their delta to the reference
    scores: pd.DataFrame  # one row per scenario: balance, compactness, disruption, owner changes vs reference
    changed_cells: pd.DataFrame  # cell, territory and colour in each scenario (cells that differ)
    moved: pd.DataFrame  # accounts whose territory or owner differs from the reference (per scenario)


def compare(con: Connection, scenario_ids: list[int]) -> Comparison:
    """Compare two or three plans, the first being the reference the deltas are taken from."""
    ids = list(dict.fromkeys(int(s) for s in scenario_ids))
    if not 2 <= len(ids) <= MAX_COMPARED:
        raise ValidationError(f"choose 2 or {MAX_COMPARED} different plans to compare")
    names = [_get(con, s)["name"] for s in ids]
    books = {s: book.accounts(con, s) for s in ids}
    base = plan.baseline_scenario(con)
    rows, scores, moved = [], [], []
    ref = books[ids[0]]
    for sid, name in zip(ids, names):
        acc = books[sid]
        per = per_territory(acc, plan.territories(con, sid), book.market_by_territory(con, sid))
        per.insert(0, "scenario", name)
        rows.append(per)
        scores.append({"scenario": name, **score(con, sid, acc, per, base)})
        if sid != ids[0]:
            moved.append(moved_accounts(ref, acc).assign(scenario=name))
    table = pd.concat(rows, ignore_index=True)
    ref_sums = table[table["scenario"] == names[0]].set_index("territory")[list(COMPARED)]
    for m in COMPARED:
        table[f"delta_{m}"] = table[m] - table["territory"].map(ref_sums[m]).fillna(0)
    return Comparison(names, table, pd.DataFrame(scores), changed_cells(con, ids, names),
                      pd.concat(moved, ignore_index=True))


def per_territory(accounts: pd.DataFrame, territories: pd.DataFrame, market: pd.DataFrame | None = None) -> pd.DataFrame:
    """The COMPARED sums per territory of a book (``book.accounts``) and of the market layer
    (``book.market_by_territory``), every territory listed."""
    acc = accounts.dropna(subset=["territory_id"]).assign(accounts=1)
    sums = acc.groupby("territory_id")[[m for m in COMPARED if m not in metrics.MARKET]].sum()
    if market is not None:
        sums = sums.join(market.dropna(subset=["territory_id"]).set_index("territory_id"), how="outer")
    sums = sums.reindex(columns=list(COMPARED), fill_value=0)
    out = territories[["territory_id", "name", "rep_name"]].merge(sums, on="territory_id", how="left").fillna(
        {m: 0 for m in COMPARED})
    return out.rename(columns={"name": "territory"})


def score(con: Connection, scenario_id: int, accounts: pd.DataFrame, per: pd.DataFrame,
          baseline_id: int | None) -> dict:
    """Balance (max deviation and CV on potential, accounts, visit hours), compactness, and
    disruption: the Designer's (``totals.disruption``), accounts and revenue changing territory."""
    out = {}
    for m in totals.BALANCED:
        b = totals.balance(per[m])
        out[f"max_dev_{m}_pct"], out[f"cv_{m}"] = b.max_deviation_pct, b.cv
    assignments = plan.assignments(con, scenario_id)
    comp = compactness(assignments)
    out["compactness"] = float(comp.mean()) if len(comp) else float("nan")
    out["pieces"] = int(sum(totals.split_pieces(assignments)[0].values()))
    out["unassigned_accounts"] = int(accounts["territory_id"].isna().sum())
    if baseline_id is not None:
        moved, _ = totals.disruption(con, scenario_id, baseline_id)
        out["disruption_accounts_pct"] = moved["accounts_share"] * 100
        out["disruption_revenue_pct"] = moved["revenue_share"] * 100
    return out


def compactness(assignments: pd.DataFrame) -> pd.Series:
    """Per territory, a disc's moment of inertia over the territory's (cells as discs): 1 for a
    disc, towards 0 for long or scattered shapes (the normalised moment of inertia)."""
    if assignments.empty:
        return pd.Series(dtype=float)
    levels = grid.res_of(assignments["cell"])
    area = np.array([h3.average_hexagon_area(int(r), "km^2") for r in range(16)])[levels]  # split cells are smaller
    lat, lng = np.array([h3.cell_to_latlng(h3.int_to_str(int(c))) for c in assignments["cell"]]).T
    frame = pd.DataFrame({"t": assignments["territory_id"].to_numpy(), "lat": lat, "lng": lng, "a": area})
    out = {}
    for tid, g in frame.groupby("t"):
        a = g["a"].to_numpy()
        lat0, lng0 = np.average(g["lat"], weights=a), np.average(g["lng"], weights=a)
        y = (g["lat"].to_numpy() - lat0) * 111.32
        x = (g["lng"].to_numpy() - lng0) * 111.32 * np.cos(np.radians(lat0))
        inertia = float((a * (x**2 + y**2)).sum() + (a**2).sum() / (2 * np.pi))
        out[tid] = a.sum() ** 2 / (2 * np.pi) / inertia
    return pd.Series(out)


def changed_cells(con: Connection, ids: list[int], names: list[str]) -> pd.DataFrame:
    """Cells whose territory differs between any of the plans: cell, then territory name and
    colour per plan. Plans split differently are compared on their common refinement
    (``units.finest_cover``), so a split alone is no change."""
    stored = [plan.assignments(con, sid)[["cell", "territory_id"]] for sid in ids]
    cells = units.finest_cover(*(a["cell"] for a in stored))
    wide = pd.DataFrame(index=pd.Index(cells.astype(np.int64), name="cell"))
    for sid, name, a in zip(ids, names, stored):
        t = plan.territories(con, sid).set_index("territory_id")
        tid = pd.Series(units.owner(cells, a["cell"], a["territory_id"]), index=wide.index)
        wide[name], wide[f"{name} colour"] = tid.map(t["name"]), tid.map(t["color"])
    first = wide[names[0]].fillna("")
    differs = np.logical_or.reduce([wide[n].fillna("") != first for n in names[1:]])
    return wide[differs].reset_index()


def moved_accounts(reference: pd.DataFrame, other: pd.DataFrame) -> pd.DataFrame:
    """Accounts whose territory or owner differs: id, name, city, revenue, from → to."""
    a = reference.set_index("account_id")
    b = other.set_index("account_id").loc[a.index]
    differs = (a["territory_id"].fillna("") != b["territory_id"].fillna("")) | (
        a["rep_id"].fillna("") != b["rep_id"].fillna(""))
    out = pd.DataFrame({
        "name": a["name"], "city": a["city"], "state": a["state"], "revenue_12m": a["revenue_12m"],
        "potential": a["potential"], "from_territory": a["territory"], "from_owner": a["rep_name"],
        "to_territory": b["territory"], "to_owner": b["rep_name"], "assigned_by": b["assigned_by"],
    })[differs.to_numpy()]
    return out.reset_index().sort_values("revenue_12m", ascending=False, ignore_index=True)


def _get(con: Connection, scenario_id: int) -> dict:
    frame = con.execute("SELECT name, kind, is_active FROM scenarios WHERE scenario_id = ?", [scenario_id]).df()
    if frame.empty:
        raise NotFoundError(f"there is no plan with id {scenario_id}; it may have been deleted in another tab")
    return frame.iloc[0].to_dict()


def _valid_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise ValidationError("a scenario name must have 1 to 80 characters")
    return name
