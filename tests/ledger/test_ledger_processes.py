"""Many processes reserving at once, and a process killed mid-batch, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from fractions import Fraction
from pathlib import Path

from ledger_helpers import H100_TPP, h100_line, licence
from sqlalchemy import func, select

from chipex.ledger import open_ledger
from chipex.ledger.schema import Entry, Event

WORKER = str(Path(__file__).with_name("ledger_worker.py"))
CAP = 790_000_000  # AI Diffusion Tier 2 allocation for India, 2025-2027 (TPP)


def spawn(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, WORKER, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def race(start: Path, *workers: list[str]) -> list[dict]:
    """Start the workers, release them together once all are ready, and collect every answer."""
    procs = [spawn(*args, str(start)) for args in workers]
    for p in procs:
        assert p.stdout.readline().strip() == "ready", p.stderr.read()
    start.touch()
    answers = []
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
        answers += [json.loads(line) for line in out.splitlines()]
    return answers


def test_eight_processes_reserving_near_the_cap_never_over_allocate(db, tmp_path):
    # Each request: 25 H100s = 395,780 TPP. The allocation admits 1,996 of them (789,976,880 TPP;
    # a 1,997th would make 790,372,660). Licence L-A (20,000 units = 800 requests) binds first for
    # workers 0-3; L-B (100,000 units) never binds; 8 x 500 = 4,000 requests in all.
    with open_ledger(db) as ledger:
        ledger.add_licence(licence("L-A", units=20_000))
        ledger.add_licence(licence("L-B", units=100_000))
    workers = [["reserve", db, str(w), "500", "L-A" if w < 4 else "L-B"] for w in range(8)]
    answers = race(tmp_path / "start", *workers)

    first = [a for a in answers if not a["retry"]]
    assert len(first) == 4_000
    accepted = {a["key"] for a in first if a["status"] == "reserved"}
    assert len(accepted) == 1_996
    refused = [a for a in first if a["status"] == "refused"]
    assert len(refused) == 2_004
    reasons = Counter(r.split(":")[0] for a in refused for r in a["refusals"])
    assert all(a["refusals"] for a in refused)  # every refusal says why
    assert set(reasons) <= {
        "licence L-A",
        "AI Diffusion country allocation for Tier 2 destinations (cumulative 2025-2027) [IN, 2025-2027]",
    }
    for retry in (a for a in answers if a["retry"]):
        if retry["key"] in accepted:
            assert retry["replayed"] and retry["status"] == "reserved"

    with open_ledger(db) as ledger:
        assert ledger.verify().ok
        with ledger.engine.connect() as conn:
            keys = set(conn.execute(select(Event.subject).where(Event.kind == "reservation.made")).scalars())
        assert keys == accepted
        tier2 = next(
            r for r in ledger.cap_status(country="IN", as_of="2025-03-01") if r.cap.startswith("ai-diff")
        )
        assert tier2.used == 1_996 * 25 * H100_TPP == 789_976_880 <= CAP
        used = {lic.number: heads[0].used for lic, heads in ledger.licences()}
        assert used["L-A"] <= 20_000 and used["L-A"] + used["L-B"] == 1_996 * 25


def test_reservations_and_cancellations_racing_keep_the_licence_exact(db, tmp_path):
    # 4 processes x 100 lines of 5 H100s against a 600-unit licence (120 lines), every third
    # accepted line cancelled again: released units are reused, the total never passes 600.
    with open_ledger(db) as ledger:
        ledger.add_licence(licence(units=600))
    answers = race(tmp_path / "start", *(["churn", db, str(w), "100", "L-1"] for w in range(4)))
    accepted = {a["key"] for a in answers if a["status"] == "reserved"}
    cancelled = {a["key"] for a in answers if a["status"] == "cancelled"}
    refused = [a for a in answers if a["status"] == "refused"]
    assert refused and all(a["refusals"][0].startswith("licence L-1: ") for a in refused)
    live = accepted - cancelled
    assert len(accepted) > 120 and len(live) <= 120
    with open_ledger(db) as ledger:
        assert ledger.verify().ok
        assert ledger.licences()[0][1][0].used == 5 * len(live) <= 600


def test_a_process_killed_mid_batch_leaves_whole_batches_only(db):
    with open_ledger(db) as ledger:
        ledger.add_licence(licence(units=1_000_000))
    proc = spawn("batches", db, "50", "L-1")
    committed = []
    while len(committed) < 3:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        committed.append(int(line.split()[1]))
    time.sleep(random.uniform(0, 0.05))  # a 50-line batch takes longer than this: the kill lands inside one
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    with open_ledger(db) as ledger:
        check = ledger.verify()
        assert check.ok, check.problem
        with ledger.engine.connect() as conn:
            keys = conn.execute(select(Event.subject).where(Event.kind == "reservation.made")).scalars().all()
            entries = conn.execute(select(func.count()).select_from(Entry)).scalar_one()
        batches = Counter(k.split("-")[0] for k in keys)
        assert set(batches.values()) == {50}  # no partial batch
        assert {f"b{b}" for b in committed} <= set(batches)  # every batch reported committed is there
        assert entries == 2 * len(
            keys
        )  # each line drew on the licence and the allocation, nothing half-written
        assert ledger.licences()[0][1][0].used == len(keys)
        tier2 = next(
            r for r in ledger.cap_status(country="IN", as_of="2025-03-01") if r.cap.startswith("ai-diff")
        )
        assert tier2.used == len(keys) * Fraction(H100_TPP)
        # the ledger is not left locked: the next writer proceeds
        assert ledger.reserve(h100_line(1)).status == "reserved"
