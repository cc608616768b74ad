"""Backups: backup -> restore round-trips exactly; restore refuses what is not a backup and never
replaces data without being told to; snapshots before imports and rebalances, the last few kept."""

from __future__ import annotations

import json
import zipfile

import pytest
from click.testing import CliRunner

from territory import backup, cli, exports, settings, store
from territory.data import ingest
from territory.errors import ValidationError
from territory.plans import edits, plan, scenarios
from tests.conftest import sf_row, write_csv


def _exports(con, tmp_path, tag: str) -> dict[str, bytes]:
    sid = plan.active_scenario(con)
    return {fmt: exports.export(con, sid, fmt, tmp_path / f"{tag}.{fmt}").path.read_bytes()
            for fmt in ("salesforce", "hubspot", "geojson")}


def test_backup_then_restore_gives_the_same_database_and_the_same_exports(demo_con, tmp_path):
    work = plan.working_scenario(demo_con)
    cells = plan.assignments(demo_con, work)["cell"].head(5).astype(int).tolist()
    edits.assign(demo_con, work, cells, None)  # an edit history to keep
    scenarios.promote(demo_con, work)
    made = backup.backup(demo_con, tmp_path / "b.zip")
    assert made.tables["accounts"] == 2_000 and made.path.stat().st_size > 10_000
    fresh = store.connect(tmp_path / "restored.duckdb")
    counts = backup.restore(fresh, made.path)
    assert counts == made.tables
    assert store.fingerprint(fresh) == store.fingerprint(demo_con)
    assert _exports(fresh, tmp_path, "after") == _exports(demo_con, tmp_path, "before")
    assert edits.history(fresh, work) == edits.history(demo_con, work)
    new = scenarios.create(fresh, "After restore", source=work)  # ids continue past the restored ones
    assert new > max(scenarios.listing(demo_con)["scenario_id"])


def test_restore_refuses_what_is_not_a_backup(con, tmp_path):
    fake = tmp_path / "accounts.zip"
    fake.write_text("Id,Name\n1,x\n")
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("readme.txt", "hello")
    newer = tmp_path / "newer.zip"
    with zipfile.ZipFile(newer, "w") as z:
        z.writestr(backup.MANIFEST, json.dumps({"app": "territory", "schema_version": 999}))
        z.writestr("schema.sql", "")
        z.writestr("load.sql", "")
    before = store.fingerprint(con)
    for path, why in ((fake, "not a backup"), (other, "not a backup"), (newer, "newer version")):
        with pytest.raises(ValidationError, match=why):
            backup.restore(con, path)
    assert store.fingerprint(con) == before


def test_restore_never_replaces_data_unless_told_and_keeps_a_snapshot_first(demo_con, tmp_path, con):
    made = backup.backup(con, tmp_path / "empty.zip")  # a backup of an empty database
    before = store.fingerprint(demo_con)
    with pytest.raises(ValidationError, match="already holds 2,000 accounts"):
        backup.restore(demo_con, made.path)
    assert store.fingerprint(demo_con) == before and not backup.snapshots(demo_con)
    backup.restore(demo_con, made.path, replace=True)
    assert store.is_empty(demo_con)
    (snap,) = backup.snapshots(demo_con)
    assert "before-restore" in snap.name
    backup.restore(demo_con, snap, replace=True)  # and back
    assert store.fingerprint(demo_con) == before


def test_snapshots_before_an_import_and_a_rebalance_keep_the_last_few(demo_con, tmp_path, monkeypatch):
    from territory.optimizer import Options
    from territory.plans import rebalance
    monkeypatch.setenv(settings.SNAPSHOTS_ENV_VAR, "2")
    assert not backup.snapshots(demo_con)  # the demo load itself takes none
    file = write_csv(tmp_path / "more.csv", [sf_row(i) for i in range(1, 4)])
    ingest.import_file(demo_con, file, "accounts")
    (first,) = backup.snapshots(demo_con)
    assert "before-import-accounts" in first.name
    sid = plan.working_scenario(demo_con)
    rebalance.accept(demo_con, rebalance.rebalance(demo_con, sid, Options(balance={"potential": 0.2}, time_limit=3)))
    ingest.import_file(demo_con, file, "accounts")
    names = [p.name for p in backup.snapshots(demo_con)]
    assert len(names) == 2 and "before-import-accounts" in names[0] and "before-rebalance" in names[1]
    with zipfile.ZipFile(backup.snapshots(demo_con)[1]) as z:  # the snapshot holds the data as it was then
        assert json.loads(z.read(backup.MANIFEST))["tables"]["accounts"] == 2_003


def test_cli_backup_and_restore(demo_db, tmp_path):
    run = CliRunner().invoke
    zipped = tmp_path / "all.zip"
    result = run(cli.main, ["backup", str(zipped), "--db", str(demo_db)])
    assert result.exit_code == 0, result.output
    assert "backed up 2,000 accounts" in result.output
    target = tmp_path / "new.duckdb"
    result = run(cli.main, ["restore", str(zipped), "--db", str(target)])
    assert result.exit_code == 0 and "restored 2,000 accounts" in result.output, result.output
    result = run(cli.main, ["restore", str(zipped), "--db", str(target)])
    assert result.exit_code == 1 and "--replace" in result.output and len(result.output.strip().splitlines()) == 1
    assert run(cli.main, ["restore", str(zipped), "--db", str(target), "--replace"]).exit_code == 0


def test_restoring_the_oldest_snapshot_works_when_the_new_one_retires_it(demo_con, monkeypatch):
    monkeypatch.setenv(settings.SNAPSHOTS_ENV_VAR, "1")
    only = backup.snapshot(demo_con, "manual")
    before = store.fingerprint(demo_con)
    plan.create_territory(demo_con, plan.working_scenario(demo_con), "After the snapshot")
    backup.restore(demo_con, only, replace=True)  # its own before-restore snapshot replaces it on disk
    assert store.fingerprint(demo_con) == before
    assert [p.name for p in backup.snapshots(demo_con)] != [only.name] and len(backup.snapshots(demo_con)) == 1
