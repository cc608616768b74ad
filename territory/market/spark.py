"""The market aggregation on Spark: the same job on a laptop (``local[*]``) and on a cluster.

Spark reads the universe (CSV as text, like DuckDB's reader here, or Parquet), hands Arrow
batches to :func:`universe.partial` in its Python workers (``mapInArrow``: polars-h3 computes
a whole batch's cells, no Python per row) and adds the partial sums up with ``groupBy``, so the
cell table equals the DuckDB engine's. Needs ``requirements-spark.txt`` (pyspark) and Java 17;
on a cluster the workers also need this package (see docs/market.md).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from territory.errors import TerritoryError, ValidationError
from territory.market import universe

BATCH_ROWS = 200_000  # rows per Arrow batch handed to a Python worker
# Spark's own log: errors only, on stderr (its default prints start-up warnings a user cannot act on)
_LOG4J = """rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""
_DDL = {"int64": "BIGINT", "string": "STRING"}
PARTIAL_DDL = ", ".join(f"{f.name} {_DDL[str(f.type)]}" for f in universe.PARTIAL_SCHEMA)


def _partials(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        yield from universe.partial(batch).to_batches()


def session(master: str = "local[*]"):
    """A Spark session for the job (Spark's UI off; the workers run this Python)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise TerritoryError("the Spark engine needs pyspark: pip install -r requirements-spark.txt "
                             "(and Java 17: apt-get install openjdk-17-jre-headless)") from exc
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("PYTHONWARNINGS", "ignore::FutureWarning")  # the workers' copy of that warning
    builder = (SparkSession.builder.master(master).appName("territory market aggregate")
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(BATCH_ROWS))
               .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={_log_config()}"))
    if master.startswith("local"):  # a cluster keeps its own shuffle settings
        builder = builder.config("spark.sql.shuffle.partitions", str(max(os.cpu_count() or 2, 2) * 2))
    try:
        spark = builder.getOrCreate()
        spark.sparkContext.setLogLevel("ERROR")
        return spark
    except Exception as exc:  # Java missing or the master unreachable: Py4J's own errors
        raise TerritoryError(f"Spark could not start ({str(exc).splitlines()[0][:200]}): is Java 17 installed "
                             "(java -version) and the --master URL right?") from exc


def _log_config() -> Path:
    path = Path(tempfile.gettempdir()) / "territory-spark-log4j2.properties"
    if not path.exists() or path.read_text() != _LOG4J:
        path.write_text(_LOG4J)
    return path


def aggregate(path: str | Path, out: str | Path, *, master: str = "local[*]") -> universe.Summary:
    from pyspark.errors import PySparkException
    from pyspark.sql import functions as F

    started = time.perf_counter()
    text = str(path)
    if "://" in text:  # a data lake's path (s3a://, abfss://, gs://, hdfs://): Spark's to open
        function = "read_csv" if text.lower().rstrip("/").endswith((".csv", ".csv.gz")) else "read_parquet"
    else:
        function, _ = universe.source(path)  # the same checks as DuckDB's: a CSV, a Parquet file or folder
    spark = session(master)
    try:
        reader = spark.read.option("recursiveFileLookup", "true")
        frame = (reader.parquet(str(path)) if function == "read_parquet"
                 else reader.option("header", "true").csv(str(path)))
        fields = universe.mapping(frame.columns)
        frame = frame.select([F.col("`" + col.replace("`", "``") + "`").alias(name) for name, col in fields.items()])
        parts = frame.mapInArrow(_partials, PARTIAL_DDL)
        sums = parts.groupBy("cell", "industry").agg(
            F.sum("establishments").alias("establishments"), F.sum("employees").alias("employees"),
            F.sum("market_potential").alias("market_potential"), F.sum("unreadable").alias("unreadable"),
            F.min("example").alias("example")).persist()
        cells = sums.filter(F.col("cell") != universe.NOWHERE).select(*universe.CELL_SCHEMA.names)
        cells.write.mode("overwrite").parquet(str(out))  # unsorted: a sort is a pass over the data; read_cells sorts
        nowhere = F.col("cell") == universe.NOWHERE
        row = sums.agg(F.sum("establishments").alias("rows"),
                       F.sum(F.when(nowhere, F.col("establishments"))).alias("unlocated"),
                       F.sum("unreadable").alias("unreadable"), F.min("example").alias("example"),
                       F.sum(F.when(~nowhere, 1)).alias("cells")).collect()[0].asDict()
        sums.unpersist()
    except PySparkException as exc:
        raise ValidationError(f"{Path(path).name} could not be aggregated on Spark: {str(exc).splitlines()[0][:300]}") \
            from exc
    return universe.summary(row, cells=int(row["cells"] or 0), seconds=time.perf_counter() - started, engine="spark")
