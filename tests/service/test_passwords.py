"""Web sign-in passwords (chipex.service.users): stored as Argon2id only, verified in constant-ish
time, refused alike for a wrong password, an unknown name, a revoked or expired user; set through
`chipex users passwd --password-stdin`, and recorded in the audit chain."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import select, update

from chipex.errors import ChipexError
from chipex.service import store, users

PASSWORD = "correct horse battery staple"


@pytest.fixture
def db(tmp_path):
    path = str(tmp_path / "ledger.db")
    users.add_user("olga", "officer", actor="test-admin", db=path)
    return path


def _row(db: str, name: str):
    return store.read(
        db, lambda c: c.execute(select(store.users).where(store.users.c.name == name)).mappings().first()
    )


def test_a_password_is_stored_as_an_argon2id_hash_and_verifies(db):
    u = users.set_password("olga", PASSWORD, actor="test-admin", db=db)
    assert u.password_set_at is not None
    row = _row(db, "olga")
    assert row["password_hash"].startswith("$argon2id$")
    assert PASSWORD not in row["password_hash"]
    # the whole users table, as text, holds no trace of the password
    raw = store.read(db, lambda c: c.exec_driver_sql("SELECT * FROM service_users").fetchall())
    assert PASSWORD not in repr(raw)
    got = users.verify_password("olga", PASSWORD, db=db)
    assert got is not None and got.name == "olga" and got.role == "officer"
    assert users.list_users(db=db)[0].password_set_at == u.password_set_at


def test_wrong_password_unknown_user_no_password_revoked_and_expired_are_all_refused(db):
    users.add_user("ivan", "viewer", db=db)  # has no password
    users.set_password("olga", PASSWORD, db=db)
    assert users.verify_password("olga", PASSWORD + "x", db=db) is None
    assert users.verify_password("OLGA", PASSWORD, db=db) is None  # names are exact
    assert users.verify_password("nobody", PASSWORD, db=db) is None
    assert users.verify_password("ivan", PASSWORD, db=db) is None
    # expired: the row stays, the password is right, the user may not sign in
    store.write(db, lambda c: c.execute(update(store.users).where(store.users.c.name == "olga")
                                         .values(expires_at="2020-01-01T00:00:00+00:00")))  # fmt: skip
    assert users.verify_password("olga", PASSWORD, db=db) is None
    store.write(db, lambda c: c.execute(update(store.users).where(store.users.c.name == "olga")
                                         .values(expires_at=None)))  # fmt: skip
    assert users.verify_password("olga", PASSWORD, db=db) is not None
    users.revoke("olga", db=db)
    assert users.verify_password("olga", PASSWORD, db=db) is None
    # the name given again: the new user has no password until one is set
    users.add_user("olga", "viewer", db=db)
    assert users.verify_password("olga", PASSWORD, db=db) is None


def test_an_unknown_name_costs_one_argon2_verification_like_a_known_one(db, monkeypatch):
    from argon2 import PasswordHasher

    users.set_password("olga", PASSWORD, db=db)
    calls: list[str] = []
    real = PasswordHasher.verify
    monkeypatch.setattr(PasswordHasher, "verify", lambda self, h, p: calls.append(h) or real(self, h, p))
    for name in ("olga", "nobody"):
        assert users.verify_password(name, "wrong password!", db=db) is None
    assert len(calls) == 2 and all(h.startswith("$argon2id$") for h in calls)
    assert calls[0] == _row(db, "olga")["password_hash"] and calls[1] != calls[0]


def test_session_user_ends_with_a_new_password_or_revocation(db):
    first = users.set_password("olga", PASSWORD, db=db)
    assert users.session_user(first.key_id, first.password_set_at, db=db).name == "olga"
    second = users.set_password("olga", PASSWORD + " 2", db=db)
    assert second.password_set_at != first.password_set_at
    assert users.session_user(first.key_id, first.password_set_at, db=db) is None
    assert users.session_user(second.key_id, second.password_set_at, db=db) is not None
    assert users.verify_password("olga", PASSWORD, db=db) is None  # the old one no longer works
    users.revoke("olga", db=db)
    assert users.session_user(second.key_id, second.password_set_at, db=db) is None


def test_bad_passwords_and_unknown_or_revoked_users_cannot_be_given_one(db):
    for bad in ("nine char", "x" * 1025, " leading space", "trailing space ", "OLGA"):
        with pytest.raises(ChipexError) as exc:
            users.set_password("olga", bad, db=db)
        assert exc.value.field == "password"
    assert _row(db, "olga")["password_hash"] is None  # nothing was stored
    with pytest.raises(ChipexError, match="no user 'nobody'"):
        users.set_password("nobody", PASSWORD, db=db)
    users.revoke("olga", db=db)
    with pytest.raises(ChipexError, match="no user 'olga'"):
        users.set_password("olga", PASSWORD, db=db)


def test_a_password_change_is_in_the_audit_chain_without_the_password(db):
    import io
    import json

    from chipex.ledger.ledger import open_ledger

    u = users.set_password("olga", PASSWORD, actor="test-admin", db=db)
    led = open_ledger(db, actor="t")
    out = io.StringIO()
    led.export(out, "jsonl")
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [e["kind"] for e in events] == ["user.added", "user.password_set"]
    last = events[-1]
    assert last["actor"] == "test-admin" and last["subject"] == f"olga/{u.key_id}@{u.password_set_at}"
    assert PASSWORD not in out.getvalue() and "argon2" not in out.getvalue()
    assert led.verify().ok


def test_users_passwd_password_stdin_then_the_password_signs_in(db):
    def passwd(text: str):
        return subprocess.run([sys.executable, "-m", "chipex", "users", "passwd", "olga", "--password-stdin",
                               "--db", db], input=text, capture_output=True, text=True)  # fmt: skip

    r = passwd(PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    assert "password set for olga" in r.stdout and PASSWORD not in r.stdout + r.stderr
    assert users.verify_password("olga", PASSWORD, db=db) is not None  # the newline is not part of it
    r = passwd("short\n")
    assert r.returncode != 0 and "10 to 1024 characters" in r.stdout + r.stderr
    assert users.verify_password("olga", PASSWORD, db=db) is not None  # unchanged


def test_expired_user_cannot_be_given_a_password(db):
    store.write(db, lambda c: c.execute(update(store.users).where(store.users.c.name == "olga")
                                         .values(expires_at="2020-01-01T00:00:00+00:00")))  # fmt: skip
    with pytest.raises(ChipexError, match="expired"):
        users.set_password("olga", PASSWORD, db=db)
    assert _row(db, "olga")["password_hash"] is None


def test_users_passwd_asks_twice_hidden_and_refuses_a_mismatch(db):
    from typer.testing import CliRunner

    from chipex.interfaces.cli import app

    runner = CliRunner()
    r = runner.invoke(app, ["users", "passwd", "olga", "--db", db], input=f"{PASSWORD}\n{PASSWORD}x\n")
    assert r.exit_code != 0 and users.verify_password("olga", PASSWORD, db=db) is None
    assert "match" in r.output  # click: "the two entered values do not match"
    r = runner.invoke(app, ["users", "passwd", "olga", "--db", db], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert r.exit_code == 0, r.output
    assert PASSWORD not in r.output  # hidden input is not echoed
    assert users.verify_password("olga", PASSWORD, db=db) is not None
