"""Aggregate a market universe file to a cell table: DuckDB (the default) or Spark.

DuckDB streams the file in batches of ``BATCH_ROWS`` through :func:`universe.partial` and adds
the partial sums up in a scratch database (which spills to disk past memory), so a file far
larger than memory runs on a laptop. Spark (:mod:`territory.market.spark`) runs the same
partial function in its Python workers and adds up with its own ``groupBy``: the same job on a
laptop (``local[*]``) or a cluster (``--master``). Both write the cell table
(:data:`universe.CELL_SCHEMA`): DuckDB one Parquet file sorted by cell and industry, Spark a
Parquet folder in no order (the way Spark writes to a data lake). :func:`read_cells` reads either,
sorted.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa

from territory.errors import ValidationError
from territory.market import universe

BATCH_ROWS = 1_000_000
ENGINES = ("duckdb", "spark")
Progress = Callable[[int], None]  # establishments read so far


def _quoted(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def aggregate(path: str | Path, out: str | Path, *, engine: str = "duckdb", master: str | None = None,
              progress: Progress | None = None) -> universe.Summary:
    """Aggregate the universe at ``path`` into the cell table ``out``; what was read and left out."""
    if engine not in ENGINES:
        raise ValidationError(f"unknown engine {engine!r}: use {' or '.join(ENGINES)}")
    if engine == "spark":
        from territory.market import spark  # pyspark and Java are needed only here

        return spark.aggregate(path, out, master=master or "local[*]")
    if master:
        raise ValidationError("--master is for the Spark engine: add --engine spark")
    return aggregate_duckdb(path, out, progress=progress)


def aggregate_duckdb(path: str | Path, out: str | Path, *, batch_rows: int = BATCH_ROWS,
                     progress: Progress | None = None) -> universe.Summary:
    started = time.perf_counter()
    function, target = universe.source(path)
    options = ", all_varchar = true, header = true" if function == "read_csv" else ""
    with tempfile.TemporaryDirectory(prefix="market-") as scratch:
        con = duckdb.connect()
        con.execute(f"SET temp_directory = '{scratch}'")  # a path this module made, not user text
        try:
            scan = f"{function}($path{options})"
            columns = [d[0] for d in con.execute(f"SELECT * FROM {scan} LIMIT 0", {"path": target}).description]
            fields = universe.mapping(columns)
            select = ", ".join(f"{_quoted(col)} AS {name}" for name, col in fields.items())
            reader = con.sql(f"SELECT {select} FROM {scan}", params={"path": target}).to_arrow_reader(batch_rows)
            adder = con.cursor()
            adder.execute("CREATE TABLE parts (cell BIGINT, industry VARCHAR, establishments BIGINT, employees BIGINT,"
                          " market_potential BIGINT, unreadable BIGINT, example VARCHAR)")
            read = 0
            for batch in reader:
                part = universe.partial(batch)
                adder.register("_part", part)
                adder.execute("INSERT INTO parts SELECT * FROM _part")
                adder.unregister("_part")
                read += batch.num_rows
                if progress:
                    progress(read)
        except duckdb.Error as exc:
            raise ValidationError(f"{Path(path).name} could not be read: {exc}") from exc
        cells = adder.sql(
            "SELECT cell, industry, sum(establishments)::BIGINT AS establishments, sum(employees)::BIGINT AS employees,"
            " sum(market_potential)::BIGINT AS market_potential FROM parts"
            f" WHERE cell <> {universe.NOWHERE} GROUP BY ALL ORDER BY cell, industry NULLS FIRST")
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        cells.to_parquet(str(out))
        totals = adder.execute(
            "SELECT sum(establishments) AS rows, sum(establishments) FILTER (WHERE cell = $nowhere) AS unlocated,"
            " sum(unreadable) AS unreadable, min(example) AS example FROM parts",
            {"nowhere": universe.NOWHERE})
        totals = dict(zip([d[0] for d in totals.description], totals.fetchone()))
        written = adder.execute("SELECT sum(num_rows) FROM parquet_file_metadata($out)", {"out": str(out)}).fetchone()[0]
        con.close()
    return universe.summary(totals, cells=int(written or 0), seconds=time.perf_counter() - started, engine="duckdb")


def read_cells(path: str | Path) -> pa.Table:
    """A cell table written by either engine (a file or a Spark folder), sorted by cell and industry."""
    function, target = universe.source(path)
    if function != "read_parquet":
        raise ValidationError(f"{Path(path).name}: a cell table is a Parquet file or folder (`territory market aggregate`"
                              " writes one)")
    con = duckdb.connect()
    try:
        return con.sql("SELECT * FROM read_parquet($path) ORDER BY cell, industry NULLS FIRST",
                       params={"path": target}).to_arrow_table()
    except duckdb.Error as exc:
        raise ValidationError(f"{Path(path).name} could not be read as a cell table: {exc}") from exc
    finally:
        con.close()
