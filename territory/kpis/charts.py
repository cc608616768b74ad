"""Plotly figures for the KPI and scenario pages: pure functions from frames to figures.

Built to stay readable with 50+ territories: ranked bars show the top N, the
potential/penetration scatter shows every territory at once, forecasts come as small multiples.
Plotly renders a subset of HTML in labels, titles and hover text (``<b>``, ``<a href>``, ``<br>``),
so every user string (territory, scenario, stage, region names) goes through :func:`esc` first:
a name like ``Strategic <A>`` shows as typed and can never become a link.
"""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

if TYPE_CHECKING:  # statsmodels takes 1.4 s to import: only the forecast pages need it
    from territory.kpis.forecast import Forecast

QUALITY_COLOURS = {"high": "#009E73", "medium": "#E69F00", "low": "#D55E00"}
QUALITY_NAMES = {"high": "High quality", "medium": "Medium quality", "low": "Low quality"}
STAGE_ORDER = ("Prospecting", "Qualification", "Needs Analysis", "Proposal", "Negotiation")
# 13 px text everywhere (Plotly's default 12 px shrinks bar labels to fit, down to 7 px)
_LAYOUT = dict(margin=dict(l=10, r=10, t=50, b=10), template="plotly_white", font=dict(size=13),
               uniformtext=dict(minsize=11, mode="hide"))
QUALITY_LEGEND = "Colour: territory quality (high = potential ≥ mean and penetration ≥ the plan's)"


def esc(text) -> str:
    """User text for Plotly: its HTML-like markup shown literally."""
    return html.escape(str(text), quote=False)


def _money(v: float) -> str:
    return f"${v / 1e6:,.1f}M" if abs(v) >= 1e6 else f"${v:,.0f}"


def ranked_bars(table: pd.DataFrame, metric: str, label: str, *, top: int = 20, percent: bool = False,
                ascending: bool = False) -> go.Figure:
    """Territories ranked by ``metric`` (top ``top``), coloured by quality, the mean as a line."""
    data = table.dropna(subset=[metric]).sort_values(metric, ascending=ascending).head(top)
    data = data.iloc[::-1]  # plotly draws the first bar at the bottom
    factor = 100 if percent else 1
    names = [esc(n) for n in data["name"]]
    fig = go.Figure()
    quality_of = data["quality"].astype(object) if "quality" in data else pd.Series("", index=data.index, dtype=object)
    present = list(dict.fromkeys(quality_of))
    for quality in [q for q in QUALITY_COLOURS if q in present] + [q for q in present if q not in QUALITY_COLOURS]:
        d = data[quality_of == quality]
        values = d[metric] * factor
        fig.add_trace(go.Bar(
            x=values, y=[esc(n) for n in d["name"]], orientation="h", name=QUALITY_NAMES.get(quality, "territories"),
            marker_color=QUALITY_COLOURS.get(quality, "#888"), customdata=d["territory_id"] if "territory_id" in d else None,
            text=[f"{v:.1f}%" if percent else _money(v) if "$" in label else f"{v:,.0f}" for v in values],
            textposition="outside", cliponaxis=False, textfont=dict(size=12),
            hovertemplate="%{y}: %{x:,.2f}<br>click to drill in<extra></extra>"))
    mean = table[metric].mean() * factor
    if mean == mean:
        fig.add_vline(x=mean, line_dash="dot", line_color="#555", annotation_text="mean")
    shown = f"top {len(data)} of {len(table)}" if len(table) > len(data) else f"all {len(table)}"
    fig.update_layout(title=f"{label} by territory ({shown})", height=max(340, 24 * len(data) + 120),
                      xaxis_title=label, yaxis_title=None, barmode="overlay", legend_title_text="Colour",
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=1, xanchor="right"), **_LAYOUT)
    fig.update_yaxes(categoryorder="array", categoryarray=names)
    return fig


