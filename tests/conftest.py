"""Shared fixtures: a fresh database file per test and helpers that write small CRM files."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from territory import sample, store

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
    sample.load_demo(connection, out_dir=root / "files", n_accounts=2_000, seed=3)
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
