"""Market universe aggregation at scale: DuckDB and Spark, as whole commands, on this machine.

    .venv/bin/python bench/market_bench.py [--sizes 1e6,1e7,1e8] [--engines duckdb,spark]
                                           [--cores 1,2] [--dir bench/out/market]

Generates universes of each size as a folder of Parquet files (5M establishments a file, the
way a data lake keeps a table; kept between runs), then times ``territory market aggregate
FOLDER --out CELLS --engine E`` as a separate process (start-up included) for each engine and
number of cores (DuckDB: POLARS_MAX_THREADS and DuckDB's threads; Spark: ``--master local[N]``),
checks the engines' cell tables are identical, and prints rows, seconds and rows a second.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

TERRITORY = str(Path(sys.executable).with_name("territory"))
CHUNK = 5_000_000


def universe(folder: Path, n: int) -> Path:
    from territory import demo

    path = folder / f"universe-{n}"
    done = path / "_complete"
    if done.exists():
        return path
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    for i, start in enumerate(range(0, n, CHUNK)):
        size = min(CHUNK, n - start)
        demo.universe_frame(size, seed=100 + i, first_id=100_000_001 + start).to_parquet(
            path / f"part-{i:04d}.parquet", index=False)
    done.touch()
    return path


def run(engine: str, cores: int, source: Path, out: Path) -> dict:
    env = dict(os.environ)
    cmd = [TERRITORY, "market", "aggregate", str(source), "--out", str(out), "--engine", engine, "--json"]
    if engine == "spark":
        cmd += ["--master", f"local[{cores}]"]
    else:
        env["POLARS_MAX_THREADS"] = str(cores)
    shutil.rmtree(out, ignore_errors=True) if out.is_dir() else out.unlink(missing_ok=True)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "wall": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e6,1e7")
    parser.add_argument("--engines", default="duckdb,spark")
    parser.add_argument("--cores", default="1,2")
    parser.add_argument("--dir", default=str(Path(__file__).parent / "out" / "market"))
    args = parser.parse_args()
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    print(f"{'rows':>12} {'engine':>7} {'cores':>5} {'seconds':>8} {'rows/s':>11} {'cell rows':>11}  same table")
    for n in (int(float(s)) for s in args.sizes.split(",")):
        t0 = time.perf_counter()
        source = universe(folder, n)
        gb = sum(p.stat().st_size for p in source.glob("*.parquet")) / 1e9
        print(f"# {n:,} establishments: {gb:.2f} GB of Parquet (made or found in {time.perf_counter() - t0:.0f} s)",
              flush=True)
        reference = None
        for engine in args.engines.split(","):
            for cores in (int(c) for c in args.cores.split(",")):
                out = folder / f"cells-{n}-{engine}-{cores}.parquet"
                r = run(engine, cores, source, out)
                from territory.market import engines

                table = engines.read_cells(out)
                same = "reference" if reference is None else ("yes" if table.equals(reference) else "NO")
                reference = table if reference is None else reference
                print(f"{n:>12,} {engine:>7} {cores:>5} {r['wall']:>8.1f} {n / r['wall']:>11,.0f} {r['cells']:>11,}  {same}",
                      flush=True)


if __name__ == "__main__":
    main()
