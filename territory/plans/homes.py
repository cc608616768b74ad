"""Where the reps live, as the rebalance sees it: homes as cells, as units, as starting centres."""

from __future__ import annotations

import h3
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from territory import grid
from territory.errors import ValidationError
from territory.optimizer import Units
from territory.plans import units as units_
from territory.store import Connection


def every_rep_has_one(con: Connection, terr: pd.DataFrame) -> bool:
    """Does every territory's rep have a home location?"""
    known = {r[0] for r in con.execute("SELECT rep_id FROM reps WHERE home_lat IS NOT NULL").fetchall()}
    return bool(len(terr)) and all(r in known for r in terr["rep_id"])


def cells(con: Connection, territories: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    """(territory id, the fine H3 cell of its rep's home) for each territory whose rep has a home."""
    reps = con.execute("SELECT rep_id, home_lat, home_lng FROM reps WHERE home_lat IS NOT NULL").df()
    reps = reps.merge(territories.dropna(subset=["rep_id"])[["rep_id", "territory_id"]], on="rep_id")
    return reps["territory_id"].tolist(), grid.latlng_to_cells(reps["home_lat"], reps["home_lng"])


def units_of(con: Connection, units: Units, tids: list[str], current: np.ndarray, territories: pd.DataFrame) -> np.ndarray:
    """Per unit: is it the home of the rep of the territory (``tids[current]``) that holds it today?"""
    code = {t: i for i, t in enumerate(tids)}
    owners, at_cells = cells(con, territories)
    at = units_.owner(at_cells, units.ids, np.arange(len(units.ids)))  # the unit holding each home
    out = np.zeros(len(units.ids), dtype=bool)
    for tid, i in zip(owners, at):
        if i is not None and tid in code and current[i] == code[tid]:
            out[i] = True
    return out


def centres(con: Connection, terr: pd.DataFrame, units: Units) -> list[int]:
    """Per territory, the unit nearest its rep's home (where a run around rep homes starts)."""
    reps = con.execute("SELECT rep_id, home_lat, home_lng FROM reps WHERE home_lat IS NOT NULL").df().set_index("rep_id")
    latlng = np.array([h3.cell_to_latlng(h3.int_to_str(int(c))) for c in units.ids])
    tree = cKDTree(latlng)
    out = []
    for rep in terr["rep_id"]:
        if rep not in reps.index:
            raise ValidationError("every territory needs a rep with a home location to rebalance around rep homes")
        out.append(int(tree.query([reps.loc[rep, "home_lat"], reps.loc[rep, "home_lng"]])[1]))
    return out
