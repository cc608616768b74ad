"""Charts: names typed by users reach Plotly escaped (Plotly renders <b>, <a href>, <br> in text)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from territory.kpis import charts, forecast

EVIL = "<a href='javascript:alert(1)'>Strategic</a> <b>&</b>"


def _strings(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _strings(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _strings(v)
    elif isinstance(obj, np.ndarray):
        yield from (v for v in obj.tolist() if isinstance(v, str))


def _check(fig) -> None:
    texts = list(_strings(fig.to_plotly_json()))
    assert not any("<a href" in t or "<b>&" in t for t in texts), [t for t in texts if "<a" in t]
    assert any("&lt;a href='javascript:alert(1)'&gt;Strategic&lt;/a&gt;" in t for t in texts)


def _table() -> pd.DataFrame:
    return pd.DataFrame({
        "territory_id": ["T1", "T2", "T3"], "name": [EVIL, "North", "South"], "potential": [300.0, 200.0, 100.0],
        "revenue": [30.0, 50.0, 5.0], "penetration": [0.1, 0.25, 0.05], "accounts": [10, 20, 5],
        "quality": ["medium", "high", "low"], "region": [EVIL, "West", "West"], "district": ["D1", "D2", "D2"]})


def test_every_chart_escapes_user_names():
    t = _table()
    _check(charts.ranked_bars(t, "potential", "Potential ($)"))
    _check(charts.potential_vs_penetration(t))
    _check(charts.hierarchy_treemap(t))
    stages = pd.DataFrame({"territory_id": ["T1", "T2"], "stage": [EVIL, "Proposal"], "amount": [5.0, 6.0]})
    _check(charts.pipeline_by_stage(stages, t.set_index("territory_id")["name"]))
    kpis = pd.DataFrame({"scenario": [EVIL, EVIL, "B", "B"], "territory": [EVIL, "North"] * 2,
                         "potential": [1.0, 2.0, 3.0, 4.0], "delta_potential": [0.0, 0.0, 2.0, 2.0]})
    _check(charts.scenario_deltas(kpis, "potential", "Potential ($)"))
    history = pd.Series(100 + np.arange(24.0), index=pd.date_range("2024-01-01", periods=24, freq="MS"))
    fc = forecast.forecast(history)
    _check(charts.forecast_chart(fc, EVIL))
    _check(charts.forecast_grid({"T1": fc}, {"T1": EVIL}))


def test_ranked_bars_show_the_top_n_sorted_with_a_legend_for_their_colours():
    fig = charts.ranked_bars(_table(), "potential", "Potential ($)", top=2)
    assert list(fig.layout.yaxis.categoryarray) == ["North", charts.esc(EVIL)]  # bottom-up: the largest on top
    assert {bar.name: list(bar.x) for bar in fig.data} == {"High quality": [200.0], "Medium quality": [300.0]}
    assert all(bar.showlegend is not False and bar.marker.color == charts.QUALITY_COLOURS[bar.name.split()[0].lower()]
               for bar in fig.data)  # each colour named in the legend
    assert [list(bar.customdata) for bar in fig.data] == [["T2"], ["T1"]]  # what a click drills into
    assert fig.layout.font.size >= 12 and fig.layout.uniformtext.minsize >= 11  # no 7 px labels
    assert "top 2 of 3" in fig.layout.title.text


def test_the_largest_bubbles_and_the_outliers_carry_their_names():
    t = pd.DataFrame({"territory_id": [f"T{i}" for i in range(12)], "name": [f"N{i}" for i in range(12)],
                      "potential": [float(100 + i) for i in range(12)], "revenue": 10.0, "accounts": 5,
                      "penetration": [0.1] * 11 + [0.9], "quality": "medium"})
    assert charts.bubble_labels(t, largest=3) == {11, 10, 9}  # 11 is also the outlier
    t.loc[0, "penetration"] = 0.9
    assert 0 in charts.bubble_labels(t, largest=3, z=1.0)
    fig = charts.potential_vs_penetration(t)
    shown = [x for trace in fig.data for x in trace.text if x]
    assert "N11" in shown and "N5" not in shown
    event = {"selection": {"points": [{"customdata": "T7", "x": 1, "y": 2}]}}
    assert charts.clicked_territory(event) == "T7" and charts.clicked_territory({"selection": {"points": []}}) is None


def test_frontier_chart_rings_the_chosen_plan_and_shows_the_tolerance():
    fig = charts.frontier_chart([2.5, 20.0, 60.0], [390.0, 150.0, 4.1], chosen=1, tolerance_pct=5.0, floor_pct=27.7)
    line, ring = fig.data
    assert list(line.x) == [2.5, 20.0, 60.0] and list(ring.x) == [20.0] and list(ring.y) == [150.0]
    low, high = fig.layout.yaxis.range
    assert 10 ** low < 4.1 and 10 ** high > 390 and 10 ** high < 1000  # every point shown, no empty decades
    assert any(s.y0 == 5.0 for s in fig.layout.shapes)  # the tolerance line
    assert list(fig.layout.yaxis.ticktext) == ["5%", "10%", "20%", "50%", "100%", "200%", "500%"]  # read as they are
