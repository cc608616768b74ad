"""Maps work offline and escape every text they show."""

import re

import pandas as pd

from territory import grid, mapview


def _frame(n=3):
    cells = grid.latlng_to_cells([39.7, 39.8, 40.0][:n], [-105.0, -104.9, -104.5][:n], 6)
    return pd.DataFrame({"cell": cells, "accounts": [1, 5, 9][:n], "potential": [10.0, 50.0, 90.0][:n],
                         "revenue_12m": 0.0, "pipeline": 0.0, "weighted_pipeline": 0.0, "workload_hours": 4.0})


def test_rendered_map_asks_no_other_host():
    html = mapview.density_map(_frame(), "potential").get_root().render()
    assert not re.findall(r"(?:src|href)=\"https?://", html)
    assert not re.findall(r"https?://(?!leafletjs\.com)", html.split("<body>")[0])  # no CDN links
    assert "/app/static/vendor/leaflet/leaflet.js" in html


def test_one_polygon_per_cell_with_its_numbers():
    data = mapview.cells_geojson(_frame(), "accounts", ["#000"] * 3)
    assert len(data["features"]) == 3
    assert [f["properties"]["accounts"] for f in data["features"]] == ["1", "5", "9"]
    assert all(len(f["geometry"]["coordinates"][0]) == 7 for f in data["features"])


def test_legend_title_is_data_set_as_text():
    element = mapview.legend("<img src=x onerror=alert(1)>", mapview.bins(pd.Series([1.0, 2.0]).to_numpy()))
    m = mapview.base_map()
    element.add_to(m)
    html = m.get_root().render()
    assert "<img src=x" not in html and "\\u003cimg src=x onerror=alert(1)\\u003e" in html  # JSON data only
    assert "t.textContent = data.title" in html and "innerHTML" not in html


def test_tiles_are_optional():
    assert "tileLayer" not in mapview.base_map(tiles="none").get_root().render()
    assert "tileLayer" in mapview.base_map(tiles="OpenStreetMap").get_root().render()
