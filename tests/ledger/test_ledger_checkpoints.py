"""Signed checkpoints: every way an insider with the database's rights rewrites history is caught
against a checkpoint signed with a key outside the database, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from ledger_helpers import OWNERS, h100_line, licence, owner_engine, tamper
from sqlalchemy import text

from chipex.ledger import audit, checkpoint
from chipex.ledger.audit import canonical


@pytest.fixture
def signed(ledger, tmp_path):
    """Seven events as in test_ledger_audit, a checkpoint at #7, the triggers dropped."""
    from ledger_helpers import drop_append_only

    ledger.add_licence(licence(units=10))
    ledger.reserve(h100_line(4), key="k1")
    ledger.ship("k1", on="2025-03-02")
    ledger.record_determination(
        key="SO-1", inputs={"item": "H100"}, decision={"licence_required": True}, rule_version="x",
        list_snapshot=None,
    )  # fmt: skip
    ledger.reserve(h100_line(2), key="k2")
    ledger.cancel("k2", reason="order withdrawn")
    ledger.add_licence(licence("L-2"))
    cp, path = ledger.checkpoint()
    assert (cp.number, cp.seq) == (1, 7) and path.exists()
    assert ledger.verify().checkpoints == 1
    drop_append_only(ledger)
    return ledger


def rows(ledger):
    with owner_engine(ledger) as engine, engine.connect() as conn:
        return [r._asdict() for r in conn.execute(text("SELECT * FROM events ORDER BY seq"))]


def recompute_from(ledger, start: int) -> None:
    """The insider's move: rehash every event from `start` and move the chain head to match."""
    prev = "0" * 64 if start == 1 else rows(ledger)[start - 2]["hash"]
    statements = []
    for r in rows(ledger)[start - 1 :]:
        r["prev_hash"] = prev
        h = audit.row_hash(audit.EventRow(**{f: r[f] for f in audit.EventRow._fields}))
        statements.append(f"UPDATE events SET prev_hash = '{prev}', hash = '{h}' WHERE seq = {r['seq']}")
        prev, last = h, r["seq"]
    statements.append(f"UPDATE chain_head SET seq = {last}, hash = '{prev}'")
    tamper(ledger, *statements)


def caught(ledger, seq: int, what: str, **kwargs) -> str:
    check = ledger.verify(**kwargs)
    assert not check.ok
    assert (check.problem.seq, check.problem.what) == (seq, what), check.problem
    return check.problem.detail


def test_edit(signed):
    tamper(signed, """UPDATE events SET payload = REPLACE(payload, '"units":4', '"units":3') WHERE seq = 2""")
    assert caught(signed, 2, "edited")


def test_recompute_after_edit(signed):
    # the determination said a licence was required: make it say not, and rehash the rest
    tamper(signed, "UPDATE events SET payload = REPLACE(payload, 'true', 'false') WHERE seq = 4")
    recompute_from(signed, 4)
    detail = caught(signed, 4, "differs")
    assert detail.startswith("event #4 differs from checkpoint 1 in ")


def test_swap_actor_and_recompute(signed):
    tamper(signed, "UPDATE events SET actor = 'someone-else' WHERE seq = 4")
    recompute_from(signed, 4)
    assert caught(signed, 4, "differs")


def test_edit_a_payload_amount_and_recompute(signed):
    # the licence grants 10: make it 1000 and rehash (no entries to fix: licences draw nothing)
    tamper(
        signed, """UPDATE events SET payload = REPLACE(payload, '"units":10', '"units":1000') WHERE seq = 1"""
    )
    recompute_from(signed, 1)
    assert caught(signed, 1, "differs")


def test_delete_and_recompute(signed):
    # delete the determination #4 and relink #5 to #3 (a gap is left: #5 to #7 hold entries)
    tamper(signed, "DELETE FROM events WHERE seq = 4")
    recompute_from(signed, 4)
    assert caught(signed, 4, "deleted")


def test_insert_and_recompute(signed):
    r = rows(signed)[6]
    tamper(
        signed,
        "UPDATE events SET seq = 8 WHERE seq = 7",
        f"INSERT INTO events (seq, at, actor, os_user, kind, subject, payload, prev_hash, hash) VALUES "
        f"(7, '{r['at']}', 'mallory', 'root', 'determination.recorded', 'SO-forged', '{{}}', 'x', 'x')",
    )
    recompute_from(signed, 7)
    assert caught(signed, 7, "differs")


def test_reorder_and_recompute(signed):
    tamper(
        signed,
        "UPDATE events SET seq = 1000 WHERE seq = 3",
        "UPDATE events SET seq = 3 WHERE seq = 4",
        "UPDATE events SET seq = 4 WHERE seq = 1000",
    )
    recompute_from(signed, 3)
    assert caught(signed, 3, "differs")


