"""Import benchmark: 1,000,000 Salesforce-style accounts vs DuckDB's own bare read_csv.

    python bench/import_bench.py [--rows 1000000] [--out bench/out]

Prints, from one run in one process: DuckDB's bare ``read_csv`` of the file into a table
(the reference), our full import (read, parse, validate, geocode, H3-index, write, then
aggregate to the default plan resolution) into a fresh database file, their ratio,
the roll-up time per resolution, and the process's peak RSS. Times are the best of
``--repeat`` interleaved rounds; ratios the median of the per-round ratios.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from territory import grid, settings, store  # noqa: E402
from territory.data import ingest  # noqa: E402


def make_csv(path: Path, rows: int) -> None:
    """Write the file in a child process, so its memory does not count towards the import's."""
    code = ("import sys; from territory import sample; "
            f"sample.accounts_frame({rows}, seed=1).to_csv(sys.argv[1], index=False)")
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, cwd=ROOT)


def bare_read(path: Path, database: Path | None = None) -> float:
    """DuckDB's own read_csv into a table: in memory (the target's reference) or into a file."""
    con = duckdb.connect(str(database) if database else ":memory:")
    start = time.perf_counter()
    con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?)", [str(path)])
    con.execute("CHECKPOINT")
    elapsed = time.perf_counter() - start
    con.close()
    if database:
        database.unlink()
    return elapsed


def full_import(path: Path, workdir: Path) -> tuple[float, int]:
    db = workdir / f"bench-{time.monotonic_ns()}.duckdb"
    con = store.connect(db)
    start = time.perf_counter()
    result = ingest.import_file(con, path, "accounts")
    grid.aggregate_cells(con, settings.DEFAULT_PLAN_RES)
    elapsed = time.perf_counter() - start
    con.close()
    db.unlink()
    return elapsed, result.rows_loaded


def _median_time(repeat: int, fn, *args) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def rollups(path: Path, workdir: Path, repeat: int) -> dict[int, tuple[float, float, int]]:
    """Per resolution: (in DuckDB into a temp table, delivered as a pandas frame, cells)."""
    con = store.connect(workdir / "rollup.duckdb")
    ingest.import_file(con, path, "accounts")
    out = {}
    for res in settings.PLAN_RESOLUTIONS:
        sql = (f"CREATE OR REPLACE TEMP TABLE rolled AS SELECT {grid.parent_sql()} AS cell, count(*) AS n,"
               " sum(potential), sum(revenue_12m), sum(pipeline), sum(weighted_pipeline) FROM accounts GROUP BY 1")
        in_db = _median_time(repeat, con.execute, sql, grid.parent_params(res))
        frame_time = _median_time(repeat, grid.aggregate_cells, con, res)
        out[res] = (in_db, frame_time, len(grid.aggregate_cells(con, res)))
    con.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    csv_path = args.out / f"accounts-{args.rows}.csv"
    if not csv_path.exists():
        print(f"generating {csv_path} ...", flush=True)
        make_csv(csv_path, args.rows)
    size_mb = csv_path.stat().st_size / 1e6
    csv_path.read_bytes()  # warm the page cache for both contenders
    with tempfile.TemporaryDirectory(dir=args.out) as tmp:
        work = Path(tmp)
        # Interleaved rounds: this VM's speed drifts, so each ratio compares neighbours in time.
        rounds = []
        for i in range(args.repeat):
            b, bf = bare_read(csv_path), bare_read(csv_path, work / f"bare-{i}.duckdb")
            t, loaded = full_import(csv_path, work)
            rounds.append((b, bf, t))
        bare, bare_file, ours = (min(r[k] for r in rounds) for k in range(3))
        ratio = statistics.median(r[2] / r[0] for r in rounds)
        ratio_file = statistics.median(r[2] / r[1] for r in rounds)
        roll = rollups(csv_path, work, repeat=5)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"file: {args.rows:,} rows, {size_mb:,.0f} MB; duckdb {duckdb.__version__}")
    print(f"bare DuckDB read_csv -> in-memory table      : {bare:6.2f} s")
    print(f"bare DuckDB read_csv -> database file table  : {bare_file:6.2f} s")
    print(f"our full import ({loaded:,} rows) -> file : {ours:6.2f} s")
    print(f"ratio vs in-memory read  : {ratio:5.2f}   (median of {args.repeat} interleaved rounds; target <= 2.0)")
    print(f"ratio vs DuckDB file load: {ratio_file:5.2f}")
    print("per-round ratios vs in-memory read: " + ", ".join(f"{r[2] / r[0]:.2f}" for r in rounds))
    for res, (in_db, frame, cells) in roll.items():
        print(f"roll-up to res {res} ({cells:>7,} cells): {in_db * 1000:5.0f} ms in DuckDB, "
              f"{frame * 1000:5.0f} ms as a pandas frame (target <= 150 ms)")
    print(f"peak RSS of this process      : {peak_mb:6.0f} MB (target <= 1,536 MB)")


if __name__ == "__main__":
    main()
