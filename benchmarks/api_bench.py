"""The HTTP API under load, on loopback, against the CLI on the same work, in one run.

    .venv/bin/python benchmarks/api_bench.py [--requests 200] [--lines 100000] [--names 300]

Starts `chipex serve` on 127.0.0.1 (a fresh CHIPEX_HOME and ledger in a temporary folder), adds an
officer, then measures:
1. one-order POST /api/v1/check: latency p50 / p99 at 1, 16 and 64 concurrent clients (threads, one
   keep-alive connection each), `--requests` per level after a warm-up;
2. a book job end to end (upload, poll until done, download the Parquet results) against
   `chipex check BOOK --out results.parquet` as a subprocess, on the same generated book
   (benchmarks/orders_bench.py's distributor-like book, `--lines` lines);
3. screening: POST /api/v1/screen requests/s (1 and 16 clients) against `chipex screen --file` on the
   same names (the labelled queries of tests/screening/eval_cases.csv), CLI start-up included.
Prints the machine load (/proc/loadavg) before and after: figures from a busy machine say so.
"""

from __future__ import annotations

import argparse
import csv
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
ORDER = {"date": "2024-01-01", "item": "H100", "quantity": 8, "destination": "CN", "end_user_hq": "CN"}


def loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().split(" ", 3)[:3].__str__()
    except OSError:
        return "n/a"


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chipex(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chipex", *args], capture_output=True, text=True, env=env, check=True
    )


def load(base: str, key: str, path: str, body: dict, clients: int, n: int) -> tuple[list[float], float]:
    """`n` POSTs of `body` spread over `clients` threads; each latency in ms, and the wall time."""
    latencies: list[float] = []
    lock = threading.Lock()
    todo = iter(range(n))

    def worker() -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=120) as c:
            while True:
                with lock:
                    if next(todo, None) is None:
                        return
                t = time.perf_counter()
                r = c.post(path, json=body)
                ms = (time.perf_counter() - t) * 1000
                r.raise_for_status()
                with lock:
                    latencies.append(ms)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, time.perf_counter() - t0


def bench_check(base: str, key: str, n: int) -> None:
    load(base, key, "/api/v1/check", ORDER, 1, 5)  # warm: engine compiled, list index loaded
    print("one-order POST /api/v1/check (H100 x 8 to CN, screening on):")
    for clients in (1, 16, 64):
        lat, wall = load(base, key, "/api/v1/check", ORDER, clients, n)
        print(f"  {clients:>2} clients: p50 {pct(lat, 50):7.1f} ms  p99 {pct(lat, 99):7.1f} ms  "
              f"{len(lat) / wall:6.1f} req/s  ({len(lat)} requests)")  # fmt: skip


def bench_book(base: str, key: str, lines: int, env: dict[str, str], tmp: Path) -> None:
    from orders_bench import generate

    book = tmp / "book.parquet"
    generate(book, lines)
    h = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, headers=h, timeout=600) as c:
        t = time.perf_counter()
        with book.open("rb") as fh:
            job = c.post("/api/v1/books", files={"file": ("book.parquet", fh)}).json()
        while (status := c.get(f"/api/v1/books/{job['job_id']}").json())["status"] not in ("done", "failed"):
            time.sleep(0.05)
        results = c.get(f"/api/v1/books/{job['job_id']}/results?format=parquet").content
        api_s = time.perf_counter() - t
    assert status["status"] == "done", status
    t = time.perf_counter()
    chipex("check", str(book), "--out", str(tmp / "cli.parquet"), env=env)
    cli_s = time.perf_counter() - t
    print(f"book of {lines:,} lines: API job end to end {api_s:.2f} s (upload, check, {len(results) / 2**20:.1f} MB "
          f"of Parquet back); CLI `chipex check --out` {cli_s:.2f} s; ratio {api_s / cli_s:.2f}x")  # fmt: skip


def bench_screen(base: str, key: str, names: int, env: dict[str, str], tmp: Path) -> None:
    with (ROOT / "tests" / "screening" / "eval_cases.csv").open(encoding="utf-8") as fh:
        queries = [(r["query"], r.get("country") or None) for r in csv.DictReader(fh)][:names]
    parties = tmp / "parties.csv"
    with parties.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "country"])
        w.writerows([(q, c or "") for q, c in queries])
    print(f"screening {len(queries)} labelled queries:")
    for clients in (1, 16):
        lat: list[float] = []
        t0 = time.perf_counter()
        per = max(1, len(queries) // clients)
        chunks = [queries[i : i + per] for i in range(0, len(queries), per)]

        def run(chunk, lat: list[float] = lat) -> None:
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60) as c:
                for q, country in chunk:
                    t = time.perf_counter()
                    c.post("/api/v1/screen", json={"name": q, "country": country}).raise_for_status()
                    lat.append((time.perf_counter() - t) * 1000)

        threads = [threading.Thread(target=run, args=(ch,)) for ch in chunks]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        print(
            f"  API, {clients:>2} clients: {len(lat) / wall:7.1f} req/s  p50 {pct(lat, 50):.1f} ms  p99 {pct(lat, 99):.1f} ms"
        )
    t = time.perf_counter()
    chipex("screen", "--file", str(parties), "--out", str(tmp / "hits.csv"), env=env)
    cli_s = time.perf_counter() - t
    t = time.perf_counter()
    chipex("screen", queries[0][0], env=env)
    one_s = time.perf_counter() - t
    print(f"  CLI `screen --file`: {len(queries) / cli_s:7.1f} names/s ({cli_s:.2f} s with start-up); "
          f"one `chipex screen NAME` invocation: {one_s:.2f} s")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=200, help="one-order requests per concurrency level")
    ap.add_argument("--lines", type=int, default=100_000, help="lines in the generated book")
    ap.add_argument("--names", type=int, default=300, help="screening queries")
    args = ap.parse_args()
    print(f"load average before: {loadavg()}; {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="chipex-api-bench-") as d:
        tmp = Path(d)
        env = {**os.environ, "CHIPEX_HOME": str(tmp / "home"), "CHIPEX_DB": str(tmp / "ledger.db")}
        key = chipex("users", "add", "bench", "--role", "officer", env=env).stdout.strip().splitlines()[-1]
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "chipex", "serve", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(base + "/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            bench_check(base, key, args.requests)
            bench_screen(base, key, args.names, env, tmp)
            bench_book(base, key, args.lines, env, tmp)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"load average after: {loadavg()}")


if __name__ == "__main__":
    main()
