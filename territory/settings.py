"""Constants and defaults shared by the library: paths, resolutions, workload rules."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
DEMO_DIR = DATA_DIR / "demo"
IMPORT_POLICIES = ("reject", "skip")  # what an import does with bad rows
EXPORT_FORMATS = ("salesforce", "hubspot", "geojson", "geopackage", "shapefile", "excel")
DB_ENV_VAR = "TERRITORY_DB"
DEBUG_ENV_VAR = "TERRITORY_DEBUG"  # "1": the app re-raises unexpected errors (tracebacks, for developers and tests)
DEFAULT_DB = DATA_DIR / "territory.duckdb"

FINE_RES = 10  # every account is indexed once at this H3 resolution
PLAN_RESOLUTIONS = range(4, 10)  # plans and maps roll up to one of these
# a market universe is aggregated to the finest resolution a plan or map uses: nothing finer is
# ever rolled up to, and at FINE_RES a universe's cell table is as long as the universe itself
MARKET_RES = max(PLAN_RESOLUTIONS)
DEFAULT_PLAN_RES = 5

TIERS = ("A", "B", "C")  # size tiers: A >= 1000 employees, B >= 100, C otherwise
TIER_A_EMPLOYEES = 1000
TIER_B_EMPLOYEES = 100


SNAPSHOTS_ENV_VAR = "TERRITORY_SNAPSHOTS"  # how many automatic snapshots to keep per database
SNAPSHOTS_KEPT = 5


def snapshots_kept() -> int:
    """How many automatic snapshots to keep (``$TERRITORY_SNAPSHOTS``, default 5; 0 turns them off)."""
    try:
        return max(0, int(os.environ.get(SNAPSHOTS_ENV_VAR, SNAPSHOTS_KEPT)))
    except ValueError:
        return SNAPSHOTS_KEPT


def db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The database file: an explicit path, else ``$TERRITORY_DB``, else ``data/territory.duckdb``."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(DB_ENV_VAR)
    return Path(env) if env else DEFAULT_DB


@dataclass(frozen=True)
class Workload:
    """Hours a year to serve an account: visits a year by tier x minutes per visit."""

    visits_per_year: Mapping[str, float] = field(
        default_factory=lambda: MappingProxyType({"A": 24.0, "B": 12.0, "C": 4.0})
    )
    minutes_per_visit: float = 60.0

    def hours(self, tier: str) -> float:
        return self.visits_per_year.get(tier, 0.0) * self.minutes_per_visit / 60.0


# Sales potential rule, used for accounts whose file has no potential value:
#   employees known  -> employees x yearly spend per employee of the industry
#   else revenue     -> AnnualRevenue x REVENUE_SHARE
#   else             -> FALLBACK_POTENTIAL
SPEND_PER_EMPLOYEE: Mapping[str, float] = MappingProxyType(
    {
        "Technology": 1500.0,
        "Finance": 1300.0,
        "Healthcare": 1100.0,
        "Manufacturing": 900.0,
        "Retail": 600.0,
        "Energy": 1000.0,
        "Education": 500.0,
        "Transportation": 700.0,
        "Construction": 650.0,
        "Hospitality": 450.0,
    }
)
DEFAULT_SPEND_PER_EMPLOYEE = 800.0
REVENUE_SHARE = 0.004
FALLBACK_POTENTIAL = 20_000.0
