"""The Data page's market layer panel: what is loaded, and loading a universe or a cell table."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from territory.errors import TerritoryError
from territory.market import layer
from territory.store import Connection
from territory.ui import feedback, state

MESSAGE = "market_message"


@st.cache_data(show_spinner=False, max_entries=2)
def _status(data_version: int) -> layer.Status | None:
    return layer.status(state.db())  # a pass over the whole layer: once per import, not every rerun


def describe(con: Connection) -> str:
    st_ = _status(state.data_version(con))
    if st_ is None:
        return ("No market layer yet. Load a market universe (every establishment: id, latitude/longitude or ZIP, "
                "industry, employees, revenue or spend) or a cell table from `territory market aggregate`; the demo "
                "has one.")
    return (f"{st_.establishments:,} establishments in {st_.cells:,} cells × industries, {st_.industries} industries, "
            f"market potential ${st_.market_potential / 1e6:,.1f}M; from {Path(st_.source or '').name} "
            f"({str(st_.imported_at)[:16]}).")


def panel(con: Connection) -> None:
    feedback.show(MESSAGE)
    st.text(describe(con))
    st.caption("Files larger than an upload allows (tens of millions of rows) are aggregated outside the app, on "
               "DuckDB or Spark: territory market aggregate UNIVERSE --out CELLS.parquet [--engine spark], then "
               "territory market import CELLS.parquet (docs/market.md).")
    upload = st.file_uploader("Market universe or cell table (CSV or Parquet)", type=["csv", "parquet"],
                              key=state.MARKET_UPLOAD)
    if upload is not None and st.button("Load the market layer", type="primary", key="market_load"):
        with tempfile.TemporaryDirectory(prefix="territory-market-") as folder:
            path = Path(folder) / (Path(upload.name).name or "market.csv")
            path.write_bytes(upload.getvalue())
            with st.spinner("Aggregating the market universe"):
                try:
                    loaded, summary = layer.load(con, path)
                except TerritoryError as exc:
                    feedback.say(MESSAGE, "error", str(exc))
                    st.rerun()
        state.data_changed()
        text = (f"Loaded the market layer: {loaded.establishments:,} establishments in {loaded.cells:,} rows, market "
                f"potential ${loaded.market_potential / 1e6:,.1f}M.")
        problems = summary.problems() if summary is not None else []
        feedback.say(MESSAGE, "warn" if problems else "ok", " ".join([text, *problems]) + ("." if problems else ""))
        st.rerun()
