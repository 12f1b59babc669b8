"""Ledger speed: reservations one per transaction and in batches, and audit verification, against the
database's own floor measured in the same run.

    .venv/bin/python benchmarks/ledger_bench.py [--n 1000] [--pg postgresql+psycopg://...]

Baseline: one plain INSERT and COMMIT per transaction on the same engine and settings (SQLite WAL with
synchronous=FULL; PostgreSQL defaults), i.e. what any durable write costs before chipex checks a
licence, locks buckets, sums what they hold, hashes and appends. PostgreSQL is measured when --pg or
CHIPEX_TEST_PG_URL names a database (a scratch schema is created and dropped).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine

from chipex.ledger import Request, open_ledger
from chipex.ledger.db import transaction


def line(i: int) -> Request:
    return Request(
        destination="IN",
        consignee=f"Consignee {i % 50}",
        item="H100",
        units=1,
        licence="L-1",
        on="2025-03-01",
    )


def run(url: str, n: int) -> dict[str, float]:
    out = {}
    with open_ledger(url) as ledger:
        ledger.add_licence(
            {"number": "L-1", "holder": "Bench", "items": ["H100"], "destinations": ["IN"],
             "valid_from": "2025-01-01", "valid_to": "2026-12-31", "units": 10 * n}
        )  # fmt: skip
        with transaction(ledger.engine, write=True) as conn:
            conn.exec_driver_sql("CREATE TABLE bench_floor (id INTEGER PRIMARY KEY, payload TEXT)")
        t = time.perf_counter()
        for i in range(n):
            with transaction(ledger.engine, write=True) as conn:
                conn.exec_driver_sql(f"INSERT INTO bench_floor VALUES ({i}, 'x')")
        out["floor: insert+commit/s"] = n / (time.perf_counter() - t)
        ledger.reserve(line(0), regime="as-printed")  # warm the catalog and classification
        t = time.perf_counter()
        for i in range(n):
            ledger.reserve(line(i), regime="as-printed")
        out["reservations/s, one per transaction"] = n / (time.perf_counter() - t)
        t = time.perf_counter()
        for b in range(n // 100):
            ledger.reserve_many([(line(i), None) for i in range(b * 100, b * 100 + 100)], regime="as-printed")
        out["reservations/s, batches of 100"] = (n // 100 * 100) / (time.perf_counter() - t)
        t = time.perf_counter()
        check = ledger.verify()
        assert check.ok, check.problem
        out["events verified/s"] = check.events / (time.perf_counter() - t)
    return out


def report(name: str, r: dict[str, float]) -> None:
    floor = r["floor: insert+commit/s"]
    print(f"\n{name}")
    for k, v in r.items():
        ratio = "" if k.startswith("floor") or k.startswith("events") else f"   {v / floor:5.2f}x the floor"
        print(f"  {k:40s} {v:10,.0f}{ratio}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--pg", default=os.environ.get("CHIPEX_TEST_PG_URL"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report("SQLite (WAL, synchronous=FULL)", run(f"sqlite:///{Path(tmp) / 'bench.db'}", args.n))
    if args.pg:
        admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        try:
            url = admin.url.update_query_dict({"options": f"-csearch_path={schema}"})
            report("PostgreSQL", run(url.render_as_string(hide_password=False), args.n))
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
            admin.dispose()
    else:
        print("\nPostgreSQL: not measured (give --pg URL or set CHIPEX_TEST_PG_URL)")


if __name__ == "__main__":
    main()
