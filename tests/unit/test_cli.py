"""The command line: every command, its --db, its errors (one line, non-zero exit)."""

import json

from click.testing import CliRunner

from territory.cli import main
from tests.conftest import sf_row, write_csv


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_import_summary_and_cells(tmp_path, accounts_file):
    db = tmp_path / "cli.duckdb"
    result = run("import", "accounts", accounts_file, "--db", db)
    assert result.exit_code == 0, result.output
    assert "imported 10 of 10 accounts rows" in result.output
    result = run("summary", "--json", "--db", db)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["accounts"] == 10 and data["geocode_exact"] == 10
    result = run("cells", "--res", "7", "--json", "--db", db)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert sum(r["accounts"] for r in rows) == 10 and all(len(r["cell"]) == 15 for r in rows)


def test_bad_file_is_one_clear_line_and_non_zero(tmp_path):
    db = tmp_path / "cli.duckdb"
    bad = write_csv(tmp_path / "bad.csv", [sf_row(1, AnnualRevenue="NaN")])
    result = run("import", "accounts", bad, "--db", db)
    assert result.exit_code == 1
    assert "Error: bad.csv: 1 problems in 1 of 1 rows; nothing was imported" in result.output
    assert "row 2, column AnnualRevenue" in result.output
    assert json.loads(run("summary", "--json", "--db", db).output)["accounts"] == 0


def test_map_override_skip_policy_and_rejects_file(tmp_path):
    db = tmp_path / "cli.duckdb"
    rows = [{"Ref": "a1", "Company": "A", "Y": "40", "X": "-75", "Emp": "5"},
            {"Ref": "a2", "Company": "B", "Y": "400", "X": "-75", "Emp": "5"}]
    path = write_csv(tmp_path / "odd.csv", rows)
    rejects = tmp_path / "rej.csv"
    result = run("import", "accounts", path, "--map", "Ref=account_id", "--map", "Y=lat", "--map", "X=lng",
                 "--map", "Emp=employees", "--on-error", "skip", "--rejects", rejects, "--db", db)
    assert result.exit_code == 0, result.output
    assert "imported 1 of 2 accounts rows" in result.output and "1 rejected" in result.output
    assert "3,Y,400," in rejects.read_text()


def test_unknown_resolution_and_bad_map_syntax(tmp_path, accounts_file):
    assert run("cells", "--res", "12", "--db", tmp_path / "x.duckdb").exit_code == 2
    result = run("import", "accounts", accounts_file, "--map", "nonsense", "--db", tmp_path / "x.duckdb")
    assert result.exit_code == 2 and "COLUMN=FIELD" in result.output


def test_demo_command(tmp_path):
    result = run("demo", "--accounts", "1500", "--db", tmp_path / "d.duckdb")
    assert result.exit_code == 0, result.output
    assert "1,500 accounts, 30 reps" in result.output and "1 plans" in result.output
    assert (tmp_path / "demo" / "accounts.csv").is_file()  # the demo files sit beside the database


def test_baseline_from_a_users_own_import(tmp_path, accounts_file):
    """After importing their own accounts a user gets a baseline plan (CLI, or the app by itself)."""
    db = tmp_path / "cli.duckdb"
    assert run("baseline", "--db", db).exit_code == 1  # nothing loaded yet: refused, one line
    run("import", "accounts", accounts_file, "--db", db)
    result = run("baseline", "--res", "7", "--db", db)
    assert result.exit_code == 0, result.output
    assert "1 territories" in result.output and "at resolution 7" in result.output
    plans = run("plans", "--db", db).output
    assert "*" in plans and "Baseline (CRM ownership)" in plans


def test_ensure_baseline_makes_one_only_when_missing(con, accounts_file):
    from territory.data import ingest
    from territory.plans import plan

    assert plan.ensure_baseline(con) is None  # no accounts, no plan
    ingest.import_file(con, accounts_file, "accounts")
    first = plan.ensure_baseline(con)
    assert first is not None and plan.active_scenario(con) == first
    assert plan.ensure_baseline(con) == first


def test_the_cli_starts_without_the_heavy_libraries():
    """`territory --help` and `territory summary` start fast because the CLI loads pandas, scipy,
    statsmodels and friends only in the commands that use them (bench/cli_startup.py has the times)."""
    import subprocess
    import sys
    heavy = ("pandas", "scipy", "statsmodels", "shapely", "h3", "plotly", "folium")
    code = f"import sys, territory.cli; print(','.join(m for m in {heavy!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == ""


def test_a_reader_that_stops_early_gets_no_error(demo_db, tmp_path):
    """`territory cells ... | head -1`: the pipe closes early; the CLI stops quietly, as Unix tools do."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path
    db = tmp_path / "copy.duckdb"
    shutil.copy(demo_db, db)
    territory = Path(sys.executable).with_name("territory")
    done = subprocess.run(f"'{territory}' cells --res 9 --db '{db}' | head -1", shell=True, capture_output=True,
                          text=True, timeout=120)
    assert done.stdout.strip() and "Error" not in done.stderr and "Traceback" not in done.stderr, done.stderr
