"""What every ``territory`` command shares: the database option, naming a plan, progress lines."""

from __future__ import annotations

import sys

import click

from territory import settings

db_option = click.option(
    "--db", "db", default=None, metavar="FILE",
    help=f"DuckDB file (default: ${settings.DB_ENV_VAR} or data/territory.duckdb)",
)


def plan_id(con, name: str | None) -> int:
    from territory.plans import plan, scenarios

    if not name:
        return plan.active_scenario(con)
    frame = scenarios.listing(con)
    hit = frame[(frame["name"] == name) | (frame["scenario_id"].astype(str) == name)]
    if hit.empty:
        raise click.BadParameter(f"no plan named {name!r}; `territory plans` lists them", param_hint="--plan")
    return int(hit["scenario_id"].iloc[0])


def progress(fraction: float, message: str) -> None:
    click.echo(f"{fraction:4.0%} {message}", err=True)
    sys.stderr.flush()


def printable(text) -> str:
    """A name as a terminal shows it safely: control characters (escape sequences that could
    recolour or rewrite the terminal) written as ``\\xNN``."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in str(text))
