"""Every table on every page shows its columns in plain words, never a raw column name."""

from __future__ import annotations

import json

import pytest

from tests.app.conftest import open_page

PAGES = ["pages/data.py", "pages/designer.py", "pages/kpis.py", "pages/scenarios.py", "pages/rules.py"]


@pytest.mark.parametrize("script", PAGES)
def test_table_headers_are_plain_words(app, script):
    at, _ = open_page(app, script)
    tables = list(at.dataframe)
    assert tables, f"{script} shows no table"
    for table in tables:
        config = json.loads(table.proto.columns or "{}")
        shown = [config.get(str(c), {}).get("label") or str(c) for c in table.value.columns]
        raw = [h for h in shown if "_" in h]
        assert not raw, f"{script}: raw column names {raw}"
