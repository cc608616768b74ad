"""``territory market aggregate | import | status``: the market layer from a market universe.

Registered on the ``territory`` group by ``cli.py``; the work is ``territory.market``'s. The
aggregation needs no database (it can run where the data lives, on a cluster's edge node); the
import brings its cell table into the planner's database.
"""

from __future__ import annotations

import dataclasses
import json

import click

from territory import store
from territory.cli_common import db_option, printable

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@click.group()
def market() -> None:
    """The market layer: every establishment of a market universe, summed per H3 cell."""


@market.command()
@click.argument("universe", type=click.Path(dir_okay=True))
@click.option("--out", required=True, type=click.Path(), metavar="CELLS.parquet",
              help="Where the cell table goes (Spark writes a folder of Parquet files).")
@click.option("--engine", type=click.Choice(["duckdb", "spark"]), default="duckdb", show_default=True,
              help="DuckDB streams the file on this machine; Spark runs locally or on a cluster.")
@click.option("--master", metavar="URL", help="Spark master (default local[*]; e.g. spark://host:7077, yarn, k8s://...).")
@json_option
def aggregate(universe, out, engine, master, as_json):
    """Sum a market universe (CSV or Parquet: id, lat/lng or ZIP, industry, employees, revenue,
    spend) per H3 cell and industry into CELLS.parquet."""
    from territory.market import engines

    shown = [0]

    def step(rows: int) -> None:  # a line every 5 million establishments
        if not as_json and rows // 5_000_000 > shown[0]:
            shown[0] = rows // 5_000_000
            click.echo(f"  {rows:,} establishments read", err=True)

    summary = engines.aggregate(universe, out, engine=engine, master=master, progress=step)
    if as_json:
        click.echo(json.dumps({**dataclasses.asdict(summary), "out": str(out), "problems": summary.problems()}))
        return
    click.echo(f"{summary.rows:,} establishments into {summary.cells:,} rows (cell × industry) in "
               f"{summary.seconds:.1f} s on {summary.engine}: {printable(out)}")
    for line in summary.problems():
        click.echo(f"warning: {printable(line)}", err=True)
    click.echo(f"next: territory market import {printable(out)}")


@market.command("import")
@click.argument("cells", type=click.Path(dir_okay=True))
@db_option
@json_option
def import_(cells, db, as_json):
    """Make CELLS.parquet (from `territory market aggregate`) the planner's market layer."""
    from territory.market import layer

    loaded = layer.import_cells(store.connect(db), cells)
    if as_json:
        click.echo(json.dumps(dataclasses.asdict(loaded)))
        return
    click.echo(f"market layer: {loaded.establishments:,} establishments in {loaded.cells:,} rows, market potential "
               f"${loaded.market_potential:,.0f} ({loaded.seconds:.1f} s)")


@market.command()
@db_option
@json_option
def status(db, as_json):
    """The market layer in the database."""
    from territory.market import layer

    st = layer.status(store.connect(db))
    if as_json:
        click.echo(json.dumps(dataclasses.asdict(st) if st else None, default=str))
        return
    if st is None:
        click.echo("no market layer: territory market aggregate UNIVERSE --out CELLS.parquet, then "
                   "territory market import CELLS.parquet")
        return
    click.echo(f"{st.establishments:,} establishments, {st.cells:,} rows, {st.industries} industries, market potential "
               f"${st.market_potential:,.0f}; from {printable(st.source)} ({st.imported_at})")
