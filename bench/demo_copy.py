"""A benchmark's database: a copy of one the user names, else a fresh demo (built in ``folder``)."""

from __future__ import annotations

import shutil
from pathlib import Path

from territory import demo, store


def database(folder: Path, given: Path | None) -> Path:
    """``folder/bench.duckdb``: a copy of ``given`` (never the user's file itself), else the demo."""
    db = Path(folder) / "bench.duckdb"
    if given:
        shutil.copy(given, db)
    else:
        con = store.connect(db)
        demo.load_demo(con, out_dir=Path(folder) / "demo")
        con.close()
    return db
