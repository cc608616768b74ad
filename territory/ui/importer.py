"""The import panel: upload -> detected column mapping (editable) -> validate -> load."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from territory import ingest
from territory.errors import Problem, TerritoryError, ValidationError
from territory.fields import DATASETS
from territory.store import Connection
from territory.ui import feedback, state

_UPLOAD_DIR = Path(tempfile.gettempdir()) / "territory-uploads"
IGNORE = "(ignore)"


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    return pd.DataFrame(
        [(p.row, p.column, p.value, p.reason) for p in problems],
        columns=["row", "column", "value", "reason"],
    )


def _save(upload) -> Path:
    data = upload.getvalue()
    digest = hashlib.sha256(data).hexdigest()[:16]
    path = _UPLOAD_DIR / digest / Path(upload.name).name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return path


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
    dataset = st.selectbox("The file holds", list(DATASETS), key=state.IMPORT_DATASET)
    upload = st.file_uploader("CSV, Excel or Parquet export", type=["csv", "tsv", "txt", "xlsx", "parquet"],
                              key=state.IMPORT_UPLOAD)
    if upload is None:
        st.caption("Salesforce, HubSpot and plain column names are recognised; you can change the mapping.")
        return
    path = _save(upload)
    try:
        pv = ingest.preview(con, path, dataset)
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
            result = ingest.import_file(con, path, dataset, overrides=overrides, on_error=policy,
                                        progress=lambda f, m: bar.progress(min(f, 1.0), text=m))
        except ValidationError as exc:
            bar.empty()
            st.session_state[state.IMPORT_RESULT] = ("error", exc.args[0], exc.problems)
        except TerritoryError as exc:
            bar.empty()
            st.session_state[state.IMPORT_RESULT] = ("error", str(exc), [])
        else:
            bar.empty()
            message = f"Imported {result.rows_loaded:,} of {result.rows_read:,} rows into {dataset}."
            if result.rows_rejected:
                message += f" {result.rows_rejected:,} rows were rejected (listed below)."
            st.session_state[state.IMPORT_RESULT] = ("ok", message, result.problems)
            state.data_changed()
    show_result()


def show_result() -> None:
    outcome = st.session_state.get(state.IMPORT_RESULT)
    if not outcome:
        return
    kind, message, problems = outcome
    (st.error if kind == "error" else st.success)(message)
    if problems:
        frame = problems_frame(problems)
        st.dataframe(frame, hide_index=True)
        st.download_button("Download the problems as CSV", frame.to_csv(index=False), "rejects.csv",
                           mime="text/csv", key="import_rejects")
