"""`territory market aggregate | import | status` as a user runs them: one line per outcome, no
traceback, nothing written by a refused import."""

from __future__ import annotations

import json

from click.testing import CliRunner

from territory import store
from territory.cli import main
from tests.unit.test_market import HAND, _universe


def test_aggregate_import_and_status_from_the_command_line(tmp_path):
    universe = _universe(tmp_path, HAND, "universe.csv")
    db = str(tmp_path / "m.duckdb")
    runner = CliRunner()
    done = runner.invoke(main, ["market", "aggregate", str(universe), "--out", str(tmp_path / "cells.parquet"), "--json"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    assert (report["rows"], report["unlocated"], report["unreadable"], report["engine"]) == (8, 2, 1, "duckdb")
    assert any("no valid coordinates" in p for p in report["problems"])
    assert runner.invoke(main, ["market", "status", "--db", db]).output.startswith("no market layer")
    done = runner.invoke(main, ["market", "import", str(tmp_path / "cells.parquet"), "--db", db])
    assert done.exit_code == 0 and "6 establishments" in done.output, done.output
    assert "6 establishments" in runner.invoke(main, ["market", "status", "--db", db]).output
    before = store.fingerprint(store.connect(db))
    refused = runner.invoke(main, ["market", "import", str(universe), "--db", db])
    assert refused.exit_code == 1 and "aggregate the universe first" in refused.output
    assert "Traceback" not in refused.output and len(refused.output.strip().splitlines()) == 1
    assert store.fingerprint(store.connect(db)) == before
    wrong = runner.invoke(main, ["market", "aggregate", str(universe), "--out", "x.parquet", "--master", "local[2]"])
    assert wrong.exit_code == 1 and "--master is for the Spark engine" in wrong.output
