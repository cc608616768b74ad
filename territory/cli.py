"""``territory`` command line: a thin shell over the library (datasette-style).

Library errors become one line on stderr and exit code 1 (``click.ClickException``). Modules that
pull in pandas, scipy or statsmodels are imported inside the commands that use them, so that
``territory --help`` and ``territory summary`` start about as fast as DuckDB itself
(``bench/cli_startup.py``).
"""

from __future__ import annotations

import json
import os
import sys

import click
import duckdb

from territory import backup, settings, store
from territory.cli_common import db_option
from territory.cli_common import plan_id as _plan_id
from territory.cli_common import progress as _progress
from territory.data import quality, textfiles
from territory.errors import TerritoryError


class _Cli(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except TerritoryError as exc:
            raise click.ClickException(str(exc).splitlines()[0]) from exc
        except duckdb.Error as exc:  # e.g. the file is locked by the app, or damaged
            raise click.ClickException(str(store.explain(exc)).splitlines()[0]) from exc
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except BrokenPipeError:  # the reader went away (e.g. `territory summary | head`): stop quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise click.exceptions.Exit(1) from None
        except Exception as exc:  # a bug: one line, never a traceback (TERRITORY_DEBUG=1 shows it)
            if os.environ.get(settings.DEBUG_ENV_VAR) == "1":
                raise
            raise click.ClickException(
                f"unexpected error ({type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}); "
                f"nothing was left half-written. Please report it with the output of {settings.DEBUG_ENV_VAR}=1 "
                "territory ...") from exc


@click.group(cls=_Cli)
def main() -> None:
    """Territory planning on H3 hexagons: load CRM data, inspect it, roll it up to cells."""


@main.command()
@db_option
@click.option("--accounts", "n_accounts", default=50_000, show_default=True)
@click.option("--seed", default=7, show_default=True)
def demo(db, n_accounts, seed):
    """Generate the demo CRM exports in data/demo/ and import them."""
    from territory import demo

    con = store.connect(db)
    demo.load_demo(con, n_accounts=n_accounts, seed=seed, progress=_progress)
    click.echo(_counts_line(quality.summary(con)))


@main.command("import")
@click.argument("dataset", type=click.Choice(["accounts", "reps", "opportunities", "revenue"]))
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--map", "maps", multiple=True, metavar="COL=FIELD",
              help="Map a file column to a field, overriding the guess (repeatable).")
@click.option("--on-error", type=click.Choice(settings.IMPORT_POLICIES), default="reject", show_default=True,
              help="reject: load nothing if any row is bad; skip: load good rows, write rejects.")
@click.option("--rejects", type=click.Path(dir_okay=False), help="Where to write rejected rows (CSV).")
@click.option("--encoding", type=click.Choice(textfiles.ENCODINGS), default="auto", show_default=True,
              help="How to read a text file; auto: UTF-8 with or without BOM, UTF-16 with BOM, else Windows-1252.")
@click.option("--decimal", type=click.Choice(["auto", "point", "comma"]), default="auto", show_default=True,
              help="The decimal separator of number columns; auto: judged per column from its values.")
@db_option
def import_(dataset, file, maps, on_error, rejects, encoding, decimal, db):
    """Import a CSV, Excel or Parquet FILE of accounts, reps, opportunities or revenue."""
    from territory.data import ingest

    overrides = {}
    for item in maps:
        col, sep, fld = item.rpartition("=")
        if not sep or not col:
            raise click.BadParameter(f"{item!r}: write it as COLUMN=FIELD", param_hint="--map")
        overrides[col] = fld
    con = store.connect(db)
    try:
        result = ingest.import_file(con, file, dataset, overrides=overrides, on_error=on_error,
                                    rejects_path=rejects, progress=_progress, encoding=encoding, decimal=decimal)
    except TerritoryError as exc:
        for p in getattr(exc, "problems", [])[:50]:
            click.echo(f"  {p}", err=True)
        raise
    click.echo(
        f"imported {result.rows_loaded:,} of {result.rows_read:,} {dataset} rows "
        f"in {result.seconds:.1f} s"
        + (f"; {result.rows_rejected:,} rejected -> {result.rejects_path}" if result.rows_rejected else "")
        + (f"; {result.geocoded_by_zip:,} located by ZIP" if result.geocoded_by_zip else "")
        + (f"; potential derived for {result.potential_derived:,}" if result.potential_derived else "")
        + (f"; {ingest.owners_line(result)}" if result.dataset == "accounts" else "")
    )
    for note in result.notes:
        click.echo(f"note: {note}", err=True)


