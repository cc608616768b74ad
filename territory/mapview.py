"""Folium maps of H3 cells that work with no internet.

Leaflet is vendored under ``static/vendor/leaflet`` (served by Streamlit's static serving at
``/app/static/...``); :func:`offline` points every folium element at those files and drops
the CDN libraries (jQuery, Bootstrap, Font Awesome) that our maps do not use. Every text
shown in a tooltip or legend is HTML-escaped here, so callers cannot forget it.
"""

from __future__ import annotations

import html
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
    """GeoJSON of hexagons with escaped, formatted properties for the tooltip."""
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
                "value": html.escape(fmt(value)),
                "accounts": html.escape(fmt(accounts)),
                "potential": html.escape(fmt(potential)),
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
    folium.GeoJson(
        layers["cells"],
        name="cells",
        style_function=lambda f: {"fillColor": f["properties"]["fill"], "color": f["properties"]["fill"],
                                  "weight": 0.5, "fillOpacity": 0.75},
        tooltip=folium.GeoJsonTooltip(
            fields=["cell", "value", "accounts", "potential"],
            aliases=["Cell", html.escape(label), "Accounts", "Potential ($)"],
        ),
    ).add_to(m)
    legend(label, np.array(layers["edges"])).add_to(m)
    return offline(m)


def legend(title: str, edges: np.ndarray) -> MacroElement:
    rows = "".join(
        f'<div><span style="background:{SEQUENTIAL[i]};width:14px;height:10px;display:inline-block;'
        f'margin-right:6px"></span>{html.escape(fmt(lo))} – {html.escape(fmt(hi))}</div>'
        for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:]))
    )
    box = (f'<div class="territory-legend" style="position:absolute;bottom:24px;right:10px;z-index:1000;'
           f'background:white;padding:6px 8px;font:12px sans-serif;border:1px solid #999;border-radius:4px">'
           f"<b>{html.escape(title)}</b>{rows}</div>")
    element = MacroElement()
    element._template = Template(
        "{% macro script(this, kwargs) %}"
        "(function(){var d=document.createElement('div');d.innerHTML=" + json.dumps(box) + ";"
        "{{ this._parent.get_name() }}.getContainer().appendChild(d.firstChild);})();"
        "{% endmacro %}"
    )
    return element


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
    tooltip lists the territory in each plan (escaped: names are user text)."""
    features = []
    last = names[-1]
    for row in changed.itertuples(index=False):
        values = dict(zip(changed.columns, row))
        ring = [[round(lng, 5), round(lat, 5)] for lat, lng in grid.cell_boundary(int(values["cell"]))]
        ring.append(ring[0])
        props = {f"s{i}": html.escape(str(values[n]) if isinstance(values[n], str) else "unassigned")
                 for i, n in enumerate(names)}
        props["fill"] = values.get(f"{last} colour") if isinstance(values.get(f"{last} colour"), str) else "#999999"
        props["line"] = values.get(f"{names[0]} colour") if isinstance(values.get(f"{names[0]} colour"), str) else "#999999"
        props["cell"] = format(int(values["cell"]), "x")
        features.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]}, "properties": props})
    m = base_map(tiles=tiles, bounds=bounds_of(changed["cell"], pad=0.5))  # padded: one cell has no extent
    if features:
        folium.GeoJson(
            {"type": "FeatureCollection", "features": features}, name="changed cells",
            style_function=lambda f: {"fillColor": f["properties"]["fill"], "color": f["properties"]["line"],
                                      "weight": 2, "fillOpacity": 0.7},
            tooltip=folium.GeoJsonTooltip(fields=["cell", *[f"s{i}" for i in range(len(names))]],
                                          aliases=["Cell", *[html.escape(n) for n in names]]),
        ).add_to(m)
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
