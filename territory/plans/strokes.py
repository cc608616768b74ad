"""Map events -> the cells a stroke covers (click with a brush ring, rectangle, polygon).

Strokes cover the plan's *universe*: the cells with accounts plus the cells already in the
plan, so a rectangle over an empty area does not fill the plan with empty cells. A click
always includes the clicked cell itself, so gaps can be painted on purpose. The universe may
mix resolutions (adaptive units, :mod:`territory.plans.units`): a brush ring at the clicked
cell's resolution takes every unit it overlaps, and a shape takes the units whose centre is
inside it, at each unit's own resolution.
"""

from __future__ import annotations

from collections.abc import Iterable

import h3

from territory import grid
from territory.errors import ValidationError
from territory.plans import units

MAX_BRUSH = 5


def brush(cell: int, radius: int, *, universe: Iterable[int] | None = None) -> list[int]:
    """The cell and its neighbours up to ``radius`` rings out (0 = the cell alone)."""
    if not isinstance(radius, int) or not 0 <= radius <= MAX_BRUSH:
        raise ValidationError(f"brush size {radius!r}: use a whole number from 0 to {MAX_BRUSH}")
    disk = {h3.str_to_int(c) for c in h3.grid_disk(h3.int_to_str(int(cell)), radius)}
    if universe is not None:
        disk = set(units.overlapping(disk, universe)) | {int(cell)}
    return sorted(disk)


def cells_in_polygon(ring: list[tuple[float, float]], res: int, *, universe: Iterable[int] | None = None) -> list[int]:
    """Cells whose centre lies inside the polygon given as (lat, lng) corners."""
    if len(ring) < 3:
        raise ValidationError("a polygon needs at least three corners")
    shape = h3.LatLngPoly(list(ring))
    if universe is None:
        return sorted(h3.str_to_int(c) for c in h3.polygon_to_cells(shape, res))
    have = {int(c) for c in universe}
    out: set[int] = set()
    for level in sorted(set(grid.res_of(sorted(have)).tolist()) | {res}):
        out |= {h3.str_to_int(c) for c in h3.polygon_to_cells(shape, level)} & have
    return sorted(out)


def cells_in_rectangle(south: float, west: float, north: float, east: float, res: int, *,
                       universe: Iterable[int] | None = None) -> list[int]:
    if south >= north or west >= east:
        raise ValidationError("a rectangle needs south < north and west < east")
    ring = [(south, west), (north, west), (north, east), (south, east)]
    return cells_in_polygon(ring, res, universe=universe)


def from_drawing(feature: dict, res: int, *, universe: Iterable[int] | None = None) -> list[int]:
    """Cells inside a GeoJSON polygon drawn on the map (Leaflet.draw rectangle or polygon)."""
    geometry = (feature or {}).get("geometry") or {}
    if geometry.get("type") != "Polygon":
        raise ValidationError("draw a rectangle or a polygon")
    ring = [(lat, lng) for lng, lat in geometry["coordinates"][0][:-1]]
    return cells_in_polygon(ring, res, universe=universe)
