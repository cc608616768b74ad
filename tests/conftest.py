"""Shared fixtures: a fresh database file per test and helpers that write small CRM files."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from territory import demo, store

SF_HEADER = ["Id", "Name", "BillingCity", "BillingState", "BillingPostalCode", "BillingCountry",
             "BillingLatitude", "BillingLongitude", "Industry", "AnnualRevenue", "NumberOfEmployees",
             "OwnerId"]


def sf_row(i: int, **over) -> dict:
    """A valid Salesforce-style account row near Denver; override any column."""
    row = {"Id": f"001{i:05d}", "Name": f"Account {i}", "BillingCity": "Denver", "BillingState": "CO",
           "BillingPostalCode": "80202", "BillingCountry": "US", "BillingLatitude": f"{39.70 + i * 0.001:.4f}",
           "BillingLongitude": f"{-104.99 - i * 0.001:.4f}", "Industry": "Technology",
           "AnnualRevenue": "1000000", "NumberOfEmployees": "50", "OwnerId": "005A"}
    row.update(over)
    return row


def write_csv(path: Path, rows: list[dict], *, header: list[str] | None = None, delimiter: str = ",",
              encoding: str = "utf-8", newline: str = "\n") -> Path:
    header = header or list(rows[0].keys())
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, delimiter=delimiter, lineterminator=newline)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "test.duckdb"


@pytest.fixture
def con(db_path: Path):
    connection = store.connect(db_path)
    yield connection
    connection.close()


@pytest.fixture
def accounts_file(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "accounts.csv", [sf_row(i) for i in range(1, 11)], header=SF_HEADER)


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """A small demo database (2,000 accounts) built once through the real import path."""
    root = tmp_path_factory.mktemp("demo")
    path = root / "demo.duckdb"
    connection = store.connect(path)
    demo.load_demo(connection, out_dir=root / "files", n_accounts=2_000, seed=3)
    connection.close()
    return path


@pytest.fixture
def demo_con(demo_db, tmp_path):
    """A connection to a private copy of the small demo database."""
    path = tmp_path / "demo-copy.duckdb"
    shutil.copy(demo_db, path)
    connection = store.connect(path)
    yield connection
    connection.close()


TINY_DOC = """A two-rep book small enough to compute every KPI by hand (tests/unit/test_scorecard.py).

Reps: R1 Ana (home Denver, skills Technology;Finance, quota 100, capacity 1000, West / West North),
      R2 Ben (home Kansas City, skills Retail, quota 200, capacity 1000, Central / Central North).
Accounts (potential, tier from employees, owner; revenue = 12 monthly rows):
      A1 Denver             Technology  50 emp (C)   1000  R1  10 a month
      A2 1° north of Denver Retail     200 emp (B)   3000  R1  none
      A3 Kansas City        Retail      20 emp (C)   2000  R2  50 a month
      A4 Kansas City        Retail    1500 emp (A)   4000  R2  100 a month
Opportunities: O1 A1 open Proposal 100 @60 %, O2 A2 won 50, O3 A2 lost 70, O4 A3 lost 10,
      O5 A4 open Negotiation 1000 @80 %.
"""


@pytest.fixture
def tiny_con(con, tmp_path):
    """The book in ``TINY_DOC`` imported through the real import path, with its baseline plan."""
    from territory.data import ingest
    from territory.plans import plan

    reps = write_csv(tmp_path / "reps.csv", [
        {"Id": "R1", "Name": "Ana", "Email": "ana@example.com", "HomeLatitude": "39.74", "HomeLongitude": "-104.99",
         "Skills": "Technology;Finance", "Quota": "100", "CapacityHours": "1000", "Region": "West",
         "District": "West North"},
        {"Id": "R2", "Name": "Ben", "Email": "ben@example.com", "HomeLatitude": "39.10", "HomeLongitude": "-94.58",
         "Skills": "Retail", "Quota": "200", "CapacityHours": "1000", "Region": "Central",
         "District": "Central North"},
    ])
    accounts = write_csv(tmp_path / "accounts.csv", [
        {"Id": i, "Name": f"Account {i}", "BillingLatitude": lat, "BillingLongitude": lng, "Industry": ind,
         "NumberOfEmployees": emp, "Sales_Potential__c": pot, "OwnerId": owner}
        for i, lat, lng, ind, emp, pot, owner in [
            ("A1", "39.74", "-104.99", "Technology", "50", "1000", "R1"),
            ("A2", "40.74", "-104.99", "Retail", "200", "3000", "R1"),
            ("A3", "39.10", "-94.58", "Retail", "20", "2000", "R2"),
            ("A4", "39.10", "-94.58", "Retail", "1500", "4000", "R2"),
        ]])
    months = [f"{2025 + (m + 10) // 12}-{(m + 10) % 12 + 1:02d}-01" for m in range(12)]  # 2025-11 .. 2026-10
    revenue = write_csv(tmp_path / "revenue.csv", [
        {"AccountId": acc, "Month": month, "Revenue": amount}
        for acc, amount in (("A1", "10"), ("A3", "50"), ("A4", "100")) for month in months])
    opps = write_csv(tmp_path / "opportunities.csv", [
        {"Id": oid, "AccountId": acc, "StageName": stage, "Amount": amount, "Probability": prob}
        for oid, acc, stage, amount, prob in [
            ("O1", "A1", "Proposal", "100", "60"), ("O2", "A2", "Closed Won", "50", "100"),
            ("O3", "A2", "Closed Lost", "70", "0"), ("O4", "A3", "Closed Lost", "10", "0"),
            ("O5", "A4", "Negotiation", "1000", "80")]])
    for dataset, path in (("reps", reps), ("accounts", accounts), ("revenue", revenue), ("opportunities", opps)):
        ingest.import_file(con, path, dataset)
    plan.create_baseline(con, resolution=5)
    return con