def potential_vs_penetration(table: pd.DataFrame) -> go.Figure:
    """Every territory: potential (x) against penetration (y), sized by accounts, coloured by quality;
    the dotted lines are the mean potential and the plan's overall penetration."""
    fig = go.Figure()
    labelled = bubble_labels(table)
    for quality, colour in QUALITY_COLOURS.items():
        d = table[table["quality"] == quality]
        if d.empty:
            continue
        fig.add_trace(go.Scatter(
            x=d["potential"], y=d["penetration"] * 100, mode="markers+text", name=QUALITY_NAMES[quality],
            marker=dict(color=colour, size=(d["accounts"].clip(lower=1) ** 0.5).clip(upper=60) / 2 + 6,
                        line=dict(width=1, color="white")),
            text=[esc(n) if i in labelled else "" for i, n in zip(d.index, d["name"])], textposition="top center",
            textfont=dict(size=11), customdata=d["territory_id"] if "territory_id" in d else None,
            hovertext=[esc(n) for n in d["name"]],
            hovertemplate="%{hovertext}<br>potential %{x:$,.0f}<br>penetration %{y:.1f}%<br>click to drill in<extra></extra>"))
    if table["potential"].sum():
        fig.add_vline(x=table["potential"].mean(), line_dash="dot", line_color="#555", annotation_text="mean potential")
        fig.add_hline(y=table["revenue"].sum() / table["potential"].sum() * 100, line_dash="dot", line_color="#555",
                      annotation_text="plan penetration")
    fig.update_layout(title="Territory quality: potential vs penetration (bubble size: accounts)",
                      xaxis_title="Potential ($)", yaxis_title="Penetration (%)", legend_title_text="Colour",
                      height=460, **_LAYOUT)
    return fig


def bubble_labels(table: pd.DataFrame, *, largest: int = 5, z: float = 1.5) -> set:
    """Which bubbles carry their name: the ``largest`` by potential and the outliers (penetration
    more than ``z`` standard deviations from the mean); the index labels of ``table``."""
    out = set(table["potential"].nlargest(largest).index)
    pen = table["penetration"]
    if pen.std() > 0:
        out |= set(table.index[((pen - pen.mean()) / pen.std()).abs() > z])
    return out


def clicked_territory(event) -> str | None:
    """The territory of the bar or bubble a user clicked (``st.plotly_chart(on_select=...)``'s
    event: the point's ``customdata`` is its territory id), or None."""
    points = ((event or {}).get("selection") or {}).get("points") or []
    for point in points:
        data = point.get("customdata")
        if isinstance(data, list):
            data = data[0] if data else None
        if isinstance(data, str):
            return data
    return None


def pipeline_by_stage(stages: pd.DataFrame, names: pd.Series, *, top: int = 20) -> go.Figure:
    """Open pipeline per territory stacked by stage, the ``top`` territories by open amount."""
    data = stages.assign(territory=stages["territory_id"].map(names))
    order = data.groupby("territory")["amount"].sum().sort_values().tail(top).index
    data = data[data["territory"].isin(order)]
    stage_list = [s for s in STAGE_ORDER if s in set(data["stage"])] + sorted(set(data["stage"]) - set(STAGE_ORDER))
    fig = go.Figure()
    for stage in stage_list:
        d = data[data["stage"] == stage].set_index("territory").reindex(order)
        fig.add_trace(go.Bar(x=d["amount"].fillna(0), y=[esc(t) for t in order], name=esc(stage), orientation="h",
                             hovertemplate="%{y} · %{fullData.name}: %{x:$,.0f}<extra></extra>"))
    fig.update_layout(barmode="stack", title=f"Open pipeline by stage (top {len(order)} territories)",
                      height=max(320, 22 * len(order) + 110), xaxis_title="Open amount ($)", **_LAYOUT)
    return fig


