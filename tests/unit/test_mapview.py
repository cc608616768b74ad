"""Maps work offline and escape every text they show."""

import re

import h3
import pandas as pd

from territory import grid
from territory.maps import mapview


def _frame(n=3):
    cells = grid.latlng_to_cells([39.7, 39.8, 40.0][:n], [-105.0, -104.9, -104.5][:n], 6)
    return pd.DataFrame({"cell": cells, "accounts": [1, 5, 9][:n], "potential": [10.0, 50.0, 90.0][:n],
                         "revenue_12m": 0.0, "pipeline": 0.0, "weighted_pipeline": 0.0, "visit_hours": 4.0})


def test_rendered_map_asks_no_other_host():
    html = mapview.density_map(_frame(), "potential").get_root().render()
    assert not re.findall(r"(?:src|href)=\"https?://", html)
    assert not re.findall(r"https?://(?!leafletjs\.com)", html.split("<body>")[0])  # no CDN links
    assert "/app/static/vendor/leaflet/leaflet.js" in html


def test_density_map_sends_cell_ids_and_numbers_not_polygons():
    frame = _frame()
    data = mapview.density_layers(frame, "potential")
    assert data["cells"] == [h3.int_to_str(int(c)) for c in frame["cell"]]  # the browser draws the shapes
    assert data["columns"]["accounts"] == [1, 5, 9] and data["columns"]["value"] == [10.0, 50.0, 90.0]
    assert data["fill"] == sorted(data["fill"]) and data["fill"][0] < data["fill"][-1]  # more potential, darker bin
    assert all(0 <= i < len(data["palette"]) for i in data["fill"])
    html = mapview.density_map(data).get_root().render()
    assert "L.territoryCells(" in html and "coordinates" not in html


def test_every_map_has_the_offline_basemap_with_city_names_as_data():
    html = mapview.density_map(_frame(), "accounts").get_root().render()
    assert "L.territoryBasemap(" in html
    assert "/app/static/vendor/us-atlas/states-10m.json" in html and "/app/static/maps/basemap.js" in html
    names = [c[2] for c in mapview.cities()]
    assert names[0] == "New York City" and "Chicago" in names and len(names) > 500
    assert all(c[3] >= mapview.CITY_LABEL_POPULATION for c in mapview.cities())


def test_first_view_is_the_mainland_when_most_cells_are_there():
    lat = [40.0] * 8 + [61.2, 21.3]  # eight mainland cells, one in Anchorage, one in Honolulu
    lng = [-100.0 + i for i in range(8)] + [-149.9, -157.8]
    frame = pd.DataFrame({"cell": grid.latlng_to_cells(lat, lng, 5)})
    (south, west), (north, east) = mapview._bounds(frame)
    assert south > 30 and west > -110 and north < 50 and east < -85


def test_legend_title_is_data_set_as_text():
    element = mapview.legend("<img src=x onerror=alert(1)>", mapview.bins(pd.Series([1.0, 2.0]).to_numpy()))
    m = mapview.base_map()
    element.add_to(m)
    html = m.get_root().render()
    assert "<img src=x" not in html and "\\u003cimg src=x onerror=alert(1)\\u003e" in html  # JSON data only
    assert "t.textContent = data.title" in html and "innerHTML" not in html


def test_tiles_are_optional():
    assert "tileLayer" not in mapview.base_map(tiles="none").get_root().render()
    with_tiles = mapview.base_map(tiles="OpenStreetMap").get_root().render()
    assert "tileLayer" in with_tiles and '"tiles":true' in with_tiles  # the basemap then leaves the land unfilled
    assert '"tiles":false' in mapview.base_map(tiles="none").get_root().render()
