"""``territory sizing | quota | segments``: how many reps, what each carries, where to focus.

Registered on the ``territory`` group by ``cli.py``; the library does the work
(``territory.kpis.sizing``, ``quota``, ``segments``), these commands read options and print.
"""

from __future__ import annotations

import datetime as dt
import json

import click

from territory import store
from territory.cli_common import db_option, plan_id, printable, progress

plan_option = click.option("--plan", "plan_name", metavar="NAME|ID", help="Plan name or id (default: the active plan).")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@click.command()
@plan_option
@click.option("--utilisation", type=click.FloatRange(0, 1, min_open=True), default=0.8, show_default=True,
              help="Share of a rep's capacity the workload may fill.")
@click.option("--capacity", type=click.FloatRange(1, 8760), metavar="HOURS",
              help="A rep's hours a year (default: the reps file's median, else 1,600).")
@click.option("--revenue-target", type=click.FloatRange(min=0), metavar="AMOUNT", help="Also size for this revenue.")
@click.option("--quota-per-rep", type=click.FloatRange(min=0, min_open=True), metavar="AMOUNT",
              help="A ramped rep's quota (default: the reps file's median).")
@click.option("--attainment", type=click.FloatRange(0, 2, min_open=True), default=0.85, show_default=True,
              help="Share of quota a rep attains on average.")
@click.option("--ramp-months", type=click.FloatRange(0, 24), default=0.0, show_default=True,
              help="Months a new hire takes to full productivity (linear).")
@click.option("--attrition", type=click.FloatRange(0, 1, max_open=True), default=0.0, show_default=True,
              help="Share of reps leaving in a year (each replaced by a hire who ramps).")
@click.option("--what-if", "what_if", type=click.IntRange(min=1), metavar="N",
              help="Build a scenario with N territories (needs --save-as).")
@click.option("--save-as", metavar="NAME", help="The what-if scenario's name (never the active plan).")
@click.option("--tolerance", type=click.FloatRange(0.5, 100), default=10.0, show_default=True, metavar="PCT",
              help="What-if: visit hours and potential within this % of the mean.")
@click.option("--time-limit", type=click.FloatRange(min=1, max=3600), default=60.0, show_default=True, metavar="S")
@json_option
@db_option
def sizing(plan_name, utilisation, capacity, revenue_target, quota_per_rep, attainment, ramp_months, attrition,
           what_if, save_as, tolerance, time_limit, as_json, db):
    """How many reps the plan's workload (and a revenue target) needs, overall and per region."""
    from territory.kpis import scorecard
    from territory.kpis import sizing as sizing_

    if what_if is not None and not save_as:
        raise click.BadParameter("a what-if is a new plan: add --save-as NAME", param_hint="--what-if")
    con = store.connect(db)
    sid = plan_id(con, plan_name)
    result = sizing_.size(scorecard.build(con, sid), sizing_.Inputs(utilisation, capacity, revenue_target, quota_per_rep, attainment,
                                                    ramp_months, attrition))
    data = {"capacity_hours": result.capacity_hours, "quota_per_rep": result.quota_per_rep, **result.overall,
            "regions": _records(result.regions), "formula": result.formula}
    if what_if is not None:
        new, preview, workload = sizing_.what_if(con, sid, what_if, save_as, tolerance=tolerance / 100,
                                                 time_limit=time_limit,
                                                 progress=None if as_json else progress)
        data["what_if"] = {"scenario_id": new, "territories": what_if, "contiguous": preview.report.contiguous,
                           "balance": {m: round(b["max_deviation_pct"], 2) for m, b in preview.report.balance.items()},
                           "visit_hours": {p: g["visit_hours"].round(1).tolist() for p, g in workload.groupby("plan")}}
    if as_json:
        click.echo(json.dumps(data, indent=2, default=float))
        return
    for line in result.formula:
        click.echo(line)
    click.echo(f"reps today {result.overall['reps_today']}, needed {result.overall['headcount']} "
               f"({result.overall['change']:+d})")
    for row in data["regions"]:
        click.echo(f"  {printable(row['region'])}: {row['workload_hours']:,.0f} h, {row['reps_today']} today, "
                   f"{row['fte_needed']:.1f} FTE, {row['headcount']} needed")
    if what_if is not None:
        w = data["what_if"]
        click.echo(f"saved as scenario {w['scenario_id']} ({printable(save_as)}): {what_if} territories, contiguous "
                   f"{'yes' if w['contiguous'] else 'no'}, max deviation " +
                   ", ".join(f"{m} {v:.1f} %" for m, v in w["balance"].items()))


@click.command()
@plan_option
@click.option("--method", type=click.Choice(["reps", "potential", "history", "blend"]),
              help="How quotas are set (default: the plan's rule).")
@click.option("--company", type=click.FloatRange(min=0), metavar="AMOUNT", help="The company number to split.")
@click.option("--growth", type=click.FloatRange(-99.9, 1000), default=0.0, show_default=True, metavar="PCT",
              help="History: next year = trailing 12 months x (1 + growth %).")
