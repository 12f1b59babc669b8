"""API users: roles, permissions, keys and passwords stored as Argon2 hashes, expiry, revocation.

A key is `chipex_<key id>_<secret>`; the key id finds the user, Argon2id (argon2-cffi) checks the
whole key. The key itself is shown once, when the user is added, and never stored. A user may also
have a password (`chipex users passwd`) to sign in to the web UI by name; it too is stored only as
an Argon2id hash, and a revoked or expired user cannot sign in with it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import insert, select, update

from chipex.errors import ChipexError
from chipex.service import store

Role = Literal["viewer", "analyst", "officer", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "analyst", "officer", "admin")
# Each role has the permissions of the one before it, plus its own (issue 13, section 3).
_OWN = {
    "viewer": ("read",),
    "analyst": ("lab",),  # policy lab and compute
    "officer": ("record", "ledger:write", "screening:review"),
    "admin": ("users", "lists:load"),
}
PERMISSIONS = {r: tuple(p for prev in ROLES[: i + 1] for p in _OWN[prev]) for i, r in enumerate(ROLES)}
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$"


class User(BaseModel):
    name: str
    role: Role
    key_id: str
    created_at: str
    expires_at: str | None = None
    revoked_at: str | None = None
    password_set_at: str | None = None  # when a web sign-in password was last set (None: none)

    @property
    def permissions(self) -> tuple[str, ...]:
        return PERMISSIONS[self.role]

    def active(self, on: dt.datetime | None = None) -> bool:
        now = (on or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class UserRequest(BaseModel):
    name: str = Field(pattern=NAME_PATTERN)
    role: Role
    expires: dt.date | None = Field(None, description="the key stops working on this date")


class NewUser(BaseModel):
    user: User
    key: str = Field(description="the API key: shown once, stored only as an Argon2 hash")


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()


def add_user(
    name: str, role: str, *, expires: dt.date | None = None, actor: str | None = None, db: str | None = None
) -> NewUser:
    import re

    if not re.match(NAME_PATTERN, name):
        raise ChipexError("a user name is letters, digits and . _ @ - (at most 100)", field="name")
    if role not in ROLES:
        raise ChipexError(f"unknown role '{role}' (use {', '.join(ROLES)})", field="role")
    if expires is not None and expires <= dt.date.today():
        raise ChipexError(f"the expiry date {expires} is not in the future", field="expires")
    key_id = secrets.token_hex(6)
    key = f"chipex_{key_id}_{secrets.token_urlsafe(24)}"
    user = User(
        name=name,
        role=role,  # type: ignore[arg-type]
        key_id=key_id,
        created_at=store.now(),
        expires_at=f"{expires.isoformat()}T00:00:00+00:00" if expires else None,
    )

    def put(conn) -> None:
        old = conn.execute(select(store.users.c.name).where(store.users.c.name == name)).first()
        if old is not None:
            raise ChipexError(f"user '{name}' exists (revoke it first, or pick another name)", field="name")
        conn.execute(insert(store.users).values(**user.model_dump(), key_hash=_hasher().hash(key)))

    payload = {"name": name, "role": role, "key_id": key_id, "expires_at": user.expires_at}
    store.write_audited(db, actor, "user.added", f"{name}/{key_id}", payload, put)
    return NewUser(user=user, key=key)


PASSWORD_MIN, PASSWORD_MAX = 10, 1024  # characters; long passphrases welcome (NIST SP 800-63B 3.1.1.2)
SIGNIN_REFUSED = "wrong user name or password, or the user is revoked or expired"


def set_password(name: str, password: str, *, actor: str | None = None, db: str | None = None) -> User:
    """Give an active user a (new) web sign-in password; its Argon2id hash replaces any old one, which
    ends the sessions signed in with the old password. Recorded in the audit chain (never the hash)."""
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise ChipexError(
            f"a password is {PASSWORD_MIN} to {PASSWORD_MAX} characters (this one has {len(password)})",
            field="password",
        )
    if password.strip() != password or password.casefold() == name.casefold():
        raise ChipexError(
            "a password neither is the user's name nor starts or ends with a space", field="password"
        )
    hashed = _hasher().hash(password)
    # to the microsecond: sessions compare it (two changes within a second still differ), and it
    # makes each change's audit subject unique
    when = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")

    def put(conn) -> User:
        row = conn.execute(select(store.users).where(store.users.c.name == name)).mappings().first()
        if row is None:
            raise ChipexError(f"no user '{name}' (a revoked user can be added again)", field="name")
        user = User.model_validate({**dict(row), "password_set_at": when})
        if not user.active():
            raise ChipexError(f"user '{name}' expired on {user.expires_at}", field="name")
        conn.execute(
            update(store.users)
            .where(store.users.c.key_id == user.key_id)
            .values(password_hash=hashed, password_set_at=user.password_set_at)
        )
        return user

    found = store.read(
        db, lambda c: c.execute(select(store.users.c.key_id).where(store.users.c.name == name)).first()
    )
    subject = f"{name}/{found[0] if found else '-'}@{when}"
    return store.write_audited(db, actor, "user.password_set", subject, {"name": name, "at": when}, put)


def list_users(*, db: str | None = None) -> list[User]:
    rows = store.read(
        db, lambda c: c.execute(select(store.users).order_by(store.users.c.name)).mappings().all()
    )
    return [User.model_validate(dict(r)) for r in rows]


def revoke(name: str, *, actor: str | None = None, db: str | None = None) -> User:
    """Revoke a user's key (the row stays, for the audit trail); the name can then be added again."""

    def off(conn) -> User:
        row = conn.execute(select(store.users).where(store.users.c.name == name)).mappings().first()
        if row is None:
            raise ChipexError(f"no user '{name}'", field="name")
        if row["revoked_at"]:
            raise ChipexError(f"user '{name}' was already revoked on {row['revoked_at']}", field="name")
        when = store.now()
        # a revoked user keeps its row under a new name, so the name can be given again
        conn.execute(
            update(store.users)
            .where(store.users.c.name == name)
            .values(revoked_at=when, name=f"{name}~revoked~{row['key_id']}")
        )
        return User.model_validate({**dict(row), "revoked_at": when})

    user = store.read(
        db, lambda c: c.execute(select(store.users.c.key_id).where(store.users.c.name == name)).first()
    )
    subject = f"{name}/{user[0] if user else '-'}"
    out = store.write_audited(db, actor, "user.revoked", subject, {"name": name}, off)
    _VERIFIED.clear()
    return out


