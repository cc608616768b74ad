"""Rep allocation: which rep should own which territory, as an assignment problem.

Every (rep, territory) pair gets a fit score in 0..1, a weighted sum of four parts:

* **skills**: share of the territory's potential in industries the rep lists as skills;
* **distance**: 1 at the rep's home, 0 from ``FAR_KM`` on (potential-weighted mean distance of
  the territory's accounts from the rep's home);
* **relationships**: share of the territory's revenue (accounts when it has none) the rep owns
  in the CRM today;
* **capacity**: the rep's capacity hours over the territory's workload (visits + travel from
  that rep's home), capped at 1.

scipy's ``linear_sum_assignment`` (Jonker-Volgenant) then picks the pairing with the largest
total fit: each rep gets at most one territory and each territory at most one rep.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from territory import grid, settings
from territory.errors import ValidationError
from territory.kpis import scorecard
from territory.plans import book, plan
from territory.store import Connection

FAR_KM = 500.0


@dataclass(frozen=True)
class Weights:
    skills: float = 0.25
    distance: float = 0.30
    relationships: float = 0.30
    capacity: float = 0.15

    def normalised(self) -> np.ndarray:
        w = np.array([self.skills, self.distance, self.relationships, self.capacity], dtype=float)
        if (w < 0).any() or w.sum() <= 0:
            raise ValidationError("allocation weights must be 0 or more and not all 0")
        return w / w.sum()


def scores(con: Connection, scenario_id: int, *, workload: settings.Workload = settings.Workload()) -> pd.DataFrame:
    """One row per (rep, territory): the four parts (0..1) and the raw figures behind them."""
    acc = book.accounts(con, scenario_id, workload=workload).dropna(subset=["territory_id"])
    terr = plan.territories(con, scenario_id)[["territory_id", "name", "rep_id"]].rename(columns={"rep_id": "current_rep"})
    reps = con.execute("SELECT rep_id, name AS rep_name, home_lat, home_lng, skills, capacity_hours FROM reps "
                       "ORDER BY rep_id").df()
    if reps.empty or terr.empty:
        raise ValidationError("rep allocation needs reps (import a reps file) and territories")
    codes = pd.Categorical(acc["territory_id"], categories=terr["territory_id"]).codes
    k, pot = len(terr), acc["potential"].to_numpy()
    rev = acc["revenue_12m"].to_numpy()
    pot_t = np.bincount(codes, pot, minlength=k)
    rev_t = np.bincount(codes, rev, minlength=k)
    n_t = np.bincount(codes, minlength=k)
    visits = acc["tier"].map(dict(workload.visits_per_year)).fillna(0).to_numpy()
    visit_h = np.bincount(codes, acc["visit_hours"].to_numpy(), minlength=k)
    rows = []
    for rep in reps.itertuples(index=False):
        skills = {s.strip().lower() for s in str(rep.skills or "").split(";") if s.strip()}
        in_skill = acc["industry"].fillna("").str.lower().isin(skills).to_numpy()
        skill = np.bincount(codes, pot * in_skill, minlength=k) / np.where(pot_t > 0, pot_t, 1)
        km = grid.distance_km(acc["lat"], acc["lng"], rep.home_lat, rep.home_lng)
        known = ~np.isnan(km)
        dist = np.bincount(codes, np.where(known, km * pot, 0), minlength=k) / np.maximum(
            np.bincount(codes, np.where(known, pot, 0), minlength=k), 1e-9)
        dist = np.where(np.bincount(codes, known, minlength=k) > 0, dist, np.nan)
        owned = (acc["owner_id"] == rep.rep_id).to_numpy()
        rel = np.where(rev_t > 0, np.bincount(codes, rev * owned, minlength=k) / np.where(rev_t > 0, rev_t, 1),
                       np.bincount(codes, owned, minlength=k) / np.maximum(n_t, 1))
        travel = np.bincount(codes, np.nan_to_num(visits * 2 * km / scorecard.TRAVEL_SPEED_KMH / scorecard.VISITS_PER_TRIP),
                             minlength=k)
        need = visit_h + travel
        cap = rep.capacity_hours if rep.capacity_hours and rep.capacity_hours > 0 else np.nan
        rows.append(pd.DataFrame({
            "rep_id": rep.rep_id, "rep_name": rep.rep_name, "territory_id": terr["territory_id"].to_numpy(),
            "territory": terr["name"].to_numpy(), "current_rep": terr["current_rep"].to_numpy(),
            "skills": skill, "distance": np.clip(1 - dist / FAR_KM, 0, 1), "relationships": rel,
            "capacity": np.clip(cap / np.maximum(need, 1e-9), 0, 1) if cap == cap else 0.5,
            "distance_km": dist, "workload_hours": need, "capacity_hours": cap,
            "rep_skills": ", ".join(sorted(skills)) or "none listed",
        }))
    out = pd.concat(rows, ignore_index=True)
    out["distance"] = out["distance"].fillna(0.0)
    return out


def suggest(con: Connection, scenario_id: int, *, weights: Weights = Weights()) -> pd.DataFrame:
    """The best rep per territory (one territory per rep), with the fit, its parts and reasons."""
    pairs = scores(con, scenario_id)
    w = weights.normalised()
    pairs["fit"] = pairs[["skills", "distance", "relationships", "capacity"]].to_numpy() @ w
    matrix = pairs.pivot(index="rep_id", columns="territory_id", values="fit")
    rows, cols = linear_sum_assignment(matrix.to_numpy(), maximize=True)
    chosen = pd.DataFrame({"rep_id": matrix.index[rows], "territory_id": matrix.columns[cols]})
    out = chosen.merge(pairs, on=["rep_id", "territory_id"])
    out["reasons"] = [reasons(r) for r in out.itertuples(index=False)]
    out["changes"] = out["current_rep"].fillna("") != out["rep_id"]
    return out.sort_values("territory", ignore_index=True)


def reasons(r) -> str:
    """Why this rep fits this territory, in words, from a row of :func:`scores`."""
    parts = [f"skills ({r.rep_skills}) cover {r.skills:.0%} of the potential"]
    parts.append("home location unknown" if pd.isna(r.distance_km) else f"home {r.distance_km:,.0f} km from the accounts")
    parts.append(f"owns {r.relationships:.0%} of the revenue today")
    if pd.isna(r.capacity_hours):
        parts.append("capacity unknown")
    else:
        parts.append(f"capacity {r.capacity_hours:,.0f} h for {r.workload_hours:,.0f} h of work")
    return "; ".join(parts)


def accept(con: Connection, scenario_id: int, pairs: list[tuple[str, str]], *,
           rename: bool = False, expected_version: int | None = None) -> int:
    """Give each (territory, rep) pair's territory to its rep, all or nothing; returns how many changed.

    With ``rename``, a territory named after its old rep follows the new one: "Boston (Ann Lee)"
    becomes "Boston (Raj Rao)" (the old rep's name is replaced wherever it appears in the name)."""
    with plan.change(con, scenario_id, expected_version):
        known = dict(con.execute("SELECT rep_id, name FROM reps").fetchall())
        terr = plan.territories(con, scenario_id).set_index("territory_id")
        for tid, rep in pairs:
            if rep not in known or tid not in terr.index:
                raise ValidationError(f"cannot give territory {tid!r} to rep {rep!r}: one of them no longer exists")
            old, name = terr.loc[tid, "rep_name"], terr.loc[tid, "name"]
            if rename and isinstance(old, str) and old and old in name and known[rep]:
                name = name.replace(old, known[rep])[:80]
            con.execute("UPDATE territories SET rep_id = ?, name = ? WHERE scenario_id = ? AND territory_id = ?",
                        [rep, name, scenario_id, tid])
    return len(pairs)