@main.command()
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def summary(db, as_json):
    """Counts, geocode precision, totals and data-quality findings."""
    data = quality.summary(store.connect(db))
    if as_json:
        click.echo(json.dumps(data, indent=2, default=float))
        return
    click.echo(_counts_line(data))
    click.echo(f"geocode: {data['geocode_exact']:,} exact, {data['geocode_zip']:,} by ZIP, "
               f"{data['geocode_city']:,} by city")
    click.echo(f"potential {data['potential']:,.0f} ({data['potential_derived']:,} derived), "
               f"revenue 12m {data['revenue_12m']:,.0f}, pipeline {data['pipeline']:,.0f}")
    for f in data["findings"]:
        click.echo(f"{f['level']}: {f['count']:,} {f['message']}")


@main.command()
@click.option("--res", "res", type=int, required=True, help="H3 resolution 4-9.")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON rows.")
def cells(res, db, as_json):
    """Accounts, potential, revenue, pipeline, workload and the market layer per H3 cell at --res."""
    from territory import grid

    if res not in settings.PLAN_RESOLUTIONS:
        raise click.BadParameter(f"{res} is not a plan resolution; use 4-9", param_hint="--res")
    frame = grid.aggregate_cells(store.connect(db), res)
    frame["cell"] = frame["cell"].map(lambda c: format(int(c), "x"))
    if as_json:
        click.echo(frame.to_json(orient="records"))
    else:
        click.echo(frame.to_string(index=False, max_rows=40))
        click.echo(f"{len(frame):,} cells at resolution {res}")


@main.command()
@click.option("--res", "res", type=int, default=settings.DEFAULT_PLAN_RES, show_default=True,
              help="H3 resolution of the plan, 4-9.")
@db_option
def baseline(res, db):
    """(Re)build the baseline plan from the CRM ownership of the loaded accounts."""
    from territory.plans import plan

    con = store.connect(db)
    if store.is_empty(con):
        raise click.ClickException("no accounts are loaded; import an accounts file first")
    sid = plan.create_baseline(con, resolution=res)
    click.echo(f"baseline plan {sid}: {len(plan.territories(con, sid)):,} territories, "
               f"{len(plan.assignments(con, sid)):,} cells at resolution {res}")


@main.command("export")
@click.argument("fmt", metavar="FORMAT", type=click.Choice(settings.EXPORT_FORMATS))
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--plan", "plan_name", metavar="NAME", help="Plan name or id (default: the active plan).")
@click.option("--changed-only", is_flag=True, help="CRM files: only accounts whose owner changes.")
@click.option("--no-formula-guard", is_flag=True,
              help="CSV files: write text exactly as stored. By default a text cell starting with = + - @ "
                   "gets a leading ' so that spreadsheets do not run it as a formula.")
@click.option("--with-details", is_flag=True,
              help="CRM files: also account names and coordinates (to re-import the file into this app).")
@db_option
def export_(fmt, file, plan_name, changed_only, no_formula_guard, with_details, db):
    """Export a plan: salesforce / hubspot ownership CSV, geojson territories, excel KPI report."""
    from territory import exports

    con = store.connect(db)
    sid = _plan_id(con, plan_name)
    click.echo(exports.export(con, sid, fmt, file, changed_only=changed_only, formula_safe=not no_formula_guard,
                              with_details=with_details).summary())


@main.command("backup")
@click.argument("file", type=click.Path(dir_okay=False))
@db_option
def backup_(file, db):
    """Write the whole database (data, plans, rules, edit history) to FILE, a portable .zip."""
    click.echo(backup.backup(store.connect(db), file).summary())


@main.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@click.option("--replace", is_flag=True, help="Replace the data the database holds (a snapshot of it is kept).")
@db_option
def restore_(file, replace, db):
    """Restore a backup FILE into the database (--db NEW restores into a new file)."""
    con = store.connect(db)
    counts = backup.restore(con, file, replace=replace)
    folder = backup.snapshot_dir(con)
    click.echo(f"restored {counts.get('accounts', 0):,} accounts and {counts.get('scenarios', 0):,} plans from "
               f"{click.format_filename(file)}" + (f"; earlier data, if any, is in {folder}" if replace and folder else ""))


@main.command("plans")
@db_option
def plans_(db):
    """List the plans (scenarios): id, name, kind, active."""
    from territory.plans import scenarios

    frame = scenarios.listing(store.connect(db))
    for row in frame.itertuples(index=False):
        click.echo(f"{row.scenario_id:>4}  {'*' if row.is_active else ' '} {row.kind:<9} {row.name}")


