"""`territory sizing | quota | segments` on the two-rep book (``TINY_DOC``): figures, files, errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from territory.cli import main


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def tiny_db(tiny_con, db_path):
    tiny_con.close()  # the command opens the file itself
    return db_path


def test_sizing_prints_the_formula_and_json_the_figures(tiny_db):
    result = run("sizing", "--revenue-target", 1000, "--ramp-months", 6, "--attrition", 0.2, "--db", tiny_db)
    assert result.exit_code == 0, result.output
    assert "reps by revenue = target / (quota per rep × attainment) = 1,000 / (150 × 85%) = 7.84" in result.output
    assert "reps today 2, needed 11 (+9)" in result.output
    data = json.loads(run("sizing", "--json", "--utilisation", 0.5, "--db", tiny_db).output)
    assert data["reps_today"] == 2 and data["fte_revenue"] is None
    assert data["fte_workload"] == pytest.approx(data["workload_hours"] / 500)
    assert {r["region"] for r in data["regions"]} == {"West", "Central"}


def test_a_what_if_needs_a_name_and_bad_options_say_what_to_do(tiny_db):
    result = run("sizing", "--what-if", 3, "--db", tiny_db)
    assert result.exit_code == 2 and "add --save-as NAME" in result.output
    result = run("sizing", "--utilisation", 1.5, "--db", tiny_db)
    assert result.exit_code == 2 and "--utilisation" in result.output
    result = run("quota", "--method", "potential", "--out", "quotas.pdf", "--db", tiny_db)
    assert result.exit_code == 1 and "write a .csv or an .xlsx file" in result.output
    assert "Traceback" not in result.output


def test_quota_splits_the_company_number_and_saves_the_rule(tiny_db, tmp_path):
    out = tmp_path / "quotas.csv"
    result = run("quota", "--method", "potential", "--company", 1000, "--out", out, "--json", "--db", tiny_db)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["company_number"] == pytest.approx(1000) and not data["saved"]
    assert sorted(round(t["quota"]) for t in data["territories"]) == [400, 600]
    assert "Quota $" in out.read_text(encoding="utf-8-sig")
    # not saved: the plan still uses the reps' quotas; --save stores the rule
    assert sorted(round(t["quota"]) for t in json.loads(run("quota", "--json", "--db", tiny_db).output)["territories"]) \
        == [100, 200]
    assert run("quota", "--method", "history", "--growth", 10, "--save", "--db", tiny_db).exit_code == 0
    data = json.loads(run("quota", "--json", "--db", tiny_db).output)
    assert data["method"] == "history" and sorted(round(t["quota"]) for t in data["territories"]) == [132, 1980]


def test_segments_and_key_accounts_to_a_file(tiny_db, tmp_path):
    out = tmp_path / "keys.xlsx"
    result = run("segments", "--territory", "Nobody", "--db", tiny_db)
    assert result.exit_code == 2 and "no territory named 'Nobody'" in result.output
    data = json.loads(run("segments", "--json", "--db", tiny_db).output)
    assert data["thresholds"] == {"potential": 2500, "penetration": pytest.approx(0.192)}
    ben = next(t for t in data["territories"] if t["maintain_accounts"] == 2)
    result = run("segments", "--territory", ben["territory"], "--out", out, "--json", "--db", tiny_db)
    assert result.exit_code == 0, result.output
    keys = json.loads(result.output)["key_accounts"]
    assert [k["account_id"] for k in keys] == ["A4", "A3"] and out.stat().st_size > 0


def test_names_with_control_characters_cannot_drive_the_terminal(tiny_db):
    import duckdb

    con = duckdb.connect(str(tiny_db))
    con.execute("UPDATE territories SET name = 'Evil' || chr(27) || '[31m red' WHERE rep_id = 'R1'")
    con.close()
    result = run("quota", "--db", tiny_db)
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "Evil\\x1b[31m red" in result.output


def test_json_is_strict_json_when_a_territory_has_no_potential(tiny_db):
    import duckdb

    con = duckdb.connect(str(tiny_db))
    con.execute("UPDATE accounts SET potential = 0 WHERE account_id IN ('A1', 'A2')")  # Ana's territory: none
    con.close()
    result = run("quota", "--json", "--db", tiny_db)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output, parse_constant=lambda c: pytest.fail(f"{c} is not JSON"))["territories"]
    assert any(r["quota_per_potential"] is None for r in rows)
    result = run("quota", "--company", 100, "--db", tiny_db)
    assert result.exit_code == 2 and "add --method" in result.output


def test_an_effective_date_needs_a_plan_to_take_over_from_and_writes_nothing_without(tiny_db):
    import duckdb

    result = run("quota", "--effective-date", "2026-07-01", "--db", tiny_db)
    assert result.exit_code == 1 and "copied from no plan" in result.output
    con = duckdb.connect(str(tiny_db))
    assert con.execute("SELECT count(effective_date) FROM scenarios").fetchone() == (0,)
    con.close()
