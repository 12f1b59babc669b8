"""Start-up benchmark: each command run as a fresh process, repeatedly, like hyperfine.

    .venv/bin/python benchmarks/startup_bench.py [--runs 20]

Prints, per command, the median and min wall time over --runs fresh processes (after 2 warm-up
runs, so the OS file cache is warm but every run is a cold interpreter), its ratio to a bare
`python -c pass` measured in the same run, the target of issue 12 and the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

PY = sys.executable
ONE_ORDER = [
    "check",
    "--item",
    "H100",
    "--quantity",
    "8",
    "--to",
    "CN",
    "--date",
    "2024-01-01",
    "--no-screen",
]
CASES = [  # (label, argv, target seconds)
    ("python -c pass", [PY, "-c", "pass"], None),
    ("chipex --help", [PY, "-m", "chipex", "--help"], 0.25),
    ("chipex --version", [PY, "-m", "chipex", "--version"], 0.25),
    ("chipex classify H100", [PY, "-m", "chipex", "classify", "H100"], 0.4),
    ("chipex check (one order)", [PY, "-m", "chipex", *ONE_ORDER], 0.6),
]


def measure(argv: list[str], runs: int) -> list[float]:
    times = []
    for i in range(runs + 2):
        t = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        if i >= 2:
            times.append(time.perf_counter() - t)
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    a = ap.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    base = None
    print(f"{'command':<28}{'median s':>10}{'min s':>9}{'x pass':>9}{'target':>9}  met")
    for label, argv, target in CASES:
        ts = measure(argv, a.runs)
        med = statistics.median(ts)
        base = base or med
        met = "" if target is None else ("yes" if med < target else "NO")
        shown = "" if target is None else f"< {target}"
        print(f"{label:<28}{med:>10.3f}{min(ts):>9.3f}{med / base:>9.1f}{shown:>9}  {met}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
