"""Real CRM files: delimiters, decimal commas, BOM, CRLF, Excel, Parquet, HubSpot, mappings."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pandas as pd
import pytest

from territory import store
from territory.data import ingest
from territory.errors import ValidationError
from tests.conftest import SF_HEADER, sf_row, write_csv

NASTY = ["O'Brien & Sons <Holdings>", 'Müller "Nord" GmbH', "Robert'); DROP TABLE accounts;--",
         "<script>alert(1)</script>", "東京 Trading 株式会社", "emoji 🚀 ✓"]


def _accounts(con) -> pd.DataFrame:
    return con.execute("SELECT * FROM accounts ORDER BY account_id").df()


def test_semicolon_file_with_decimal_commas(con, tmp_path):
    rows = [sf_row(1, BillingLatitude="39,7392", BillingLongitude="-104,9903", AnnualRevenue="1.234.567,89"),
            sf_row(2, BillingLatitude="39,75", BillingLongitude="-105,0", AnnualRevenue="1200,5")]
    ingest.import_file(con, write_csv(tmp_path / "a.csv", rows, delimiter=";"), "accounts")
    got = _accounts(con)
    assert got["annual_revenue"].tolist() == [1234567.89, 1200.5]
    assert got["lat"].tolist() == [39.7392, 39.75]


def test_tab_separated_utf8_bom_and_crlf(con, tmp_path):
    rows = [sf_row(1, Name=NASTY[4]), sf_row(2)]
    path = write_csv(tmp_path / "a.tsv", rows, delimiter="\t", encoding="utf-8-sig", newline="\r\n")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    result = ingest.import_file(con, path, "accounts")
    assert result.mapping["account_id"] == "Id"  # the BOM did not stick to the first header
    assert _accounts(con)["name"].tolist() == [NASTY[4], "Account 2"]


def test_text_is_stored_verbatim(con, tmp_path):
    rows = [sf_row(i + 1, Name=name) for i, name in enumerate(NASTY)]
    ingest.import_file(con, write_csv(tmp_path / "a.csv", rows), "accounts")
    assert _accounts(con)["name"].tolist() == NASTY
    assert con.execute("SELECT count(*) FROM accounts").fetchall()[0][0] == len(NASTY)


def test_excel_workbook(con, tmp_path):
    frame = pd.DataFrame([sf_row(1), sf_row(2, BillingLatitude="", BillingLongitude="", BillingPostalCode="2134")])
    frame["AnnualRevenue"] = [1_000_000, 2_000_000]  # real numbers in cells
    path = tmp_path / "accounts.xlsx"
    frame.to_excel(path, index=False)
    ingest.import_file(con, path, "accounts")
    got = _accounts(con)
    assert got["annual_revenue"].tolist() == [1_000_000.0, 2_000_000.0]
    assert got["postal_code"].tolist()[1] == "02134" and got["geocode"].tolist() == ["exact", "zip"]


def test_excel_bad_row_is_reported_with_its_spreadsheet_row(con, tmp_path):
    path = tmp_path / "accounts.xlsx"
    pd.DataFrame([sf_row(1), sf_row(2), sf_row(3, AnnualRevenue="n/a")]).to_excel(path, index=False)
    with pytest.raises(ValidationError) as info:
        ingest.import_file(con, path, "accounts")
    assert [(p.row, p.column) for p in info.value.problems] == [(4, "AnnualRevenue")]


def test_parquet_with_typed_columns(con, tmp_path):
    frame = pd.DataFrame([sf_row(1), sf_row(2)])
    frame["BillingLatitude"] = frame["BillingLatitude"].astype(float)
    frame["BillingLongitude"] = frame["BillingLongitude"].astype(float)
    frame["NumberOfEmployees"] = [10, 2000]
    path = tmp_path / "accounts.parquet"
    frame.to_parquet(path)
    ingest.import_file(con, path, "accounts")
    assert _accounts(con)["tier"].tolist() == ["C", "A"]


def test_hubspot_company_export_is_recognised_and_geocoded_by_zip(con, tmp_path):
    rows = [{"Record ID": "901", "Company name": "Beacon Labs", "Industry": "Technology",
             "Number of Employees": "250", "Annual Revenue": "5000000", "City": "Boston",
             "State/Region": "MA", "Postal Code": "2134", "Country/Region": "United States",
             "Company owner": "Jo Rep"}]
    result = ingest.import_file(con, write_csv(tmp_path / "hubspot.csv", rows), "accounts")
    assert result.mapping == {"account_id": "Record ID", "name": "Company name", "industry": "Industry",
                              "employees": "Number of Employees", "annual_revenue": "Annual Revenue",
                              "city": "City", "state": "State/Region", "postal_code": "Postal Code",
                              "country": "Country/Region", "owner_id": "Company owner"}
    row = _accounts(con).iloc[0]
    assert (row["postal_code"], row["geocode"], row["owner_id"]) == ("02134", "zip", "Jo Rep")
    assert row["lat"] == pytest.approx(42.35, abs=0.05) and row["lng"] == pytest.approx(-71.13, abs=0.05)


def test_plain_names_case_and_space_insensitive(con, tmp_path):
    rows = [{" ID ": "a1", "NAME": "Plain", "Lat": "40.0", "LON": "-75.0"}]
    ingest.import_file(con, write_csv(tmp_path / "plain.csv", rows), "accounts")
    assert _accounts(con)[["account_id", "lat", "lng"]].values.tolist() == [["a1", 40.0, -75.0]]


def test_explicit_mapping_overrides_the_guess(con, tmp_path):
    rows = [{"Id": "crm-1", "Acct": "ext-1", "Name": "X", "Y": "40.0", "X": "-75.0"}]
    path = write_csv(tmp_path / "a.csv", rows)
    ingest.import_file(con, path, "accounts",
                       overrides={"Acct": "account_id", "Id": "-", "Y": "lat", "X": "lng"})
    assert _accounts(con)[["account_id", "lat", "lng"]].values.tolist() == [["ext-1", 40.0, -75.0]]


def test_mapping_to_an_unknown_field_is_an_error(con, tmp_path, accounts_file):
    with pytest.raises(ValidationError, match="not a field of accounts"):
        ingest.import_file(con, accounts_file, "accounts", overrides={"Name": "nickname"})


def test_potential_from_file_or_derived_and_flagged(con, tmp_path):
    header = SF_HEADER + ["Sales_Potential__c"]
    rows = [sf_row(1, Sales_Potential__c="75000"), sf_row(2, Sales_Potential__c="", NumberOfEmployees="10"),
            sf_row(3, Sales_Potential__c="", NumberOfEmployees="", AnnualRevenue="1000000")]
    result = ingest.import_file(con, write_csv(tmp_path / "a.csv", rows, header=header), "accounts")
    got = _accounts(con)
    assert got["potential_derived"].tolist() == [False, True, True]
    assert got["potential"].tolist() == [75000.0, 10 * 1500.0, 1_000_000 * 0.004]  # Technology rule
    assert result.potential_derived == 2


def test_reimport_replaces_accounts_by_id(con, tmp_path, accounts_file):
    ingest.import_file(con, accounts_file, "accounts")
    ingest.import_file(con, write_csv(tmp_path / "b.csv", [sf_row(1, Name="New name")]), "accounts")
    assert con.execute("SELECT count(*) FROM accounts").fetchall()[0][0] == 10
    assert con.execute("SELECT name FROM accounts WHERE account_id='00100001'").fetchall() == [("New name",)]


def test_revenue_and_opportunities_refresh_account_facts(con, tmp_path, accounts_file):
    ingest.import_file(con, accounts_file, "accounts")
    months = pd.date_range("2025-01-01", periods=14, freq="MS").strftime("%Y-%m-%d")
    revenue = [{"AccountId": "00100001", "Month": m, "Revenue": "100"} for m in months]
    ingest.import_file(con, write_csv(tmp_path / "r.csv", revenue), "revenue")
    opps = [{"Id": "006A", "AccountId": "00100001", "StageName": "Proposal", "Amount": "$1,000", "Probability": "60"},
            {"Id": "006B", "AccountId": "00100001", "StageName": "Closed Won", "Amount": "500", "Probability": "100"}]
    ingest.import_file(con, write_csv(tmp_path / "o.csv", opps), "opportunities")
    row = con.execute("SELECT revenue_12m, pipeline, weighted_pipeline FROM accounts "
                      "WHERE account_id = '00100001'").fetchall()[0]
    assert row == (1200.0, 1000.0, 600.0)  # 12 of 14 months; the won deal is not pipeline


def test_a_kill_during_the_write_leaves_the_database_as_it_was(db_path, tmp_path, accounts_file):
    con = store.connect(db_path)
    ingest.import_file(con, accounts_file, "accounts")
    before = store.fingerprint(con)
    con.close()
    second = write_csv(tmp_path / "more.csv", [sf_row(i, Name="changed") for i in range(1, 40)])
    script = textwrap.dedent(f"""
        import os
        from territory import store
        from territory.data import ingest
        con = store.connect({str(db_path)!r})
        def die(fraction, message):
            if message == "committing":   # rows are written, the transaction is still open
                os._exit(9)
        ingest.import_file(con, {str(second)!r}, "accounts", progress=die)
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=os.getcwd(), capture_output=True, text=True)
    assert proc.returncode == 9, proc.stderr
    con = store.connect(db_path)
    assert store.fingerprint(con) == before
    con.close()