@click.option("--blend", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="Blend: the weight of the potential share.")
@click.option("--save", is_flag=True, help="Store the rule on the plan (its KPIs then use it).")
@click.option("--effective-date", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="Store the day the plan takes over from its parent and show the year's quota pro rata.")
@click.option("--forecast", "with_forecast", is_flag=True, help="Add each territory's forecast of the next 12 months.")
@click.option("--out", type=click.Path(dir_okay=False), metavar="FILE", help="Write the quotas (.csv or .xlsx).")
@json_option
@db_option
def quota(plan_name, method, company, growth, blend, save, effective_date, with_forecast, out, as_json, db):
    """Quota per territory: against potential, history and forecast, with unfair ones flagged."""
    from territory import exports
    from territory.kpis import quota as quota_
    from territory.kpis import scorecard

    con = store.connect(db)
    sid = plan_id(con, plan_name)
    rule = quota_.rule(con, sid)
    if method is not None:
        rule = quota_.Rule(method, company, growth / 100, blend)
    elif company is not None:
        raise click.BadParameter("say how to split it: add --method potential|history|blend", param_hint="--company")
    if save:
        quota_.set_rule(con, sid, rule)
    sc = scorecard.build(con, sid)
    forecast = scorecard.forecast_totals(sc, months=12) if with_forecast else None
    table = quota_.table(sc.accounts, sc.territories, rule, forecast=forecast)
    data = {"method": rule.method, "company_number": float(table["quota"].sum()), "saved": save,
            "territories": _records(table.drop(columns=["territory_id"]))}
    if effective_date is not None:
        day = effective_date.date()
        data["pro_rata"] = _pro_rata(con, sid, day)  # first: a plan copied from none is refused before any write
        quota_.set_effective_date(con, sid, day)
    if out:
        exports.table_file(table.rename(columns=quota_.HEADERS)[list(quota_.HEADERS.values())
                                                                 if forecast is not None else
                                                                 [h for c, h in quota_.HEADERS.items() if c != "forecast"]],
                           out)
    if as_json:
        click.echo(json.dumps(data, indent=2, default=_plain))
        return
    click.echo(f"{quota_.METHODS[rule.method]}: company number {data['company_number']:,.0f}"
               + ("; stored on the plan" if save else ""))
    if not data["company_number"]:
        click.echo(f"note: {quota_.NO_NUMBER}", err=True)
    for row in data["territories"]:
        click.echo(f"  {printable(row['name'])}: quota {row['quota']:,.0f}, potential {row['potential']:,.0f}, "
                   f"history {row['history']:,.0f}, quota/potential {_pct(row['quota_per_potential'])}"
                   + ("" if row["fairness"] == "fair" else f"  <- {row['fairness']}"))
    if effective_date is not None:
        p = data["pro_rata"]
        click.echo(f"from {effective_date.date():%Y-%m-%d} ({p['share_of_year']:.0%} of the year): "
                   f"{p['accounts_moving']:,} accounts move, {p['quota_moving']:,.0f} of quota moves with them; "
                   f"year total {p['year_total']:,.0f}")
    if out:
        click.echo(f"wrote {out}")


@click.command()
@plan_option
@click.option("--territory", "territory_name", metavar="NAME|ID", help="List this territory's key accounts.")
@click.option("--top", type=click.IntRange(1, 10_000), default=25, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), metavar="FILE", help="Write the key accounts (.csv or .xlsx).")
@json_option
@db_option
def segments(plan_name, territory_name, top, out, as_json, db):
    """Accounts per segment (grow / win / maintain / deprioritise) per territory, and key accounts."""
    from territory import exports
    from territory.kpis import scorecard
    from territory.kpis import segments as segments_

    con = store.connect(db)
    sid = plan_id(con, plan_name)
    sc = scorecard.build(con, sid)
    names = sc.territories.set_index("territory_id")["name"]
    limits = segments_.thresholds(sc.accounts)
    data = {"thresholds": {"potential": limits.potential, "penetration": limits.penetration},
            "territories": _records(segments_.mix(sc.accounts, names).drop(columns=["territory_id"]))}
    if territory_name:
        hit = sc.territories[(sc.territories["name"] == territory_name) | (sc.territories["territory_id"] == territory_name)]
        if hit.empty:
            raise click.BadParameter(f"no territory named {territory_name!r} in this plan", param_hint="--territory")
        keys = segments_.key_accounts(con, sc.accounts, hit["territory_id"].iloc[0], top=top)
        data["key_accounts"] = _records(keys)
        if out:
            exports.table_file(keys.rename(columns=segments_.HEADERS), out)
    elif out:
        raise click.BadParameter("key accounts are per territory: add --territory NAME", param_hint="--out")
    if as_json:
        click.echo(json.dumps(data, indent=2, default=_plain))
        return
    click.echo(f"high potential: {limits.potential:,.0f} or more; maintain: penetration {limits.penetration:.1%} or more")
    for row in data["territories"]:
        click.echo(f"  {printable(row['territory'])}: " + ", ".join(
            f"{segments_.SEGMENTS[k].lower()} {row[f'{k}_accounts']:,}" for k in segments_.SEGMENTS))
    for row in data.get("key_accounts", []):
        click.echo(f"  * {printable(row['name'])}: white space {row['white_space']:,.0f}, pipeline {row['pipeline']:,.0f}")
    if out:
        click.echo(f"wrote {out}")


def _pro_rata(con, sid: int, day: dt.date) -> dict:
    from territory.kpis import quota as quota_

    per, moving = quota_.prorate_plans(con, sid, day)
    return {"share_of_year": quota_.year_fraction_after(day), "accounts_moving": len(moving),
            "quota_moving": float(moving["moves"].sum()), "year_total": float(per["year_quota"].sum()),
            "territories": _records(per)}


def _records(frame) -> list[dict]:
    """Rows for JSON: a missing number or date is null (JSON has no NaN)."""
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")


def _pct(value) -> str:
    return "—" if value is None or value != value else f"{value:.1%}"


def _plain(value):
    """JSON for what the standard encoder does not know: numbers as floats, dates as ISO text."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)
