"""A separate process reserving against a ledger, for the concurrency and crash tests.

python ledger_worker.py reserve DB WORKER N LICENCE START_FILE
    prints "ready", waits for START_FILE, then makes N reservations of 25 H100s to India, one
    transaction each, printing one JSON line per answer; every 50th request is sent twice with
    the same idempotency key, as a client retrying after a timeout would.
python ledger_worker.py batches DB SIZE LICENCE
    reserves batches of SIZE one-H100 lines (one transaction per batch) until killed, printing
    "committed B" after each batch commits.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from chipex.ledger import Request, open_ledger


def line(licence: str, units: int) -> Request:
    return Request(
        destination="IN",
        consignee="Bharat Compute Pvt Ltd",
        item="H100",
        units=units,
        licence=licence,
        on="2025-03-01",
    )


def reserve(db: str, worker: str, n: int, licence: str, start: Path) -> None:
    with open_ledger(db) as ledger:
        ledger.resolve(line(licence, 25))  # load the catalog and rules before the start
        print("ready", flush=True)
        while not start.exists():
            time.sleep(0.005)
        for i in range(n):
            key = f"w{worker}-{i}"
            attempts = 2 if i % 50 == 49 else 1
            for attempt in range(attempts):
                out = ledger.reserve(line(licence, 25), key=key, regime="as-printed")
                answer = {"key": key, "retry": attempt > 0, "status": out.status, "replayed": out.replayed}
                print(json.dumps({**answer, "refusals": out.refusals}), flush=True)


def churn(db: str, worker: str, n: int, licence: str, start: Path) -> None:
    with open_ledger(db) as ledger:
        ledger.resolve(line(licence, 5))
        print("ready", flush=True)
        while not start.exists():
            time.sleep(0.005)
        for i in range(n):
            key = f"c{worker}-{i}"
            out = ledger.reserve(line(licence, 5), key=key, regime="as-printed")
            print(json.dumps({"key": key, "status": out.status, "refusals": out.refusals}), flush=True)
            if out.status == "reserved" and i % 3 == 0:
                ledger.cancel(key, reason="churn")
                print(json.dumps({"key": key, "status": "cancelled"}), flush=True)


def batches(db: str, size: int, licence: str) -> None:
    with open_ledger(db) as ledger:
        for b in range(1_000_000):
            outcomes = ledger.reserve_many([(line(licence, 1), f"b{b}-{j}") for j in range(size)])
            if any(o.status != "reserved" for o in outcomes):
                raise SystemExit(f"batch {b} refused: {outcomes[-1].refusals}")
            print(f"committed {b}", flush=True)


if __name__ == "__main__":
    mode, db, *args = sys.argv[1:]
    if mode == "reserve":
        reserve(db, args[0], int(args[1]), args[2], Path(args[3]))
    elif mode == "churn":
        churn(db, args[0], int(args[1]), args[2], Path(args[3]))
    else:
        batches(db, int(args[0]), args[1])
