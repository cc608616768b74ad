"""CLI start-up: whole commands as a user runs them, against ``python -c "import duckdb, click"``.

    .venv/bin/python bench/cli_startup.py [--runs 7]

Times ``territory --help`` and ``territory summary`` (on a small demo database) as separate
processes, start-up included, and the reference in the same way; prints the median of
``--runs`` interleaved runs and the ratios. Target (issue 11): both within 2x the reference.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TERRITORY = str(Path(sys.executable).with_name("territory"))


def _wall(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "small.duckdb")
        subprocess.run([TERRITORY, "demo", "--accounts", "2000", "--db", db], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        commands = {"python -c 'import duckdb, click'": [sys.executable, "-c", "import duckdb, click"],
                    "territory --help": [TERRITORY, "--help"],
                    "territory summary": [TERRITORY, "summary", "--db", db]}
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):  # interleaved, so drift hits every command alike
            for name, cmd in commands.items():
                times[name].append(_wall(cmd))
    reference = statistics.median(times["python -c 'import duckdb, click'"])
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<34} {median * 1000:7.0f} ms   {median / reference:4.2f}x")
    print("target: territory --help and territory summary <= 2.00x the reference")


if __name__ == "__main__":
    main()
