"""The Designer's map, split into a stable base and a small per-stroke patch.

* :func:`base` — every cell with accounts, its metric value and shade. It depends only on the
  data, the plan resolution and the chosen metric, so the folium map built from it
  (:func:`plan_map`) is byte-for-byte the same on every rerun: Streamlit sends it once and
  refers to it afterwards, and streamlit-folium keeps the same Leaflet map alive.
* :func:`patch` — what a stroke changes: the territory of every cell (one small integer per
  cell), extra cells painted outside the base, territories (name, colour, lock), locked cells,
  split-off pieces and the tool settings. A few bytes per cell.

In the browser ``static/designer/planmap.js`` draws the cells on one canvas from their H3 ids
(h3-js computes the shapes, so no polygon is ever sent), outlines territories where
neighbouring cells differ, recolours clicked cells at once and applies each patch.
"""

from __future__ import annotations

import hashlib

import folium
import h3
import numpy as np
import pandas as pd
from branca.element import MacroElement, Template
from folium.elements import JSCSSMixin
from folium.plugins import Draw

from territory import grid
from territory.maps import mapview

SHADES = 4  # opacity steps for the metric shading (the colour says the territory)


def base(cells: pd.DataFrame, res: int, metric: str = "potential", *, also=()) -> dict:
    """The stable part of the map for ``cells`` (one row per cell with accounts) and the cells
    ``also`` without accounts (a plan's split cells: then no patch needs to carry them)."""
    also = np.asarray(also, dtype=np.uint64)
    empty = also[~np.isin(also, cells["cell"].to_numpy(dtype=np.uint64))]
    if len(empty):  # both as uint64: int64 and uint64 together would make the ids floats
        cells = pd.concat([cells.assign(cell=cells["cell"].to_numpy(dtype=np.uint64)), pd.DataFrame({"cell": empty})],
                          ignore_index=True).fillna(0)
    cells = cells.sort_values("cell")
    ints = cells["cell"].to_numpy(dtype=np.uint64)
    values = cells[metric].to_numpy(dtype=float)
    occupied = cells["accounts"].to_numpy() > 0
    edges = mapview.bins(values[occupied] if occupied.any() else values, SHADES)  # shades by the cells with accounts
    shade = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, SHADES - 1)
    ids = [h3.int_to_str(int(c)) for c in ints]
    digest = hashlib.sha1(ints.tobytes() + f"{res}:{metric}".encode()).hexdigest()[:16]
    return {
        "id": digest,
        "res": int(res),
        "levels": sorted(set(grid.res_of(ints).tolist()) | {int(res)}),  # split cells are finer than res
        "cells": ids,
        "accounts": cells["accounts"].astype(int).tolist(),
        "values": np.round(values, 2).tolist(),
        "shade": "".join(map(str, shade.tolist())),
        "metric_label": mapview.METRIC_LABELS[metric],
        "bounds": mapview._bounds(cells) if len(cells) else None,
        "_ints": ints,  # not sent: the cell order, for patches
    }


def patch(layer: dict, assignments: pd.DataFrame, territories: pd.DataFrame, *, version: int,
          strays: frozenset[int] | set[int] = frozenset(), settings: dict | None = None,
          fit: dict | None = None) -> dict:
    """The plan's state on top of ``layer`` (from :func:`base`), as the browser applies it.

    ``assign[i]`` is the territory slot of ``layer['cells'][i]`` (0 = unassigned; slot k is
    ``territories[k - 1]``; -k = slot k in a piece split off its territory). Names are sent as
    data and shown as text, never as HTML.
    """
    ids = territories["territory_id"].tolist()
    slot = {t: k + 1 for k, t in enumerate(ids)}
    ints = layer["_ints"]
    assigned = assignments[["cell", "territory_id"]].dropna()
    cells = assigned["cell"].to_numpy(dtype=np.uint64)
    slots = assigned["territory_id"].map(slot).fillna(0).astype(int).to_numpy()
    if len(strays):  # a split-off piece: the slot, negated
        slots = np.where(np.isin(cells, np.fromiter(strays, dtype=np.uint64)), -slots, slots)
    pos = np.searchsorted(ints, cells)
    inside = pos < len(ints)
    inside[inside] = ints[pos[inside]] == cells[inside]
    assign = np.zeros(len(ints), dtype=int)
    assign[pos[inside]] = slots[inside]
    extra = [[h3.int_to_str(int(c)), int(s)] for c, s in zip(cells[~inside], slots[~inside])]
    locked = assignments.loc[assignments["locked"].fillna(False).astype(bool), "cell"] if "locked" in assignments else []
    return {
        "base": layer["id"],
        "version": int(version),
        "assign": assign.tolist(),
        "extra": extra,
        "territories": [
            {"id": t, "name": str(n), "color": c if isinstance(c, str) else None, "locked": bool(lk)}
            for t, n, c, lk in zip(ids, territories["name"], territories["color"], territories["locked"].fillna(False))
        ],
        "locked": [h3.int_to_str(int(c)) for c in locked],
        "settings": settings or {},
        "fit": fit,
    }


class PlanLayer(JSCSSMixin, MacroElement):
    """The canvas layer of ``planmap.js``, fed with a :func:`base` and the reps' homes as JSON
    (names are drawn with ``textContent`` in the browser)."""

    default_js = [("h3", mapview.LOCAL_JS["h3"]), ("territory_canvas", mapview.LOCAL_JS["territory_canvas"]),
                  ("territory_planmap", mapview.LOCAL_JS["territory_planmap"])]
    _template = Template(
        "{% macro script(this, kwargs) %}"
        "var {{ this.get_name() }} = L.territoryPlan({{ this.payload }}).addTo({{ this._parent.get_name() }});"
        "{% endmacro %}"
    )

    def __init__(self, layer: dict, homes: list[list] | None = None) -> None:
        super().__init__()
        self._name = "TerritoryPlan"
        public = {k: v for k, v in layer.items() if not k.startswith("_")}
        self.payload = mapview.script_json({**public, "homes": homes or []})


def plan_map(layer: dict, *, reps: pd.DataFrame | None = None, tiles: str = "none") -> folium.Map:
    """A fresh folium map for ``layer`` (folium objects must not be reused across reruns)."""
    m = mapview.base_map(tiles=tiles, view_key="designer")  # the plan layer fits the view itself, once sized
    homes = [] if reps is None else [
        [float(r.home_lat), float(r.home_lng), str(r.name)]
        for r in reps.dropna(subset=["home_lat", "home_lng"]).sort_values("name").itertuples()]
    PlanLayer(layer, homes).add_to(m)
    Draw(export=False, draw_options={"polyline": False, "circle": False, "marker": False,
                                     "circlemarker": False, "polygon": True, "rectangle": True},
         edit_options={"edit": False, "remove": False}).add_to(m)
    return mapview.offline(m)
