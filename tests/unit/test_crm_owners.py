"""Your own CRM export in and out: owners are kept without a reps file, Salesforce ids match in
their 15- and 18-character forms, and exporting the baseline changes no owner."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from territory import exports, store
from territory.data import ingest
from territory.plans import plan
from tests.conftest import write_csv

CITIES = [(39.74, -104.99, "Denver", "CO", "80202"), (41.88, -87.63, "Chicago", "IL", "60601"),
          (40.71, -74.00, "New York", "NY", "10001"), (34.05, -118.24, "Los Angeles", "CA", "90012")]


def sf18(id15: str) -> str:
    """The 18-character form of a Salesforce id (the checksum Salesforce appends)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
    return id15 + "".join(alphabet[sum(1 << i for i in range(5) if "A" <= id15[c * 5 + i] <= "Z")] for c in range(3))


OWNERS15 = [f"0055e00000{k}AbC{k}" for k in range(6)]  # 15 characters, mixed case like real ids


def _salesforce_rows(n: int = 240, seed: int = 1) -> list[dict]:
    """Accounts around four cities; each city mostly one owner, with others mixed in (as a CRM has)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        c = i % len(CITIES)
        lat, lng, city, state, zip_ = CITIES[c]
        owner = OWNERS15[c] if rng.random() < 0.7 else OWNERS15[int(rng.integers(len(OWNERS15)))]
        rows.append({"Id": sf18(f"0015e00000{i:05d}"), "Name": f"Account {i}", "BillingCity": city,
                     "BillingState": state, "BillingPostalCode": zip_,
                     "BillingLatitude": f"{lat + rng.normal(0, 0.05):.5f}",
                     "BillingLongitude": f"{lng + rng.normal(0, 0.05):.5f}", "OwnerId": sf18(owner),
                     "Owner.Name": f"Owner {OWNERS15.index(owner)}"})
    return rows


def _exported_owners(con, fmt: str, tmp_path) -> dict[str, str]:
    path = exports.export(con, plan.baseline_scenario(con), fmt, tmp_path / f"{fmt}.csv").path
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    key, owner = ("Id", "OwnerId") if fmt == "salesforce" else ("Record ID", "Company owner")
    return {r[key]: r[owner] for r in rows}


def test_a_salesforce_export_alone_goes_in_and_out_with_every_owner_unchanged(con, tmp_path):
    rows = _salesforce_rows()
    result = ingest.import_file(con, write_csv(tmp_path / "Account.csv", rows), "accounts")
    assert (result.owners_matched, result.owners_derived, result.no_owner) == (0, 6, 0)
    reps = con.execute("SELECT rep_id, name, derived, home_lat IS NOT NULL FROM reps ORDER BY rep_id").fetchall()
    assert [r[0] for r in reps] == sorted(sf18(o) for o in OWNERS15)  # the CRM's own ids
    assert all(r[2] and r[3] for r in reps) and {r[1] for r in reps} == {f"Owner {k}" for k in range(6)}
    plan.create_baseline(con)
    exported = _exported_owners(con, "salesforce", tmp_path)
    assert exported == {r["Id"]: r["OwnerId"] for r in rows}  # every account, its owner unchanged
    sid = plan.baseline_scenario(con)
    assert len(exports.ownership(con, sid, changed_only=True)[0]) == 0
    held = con.execute("SELECT count(*) FROM rules WHERE scenario_id = ?", [sid]).fetchall()[0][0]
    assert 0 < held < len(rows) // 2  # the minority owners' accounts, held by named-account rules


def test_a_reps_file_with_15_character_ids_enriches_the_derived_reps(con, tmp_path):
    rows = _salesforce_rows()
    ingest.import_file(con, write_csv(tmp_path / "Account.csv", rows), "accounts")
    reps = write_csv(tmp_path / "User.csv", [
        {"Id": o, "Name": f"Rep {k}", "Email": f"rep{k}@example.com", "HomeLatitude": "39.7", "HomeLongitude": "-104.9",
         "CapacityHours": "1600", "Quota": "1000000"} for k, o in enumerate(OWNERS15)])
    ingest.import_file(con, reps, "reps")
    got = con.execute("SELECT rep_id, name, derived, capacity_hours FROM reps ORDER BY rep_id").fetchall()
    assert [r[0] for r in got] == sorted(sf18(o) for o in OWNERS15)  # ids unchanged, no duplicates
    assert all(not r[2] and r[3] == 1600 for r in got) and {r[1] for r in got} == {f"Rep {k}" for k in range(6)}
    plan.create_baseline(con)
    assert _exported_owners(con, "salesforce", tmp_path) == {r["Id"]: r["OwnerId"] for r in rows}


def test_18_character_owners_match_a_reps_file_loaded_first(con, tmp_path):
    ingest.import_file(con, write_csv(tmp_path / "User.csv", [
        {"Id": o, "Name": f"Rep {k}"} for k, o in enumerate(OWNERS15)]), "reps")
    result = ingest.import_file(con, write_csv(tmp_path / "Account.csv", _salesforce_rows()), "accounts")
    assert (result.owners_matched, result.owners_derived) == (6, 0)
    assert con.execute("SELECT count(*) FROM reps").fetchall() == [(6,)]
    owners = {r[0] for r in con.execute("SELECT DISTINCT owner_id FROM accounts").fetchall()}
    assert owners == set(OWNERS15)  # tied to the reps file's ids


def test_a_hubspot_export_alone_keeps_every_company_owner(con, tmp_path):
    owners = ["Jo Rep", "Sam Seller", "Ana Account-Exec", "Li Lead"]
    rows = []
    for i in range(160):
        lat, lng, city, state, zip_ = CITIES[i % 4]
        rows.append({"Record ID": str(9_000_000_000 + i), "Company name": f"Company {i}", "City": city,
                     "State/Region": state, "Postal Code": zip_, "Company owner": owners[(i % 4 + (i % 7 == 0)) % 4]})
    ingest.import_file(con, write_csv(tmp_path / "hubspot-companies.csv", rows), "accounts")
    plan.create_baseline(con)
    assert _exported_owners(con, "hubspot", tmp_path) == {r["Record ID"]: r["Company owner"] for r in rows}


def test_the_demo_baseline_exports_every_owner_as_the_crm_has_it(demo_con):
    sid = plan.baseline_scenario(demo_con)
    plan.create_baseline(demo_con)  # the baseline as this version builds it
    sid = plan.baseline_scenario(demo_con)
    moved, unassigned, no_rep = exports.ownership(demo_con, sid, changed_only=True)
    assert len(moved) == 0 and unassigned == 0 and no_rep == 0
    assert store.counts(demo_con)["accounts"] == len(exports.ownership(demo_con, sid)[0])


@pytest.mark.parametrize("value, key", [("0015e0000001AbC", "0015e0000001AbC"), (sf18("0015e0000001AbC"), "0015e0000001AbC"),
                                        ("100000000000000001", "100000000000000001"), ("Jo Rep", "Jo Rep")])
def test_sf_key_shortens_only_real_18_character_salesforce_ids(con, value, key):
    assert con.execute("SELECT sf_key(?)", [value]).fetchall() == [(key,)]


def test_opportunities_and_rules_match_account_ids_in_either_salesforce_form(con, tmp_path):
    from territory.plans import rules
    rows = _salesforce_rows(8)
    for r in rows:
        r["Id"] = r["Id"][:15]  # the accounts file has 15-character ids ...
    ingest.import_file(con, write_csv(tmp_path / "Account.csv", rows), "accounts")
    opps = write_csv(tmp_path / "Opportunity.csv", [  # ... the opportunities 18-character ones
        {"Id": f"0065e0000{i:06d}", "AccountId": sf18(r["Id"]), "StageName": "Prospecting", "Amount": "1000"}
        for i, r in enumerate(rows)])
    result = ingest.import_file(con, opps, "opportunities")
    assert result.rows_loaded == 8
    stored = {r[0] for r in con.execute("SELECT account_id FROM opportunities").fetchall()}
    assert stored == {r["Id"] for r in rows}  # tied to the accounts as stored
    assert con.execute("SELECT sum(pipeline) FROM accounts").fetchall() == [(8000.0,)]
    plan.create_baseline(con)
    sid = plan.working_scenario(con)
    rule = rules.add_named(con, sid, sf18(rows[0]["Id"]), plan.territories(con, sid)["territory_id"].iloc[0])
    assert con.execute("SELECT account_id FROM rules WHERE rule_id = ?", [rule]).fetchall() == [(rows[0]["Id"],)]
