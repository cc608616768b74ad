"""The Spark engine gives the DuckDB engine's cell table, row for row (pyspark and Java 17 are
part of CI: requirements-spark.txt, scripts/test.sh; a missing Spark fails here, never skips)."""

from __future__ import annotations

import pytest

from territory import demo
from territory.market import engines, spark


@pytest.fixture(scope="module")
def local_spark():
    session = spark.session("local[2]")
    yield session
    session.stop()


def test_a_million_establishments_give_identical_cell_tables_on_both_engines(local_spark, tmp_path):
    path = tmp_path / "universe.parquet"
    demo.universe_frame(1_000_000, seed=21).to_parquet(path, index=False)
    on_duckdb = engines.aggregate(path, tmp_path / "duckdb.parquet", engine="duckdb")
    on_spark = engines.aggregate(path, tmp_path / "spark.parquet", engine="spark", master="local[2]")
    a, b = engines.read_cells(tmp_path / "duckdb.parquet"), engines.read_cells(tmp_path / "spark.parquet")
    assert a.num_rows > 500_000 and a.schema == b.schema
    assert a.equals(b)  # every cell, industry and sum: identical, not close
    assert (tmp_path / "spark.parquet").is_dir()  # Spark writes a folder of parts, as on a data lake
    assert (on_spark.rows, on_spark.cells, on_spark.unlocated) == (on_duckdb.rows, on_duckdb.cells, 0)


def test_a_messy_csv_gives_the_same_table_and_the_same_problems(local_spark, tmp_path):
    from tests.unit.test_market import HAND, _universe

    path = _universe(tmp_path, HAND * 3)
    on_duckdb = engines.aggregate(path, tmp_path / "duckdb.parquet")
    on_spark = engines.aggregate(path, tmp_path / "spark.parquet", engine="spark", master="local[2]")
    assert engines.read_cells(tmp_path / "duckdb.parquet").equals(engines.read_cells(tmp_path / "spark.parquet"))
    assert (on_spark.rows, on_spark.unlocated, on_spark.unreadable, on_spark.example) == (24, 6, 3, "6")
    assert on_spark.problems() == on_duckdb.problems()