@main.command("rebalance")
@click.option("--plan", "plan_name", metavar="NAME|ID", help="Plan name or id (default: the active plan).")
@click.option("--balance", "balance", multiple=True, required=True, metavar="METRIC=PCT",
              help="A measure to balance and its tolerance in %, e.g. potential=5 (one to three times).")
@click.option("--k", "k", type=click.IntRange(min=1), help="Number of territories (default: the plan's); another number needs --save-as.")
@click.option("--max-moved", type=click.FloatRange(0, 100), metavar="PCT",
              help="Move at most this % of accounts: the best-balanced plan of the frontier within it.")
@click.option("--disruption-weight", type=click.FloatRange(min=0), default=1.0, show_default=True,
              help="How much moving accounts costs against balance (0: ignore today's plan).")
@click.option("--keep-homes", is_flag=True, help="Each territory keeps its rep's home and is rebuilt around it.")
@click.option("--time-limit", type=click.FloatRange(min=1, max=3600), default=60.0, show_default=True, metavar="S")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--save-as", metavar="NAME", help="Save the result as a new scenario (never the active plan).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@db_option
def rebalance_(plan_name, balance, k, max_moved, disruption_weight, keep_homes, time_limit, seed, save_as, as_json, db):
    """Rebalance a plan: a preview and its report; nothing is written without --save-as."""
    from territory import metrics
    from territory.optimizer import Options
    from territory.plans import outcome, plan, rebalance

    tolerances = {}
    for item in balance:
        name, _, pct = item.partition("=")
        if name not in metrics.BALANCEABLE:
            raise click.BadParameter(f"{name!r} is not a measure to balance; use {', '.join(metrics.BALANCEABLE)}",
                                     param_hint="--balance")
        try:
            value = float(pct)
        except ValueError:
            value = -1.0
        if not 0 < value <= 100:
            raise click.BadParameter(f"{item!r}: give a tolerance in % after '=', e.g. {name}=5", param_hint="--balance")
        tolerances[name] = value / 100
    if len(tolerances) > 3:
        raise click.BadParameter("balance one to three measures", param_hint="--balance")
    con = store.connect(db)
    sid = _plan_id(con, plan_name)
    if k is not None and k != len(plan.territories(con, sid)) and not save_as:
        raise click.BadParameter("another number of territories is a new plan: add --save-as NAME", param_hint="--k")
    options = Options(balance=tolerances, seed=seed, time_limit=time_limit, disruption_weight=disruption_weight,
                      progress=None if as_json else _progress)
    preview = rebalance.rebalance(con, sid, options, k=k, anchor_homes=keep_homes,
                                  around_rep_homes=None if keep_homes else False)
    chosen = None
    if max_moved is not None:
        chosen = outcome.pick(preview.report.frontier, max_moved / 100)
        if chosen is None:
            raise click.ClickException(f"no plan on the frontier moves at most {max_moved:g} % of accounts; "
                                       "even today's plan made contiguous moves more")
        preview = rebalance.at_point(con, preview, chosen)
    saved = rebalance.save_as(con, preview, save_as) if save_as else None
    data = outcome.summary(preview) | {"anchoring": outcome.anchoring(con, preview), "frontier_point": chosen,
                                         "saved_as": saved}
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    for m, b in data["balance"].items():
        click.echo(f"{m}: max deviation {b['max_deviation_pct']:.1f} % (tolerance {b['tolerance_pct']:g} %)"
                   f" {'met' if b['met'] else 'NOT met'}")
    click.echo(f"contiguous: {'yes' if data['contiguous'] else 'no'}; moved: "
               + ", ".join(f"{v:.1%} of {n}" for n, v in data["moved"].items()) + f"; {data['seconds']:.1f} s")
    a = data["anchoring"]
    click.echo(f"territories keep a median {a['kept_median']:.0%} of today's potential; "
               f"{a['homes_inside_after']} of {a['reps_with_homes']} reps' homes in their own territory")
    click.echo("frontier (accounts moved -> worst deviation): " + ", ".join(
        f"{p['moved'].get('accounts', 0):.0%}->{max(p['max_deviation_pct'].values()):.0f}%" for p in data["frontier"]))
    click.echo(f"saved as scenario {saved} ({save_as})" if saved else "nothing written (add --save-as NAME to keep it)")


def _counts_line(data: dict) -> str:
    return (f"{data['accounts']:,} accounts, {data['reps']:,} reps, "
            f"{data['opportunities']:,} opportunities, {data['revenue_rows']:,} revenue rows, "
            f"{data['scenarios']:,} plans")


from territory.cli_market import market  # noqa: E402  (commands in their own modules)
from territory.cli_sizing import quota, segments, sizing  # noqa: E402

for _command in (sizing, quota, segments, market):
    main.add_command(_command)