def _forecast_traces(fig: go.Figure, fc: Forecast, *, row=None, col=None, legend: bool = False) -> None:
    kw = {} if row is None else {"row": row, "col": col}
    months = list(fc.forecast["month"])
    fig.add_trace(go.Scatter(x=months + months[::-1], y=list(fc.forecast["upper"]) + list(fc.forecast["lower"])[::-1],
                             fill="toself", fillcolor="rgba(0,114,178,0.15)", line=dict(width=0), mode="lines",
                             hoverinfo="skip",
                             name=f"{fc.level:.0%} interval", showlegend=legend), **kw)
    fig.add_trace(go.Scatter(x=fc.history.index, y=fc.history.to_numpy(), mode="lines", line=dict(color="#333"),
                             name="revenue", showlegend=legend, hovertemplate="%{x|%b %Y}: %{y:$,.0f}<extra></extra>"),
                  **kw)
    fig.add_trace(go.Scatter(x=months, y=fc.forecast["mean"], mode="lines", line=dict(color="#0072B2", dash="dash"),
                             name="forecast", showlegend=legend,
                             hovertemplate="%{x|%b %Y}: %{y:$,.0f}<extra></extra>"), **kw)
    fig.add_trace(go.Scatter(x=fc.backtest["month"], y=fc.backtest["predicted"], mode="lines",
                             line=dict(color="#D55E00", dash="dot"), name="backtest", showlegend=legend,
                             hovertemplate="backtest %{x|%b %Y}: %{y:$,.0f}<extra></extra>"), **kw)


def forecast_chart(fc: Forecast, title: str) -> go.Figure:
    fig = go.Figure()
    _forecast_traces(fig, fc, legend=True)
    fig.update_layout(title=f"{esc(title)}: {fc.model}; backtest error {fc.mape_pct:.1f}% MAPE", height=380,
                      yaxis_title="Revenue ($)", **_LAYOUT)
    return fig


