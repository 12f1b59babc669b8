"""The audit log: every tampering names the first event it touched, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import hashlib
import io
import json

import pytest
from ledger_helpers import drop_append_only, h100_line, licence, tamper
from sqlalchemy import text

from chipex.ledger.audit import verify_export


@pytest.fixture
def log(ledger):
    """Seven events: 1 licence, 2 reserve (entries), 3 ship, 4 determination, 5 reserve (entries),
    6 cancel (entries), 7 licence. Events 3, 4 and 7 have no entries, so they can be moved."""
    ledger.add_licence(licence(units=10))
    ledger.reserve(h100_line(4), key="k1")
    ledger.ship("k1", on="2025-03-02")
    ledger.record_determination(
        key="SO-1",
        inputs={"item": "H100"},
        decision={"licence_required": True},
        rule_version="2025-01-13",
        list_snapshot=None,
    )
    ledger.reserve(h100_line(2), key="k2")
    ledger.cancel("k2", reason="order withdrawn")
    ledger.add_licence(licence("L-2"))
    check = ledger.verify()
    assert (check.ok, check.events) == (True, 7)
    drop_append_only(ledger)  # what the database's administrator could do
    return ledger


def problem(ledger, **kwargs):
    check = ledger.verify(**kwargs)
    assert not check.ok
    return check.problem


def test_an_edited_event_is_named(log):
    tamper(log, """UPDATE events SET payload = REPLACE(payload, '"units":4', '"units":3') WHERE seq = 2""")
    p = problem(log)
    assert (p.seq, p.what) == (2, "edited")
    assert p.detail == "event #2 was edited: its contents no longer match its hash"


def test_an_edited_actor_or_time_is_named(log):
    tamper(log, "UPDATE events SET actor = 'someone-else' WHERE seq = 4")
    assert (problem(log).seq, problem(log).what) == (4, "edited")


def test_a_deleted_event_is_named(log):
    tamper(log, "DELETE FROM events WHERE seq = 3")
    p = problem(log)
    assert (p.seq, p.what) == (3, "deleted")


def test_a_deleted_last_event_is_named_by_the_chain_head(log):
    tamper(log, "DELETE FROM events WHERE seq = 7")
    p = problem(log)
    assert (p.seq, p.what) == (7, "deleted")
    assert "the chain head records 7 events" in p.detail


def test_a_rewound_head_is_caught_only_by_an_anchor_kept_elsewhere(log):
    anchor = log.verify().head_hash
    with log.engine.connect() as conn:
        prev = conn.execute(text("SELECT hash FROM events WHERE seq = 6")).scalar_one()
    tamper(log, "DELETE FROM events WHERE seq = 7", f"UPDATE chain_head SET seq = 6, hash = '{prev}'")
    assert log.verify().ok  # the database alone cannot tell: this is why the head hash is printed
    assert problem(log, expect_head=anchor).what == "head"


def test_reordered_events_are_named(log):
    tamper(
        log,
        "UPDATE events SET seq = 1000 WHERE seq = 3",
        "UPDATE events SET seq = 3 WHERE seq = 4",
        "UPDATE events SET seq = 4 WHERE seq = 1000",
    )
    p = problem(log)
    assert (p.seq, p.what) == (3, "reordered")
    assert p.detail == "event #3 is out of order: it was recorded after the event now at #4"


def test_edited_counts_are_caught_against_the_log(log):
    # Freeing allocation by editing the counted amounts, leaving the events alone
    tamper(log, "UPDATE entries SET amount = 0 WHERE event_seq = 2")
    p = problem(log)
    assert (p.seq, p.what) == (2, "entries")


def recompute(rows):
    """The recipe in chipex.ledger.audit, written out independently: SHA-256 of the JSON array
    [prev_hash, at, actor, kind, subject, payload, os_user]."""
    prev = "0" * 64
    for r in rows:
        body = json.dumps(
            [prev, r["at"], r["actor"], r["kind"], r["subject"], r["payload"], r["os_user"]],
            separators=(",", ":"),
            ensure_ascii=False,
        )
        assert r["prev_hash"] == prev
        assert hashlib.sha256(body.encode()).hexdigest() == r["hash"]
        prev = r["hash"]
    return prev


def test_exports_carry_a_chain_an_auditor_can_recompute(ledger):
    ledger.add_licence(licence(units=10, holder="Exportateur & Cie — Zürich"))
    ledger.reserve(h100_line(4), key="k1")
    head = ledger.verify().head_hash
    out = io.StringIO()
    assert ledger.export(out, "jsonl") == 2
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert recompute(rows) == head
    assert [r["kind"] for r in rows] == ["licence.added", "reservation.made"]
    assert json.loads(rows[1]["payload"])["line"]["units"] == 4
    out = io.StringIO()
    ledger.export(out, "csv")
    assert recompute(list(csv.DictReader(io.StringIO(out.getvalue())))) == head


def test_an_exported_copy_is_verified_on_its_own(log):
    out = io.StringIO()
    log.export(out, "jsonl")
    lines = out.getvalue().splitlines()
    assert verify_export(lines, "jsonl").ok
    # a forged event slipped in after #3, with a valid hash of its own, and the rest renumbered
    rows = [json.loads(line) for line in lines]
    forged = {**rows[3], "seq": 4, "subject": "SO-forged", "prev_hash": rows[2]["hash"]}
    body = [
        forged["prev_hash"],
        forged["at"],
        forged["actor"],
        forged["kind"],
        forged["subject"],
        forged["payload"],
        forged["os_user"],
    ]
    forged["hash"] = hashlib.sha256(
        json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()
    tampered = [*rows[:3], forged, *({**r, "seq": r["seq"] + 1} for r in rows[3:])]
    p = verify_export([json.dumps(r) for r in tampered], "jsonl").problem
    assert (p.seq, p.what) == (4, "inserted")
    assert p.detail == "event #4 was inserted: event #5 was recorded right after #3"
    # a copy with its newest event cut off is caught by the anchor only
    assert verify_export(lines[:-1], "jsonl").ok
    assert verify_export(lines[:-1], "jsonl", expect_head=rows[-1]["hash"]).problem.what == "head"
