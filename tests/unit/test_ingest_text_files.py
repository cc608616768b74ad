"""Every file a CRM or a spreadsheet writes imports, or is refused with where and why.

Encodings (UTF-8 with and without BOM, UTF-16 LE/BE with BOM, Windows-1252 also past the first
megabyte, a forced one), mixed line endings, very long cells, an unclosed quote, duplicate column
names; messages and the import history name the user's file, never a server path, and the
scratch copies are gone once the import ends.
"""

from __future__ import annotations

import codecs
import tempfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from territory import cli, store
from territory.data import ingest
from territory.errors import ValidationError
from tests.conftest import SF_HEADER, sf_row

ACCENTED = ["Société Générale", "Café Müller – “Zürich”", "Ñandú € Ltd", "Åsa Östlund"]


def _sf_text(names: list[str], *, newline: str = "\n", extra_rows: int = 0) -> str:
    rows = [sf_row(i + 1, Name=n) for i, n in enumerate(names)]
    rows += [sf_row(1000 + i) for i in range(extra_rows)]
    lines = [",".join(SF_HEADER)] + [",".join(str(r[c]) for c in SF_HEADER) for r in rows]
    return newline.join(lines) + newline


def _names(con) -> list[str]:
    return [r[0] for r in con.execute("SELECT name FROM accounts WHERE name NOT LIKE 'Account %' ORDER BY account_id")
            .fetchall()]


def _scratch_dirs() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("territory-text-*")}


