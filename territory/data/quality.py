"""What is in the database and what looks wrong with it: the Data page and ``summary``."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from territory import store
from territory.store import Connection

if TYPE_CHECKING:  # the CLI imports this module and starts without pandas
    import pandas as pd


@dataclass(frozen=True)
class Finding:
    level: str  # "info", "warning"
    message: str
    count: int


def summary(con: Connection) -> dict:
    """Counts, geocode precision and totals, as plain values (JSON-ready)."""
    totals = con.execute(
        "SELECT count(*), count(*) FILTER (geocode = 'exact'), count(*) FILTER (geocode = 'zip'),"
        " count(*) FILTER (geocode = 'city'), count(*) FILTER (potential_derived), coalesce(sum(potential), 0),"
        " coalesce(sum(revenue_12m), 0), coalesce(sum(pipeline), 0),"
        " coalesce(sum(weighted_pipeline), 0) FROM accounts"
    ).fetchall()[0]
    keys = ("accounts", "geocode_exact", "geocode_zip", "geocode_city", "potential_derived", "potential",
            "revenue_12m", "pipeline", "weighted_pipeline")
    out = dict(zip(keys, totals))
    counts = store.counts(con)
    out.update(reps=counts["reps"], opportunities=counts["opportunities"],
               revenue_rows=counts["revenue_monthly"], scenarios=counts["scenarios"])
    out["findings"] = [asdict(f) for f in findings(con)]
    return out


_CHECKS = (
    ("info", "accounts located by ZIP centroid (no coordinates in the file)",
     "SELECT count(*) FROM accounts WHERE geocode = 'zip'"),
    ("info", "accounts located at the centre of their city (no coordinates and no ZIP in the file)",
     "SELECT count(*) FROM accounts WHERE geocode = 'city'"),
    ("info", "accounts whose potential was derived by rule (no potential in the file)",
     "SELECT count(*) FROM accounts WHERE potential_derived"),
    ("warning", "accounts with no owner",
     "SELECT count(*) FROM accounts WHERE owner_id IS NULL"),
    ("warning", "accounts owned by someone who is not in the reps file",
     "SELECT count(*) FROM accounts a WHERE owner_id IS NOT NULL"
     " AND NOT EXISTS (SELECT 1 FROM reps r WHERE r.rep_id = a.owner_id)"),
    ("warning", "reps with no home location (travel cannot be estimated)",
     "SELECT count(*) FROM reps WHERE home_lat IS NULL"),
    ("warning", "accounts with zero potential",
     "SELECT count(*) FROM accounts WHERE potential = 0"),
    ("warning", "accounts sharing their exact location with 10+ others (geocoded to one point?)",
     "SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM accounts"
     " WHERE geocode = 'exact' GROUP BY lat, lng HAVING count(*) > 10)"),
    ("info", "open opportunities past their close date",
     "SELECT count(*) FROM opportunities WHERE NOT is_closed AND close_date < current_date"),
)


def findings(con: Connection) -> list[Finding]:
    """Data-quality findings with a count above zero, in a fixed order."""
    out = []
    for level, message, sql in _CHECKS:
        n = store.value(con, sql)
        if n:
            out.append(Finding(level, message, int(n)))
    return out


def import_history(con: Connection, *, limit: int = 20):
    return con.execute(
        "SELECT import_id, dataset, source, finished_at, rows_read, rows_loaded, rows_rejected,"
        " CASE policy WHEN 'reject' THEN 'load nothing' WHEN 'skip' THEN 'load the good rows' ELSE policy END AS policy"
        " FROM import_log ORDER BY import_id DESC LIMIT ?",
        [limit],
    ).df()


# the columns whose distinct values the UI offers as choices (filters, pickers), and their table
CHOICES = {"region": "reps", "industry": "accounts", "tier": "accounts", "state": "accounts"}


def values(con: Connection, column: str) -> list[str]:
    """The distinct values of one of ``CHOICES``' columns, sorted (for filters and pickers)."""
    table = CHOICES[column]  # a fixed name from the dict above, never user text
    return [r[0] for r in con.execute(f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL ORDER BY 1")
            .fetchall()]


def data_version(con: Connection) -> int:
    """Changes whenever an import lands: a cache key for data-derived results."""
    return int(store.value(con, "SELECT coalesce(max(import_id), 0) FROM import_log"))


def reps(con: Connection) -> pd.DataFrame:
    """Every rep: rep_id, name, home_lat, home_lng, ordered by name."""
    return con.execute("SELECT rep_id, name, home_lat, home_lng FROM reps ORDER BY name").df()

