"""The layout keeps its promises: the UI asks the library, it runs no SQL of its own."""

from __future__ import annotations

import re

from territory import settings

SQL = re.compile(r"\.execute\(|\bSELECT\s|\bINSERT\s+INTO\b|\bUPDATE\s+\w+\s+SET\b|\bDELETE\s+FROM\b")


def test_no_sql_under_the_ui_or_the_pages():
    files = sorted((settings.ROOT / "territory" / "ui").glob("*.py")) + sorted((settings.ROOT / "pages").glob("*.py"))
    assert len(files) > 10
    found = [f"{f.relative_to(settings.ROOT)}:{n}" for f in files
             for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1) if SQL.search(line)]
    assert not found, found