def forecast_grid(forecasts: dict[str, Forecast], titles: dict[str, str], *, cols: int = 3) -> go.Figure:
    """Small multiples: one panel per territory (history, forecast, interval, backtest)."""
    items = list(forecasts.items())
    rows = max(1, math.ceil(len(items) / cols))
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[
        f"{esc(titles[t])} · MAPE {fc.mape_pct:.1f}%" for t, fc in items], vertical_spacing=0.5 / rows)
    for i, (_, fc) in enumerate(items):
        _forecast_traces(fig, fc, row=i // cols + 1, col=i % cols + 1, legend=i == 0)
    fig.update_layout(height=230 * rows + 80, title="Revenue forecast per territory", **_LAYOUT)
    fig.update_annotations(font_size=11)
    return fig


def hierarchy_treemap(table: pd.DataFrame) -> go.Figure:
    """Region → district → territory, sized by potential, coloured by penetration."""
    t = table.fillna({"region": "(no region)", "district": "(no district)"})
    ids, labels, parents, values, colours = [], [], [], [], []
    key_of: dict[tuple, str] = {(): ""}  # (region,) or (region, district) -> node id (names may hold "/")
    for keys in (["region"], ["region", "district"]):
        g = t.groupby(keys).agg(potential=("potential", "sum"), revenue=("revenue", "sum")).reset_index()
        for r in g.itertuples(index=False):
            path = tuple(getattr(r, k) for k in keys)
            key_of[path] = f"n{len(key_of)}"
            ids.append(key_of[path])
            labels.append(esc(path[-1]))
            parents.append(key_of[path[:-1]])
            values.append(r.potential)
            colours.append(r.revenue / r.potential * 100 if r.potential else 0)
    for r in t.itertuples(index=False):
        ids.append(f"t{len(ids)}")
        labels.append(esc(r.name))
        parents.append(key_of[(r.region, r.district)])
        values.append(r.potential)
        colours.append((r.penetration or 0) * 100)
    fig = go.Figure(go.Treemap(ids=ids, labels=labels, parents=parents, values=values, branchvalues="total",
                               marker=dict(colors=colours, colorscale="Viridis", colorbar=dict(title="penetration %")),
                               hovertemplate="%{label}<br>potential %{value:$,.0f}<br>penetration %{color:.1f}%"
                                             "<extra></extra>"))
    fig.update_layout(title="Potential by region → district → territory", height=480, **_LAYOUT)
    return fig


def scenario_deltas(kpis: pd.DataFrame, metric: str, label: str, *, top: int = 25) -> go.Figure:
    """Per territory, ``metric`` in each compared scenario side by side (the largest changes)."""
    delta = kpis.groupby("territory")[f"delta_{metric}"].apply(lambda s: s.abs().max())
    order = delta.sort_values(ascending=False).head(top).index
    fig = go.Figure()
    for name, d in kpis[kpis["territory"].isin(order)].groupby("scenario", sort=False):
        d = d.set_index("territory").reindex(order)
        fig.add_trace(go.Bar(x=[esc(t) for t in order], y=d[metric], name=esc(name),
                             hovertemplate="%{x}: %{y:,.0f}<extra>" + "%{fullData.name}" + "</extra>"))
    fig.update_layout(barmode="group", title=f"{label} per territory (the {len(order)} that change most)",
                      height=420, yaxis_title=label, **_LAYOUT)
    return fig


def frontier_chart(moved_pct: list[float], worst_pct: list[float], *, chosen: int, tolerance_pct: float,
                   floor_pct: float | None = None) -> go.Figure:
    """The balance-vs-disruption frontier: per plan, the accounts it moves (x) against its worst
    deviation from the mean (y, log scale); the chosen plan ringed, the tolerance and the least
    any plan must move as dashed lines."""
    fig = go.Figure(go.Scatter(
        x=moved_pct, y=worst_pct, mode="lines+markers", marker=dict(size=10, color="#0072B2"), name="plans",
        hovertemplate="%{x:.1f}% of accounts move<br>worst deviation %{y:.1f}%<extra></extra>"))
    fig.add_trace(go.Scatter(x=[moved_pct[chosen]], y=[worst_pct[chosen]], mode="markers", name="previewed",
                             marker=dict(size=18, color="rgba(0,0,0,0)", line=dict(width=3, color="#D55E00")),
                             hoverinfo="skip"))
    fig.add_hline(y=tolerance_pct, line_dash="dash", line_color="#009E73",
                  annotation_text=f"tolerance ±{tolerance_pct:g}%", annotation_position="bottom right")
    if floor_pct is not None:
        fig.add_vline(x=floor_pct, line_dash="dot", line_color="#999999",
                      annotation_text="least any balanced plan moves", annotation_position="top right")
    fig.update_layout(**_LAYOUT, height=320, showlegend=False, title="Balance vs. accounts moved")
    fig.update_xaxes(title="accounts changing territory (%)", rangemode="tozero")
    low, high = min(min(worst_pct), tolerance_pct), max(max(worst_pct), tolerance_pct)
    low, high = max(low, 0.01) / 1.6, high * 1.6
    ticks = [m * 10 ** e for e in range(-2, 6) for m in (1, 2, 5) if low <= m * 10 ** e <= high]
    fig.update_yaxes(title="worst deviation from the mean (%)", type="log", range=[math.log10(low), math.log10(high)],
                     tickvals=ticks, ticktext=[f"{t:g}%" for t in ticks])  # whole numbers, not log's "2" and "5"
    return fig


def market_bars(table: pd.DataFrame, *, top: int = 30, outside: float = 0.0) -> go.Figure:
    """Per territory (largest market first): the potential the CRM holds and the market's white
    space beside it (together the market potential), the share of market as text."""
    data = table.sort_values("market_potential", ascending=False).head(top).iloc[::-1]
    names = [esc(n) for n in data["name"]]
    held = data[["potential", "market_potential"]].min(axis=1)
    fig = go.Figure([
        go.Bar(x=held, y=names, orientation="h", name="Potential in the CRM", marker_color="#0072B2",
               hovertemplate="%{y}: %{x:$,.0f} in the CRM<extra></extra>"),
        go.Bar(x=data["market_white_space"], y=names, orientation="h", name="Market white space", marker_color="#E69F00",
               text=[f"{s:.0%} held" if s == s else "" for s in data["market_share"]], textposition="outside",
               cliponaxis=False, hovertemplate="%{y}: %{x:$,.0f} not in the CRM<extra></extra>")])
    title = f"Market potential by territory ({'top ' + str(len(data)) if len(table) > len(data) else 'all'})"
    if outside:
        title += f"; {_money(outside)} lies outside every territory"
    fig.update_layout(barmode="stack", title=title, height=max(340, 24 * len(data) + 120), xaxis_title="$",
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=1, xanchor="right", traceorder="normal"),
                      **_LAYOUT)
    fig.update_yaxes(categoryorder="array", categoryarray=names)
    return fig
