"""Every bad-file case gives a row-level report, and 'reject' leaves the database unchanged."""

from __future__ import annotations

import pytest

from territory import store
from territory.data import ingest
from territory.errors import ValidationError
from tests.conftest import SF_HEADER, sf_row, write_csv


def _reject(con, path, dataset="accounts"):
    """Import with the default policy; return the error, asserting the database did not change."""
    before = store.fingerprint(con)
    with pytest.raises(ValidationError) as info:
        ingest.import_file(con, path, dataset)
    assert store.fingerprint(con) == before, "a rejected import changed the database"
    return info.value


def _problem(err: ValidationError, row: int, column: str):
    found = [p for p in err.problems if p.row == row and p.column == column]
    assert found, f"no problem reported at row {row}, column {column}: {err.problems}"
    return found[0]


def test_out_of_range_latitude_is_reported_by_row_and_column(con, tmp_path):
    rows = [sf_row(1), sf_row(2, BillingLatitude="123.4", BillingLongitude="200")]
    err = _reject(con, write_csv(tmp_path / "a.csv", rows))
    assert "outside -90..90" in _problem(err, 3, "BillingLatitude").reason
    assert "outside -180..180" in _problem(err, 3, "BillingLongitude").reason
    assert _problem(err, 3, "BillingLatitude").value == "123.4"


def test_swapped_coordinates_out_of_range_are_called_swapped(con, tmp_path):
    rows = [sf_row(1, BillingLatitude="-104.99", BillingLongitude="39.7")]
    err = _reject(con, write_csv(tmp_path / "a.csv", rows))
    assert "swapped" in _problem(err, 2, "BillingLatitude").reason


def test_swapped_coordinates_in_range_but_outside_the_us_are_called_swapped(con, tmp_path):
    # Miami given as (lng, lat): -80.19 is a valid latitude, but in Antarctica.
    rows = [sf_row(1, BillingLatitude="-80.19", BillingLongitude="25.76")]
    err = _reject(con, write_csv(tmp_path / "a.csv", rows))
    assert "swapped" in _problem(err, 2, "BillingLatitude").reason


def test_account_with_no_location_at_all(con, tmp_path):
    rows = [sf_row(1), sf_row(2, BillingLatitude="", BillingLongitude="", BillingPostalCode="", BillingCity="")]
    err = _reject(con, write_csv(tmp_path / "a.csv", rows))
    assert "no location" in _problem(err, 3, "BillingLatitude").reason


def test_zero_zero_coordinates_without_a_zip_have_no_usable_location(con, tmp_path):
    rows = [sf_row(1), sf_row(2, BillingLatitude="0", BillingLongitude="0", BillingPostalCode="", BillingCity="")]
    err = _reject(con, write_csv(tmp_path / "a.csv", rows))
    assert "no usable location" in _problem(err, 3, "BillingLatitude").reason


def test_zero_zero_coordinates_fall_back_to_the_zip(con, tmp_path):
    rows = [sf_row(1, BillingLatitude="0", BillingLongitude="0", BillingPostalCode="80202")]
    ingest.import_file(con, write_csv(tmp_path / "a.csv", rows), "accounts")
    assert con.execute("SELECT geocode, round(lat) FROM accounts").fetchall() == [("zip", 40.0)]


def test_unknown_zip_without_coordinates(con, tmp_path):
    rows = [sf_row(1, BillingLatitude="", BillingLongitude="", BillingPostalCode="00000", BillingState="")]
    err = _reject(con, write_csv(tmp_path / "a.csv", rows))
    assert "not a known US ZIP" in _problem(err, 2, "BillingPostalCode").reason


def test_duplicate_ids_name_the_first_row(con, tmp_path):
    rows = [sf_row(1), sf_row(2), sf_row(3, Id="00100001")]
    err = _reject(con, write_csv(tmp_path / "a.csv", rows))
    assert "first seen on row 2" in _problem(err, 4, "Id").reason


@pytest.mark.parametrize("value", ["lots", "NaN", "1.2.3", "inf", "12abc"])
def test_non_numeric_values_are_rejected(con, tmp_path, value):
    err = _reject(con, write_csv(tmp_path / "a.csv", [sf_row(1, AnnualRevenue=value)]))
    assert "not a number" in _problem(err, 2, "AnnualRevenue").reason


