"""Import benchmark: 1,000,000 Salesforce-style accounts vs DuckDB's own bare read_csv.

    python bench/import_bench.py [--rows 1000000] [--out bench/out]

Prints, from one run in one process: DuckDB's bare ``read_csv`` of the file into a table
(the reference), our full import (read, parse, validate, geocode, H3-index, write, then
aggregate to the default plan resolution) into a fresh database file, their ratio,
the roll-up time per resolution, and the process's peak RSS. Best of ``--repeat`` runs.
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

from territory import grid, ingest, settings, store  # noqa: E402


def make_csv(path: Path, rows: int) -> None:
    """Write the file in a child process, so its memory does not count towards the import's."""
    code = ("import sys; from territory import sample; "
            f"sample.accounts_frame({rows}, seed=1).to_csv(sys.argv[1], index=False)")
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, cwd=ROOT)


def bare_read(path: Path) -> float:
    con = duckdb.connect()
    start = time.perf_counter()
    con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?)", [str(path)])
    elapsed = time.perf_counter() - start
    con.close()
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


def rollups(path: Path, workdir: Path, repeat: int) -> dict[int, float]:
    db = workdir / "rollup.duckdb"
    con = store.connect(db)
    ingest.import_file(con, path, "accounts")
    out = {}
    for res in settings.PLAN_RESOLUTIONS:
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            grid.aggregate_cells(con, res)
            times.append(time.perf_counter() - start)
        out[res] = statistics.median(times)
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
        bare = min(bare_read(csv_path) for _ in range(args.repeat))
        runs = [full_import(csv_path, work) for _ in range(args.repeat)]
        ours = min(t for t, _ in runs)
        loaded = runs[0][1]
        roll = rollups(csv_path, work, repeat=5)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"file: {args.rows:,} rows, {size_mb:,.0f} MB; duckdb {duckdb.__version__}")
    print(f"bare DuckDB read_csv -> table : {bare:6.2f} s")
    print(f"full import ({loaded:,} rows)  : {ours:6.2f} s")
    print(f"ratio import / bare read      : {ours / bare:6.2f}   (target <= 2.0)")
    for res, seconds in roll.items():
        print(f"roll-up to resolution {res}       : {seconds * 1000:6.0f} ms (target <= 150 ms)")
    print(f"peak RSS of this process      : {peak_mb:6.0f} MB (target <= 1,536 MB)")


if __name__ == "__main__":
    main()
