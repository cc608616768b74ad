"""The import panel: upload -> detected column mapping (editable) -> validate -> load."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from territory.data import ingest
from territory.data.fields import DATASETS
from territory.errors import Problem, TerritoryError, ValidationError
from territory.store import Connection
from territory.ui import feedback, state

IGNORE = "(ignore)"
ENCODINGS = {"auto": "detect (UTF-8, UTF-16, Windows-1252)", "utf-8": "UTF-8", "utf-16": "UTF-16",
             "windows-1252": "Windows-1252 (Excel on Windows)", "latin-1": "Latin-1 (ISO-8859-1)"}


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    return pd.DataFrame(
        [(p.row, p.column, p.value, p.reason) for p in problems],
        columns=["row", "column", "value", "reason"],
    )


def _save(upload) -> Path:
    """The upload as a file on the server, kept (in this session only) until its import ends."""
    data = upload.getvalue()
    digest = hashlib.sha256(data).hexdigest()[:16]
    held = st.session_state.get(state.IMPORT_FILE)
    if held and held[0] == digest and held[2].exists():
        return held[2]
    discard_upload()
    folder = tempfile.TemporaryDirectory(prefix="territory-upload-")  # removed with the session at the latest
    path = Path(folder.name) / (Path(upload.name).name or "upload.csv")
    path.write_bytes(data)
    st.session_state[state.IMPORT_FILE] = (digest, folder, path)
    return path


def discard_upload() -> None:
    """Delete the server's copy of the upload (after its import, or when another file is chosen)."""
    held = st.session_state.pop(state.IMPORT_FILE, None)
    if held:
        held[1].cleanup()


def _mapping_editor(columns: list[str], guessed: dict[str, str], dataset: str) -> dict[str, str]:
    by_column = {col: fld for fld, col in guessed.items()}
    fields = [f.name for f in DATASETS[dataset]]
    edited = st.data_editor(
        pd.DataFrame({"file column": columns, "field": [by_column.get(c, IGNORE) for c in columns]}),
        column_config={"field": st.column_config.SelectboxColumn(options=[IGNORE, *fields], required=True)},
        disabled=["file column"], hide_index=True, key=f"import_mapping_{dataset}",
        width="stretch",
    )
    return {row["file column"]: ("-" if row["field"] == IGNORE else row["field"]) for _, row in edited.iterrows()}


def import_panel(con: Connection) -> None:
    show_result()
    dataset = st.selectbox("The file holds", list(DATASETS), key=state.IMPORT_DATASET)
    upload = st.file_uploader("CSV, Excel or Parquet export", type=["csv", "tsv", "txt", "xlsx", "parquet"],
                              key=f"{state.IMPORT_UPLOAD}_{st.session_state.get(state.IMPORT_ROUND, 0)}")
    if upload is None:
        discard_upload()
        st.caption("Salesforce, HubSpot and plain column names are recognised; you can change the mapping.")
        return
    encoding = st.selectbox("Text encoding", list(ENCODINGS), format_func=ENCODINGS.get, key=state.IMPORT_ENCODING,
                            help="How a CSV file's characters are read. Detect works for what Excel, Salesforce "
                                 "and HubSpot write; choose one if accents still look wrong.")
    decimal = st.radio("Decimal separator in number columns", ["auto", "point", "comma"], horizontal=True,
                       key=state.IMPORT_DECIMAL, format_func={"auto": "detect per column", "point": "point (1200.50)",
                                                              "comma": "comma (1200,50)"}.get)
    path = _save(upload)
    try:
        pv = ingest.preview(con, path, dataset, encoding=encoding)
    except TerritoryError as exc:
        feedback.notice("error", exc)
        return
    st.caption(f"First rows of {feedback.plain(upload.name)}")
    st.dataframe(pv.head, hide_index=True)
    st.markdown("**Column mapping** (detected; change any row)")
    overrides = _mapping_editor(pv.columns, pv.mapping, dataset)
    policy = st.radio("If some rows are bad", ingest.POLICIES, horizontal=True, key=state.IMPORT_POLICY,
                      format_func={"reject": "load nothing", "skip": "load the good rows, list the rest"}.get)
    if st.button("Validate and load", type="primary", key="import_go"):
        bar = st.progress(0.0, text="starting")
        try:
            st.session_state[state.IMPORT_RESULT] = _load(con, path, dataset, overrides, policy, upload.name,
                                                          lambda f, m: bar.progress(min(f, 1.0), text=m),
                                                          encoding=encoding, decimal=decimal)
        finally:
            bar.empty()
            discard_upload()  # the server keeps no copy of an upload once its import has ended
        if st.session_state[state.IMPORT_RESULT][0] == "ok":  # loaded: an empty uploader for the next file
            st.session_state[state.IMPORT_ROUND] = st.session_state.get(state.IMPORT_ROUND, 0) + 1
        st.rerun()  # the page's numbers were read before the import: show them fresh, with the result on top


def _load(con, path, dataset, overrides, policy, name, progress, **how) -> tuple[str, str, list[Problem]]:
    """Import the upload (``how``: encoding, decimal); ("ok" or "error", message, problems by row and column)."""
    try:
        result = ingest.import_file(con, path, dataset, overrides=overrides, on_error=policy, name=name,
                                    progress=progress, **how)
    except ValidationError as exc:
        return "error", exc.args[0], exc.problems
    except TerritoryError as exc:
        return "error", str(exc), []
    state.data_changed()
    message = f"Imported {result.rows_loaded:,} of {result.rows_read:,} rows into {dataset}."
    if result.rows_rejected:
        message += f" {result.rows_rejected:,} rows were rejected (listed below)."
    if ingest.owners_line(result):
        message += f" {ingest.owners_line(result)}."
    for note in result.notes:
        message += f" Note: {note}."
    return "ok", message, result.problems


def show_result() -> None:
    outcome = st.session_state.get(state.IMPORT_RESULT)
    if not outcome:
        return
    kind, message, problems = outcome
    feedback.notice(kind, message)
    if problems:
        frame = problems_frame(problems)
        st.dataframe(frame, hide_index=True)
        st.download_button("Download the problems as CSV", frame.to_csv(index=False), "rejects.csv",
                           mime="text/csv", key="import_rejects")