def test_blank_required_text_and_blank_numbers(con, tmp_path):
    rows = [sf_row(1, Name="   ", AnnualRevenue="  "), sf_row(2, Name="\tAcme")]
    err = _reject(con, write_csv(tmp_path / "a.csv", rows))
    assert "is empty" in _problem(err, 2, "Name").reason
    assert [(p.row, p.column) for p in err.problems] == [(2, "Name")]  # a blank number is just empty


def test_negative_numbers_are_rejected(con, tmp_path):
    err = _reject(con, write_csv(tmp_path / "a.csv", [sf_row(1, NumberOfEmployees="-5")]))
    assert "negative" in _problem(err, 2, "NumberOfEmployees").reason


def test_currency_text_is_parsed(con, tmp_path):
    rows = [sf_row(1, AnnualRevenue="$1,200,000"), sf_row(2, AnnualRevenue=" 2,500.50 USD")]
    ingest.import_file(con, write_csv(tmp_path / "a.csv", rows), "accounts")
    got = dict(con.execute("SELECT account_id, annual_revenue FROM accounts").fetchall())
    assert got == {"00100001": 1_200_000.0, "00100002": 2_500.5}


def test_empty_file(con, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    err = _reject(con, path)
    assert "empty" in str(err)


def test_header_only_file(con, tmp_path):
    path = tmp_path / "header.csv"
    path.write_text(",".join(SF_HEADER) + "\n", encoding="utf-8")
    err = _reject(con, path)
    assert "no data rows" in str(err)


def test_missing_required_columns_lists_them_and_what_was_recognised(con, tmp_path):
    rows = [{"Name": "Acme", "BillingCity": "Denver"}]
    err = _reject(con, write_csv(tmp_path / "a.csv", rows))
    text = str(err)
    assert "account_id" in text and "lat+lng, postal_code or city+state" in text
    assert "Name -> name" in text and "BillingCity -> city" in text


def test_every_problem_is_collected_in_one_pass(con, tmp_path):
    rows = [sf_row(1, AnnualRevenue="x"), sf_row(2), sf_row(3, NumberOfEmployees="-1"),
            sf_row(4, BillingLatitude="95", BillingLongitude="10")]
    err = _reject(con, write_csv(tmp_path / "a.csv", rows))
    assert {p.row for p in err.problems} == {2, 4, 5}
    assert "3 of 4 rows" in str(err)


def test_skip_policy_loads_good_rows_and_writes_rejects(con, tmp_path):
    rows = [sf_row(1), sf_row(2, AnnualRevenue="lots"), sf_row(3)]
    rejects = tmp_path / "rejects.csv"
    result = ingest.import_file(con, write_csv(tmp_path / "a.csv", rows), "accounts",
                                on_error="skip", rejects_path=rejects)
    assert (result.rows_loaded, result.rows_rejected) == (2, 1)
    ids = [r[0] for r in con.execute("SELECT account_id FROM accounts ORDER BY 1").fetchall()]
    assert ids == ["00100001", "00100003"]
    lines = rejects.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "row,column,value,reason"
    assert lines[1].startswith("3,AnnualRevenue,lots,")


def test_reject_after_earlier_import_keeps_earlier_data(con, tmp_path, accounts_file):
    ingest.import_file(con, accounts_file, "accounts")
    bad = write_csv(tmp_path / "bad.csv", [sf_row(1, Name="Renamed"), sf_row(20, AnnualRevenue="?")])
    _reject(con, bad)
    assert con.execute("SELECT name FROM accounts WHERE account_id = '00100001'").fetchall() == [("Account 1",)]


def test_unknown_account_in_opportunities(con, tmp_path, accounts_file):
    ingest.import_file(con, accounts_file, "accounts")
    rows = [{"Id": "006A", "AccountId": "00100001", "StageName": "Proposal", "Amount": "100", "Probability": "60"},
            {"Id": "006B", "AccountId": "nope", "StageName": "Proposal", "Amount": "100", "Probability": "60"}]
    err = _reject(con, write_csv(tmp_path / "o.csv", rows), "opportunities")
    assert "unknown account" in _problem(err, 3, "AccountId").reason


def test_probability_and_dates_are_checked(con, tmp_path, accounts_file):
    ingest.import_file(con, accounts_file, "accounts")
    rows = [{"Id": "006A", "AccountId": "00100001", "StageName": "Proposal", "Amount": "100",
             "Probability": "160", "CloseDate": "31/31/2026"}]
    err = _reject(con, write_csv(tmp_path / "o.csv", rows), "opportunities")
    assert "outside 0..100" in _problem(err, 2, "Probability").reason
    assert "not a date" in _problem(err, 2, "CloseDate").reason
