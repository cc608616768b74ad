"""Folium maps of H3 cells that work with no internet.

Leaflet is vendored under ``static/vendor/leaflet`` (served by Streamlit's static serving at
``/app/static/...``); :func:`offline` points every folium element at those files and drops
the CDN libraries (jQuery, Bootstrap, Font Awesome) that our maps do not use.

Text never meets markup here: tooltips and legends are built in the browser from JSON data
with ``textContent`` (:func:`text_tooltip`, :func:`legend`), so a name like ``${alert(1)}`` or
``<img onerror>`` is shown as typed. No folium ``Tooltip``/``Popup`` (they paste text into a
JavaScript template literal and into HTML) is used anywhere.
"""

from __future__ import annotations

import json

import folium
import numpy as np
import pandas as pd
from branca.element import MacroElement, Template

from territory import grid

ASSET_BASE = "/app/static/vendor"
LOCAL_JS = {"leaflet": f"{ASSET_BASE}/leaflet/leaflet.js",
            "leaflet_draw_js": f"{ASSET_BASE}/leaflet-draw/leaflet.draw.js",
            "h3": f"{ASSET_BASE}/h3-js/h3-js.umd.js",
            "territory_planmap": "/app/static/designer/planmap.js"}
LOCAL_CSS = {"leaflet_css": f"{ASSET_BASE}/leaflet/leaflet.css",
             "leaflet_draw_css": f"{ASSET_BASE}/leaflet-draw/leaflet.draw.css"}
TILES = {
    "none": None,
    "OpenStreetMap": "OpenStreetMap",  # needs internet; off by default
}
# viridis, 7 steps: colour-blind safe and readable in grey scale
SEQUENTIAL = ("#440154", "#443983", "#31688e", "#21918c", "#35b779", "#90d743", "#fde725")
METRIC_LABELS = {
    "accounts": "Accounts",
    "potential": "Potential ($)",
    "revenue_12m": "Revenue, last 12 months ($)",
    "pipeline": "Open pipeline ($)",
    "weighted_pipeline": "Weighted pipeline ($)",
    "workload_hours": "Workload (hours/year)",
}


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


def base_map(*, tiles: str = "none", bounds: list[list[float]] | None = None) -> folium.Map:
    """An empty map with no CDN assets; ``tiles='none'`` draws no background at all."""
    m = folium.Map(location=[39.5, -98.35], zoom_start=4, tiles=TILES.get(tiles),
                   control_scale=True)
    if bounds:
        m.fit_bounds(bounds)
    return m


def bins(values: np.ndarray, n: int = len(SEQUENTIAL)) -> np.ndarray:
    """Quantile bin edges (unique, ascending) for a sequential colour scale."""
    if len(values) == 0:
        return np.array([0.0, 1.0])
    edges = np.unique(np.quantile(values, np.linspace(0, 1, n + 1)))
    return edges if len(edges) > 1 else np.array([edges[0], edges[0] + 1])


def cells_geojson(frame: pd.DataFrame, metric: str, colors: list[str]) -> dict:
    """GeoJSON of hexagons with formatted properties for the tooltip (shown as text)."""
    features = []
    for cell, value, accounts, potential, color in zip(
        frame["cell"], frame[metric], frame["accounts"], frame["potential"], colors
    ):
        ring = [[round(lng, 5), round(lat, 5)] for lat, lng in grid.cell_boundary(int(cell))]
        ring.append(ring[0])
        features.append({
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {
                "cell": format(int(cell), "x"),
                "value": fmt(value),
                "accounts": fmt(accounts),
                "potential": fmt(potential),
                "fill": color,
            },
        })
    return {"type": "FeatureCollection", "features": features}


def density_layers(frame: pd.DataFrame, metric: str = "accounts") -> dict:
    """The density map's data (plain dicts and lists, cacheable across reruns)."""
    if metric not in METRIC_LABELS:
        raise ValueError(f"unknown metric {metric!r}; use one of {', '.join(METRIC_LABELS)}")
    values = frame[metric].to_numpy(dtype=float)
    edges = bins(values)
    idx = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)
    return {"cells": cells_geojson(frame, metric, [SEQUENTIAL[i] for i in idx]), "edges": edges.tolist(),
            "bounds": _bounds(frame), "metric": metric}


