"""One exception root for the library; subclasses also inherit the matching built-in.

Pages show a ``TerritoryError`` with ``st.error``; the CLI prints its one-line message and
exits non-zero. ``ValidationError`` carries every problem found, so a person can fix a file
in one pass instead of one error at a time.
"""

from __future__ import annotations

from dataclasses import dataclass


class TerritoryError(Exception):
    """Root of every error this library raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one value of an imported file.

    ``row`` is the spreadsheet row (the header is row 1, the first data row is row 2);
    ``None`` for problems with the whole file (e.g. a missing column).
    """

    row: int | None
    column: str
    value: str | None
    reason: str

    def __str__(self) -> str:
        where = f"row {self.row}, column {self.column}" if self.row else f"column {self.column}"
        shown = "" if self.value is None else f" {self.value!r}:"
        return f"{where}:{shown} {self.reason}"


class ValidationError(TerritoryError, ValueError):
    """Input that cannot be loaded; ``problems`` lists every reason, by row and column."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        self.problems = list(problems or [])
        super().__init__(message)

    def __str__(self) -> str:
        head = super().__str__()
        if not self.problems:
            return head
        first = "; ".join(str(p) for p in self.problems[:3])
        more = len(self.problems) - 3
        tail = f" (and {more} more)" if more > 0 else ""
        return f"{head}: {first}{tail}"


class StoreError(TerritoryError, RuntimeError):
    """The database cannot be opened or is newer than this version of the app."""


STALE_PLAN = ("this plan was changed elsewhere (another tab or user) since you last saw it, so nothing was "
              "changed; the page now shows the latest version: check it and repeat your change if it is still needed")


class ConflictError(TerritoryError, RuntimeError):
    """The plan changed since the caller last read it (another tab or user wrote it); nothing was written."""

    def __init__(self, message: str = STALE_PLAN) -> None:
        super().__init__(message)


class DamagedDatabaseError(StoreError):
    """The database file is not a readable DuckDB database: restore a backup."""


class EditRefused(TerritoryError, ValueError):
    """The edit touches only locked cells or territories, or something that does not exist."""


class ForecastError(TerritoryError, ValueError):
    """A revenue series too short or too irregular to forecast."""


class NotFoundError(TerritoryError, KeyError):
    """A scenario, territory or other named thing does not exist."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else "not found"
