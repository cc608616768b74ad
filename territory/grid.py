"""H3 indexing of accounts and their roll-up to plan resolutions.

Accounts are indexed once at ``settings.FINE_RES`` with polars-h3 (vectorised, Rust); rolling
up to a plan resolution is pure bit arithmetic on the 64-bit cell id inside DuckDB, so one
``GROUP BY`` aggregates a million accounts. Both are tested against h3-py's own cells.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import h3
import numpy as np
import pandas as pd
import polars as pl
import polars_h3 as plh3

from territory import metrics, settings
from territory.errors import ValidationError
from territory.store import Connection

_RES_SHIFT = 52
_RES_MASK = 0xF << _RES_SHIFT


def latlng_to_cells(lat, lng, res: int = settings.FINE_RES) -> np.ndarray:
    """H3 cells (uint64) of points given as arrays of degrees; large inputs use two threads."""
    lat, lng = np.asarray(lat, dtype=float), np.asarray(lng, dtype=float)
    if len(lat) < 200_000:
        return _cells(lat, lng, res)
    parts = _THREADS.map(_cells, np.array_split(lat, 2), np.array_split(lng, 2), [res, res])
    return np.concatenate(list(parts))


def _cells(lat: np.ndarray, lng: np.ndarray, res: int) -> np.ndarray:
    frame = pl.DataFrame({"lat": lat, "lng": lng})
    return frame.select(plh3.latlng_to_cell("lat", "lng", res)).to_series().to_numpy()


_THREADS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="h3")  # polars-h3 releases the GIL


def neighbour_pairs(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (position in ``cells``, neighbouring cell id) pair: the grid's edges, vectorised."""
    cells = np.asarray(cells, dtype=np.uint64)
    if len(cells) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint64)
    frame = pl.DataFrame({"i": np.arange(len(cells)), "c": cells})
    pairs = frame.select("i", plh3.grid_ring("c", 1).alias("n")).explode("n")
    return pairs["i"].to_numpy(), pairs["n"].to_numpy().astype(np.uint64)


def res_of(cells) -> np.ndarray:
    """The H3 resolution of each cell id (bits 52-55), vectorised."""
    return ((np.asarray(cells, dtype=np.uint64) >> np.uint64(_RES_SHIFT)) & np.uint64(15)).astype(np.int64)


def parents(cells, res: int) -> np.ndarray:
    """Each cell's ancestor at ``res`` (the cells must be at ``res`` or finer), vectorised."""
    keep, fill = parent_masks(res)
    return (np.asarray(cells, dtype=np.uint64) & np.uint64(keep)) | np.uint64(fill)


def parent_masks(res: int) -> tuple[int, int]:
    """(AND mask, OR mask) turning a finer cell id into its parent at ``res``.

    An H3 index keeps its resolution in bits 52-55 and one 3-bit digit per resolution below;
    the parent has resolution ``res`` and every digit past ``res`` set to 7 (unused).
    """
    validate_resolution(res)
    unused = (1 << ((15 - res) * 3)) - 1
    keep = ((1 << 64) - 1) & ~_RES_MASK & ~unused
    return keep, (res << _RES_SHIFT) | unused


def parent_sql(column: str = "cell", name: str = "res") -> str:
    """SQL for the parent of ``column``; bind :func:`parent_params` with the same ``name``."""
    return f"(({column} & ${name}_keep::UBIGINT) | ${name}_fill::UBIGINT)"


def parent_params(res: int, name: str = "res") -> dict[str, int]:
    """The named parameters of :func:`parent_sql` for the parent at ``res``."""
    keep, fill = parent_masks(res)
    return {f"{name}_keep": keep, f"{name}_fill": fill}


def validate_resolution(res: int) -> None:
    if not isinstance(res, int) or not 0 <= res <= settings.FINE_RES:
        raise ValidationError(
            f"resolution {res!r} is not available: use a whole number from "
            f"{min(settings.PLAN_RESOLUTIONS)} to {max(settings.PLAN_RESOLUTIONS)}"
        )


CELL_METRICS = metrics.NAMES
EARTH_KM = 6371.0088  # mean Earth radius


def aggregate_cells(con: Connection, res: int, *, workload: settings.Workload = settings.Workload()) -> pd.DataFrame:
    """One row per occupied cell at ``res`` (accounts or the market layer's establishments): the
    ``CELL_METRICS`` summed (a plan's roll-up without the accounts its rules hold is
    ``book.movable_cells``)."""
    return con.execute(cells_sql(), {**cells_params(workload), **parent_params(res)}).df()


def cells_sql(where: str = "") -> str:
    """The SQL of :func:`aggregate_cells` (bind :func:`cells_params` and ``parent_params``);
    ``where`` narrows the accounts (e.g. leaves out those rules hold)."""
    sums, _ = metrics.sums_sql()
    market, _ = metrics.sums_sql(source="market")
    return metrics.per_cell(f"SELECT {parent_sql()} AS cell, {sums} FROM accounts {where} GROUP BY 1",
                            f"SELECT {parent_sql()} AS cell, {market} FROM market_cells GROUP BY 1")


def cells_params(workload: settings.Workload = settings.Workload()) -> dict:
    return metrics.visit_hours_sql("tier", workload)[1]


def distance_km(lat1, lng1, lat2, lng2) -> np.ndarray:
    """Great-circle distance in km (haversine), element-wise; NaN where a point is missing."""
    p1, p2 = np.radians(np.asarray(lat1, float)), np.radians(np.asarray(lat2, float))
    dlat = p2 - p1
    dlng = np.radians(np.asarray(lng2, float) - np.asarray(lng1, float))
    h = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlng / 2) ** 2
    return 2 * EARTH_KM * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


def cell_center(cell: int) -> tuple[float, float]:
    return h3.cell_to_latlng(h3.int_to_str(int(cell)))


def cells_of_states(con: Connection, res: int, states: list[str]) -> list[int]:
    """The cells at ``res`` holding an account in any of ``states`` (select by area; a plan with
    split cells asks at its finest resolution and keeps the units that overlap them)."""
    rows = con.execute(f"SELECT DISTINCT {parent_sql()} FROM accounts WHERE state IN (SELECT unnest($states::VARCHAR[]))",
                       {**parent_params(res), "states": list(states)}).fetchall()
    return [int(r[0]) for r in rows]

