"""The Designer's map: cells coloured by territory, a metric as shading, dissolved territory
outlines, split pieces highlighted, rep homes, and rectangle/polygon drawing tools.

Built on :mod:`territory.mapview` (offline assets, escaping). Unassigned cells are grey.
"""

from __future__ import annotations

import html
from functools import lru_cache

import folium
import h3
import numpy as np
import pandas as pd
from folium.plugins import Draw

from territory import grid, mapview

UNASSIGNED = "#9e9e9e"
STRAY = "#d62728"


def plan_layers(cells: pd.DataFrame, assignments: pd.DataFrame, territories: pd.DataFrame, *,
                metric: str = "potential", strays: set[int] | None = None) -> dict:
    """The map's data (plain dicts, cacheable): cell polygons, territory outlines, bounds.

    ``cells``: the plan's universe with metrics; ``assignments``: cell -> territory_id.
    """
    frame = cells.merge(assignments[["cell", "territory_id"]], on="cell", how="outer")
    frame = frame.merge(territories[["territory_id", "name", "color"]], on="territory_id", how="left")
    frame[metric] = frame[metric].fillna(0)
    frame["accounts"] = frame["accounts"].fillna(0)
    outlines = [o for _, group in assignments.groupby("territory_id") if (o := _outline(group["cell"]))]
    return {"cells": _cells_geojson(frame, metric, strays or set()), "outlines": outlines,
            "bounds": _bounds(frame), "metric": metric}


def plan_map(layers: dict, *, reps: pd.DataFrame | None = None, tiles: str = "none",
             bounds: list[list[float]] | None = None) -> folium.Map:
    """A fresh folium map from :func:`plan_layers` (folium objects must not be reused)."""
    m = mapview.base_map(tiles=tiles, bounds=bounds or layers["bounds"])
    folium.GeoJson(
        layers["cells"],
        name="cells",
        style_function=lambda f: f["properties"]["style"],
        tooltip=folium.GeoJsonTooltip(fields=["territory", "accounts", "value", "cell"],
                                      aliases=["Territory", "Accounts", mapview.METRIC_LABELS[layers["metric"]], "Cell"]),
    ).add_to(m)
    if layers["outlines"]:
        folium.GeoJson({"type": "FeatureCollection", "features": layers["outlines"]}, name="outlines",
                       interactive=False,
                       style_function=lambda _f: {"fill": False, "color": "#222222", "weight": 2}).add_to(m)
    if reps is not None:
        for rep in reps.dropna(subset=["home_lat", "home_lng"]).itertuples():
            folium.CircleMarker([rep.home_lat, rep.home_lng], radius=6, color="#000000", weight=2,
                                fill=True, fill_color="#ffffff", fill_opacity=1,
                                tooltip=html.escape(f"{rep.name} (home)")).add_to(m)
    Draw(export=False, draw_options={"polyline": False, "circle": False, "marker": False,
                                     "circlemarker": False, "polygon": True, "rectangle": True},
         edit_options={"edit": False, "remove": False}).add_to(m)
    return mapview.offline(m)


def _cells_geojson(frame: pd.DataFrame, metric: str, strays: set[int]) -> dict:
    values = frame[metric].to_numpy(dtype=float)
    edges = mapview.bins(values, 4)
    shade = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)
    opacity = 0.35 + 0.5 * shade / max(len(edges) - 2, 1)
    features = []
    for (cell, name, color, accounts, value), op in zip(
        frame[["cell", "name", "color", "accounts", metric]].itertuples(index=False), opacity
    ):
        cell = int(cell)
        stray = cell in strays
        ring = _ring(cell)
        fill = color if isinstance(color, str) else UNASSIGNED
        features.append({
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {
                "cell": format(cell, "x"),
                "territory": html.escape(name) if isinstance(name, str) else "unassigned",
                "accounts": f"{int(accounts):,}",
                "value": html.escape(mapview.fmt(value)),
                "style": {"fillColor": fill, "fillOpacity": round(float(op), 2),
                          "color": STRAY if stray else fill, "weight": 3 if stray else 0.3},
            },
        })
    return {"type": "FeatureCollection", "features": features}


@lru_cache(maxsize=250_000)
def _ring(cell: int) -> list[list[float]]:
    """A cell's closed boundary as GeoJSON [lng, lat] pairs; geometry never changes, so it is
    computed once per process (strokes only change colours)."""
    ring = [[round(lng, 5), round(lat, 5)] for lat, lng in grid.cell_boundary(cell)]
    return [*ring, ring[0]]


def _outline(cells) -> dict | None:
    """The territory's boundary as GeoJSON (union of its cells, holes and pieces kept)."""
    shape = h3.cells_to_h3shape([h3.int_to_str(int(c)) for c in cells])
    geo = shape.__geo_interface__
    return {"type": "Feature", "geometry": geo, "properties": {}} if geo.get("coordinates") else None


def _bounds(frame: pd.DataFrame) -> list[list[float]] | None:
    return mapview._bounds(frame) if not frame.empty else None


def bounds_of(cells, *, pad: float = 0.3) -> list[list[float]] | None:
    """Map bounds around some cells, ``pad`` degrees wider (e.g. to zoom to the unassigned)."""
    cells = list(cells)
    if not cells:
        return None
    centers = np.array([grid.cell_center(int(c)) for c in cells])
    return [[float(centers[:, 0].min() - pad), float(centers[:, 1].min() - pad)],
            [float(centers[:, 0].max() + pad), float(centers[:, 1].max() + pad)]]