@pytest.mark.parametrize("encoding, bom", [
    ("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("utf-16-le", codecs.BOM_UTF16_LE),
    ("utf-16-be", codecs.BOM_UTF16_BE), ("cp1252", b"")])
def test_salesforce_export_in_each_encoding_keeps_its_accents(con, tmp_path, encoding, bom):
    path = tmp_path / "Account export.csv"
    path.write_bytes(bom + _sf_text(ACCENTED, newline="\r\n").encode(encoding))
    before = _scratch_dirs()
    result = ingest.import_file(con, path, "accounts")
    assert result.rows_loaded == len(ACCENTED)
    assert _names(con) == ACCENTED
    assert _scratch_dirs() == before  # the UTF-8 copy, if one was made, is deleted


def test_windows_1252_past_the_first_megabyte_and_an_undefined_byte(con, tmp_path):
    path = tmp_path / "late.csv"
    text = _sf_text([], extra_rows=14_000) + ",".join(str(v) for v in sf_row(9, Name="Crème brûlée €").values()) + "\n"
    path.write_bytes(text.encode("cp1252").replace("€".encode("cp1252"), b"\x81"))  # 0x81: undefined in 1252
    assert path.stat().st_size > 1 << 20
    result = ingest.import_file(con, path, "accounts")
    assert result.rows_loaded == 14_001 and _names(con) == ["Crème brûlée \x81"]


def test_a_forced_encoding_is_used(con, tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(_sf_text(["Ça va"]).encode("latin-1"))
    ingest.import_file(con, path, "accounts", encoding="latin-1")
    assert _names(con) == ["Ça va"]
    result = CliRunner().invoke(cli.main, ["import", "accounts", str(path), "--encoding", "nope",
                                           "--db", str(tmp_path / "x.duckdb")])
    assert result.exit_code == 2 and "utf-16" in result.output  # the choices are listed


@pytest.mark.parametrize("late", [False, True])
def test_mixed_line_endings_leave_no_carriage_return_in_any_value(con, tmp_path, late):
    head = _sf_text([], extra_rows=15_000 if late else 2)
    tail = _sf_text(ACCENTED).split("\n", 1)[1].replace("\n", "\r\n")  # rows ending in CR LF, after LF ones
    path = tmp_path / "mixed.csv"
    path.write_bytes((head + tail.replace("\r\n", "\r", 1)).encode("utf-8"))
    result = ingest.import_file(con, path, "accounts")
    assert result.rows_loaded == (15_000 if late else 2) + len(ACCENTED)
    assert _names(con) == ACCENTED
    assert con.execute("SELECT count(*) FROM accounts WHERE owner_id LIKE '%\r%' OR name LIKE '%\r%'").fetchall() == [(0,)]


def test_a_very_long_cell_imports_whole(con, tmp_path):
    path = tmp_path / "notes.csv"
    long_name = "N" * 3_000_000
    path.write_text(_sf_text(["Short", long_name]), encoding="utf-8")
    ingest.import_file(con, path, "accounts")
    assert con.execute("SELECT max(length(name)) FROM accounts").fetchall() == [(3_000_000,)]


def test_an_unclosed_quote_is_reported_at_its_row_and_column_and_nothing_loads(con, tmp_path):
    text = _sf_text(["One", "Two", "Three", "Four"]).replace("Three", '"Three and the rest')
    path = tmp_path / "broken.csv"
    path.write_text(text, encoding="utf-8")
    before = store.fingerprint(con)
    with pytest.raises(ValidationError) as caught:
        ingest.import_file(con, path, "accounts")
    (problem,) = caught.value.problems
    assert (problem.row, problem.column) == (4, "Name")  # the header is row 1: "Three" is the third data row
    assert "a quote opened here is never closed" in problem.reason
    assert store.fingerprint(con) == before


@pytest.mark.parametrize("second", ["Name", "NAME"])
def test_duplicate_column_names_are_refused_naming_both_positions(con, tmp_path, second):
    path = tmp_path / "dup.csv"
    path.write_text(f"Id,Name,BillingCity,{second},BillingLatitude,BillingLongitude\n1,a,Denver,b,39.7,-104.9\n")
    with pytest.raises(ValidationError, match="duplicate column names") as caught:
        ingest.import_file(con, path, "accounts")
    assert "columns 2 (B) and 4 (D)" in caught.value.problems[0].reason


def test_duplicate_column_names_in_excel_are_refused_too(con, tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["Id", "Name", "Name", "BillingLatitude", "BillingLongitude"])
    book.active.append(["1", "a", "b", "39.7", "-104.9"])
    book.save(tmp_path / "dup.xlsx")
    with pytest.raises(ValidationError, match="duplicate column names"):
        ingest.import_file(con, tmp_path / "dup.xlsx", "accounts")


def test_messages_and_history_name_the_users_file_not_the_servers_copy(con, tmp_path):
    server_copy = tmp_path / "territory-upload-abc123" / "accounts.csv"
    server_copy.parent.mkdir()
    server_copy.write_text(_sf_text(["Fine"]) + "001X,Bad,Denver,CO,80202,US,999,-104.9,Technology,1,1,005A\n")
    with pytest.raises(ValidationError) as caught:
        ingest.import_file(con, server_copy, "accounts", name="My accounts.csv")
    assert str(caught.value).startswith("My accounts.csv:") and str(tmp_path) not in str(caught.value)
    server_copy.write_text(_sf_text(["Fine"]))
    ingest.import_file(con, server_copy, "accounts", name="My accounts.csv")
    assert con.execute("SELECT source FROM import_log").fetchall() == [("My accounts.csv",)]


def _semicolon(tmp_path, rows: list[tuple[str, str, str]]) -> Path:
    """A European-Excel accounts file: (latitude, longitude, annual revenue) as written."""
    lines = ["Id;Name;BillingLatitude;BillingLongitude;AnnualRevenue"]
    lines += [f"A{i};Account {i};{lat};{lng};{rev}" for i, (lat, lng, rev) in enumerate(rows)]
    path = tmp_path / "eu.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_decimal_separator_is_judged_per_column(con, tmp_path):
    """Coordinates with decimal commas, revenue with points: each column read its own way."""
    path = _semicolon(tmp_path, [("39,7392", "-104,9903", "1200.50"), ("41,8781", "-87,6298", "300000.25")])
    result = ingest.import_file(con, path, "accounts")
    assert result.rows_loaded == 2 and not result.notes
    got = con.execute("SELECT lat, lng, annual_revenue FROM accounts ORDER BY account_id").fetchall()
    assert got == [(39.7392, -104.9903, 1200.5), (41.8781, -87.6298, 300000.25)]


def test_an_ambiguous_column_is_named_and_the_choice_can_be_forced(con, tmp_path):
    path = _semicolon(tmp_path, [("39,7392", "-104,9903", "1,200"), ("41,8781", "-87,6298", "2,500")])
    result = ingest.import_file(con, path, "accounts")
    assert len(result.notes) == 1 and result.notes[0].startswith("annual_revenue: values like 1,200")
    assert "--decimal" in result.notes[0]
    assert con.execute("SELECT annual_revenue FROM accounts ORDER BY account_id").fetchall() == [(1.2,), (2.5,)]
    cli_result = CliRunner().invoke(cli.main, ["import", "accounts", str(path), "--decimal", "point",
                                               "--db", str(tmp_path / "forced.duckdb")])
    assert cli_result.exit_code == 1 and "is not a number" in cli_result.output  # 39,7392 is no point number
    plain = tmp_path / "plain.csv"
    plain.write_text("Id,Name,BillingLatitude,BillingLongitude,AnnualRevenue\nA0,x,39.7,-104.9,\"1,200\"\n")
    ingest.import_file(con, plain, "accounts", decimal="point")
    assert con.execute("SELECT annual_revenue FROM accounts WHERE account_id = 'A0'").fetchall() == [(1200.0,)]


def test_a_row_with_city_and_state_but_no_zip_is_placed_at_its_city(con, tmp_path):
    path = tmp_path / "cities.csv"
    path.write_text("Id,Name,BillingCity,BillingState\nC1,In Boulder,Boulder,CO\nC2,In Nowhere,Nowhereville,CO\n")
    with pytest.raises(ValidationError) as caught:
        ingest.import_file(con, path, "accounts")
    assert [p.row for p in caught.value.problems] == [3]  # only the unknown place is refused
    assert "no known US city" in caught.value.problems[0].reason
    result = ingest.import_file(con, path, "accounts", on_error="skip")
    assert result.rows_loaded == 1
    lat, lng, precision = con.execute("SELECT lat, lng, geocode FROM accounts").fetchall()[0]
    assert precision == "city" and abs(lat - 40.02) < 0.2 and abs(lng + 105.25) < 0.2  # Boulder, CO
    from territory.data import quality
    assert quality.summary(con)["geocode_city"] == 1
