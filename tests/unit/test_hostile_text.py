"""Hostile names reach every edge as data: maps, messages, charts and every export file.

The browser test (tests/e2e/test_hostile_browser.py) proves that nothing runs or renders on
screen; these check each edge's construction: names travel as JSON and are set as text, markdown
text is escaped, CSV cells cannot run as formulas, and the Excel report holds no formula at all.
"""

from __future__ import annotations

import csv
import json
import re
import zipfile

import openpyxl
import pandas as pd
import pytest

from territory import exports
from territory.kpis import charts
from territory.maps import mapview, planmap
from territory.plans import plan, scenarios
from territory.ui.feedback import plain
from tests.hostile import HOSTILE, make_hostile

FORMULA = re.compile(r"^[=+\-@\t\r]")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@pytest.fixture
def hostile_con(demo_con):
    make_hostile(demo_con)
    return demo_con


@pytest.mark.parametrize("name", HOSTILE)
def test_plain_escapes_everything_markdown_latex_or_html_would_use(name):
    text = plain(name)
    unescaped = re.sub(r"\\.", "", text)  # what is left once every escaped character is taken out
    assert not re.search(r"[*_`\[\]<>#!|$~\\]", unescaped), text
    assert not re.search(r":[\w+\-/]+:", unescaped), text  # no icon or emoji shortcode
    assert not re.match(r"\d+[.)]|[-+]\s", unescaped), text  # no list at the start
    assert "\n" not in text and re.sub(r"\\(.)", r"\1", text) == " ".join(name.split())  # same text, shown as typed


def test_density_and_changes_maps_carry_names_only_as_json_set_as_text(hostile_con):
    from territory import grid
    html = mapview.density_map(grid.aggregate_cells(hostile_con, 5).head(20), "potential").get_root().render()
    a, b = plan.working_scenario(hostile_con), plan.baseline_scenario(hostile_con)
    hostile_con.execute("UPDATE cell_assignments SET territory_id = (SELECT min(territory_id) FROM territories "
                        "WHERE scenario_id = ?) WHERE scenario_id = ?", [a, a])  # many cells change territory
    cmp = scenarios.compare(hostile_con, [b, a])
    shown = set(cmp.changed_cells[cmp.names].to_numpy().ravel())
    assert shown & set(HOSTILE)  # hostile territory names do reach the tooltips' data
    changes = mapview.changes_map(cmp.changed_cells, cmp.names).get_root().render()
    for page in (html, changes):
        assert "innerHTML" not in page and "bindTooltip(`" not in page and "L.territoryCells(" in page  # text set by cells.js
        for name in HOSTILE:
            if "<" in name or ">" in name:
                assert name not in page  # every < and > of user text is \u003c / \u003e inside JSON


def test_designer_map_sends_rep_and_territory_names_as_data(hostile_con):
    from streamlit_folium import _get_map_string

    from territory import grid
    cells = grid.aggregate_cells(hostile_con, 5)
    layer = planmap.base(cells, 5)
    reps = hostile_con.execute("SELECT name, home_lat, home_lng FROM reps").df()
    page = _get_map_string(planmap.plan_map(layer, reps=reps))
    payload = json.loads(page.split("L.territoryPlan(")[1].split(").addTo(")[0])
    assert sorted(h[2] for h in payload["homes"]) == sorted(reps.dropna()["name"])
    assert {h[2] for h in payload["homes"]} & set(HOSTILE)  # hostile names do reach the map, as data
    for name in HOSTILE:
        if "<" in name:
            assert name not in page
    sid = plan.working_scenario(hostile_con)
    terr = plan.territories(hostile_con, sid)
    patch = planmap.patch(layer, plan.assignments(hostile_con, sid), terr, version=1)
    assert [t["name"] for t in patch["territories"]] == terr["name"].tolist()


def test_salesforce_and_hubspot_files_have_no_live_formula(hostile_con, tmp_path):
    sid = plan.working_scenario(hostile_con)
    for fmt in ("salesforce", "hubspot"):
        path = tmp_path / f"{fmt}.csv"
        result = exports.export(hostile_con, sid, fmt, path, with_details=True)  # names too
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
        assert len(rows) == result.rows + 1 and result.rows > 100
        cells = [c for row in rows[1:] for c in row]
        assert not [c for c in cells if FORMULA.match(c) and not _is_number(c)]
        guarded = [c for c in cells if c.startswith("'") and FORMULA.match(c[1:])]
        assert {c[1:] for c in guarded} >= {"=HYPERLINK(\"http://example.invalid\",\"open\")", "@SUM(A1:A2)"}
        numbers = [float(r[5]) for r in rows[1:]]  # the longitude column of both files
        assert min(numbers) < 0  # negative longitudes stay numbers, not "'-104.9"


def test_formula_guard_can_be_turned_off_for_a_round_trip(hostile_con, tmp_path):
    sid = plan.working_scenario(hostile_con)
    path = exports.export(hostile_con, sid, "salesforce", tmp_path / "raw.csv", formula_safe=False,
                          with_details=True).path
    names = set(pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)["Name"])
    assert '=HYPERLINK("http://example.invalid","open")' in names  # exactly as stored


def test_excel_report_stores_every_name_as_text_never_a_formula(hostile_con, tmp_path):
    sid = plan.working_scenario(hostile_con)
    path = exports.export(hostile_con, sid, "excel", tmp_path / "report.xlsx").path
    book = openpyxl.load_workbook(path)
    texts = set()
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    texts.add(cell.value)
    assert '=HYPERLINK("http://example.invalid","open")' in texts  # kept as typed, as text
    with zipfile.ZipFile(path) as z:
        xml = "".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/"))
    assert "<f>" not in xml and "<f " not in xml


def test_plotly_labels_show_markup_literally():
    table = pd.DataFrame({"name": HOSTILE[:3], "potential": [1.0, 2.0, 3.0]})
    fig = charts.ranked_bars(table, "potential", "Potential ($)")
    labels = list(fig.data[0].y)
    assert all("<" not in label for label in labels) and "&lt;script&gt;" in "".join(labels)
