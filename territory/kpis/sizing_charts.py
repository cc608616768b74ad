"""Plotly figures for the Sizing & quota page: pure functions from frames to figures.

Every user string (territory, rep, region names) goes through :func:`charts.esc`, as on the other
pages: Plotly renders a subset of HTML in labels and hover text.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from territory.kpis.charts import _LAYOUT, esc
from territory.kpis.segments import SEGMENTS

SEGMENT_COLOURS = {"grow": "#009E73", "win": "#0072B2", "maintain": "#E69F00", "deprioritise": "#BBBBBB"}
FAIRNESS_COLOURS = {"fair": "#0072B2", "high": "#D55E00", "low": "#CC79A7"}
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999", "#BBBBBB")
BY_TITLES = {"segment": "Segment", "tier": "Tier", "industry": "Industry"}
FAIRNESS_NAMES = {"fair": "Fair", "high": "High for its potential", "low": "Low for its potential"}


def reps_needed(regions: pd.DataFrame, overall: dict) -> go.Figure:
    """Reps today against reps needed, per region and overall."""
    labels = [esc(r) for r in regions["region"]] + ["All regions"]
    today = [*regions["reps_today"].tolist(), overall["reps_today"]]
    needed = [*regions["headcount"].tolist(), overall["headcount"]]
    fig = go.Figure([
        go.Bar(x=labels, y=today, name="Reps today", marker_color="#999", text=today, textposition="outside"),
        go.Bar(x=labels, y=needed, name="Reps needed", marker_color="#0072B2", text=needed, textposition="outside"),
    ])
    fig.update_layout(title="Reps needed vs today", barmode="group", yaxis_title="Reps", height=380,
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=1, xanchor="right"), **_LAYOUT)
    return fig


def workload_per_rep(territories: pd.DataFrame, capacity: float, utilisation: float, *, top: int = 40) -> go.Figure:
    """Workload (visits + travel) per territory, heaviest first, against one rep's capacity at the
    target utilisation (the dotted line)."""
    data = territories.sort_values("workload_hours", ascending=False).head(top).iloc[::-1]
    over = data["workload_hours"] > capacity * utilisation
    fig = go.Figure(go.Bar(
        x=data["workload_hours"], y=[esc(n) for n in data["name"]], orientation="h",
        marker_color=["#D55E00" if o else "#0072B2" for o in over],
        hovertext=[esc(r) if isinstance(r, str) else "no rep" for r in data["rep_name"]],
        hovertemplate="%{y}<br>%{hovertext}<br>%{x:,.0f} h a year<extra></extra>"))
    fig.add_vline(x=capacity * utilisation, line_dash="dot", line_color="#555", annotation_position="bottom right",
                  annotation_text=f"{utilisation:.0%} of {capacity:,.0f} h")
    shown = f"heaviest {len(data)} of {len(territories)}" if len(territories) > len(data) else f"all {len(data)}"
    fig.update_layout(title=f"Workload per rep: visits + travel ({shown}; orange: over the target)",
                      xaxis_title="Hours a year", height=max(340, 22 * len(data) + 120), showlegend=False, **_LAYOUT)
    return fig


def workload_before_after(frame: pd.DataFrame) -> go.Figure:
    """Visit hours per territory in two plans (column ``plan``), each ranked: how even it gets."""
    fig = go.Figure()
    for (plan, g), colour in zip(frame.groupby("plan", sort=False), ("#999", "#0072B2")):
        g = g.sort_values("visit_hours", ascending=False)
        fig.add_trace(go.Scatter(x=list(range(1, len(g) + 1)), y=g["visit_hours"], mode="lines+markers",
                                 name=esc(plan), line=dict(color=colour), hovertext=[esc(n) for n in g["name"]],
                                 hovertemplate="%{hovertext}<br>%{y:,.0f} h<extra></extra>"))
    fig.update_layout(title="Visit hours per territory before and after (ranked, heaviest first)",
                      xaxis_title="Territory rank", yaxis_title="Visit hours a year", height=400, **_LAYOUT)
    return fig


def quota_vs_potential(table: pd.DataFrame) -> go.Figure:
    """Every territory's quota (y) against its potential (x), coloured by fairness; the dotted line
    is the median quota / potential."""
    fig = go.Figure()
    for key, colour in FAIRNESS_COLOURS.items():
        d = table[table["fairness"] == key]
        if d.empty:
            continue
        fig.add_trace(go.Scatter(
            x=d["potential"], y=d["quota"], mode="markers", name=FAIRNESS_NAMES[key],
            marker=dict(color=colour, size=11, line=dict(width=1, color="white")),
            hovertext=[esc(n) for n in d["name"]],
            hovertemplate="%{hovertext}<br>potential %{x:$,.0f}<br>quota %{y:$,.0f}<extra></extra>"))
    ratio = table["quota_per_potential"].median()
    if ratio == ratio and len(table):
        top = float(table["potential"].max())
        fig.add_trace(go.Scatter(x=[0, top], y=[0, top * ratio], mode="lines", name="Median quota / potential",
                                 line=dict(dash="dot", color="#555"), hoverinfo="skip"))
    fig.update_layout(title="Quota vs potential per territory", xaxis_title="Potential ($)", yaxis_title="Quota ($)",
                      height=440, legend_title_text="Colour", **_LAYOUT)
    return fig


def segment_mix(long: pd.DataFrame, *, measure: str = "potential", by: str = "segment", top: int = 40) -> go.Figure:
    """Per territory, its ``measure`` (potential or accounts) by category of ``by`` (segment,
    tier, industry; ``segments.breakdown``), stacked; the largest territories first."""
    totals = long.groupby("territory", observed=True)[measure].sum().sort_values(ascending=False).head(top)
    order = totals.index[::-1].tolist()  # plotly draws the first bar at the bottom
    fig = go.Figure()
    for i, category in enumerate(long["category"].cat.categories):
        d = long[(long["category"] == category) & long["territory"].isin(order)]
        label = SEGMENTS.get(category, category) if by == "segment" else category
        colour = SEGMENT_COLOURS.get(category) if by == "segment" else PALETTE[i % len(PALETTE)]
        fig.add_trace(go.Bar(x=d[measure], y=[esc(n) for n in d["territory"]], orientation="h", name=esc(label),
                             marker_color=colour, hovertext=[esc(label)] * len(d),  # data, never a template
                             hovertemplate="%{y}<br>%{hovertext}: %{x:,.0f}<extra></extra>"))
    unit = "Potential ($)" if measure == "potential" else "Accounts"
    fig.update_yaxes(categoryorder="array", categoryarray=[esc(n) for n in order])
    fig.update_layout(title=f"{BY_TITLES[by]} mix per territory ({unit.lower()})", barmode="stack", xaxis_title=unit,
                      height=max(340, 22 * len(order) + 120), legend=dict(
                          orientation="h", y=1.02, yanchor="bottom", x=1, xanchor="right", traceorder="normal"),
                      **_LAYOUT)
    return fig
