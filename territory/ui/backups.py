"""Data page: download a backup of everything, and restore one (an uploaded file or a snapshot)."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import streamlit as st

from territory import backup, settings
from territory.ui import feedback, state

UPLOADED, SNAPSHOT = "an uploaded backup", "an automatic snapshot"


def panel(con) -> None:
    feedback.show(state.BACKUP_MESSAGE)
    left, right = st.columns(2)
    with left:
        st.markdown("**Download a backup**")
        st.caption("Everything in one .zip: accounts, reps, opportunities, revenue, plans, rules and the edit "
                   "history. Automatic snapshots are also taken before every import, rebalance and restore "
                   f"(the last {settings.snapshots_kept()} are kept).")
        st.download_button("Download backup", data=_backup_bytes, file_name=f"territory-backup-{date.today()}.zip",
                           mime="application/zip", key="backup_download", on_click="ignore")
    with right:
        st.markdown("**Restore**")
        source = st.radio("From", [UPLOADED, SNAPSHOT], key="restore_source", horizontal=True)
        if source == UPLOADED:
            ready = st.file_uploader("Backup file (.zip)", type=["zip"], key="restore_upload") is not None
        else:
            snaps = {p.name: p for p in backup.snapshots(con)}
            state.keep_valid("restore_snapshot", snaps)
            ready = st.selectbox("Snapshot", list(snaps), key="restore_snapshot", placeholder="none yet",
                                 index=0 if snaps else None) is not None
        confirm = st.checkbox("Replace all current data with it (a snapshot of the current data is taken first)",
                              key="restore_confirm")
        st.button("Restore", key="restore_go", disabled=not (ready and confirm), on_click=_restore)


def _backup_bytes() -> bytes:
    """Runs when the download is clicked (Streamlit's deferred download)."""
    with tempfile.TemporaryDirectory() as tmp:
        return backup.backup(state.db(), Path(tmp) / "backup.zip").path.read_bytes()


def _restore() -> None:
    st.session_state["restore_confirm"] = False  # one confirmation, one restore
    if st.session_state.get("restore_source") == SNAPSHOT:
        chosen = {p.name: p for p in backup.snapshots(state.db())}.get(st.session_state.get("restore_snapshot"))
        _restore_file(chosen, st.session_state.get("restore_snapshot"))
        return
    upload = st.session_state.get("restore_upload")
    if upload is None:
        return
    with tempfile.TemporaryDirectory() as tmp:  # the upload's copy is deleted once the restore ends
        path = Path(tmp) / "backup.zip"
        path.write_bytes(upload.getvalue())
        _restore_file(path, upload.name)


def _restore_file(path: Path | None, name: str | None) -> None:
    if path is None:
        feedback.say(state.BACKUP_MESSAGE, "error", "Choose a backup first.")
        return

    def run() -> dict:
        return backup.restore(state.db(), path, replace=True)

    if feedback.act(state.BACKUP_MESSAGE, run, lambda counts: (
            f"Restored {name}: {counts.get('accounts', 0):,} accounts and {counts.get('scenarios', 0):,} plans. "
            "The data it replaced is in the newest snapshot.")):
        state.data_changed()