def test_truncate_and_rewind(signed):
    prev = rows(signed)[4]["hash"]
    tamper(
        signed,
        "DELETE FROM entries WHERE event_seq = 6",
        "DELETE FROM events WHERE seq >= 6",
        f"UPDATE chain_head SET seq = 5, hash = '{prev}'",
    )
    detail = caught(signed, 6, "truncated")
    assert "events #6 to #7 were deleted" in detail and "the log ends at #5" in detail


def test_edit_entries(signed):
    tamper(signed, "UPDATE entries SET amount = 0 WHERE event_seq = 2")
    assert caught(signed, 2, "entries")


def test_edit_the_checkpoint_file(signed):
    path = checkpoint.checkpoints_path(signed.engine.url)
    rec = json.loads(path.read_text())
    path.write_text(canonical({**rec, "seq": 5}) + "\n")
    assert "is not signed by the ledger's key: edited or forged" in caught(signed, 5, "checkpoint")


def test_forge_a_checkpoint_with_another_key(signed, tmp_path):
    # rewrite history, then sign the rewritten head with a key of one's own
    tamper(signed, """UPDATE events SET payload = REPLACE(payload, '"units":4', '"units":3') WHERE seq = 2""")
    recompute_from(signed, 2)
    path = checkpoint.checkpoints_path(signed.engine.url)
    path.unlink()
    forged_key = tmp_path / "mallory.key"
    checkpoint.signing_key(forged_key)
    signed.checkpoint(key=forged_key)
    assert "not signed by the ledger's key" in caught(signed, 7, "checkpoint")
    assert signed.verify(key=forged_key).ok  # only the right key tells (keep it away from the insider)


def test_a_removed_checkpoint_line_is_caught(signed):
    signed.add_licence(licence("L-3"))
    signed.checkpoint()
    path = checkpoint.checkpoints_path(signed.engine.url)
    _first, second = path.read_text().splitlines()
    path.write_text(second + "\n")
    assert "does not follow the one before it" in caught(signed, 8, "checkpoint")


def test_a_broken_log_is_not_signed(signed):
    tamper(signed, "UPDATE events SET actor = 'x' WHERE seq = 3")
    from chipex.errors import ChipexError

    with pytest.raises(ChipexError, match="not signing a broken log: event #3 was edited"):
        signed.checkpoint()


def test_the_key_and_checkpoint_file_are_private(signed):
    key = checkpoint.key_path()
    assert key.stat().st_mode & 0o777 == 0o600
    assert checkpoint.checkpoints_path(signed.engine.url).stat().st_mode & 0o777 == 0o600


@pytest.mark.postgres
def test_the_application_role_cannot_touch_the_triggers_or_history(pg_url):
    from ledger_helpers import OWNERS
    from sqlalchemy import create_engine

    from chipex.ledger import open_ledger

    if OWNERS.get(pg_url) is None or OWNERS[pg_url].split("@")[0] == pg_url.split("@")[0]:
        pytest.skip("CHIPEX_TEST_PG_OWNER_URL is not set: one role owns and uses the tables")
    with open_ledger(pg_url) as ledger:
        ledger.add_licence(licence())
        ledger.reserve(h100_line(1), key="k")
    app = create_engine(pg_url)
    for statement in (
        "DROP TRIGGER events_append_only ON events",
        "ALTER TABLE events DISABLE TRIGGER ALL",
        "UPDATE events SET actor = 'mallory'",
        "DELETE FROM events",
        "TRUNCATE entries",
        "UPDATE entries SET amount = 0",
        "SET session_replication_role = replica",
        "DROP TABLE events CASCADE",
    ):
        with pytest.raises(Exception, match=r"must be owner|permission denied|append-only"), app.begin() as c:
            c.exec_driver_sql(statement)
    app.dispose()
    with open_ledger(pg_url) as ledger:
        assert ledger.verify().ok


@pytest.mark.postgres
def test_the_application_role_runs_the_services_users_and_jobs(pg_url, tmp_path):
    """`chipex ledger migrate --grant ROLE` is enough for the HTTP service on PostgreSQL: the
    application's role adds and revokes API users and queues and updates book jobs (the service's
    state), while the log stays append-only (the test above)."""
    from chipex.service import jobs, users

    if OWNERS.get(pg_url) is None or OWNERS[pg_url].split("@")[0] == pg_url.split("@")[0]:
        pytest.skip("CHIPEX_TEST_PG_OWNER_URL is not set: one role owns and uses the tables")
    new = users.add_user("alice", "officer", actor="admin", db=pg_url)
    assert users.authenticate(new.key, db=pg_url).name == "alice"
    users.revoke("alice", actor="admin", db=pg_url)
    assert users.authenticate(new.key, db=pg_url) is None
    book = tmp_path / "book.csv"
    book.write_text("date,item,quantity,destination\n2024-06-01,H100,8,CN\n")
    job = jobs.submit(book, "book.csv", user="alice", options=jobs.JobOptions(), db=pg_url)
    done = jobs.run(job.job_id, db=pg_url)
    assert (done.status, done.counts["checked"]) == ("done", 1)