# --- authentication ---------------------------------------------------------------------------------

_VERIFIED: dict[str, str] = {}  # sha256(key) -> the Argon2 hash it was verified against
_LOCK = threading.Lock()


def authenticate(key: str, *, db: str | None = None) -> User | None:
    """The active user holding `key`, else None. A key verified once is remembered (by its SHA-256,
    with the Argon2 hash it matched) so each request does not pay Argon2's deliberate cost; a
    revoked, expired or re-keyed user is looked up on every request and refused."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != "chipex" or len(parts[1]) != 12:
        return None
    row = store.read(
        db,
        lambda c: c.execute(select(store.users).where(store.users.c.key_id == parts[1])).mappings().first(),
    )
    if row is None:
        return None
    user = User.model_validate({k: row[k] for k in User.model_fields})
    if not user.active():
        return None
    digest = hashlib.sha256(key.encode()).hexdigest()
    with _LOCK:
        known = _VERIFIED.get(digest) == row["key_hash"]
    if not known:
        from argon2.exceptions import InvalidHashError, VerificationError

        try:
            _hasher().verify(row["key_hash"], key)
        except (VerificationError, InvalidHashError):
            return None
        with _LOCK:
            _VERIFIED[digest] = row["key_hash"]
    return user


_DUMMY: list[str] = []  # an Argon2 hash of nothing anyone knows, verified against for unknown names


def _dummy_hash() -> str:
    with _LOCK:
        if not _DUMMY:
            _DUMMY.append(_hasher().hash(secrets.token_urlsafe(24)))
        return _DUMMY[0]


def verify_password(name: str, password: str, *, db: str | None = None) -> User | None:
    """The active user `name` if `password` is theirs, else None: whether the name is unknown, has
    no password, is revoked or expired, or the password is wrong (the caller shows one message,
    SIGNIN_REFUSED). One Argon2 verification in every case, against a dummy hash when there is no
    user's, so the time taken does not tell which."""
    from argon2.exceptions import InvalidHashError, VerificationError

    row = None
    if len(name) <= 100 and len(password) <= PASSWORD_MAX:
        row = store.read(
            db, lambda c: c.execute(select(store.users).where(store.users.c.name == name)).mappings().first()
        )
    stored = row["password_hash"] if row is not None and row["password_hash"] else None
    try:
        _hasher().verify(stored or _dummy_hash(), password[:PASSWORD_MAX])
        ok = stored is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or row is None:
        return None
    user = User.model_validate({k: row[k] for k in User.model_fields})
    return user if user.active() else None


def session_user(key_id: str, password_set_at: str | None, *, db: str | None = None) -> User | None:
    """For a session signed in with a password: its user while still active and the password is the
    one signed in with (a new password, a revocation or the expiry end the session). No Argon2 here:
    the password was verified at sign-in."""
    row = store.read(
        db, lambda c: c.execute(select(store.users).where(store.users.c.key_id == key_id)).mappings().first()
    )
    if row is None or not row["password_hash"] or row["password_set_at"] != password_set_at:
        return None
    user = User.model_validate({k: row[k] for k in User.model_fields})
    return user if user.active() else None
