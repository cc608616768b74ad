"""The one-pass load of a clean accounts file stores exactly what the full check would, and a
file it cannot vouch for falls back to the full check without leaving a trace."""

from __future__ import annotations

import logging

import pandas as pd
import pytest

from territory import store
from territory.data import ingest
from territory.errors import ValidationError
from tests.conftest import sf_row, write_csv

# a clean file with every way a row finds its location
ROWS = [
    sf_row(1),                                                                   # exact coordinates
    sf_row(2, BillingLatitude="", BillingLongitude="", BillingPostalCode="2134"),  # ZIP lost its zero
    sf_row(3, BillingLatitude="0", BillingLongitude="0", BillingPostalCode="10001-1234"),  # 0/0: the ZIP
    sf_row(4, BillingCountry="Germany", BillingLatitude="52.52", BillingLongitude="13.40",
           BillingPostalCode=""),                                                  # outside the US
    sf_row(5, AnnualRevenue="", NumberOfEmployees=""),                             # the fallback potential
    sf_row(6, Name='O\'Brien, "Müller" <b>&</b> 東京', Industry=""),          # quoted cell
]


def _stored(con) -> pd.DataFrame:
    return con.execute("SELECT * EXCLUDE (import_id) FROM accounts ORDER BY account_id").df()


@pytest.mark.parametrize(("delimiter", "newline", "encoding"), [(",", "\n", "utf-8"), ("\t", "\r\n", "utf-8-sig")])
def test_a_clean_file_is_read_once_and_stored_as_the_full_check_stores_it(tmp_path, caplog, delimiter, newline,
                                                                          encoding):
    csv_file = write_csv(tmp_path / "a.csv", ROWS, delimiter=delimiter, newline=newline, encoding=encoding)
    xlsx_file = tmp_path / "a.xlsx"
    pd.DataFrame(ROWS).to_excel(xlsx_file, index=False)  # Excel: the full check

    one = store.connect(tmp_path / "one.duckdb")
    with caplog.at_level(logging.INFO, logger="territory.data.ingest"):
        result = ingest.import_file(one, csv_file, "accounts")
    assert "in one pass" in caplog.text
    full = store.connect(tmp_path / "full.duckdb")
    ingest.import_file(full, xlsx_file, "accounts")

    assert (result.rows_read, result.rows_loaded, result.geocoded_by_zip, result.potential_derived) == (6, 6, 2, 6)
    got, expected = _stored(one), _stored(full)
    pd.testing.assert_frame_equal(got, expected)
    assert got["geocode"].tolist() == ["exact", "zip", "zip", "exact", "exact", "exact"]
    assert got["postal_code"].tolist()[1:3] == ["02134", "10001"]
    assert (got["cell"] > 0).all()
    one.close()
    full.close()


@pytest.mark.parametrize("bad", [{"AnnualRevenue": "$1,200"}, {"AnnualRevenue": "-5"}, {"Id": "00100001"},
                                 {"BillingLatitude": "", "BillingLongitude": "", "BillingPostalCode": "99999",
                                  "BillingCity": ""}])
def test_a_file_it_cannot_vouch_for_gets_the_full_report_and_leaves_no_trace(con, tmp_path, bad):
    ingest.import_file(con, write_csv(tmp_path / "first.csv", [sf_row(1)]), "accounts")
    before = store.fingerprint(con)
    rows = [sf_row(i) for i in range(1, 3001)]
    rows[-1].update(bad)  # the last row, long after the load has started writing
    path = write_csv(tmp_path / "b.csv", rows)
    if "$" in bad.get("AnnualRevenue", ""):  # currency text is fine: the full path parses it
        assert ingest.import_file(con, path, "accounts").rows_loaded == 3000
        return
    with pytest.raises(ValidationError) as info:
        ingest.import_file(con, path, "accounts")
    assert [p.row for p in info.value.problems] == [3001]  # the header is row 1
    assert store.fingerprint(con) == before
    # nothing was used up either: the next import gets the next import id
    assert ingest.import_file(con, write_csv(tmp_path / "c.csv", [sf_row(2)]), "accounts").import_id == 2
