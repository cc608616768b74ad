"""The temporary relations one import makes, handed from stage to stage as one object.

Reading (:mod:`.readers`), typing (:mod:`.parsing`), checking (:mod:`.validation`), locating
(:mod:`.locating`) and writing (:mod:`.writers`) each get the import's :class:`Staging` and read
or make the relations it names; none of them knows another's table by a literal name, and
:meth:`Staging.drop` removes whatever the import made, whichever path it took.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from territory.store import Connection


@dataclass
class Staging:
    sample: str = "_sample"  # the first rows of the number columns, as text (to judge decimal separators)
    source: str = "_src"  # one-pass load: the file as its reader types it
    typed: str = "_typed"  # one-pass load: the fields as the checks expect them
    parsed: str = "_parsed"  # full check: each field as text and typed value, in file order
    problems: str = "_problems"  # full check: (_row, column_name, value, reason) of every problem found
    located: str = "_loc"  # full check: each row's location by file position
    good: str = "_good"  # the rows to write, typed and located
    made: dict[str, str] = field(default_factory=dict)  # relation -> TABLE, VIEW or ARROW (registered)

    def table(self, con: Connection, name: str, select: str, params: list | dict | None = None) -> None:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {select}", params)
        self.made[name] = "TABLE"

    def view(self, con: Connection, name: str, select: str, params: list | dict | None = None) -> None:
        con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {select}", params)
        self.made[name] = "VIEW"

    def arrow(self, con: Connection, name: str, data: pa.Table) -> None:
        con.register(name, data)
        self.made[name] = "ARROW"

    def problems_table(self, con: Connection) -> None:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {self.problems} "
                    "(_row BIGINT, column_name VARCHAR, value VARCHAR, reason VARCHAR)")
        self.made[self.problems] = "TABLE"

    def drop(self, con: Connection) -> None:
        """Remove every relation this import made (views first: they read the tables)."""
        for name, kind in sorted(self.made.items(), key=lambda item: item[1] != "VIEW"):
            if kind == "ARROW":
                con.unregister(name)
            else:
                con.execute(f"DROP {kind} IF EXISTS {name}")
        self.made.clear()