def density_map(frame_or_layers, metric: str = "accounts", *, tiles: str = "none") -> folium.Map:
    """Hexagons coloured by ``metric`` (quantile bins), with a tooltip and a legend.

    Takes the cells frame or :func:`density_layers`; the folium map is always built fresh
    (streamlit-folium rewrites the folium objects it renders, so they must not be reused).
    """
    layers = frame_or_layers if isinstance(frame_or_layers, dict) else density_layers(frame_or_layers, metric)
    label = METRIC_LABELS[layers["metric"]]
    m = base_map(tiles=tiles, bounds=layers["bounds"])
    cells = folium.GeoJson(
        layers["cells"],
        name="cells",
        style_function=lambda f: {"fillColor": f["properties"]["fill"], "color": f["properties"]["fill"],
                                  "weight": 0.5, "fillOpacity": 0.75},
    ).add_to(m)
    text_tooltip([("cell", "Cell"), ("value", label), ("accounts", "Accounts"), ("potential", "Potential ($)")]
                 ).add_to(cells)
    legend(label, np.array(layers["edges"])).add_to(m)
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


def text_tooltip(rows: list[tuple[str, str]]) -> MacroElement:
    """A tooltip for the features of the parent ``folium.GeoJson``: one line per
    ``(property, label)``, built with ``textContent`` (the data is never parsed as HTML)."""
    return _Script(
        "{{ this._parent.get_name() }}.bindTooltip(function (layer) {"
        "var p = layer.feature.properties, box = document.createElement('div');"
        "({{ this.data }}).forEach(function (r) {"
        "var line = document.createElement('div'), b = document.createElement('b');"
        "b.textContent = r[1] + ': '; line.appendChild(b);"
        "line.appendChild(document.createTextNode(p[r[0]] == null ? '' : String(p[r[0]])));"
        "box.appendChild(line);});"
        "return box;}, {sticky: true});",
        [list(r) for r in rows],
    )


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
    if frame.empty:
        return None
    centers = np.array([grid.cell_center(int(c)) for c in frame["cell"]])
    lo, hi = np.quantile(centers, [0.01, 0.99], axis=0)  # the bulk, not the outliers (Alaska, Guam)
    return [[float(lo[0]), float(lo[1])], [float(hi[0]), float(hi[1])]]


def fmt(value) -> str:
    value = float(value)
    return f"{value:,.0f}" if abs(value) >= 10 or value == int(value) else f"{value:,.2f}"


def changes_map(changed: pd.DataFrame, names: list[str], *, tiles: str = "none") -> folium.Map:
    """The cells whose territory differs between plans (``scenarios.changed_cells``), filled with
    the colour of their territory in the last plan, outlined in the first plan's colour; the
    tooltip lists the territory in each plan (names are user text: shown with textContent)."""
    features = []
    last = names[-1]
    for row in changed.itertuples(index=False):
        values = dict(zip(changed.columns, row))
        ring = [[round(lng, 5), round(lat, 5)] for lat, lng in grid.cell_boundary(int(values["cell"]))]
        ring.append(ring[0])
        props = {f"s{i}": values[n] if isinstance(values[n], str) else "unassigned" for i, n in enumerate(names)}
        props["fill"] = values.get(f"{last} colour") if isinstance(values.get(f"{last} colour"), str) else "#999999"
        props["line"] = values.get(f"{names[0]} colour") if isinstance(values.get(f"{names[0]} colour"), str) else "#999999"
        props["cell"] = format(int(values["cell"]), "x")
        features.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]}, "properties": props})
    m = base_map(tiles=tiles, bounds=bounds_of(changed["cell"], pad=0.5))  # padded: one cell has no extent
    if features:
        layer = folium.GeoJson(
            {"type": "FeatureCollection", "features": features}, name="changed cells",
            style_function=lambda f: {"fillColor": f["properties"]["fill"], "color": f["properties"]["line"],
                                      "weight": 2, "fillOpacity": 0.7},
        ).add_to(m)
        text_tooltip([("cell", "Cell"), *[(f"s{i}", n) for i, n in enumerate(names)]]).add_to(layer)
        for f in features:  # a dot per cell as well: far zoomed out, single cells are too small to see
            lng, lat = np.mean(f["geometry"]["coordinates"][0][:-1], axis=0)
            folium.CircleMarker([lat, lng], radius=4, weight=1, color="#000000", fill=True,
                                fill_color=f["properties"]["fill"], fill_opacity=0.9).add_to(m)
    return offline(m)


def bounds_of(cells, *, pad: float = 0.3) -> list[list[float]] | None:
    """Map bounds around some cells, ``pad`` degrees wider (e.g. to zoom to the unassigned)."""
    cells = list(cells)
    if not cells:
        return None
    centers = np.array([grid.cell_center(int(c)) for c in cells])
    return [[float(centers[:, 0].min() - pad), float(centers[:, 1].min() - pad)],
            [float(centers[:, 0].max() + pad), float(centers[:, 1].max() + pad)]]
