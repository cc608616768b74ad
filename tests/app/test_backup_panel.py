"""The Data page's backup panel: restore needs a confirmation, then brings the data back as it was."""

from __future__ import annotations

from territory import backup, store
from territory.plans import plan
from tests.app.conftest import open_page


def test_restore_a_snapshot_from_the_data_page(app):
    at, db = open_page(app, "pages/data.py")
    con = store.connect(db)
    try:
        sid = plan.working_scenario(con)
        tid = plan.territories(con, sid)["territory_id"].iloc[0]
        assert backup.snapshot(con, "manual") is not None
        kept = store.fingerprint(con)
        plan.update_territory(con, sid, tid, name="Changed after the snapshot")
    finally:
        con.close()
    at.run()
    at.radio(key="restore_source").set_value("an automatic snapshot").run()
    assert at.button(key="restore_go").disabled  # not without the confirmation
    at.checkbox(key="restore_confirm").check().run()
    at.button(key="restore_go").click().run()
    assert not at.exception, at.exception
    assert "Restored" in at.success[0].value and "2,000 accounts" in at.success[0].value
    con = store.connect(db)
    try:
        assert "Changed after the snapshot" not in set(plan.territories(con, sid)["name"])
        assert store.fingerprint(con)["territories"] == kept["territories"]
        assert any("before-restore" in p.name for p in backup.snapshots(con))  # what it replaced is kept
    finally:
        con.close()
    assert at.checkbox(key="restore_confirm").value is False  # one confirmation, one restore
