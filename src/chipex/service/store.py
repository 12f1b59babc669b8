"""The service's tables in the ledger database (Alembic branch "service", revision s001 on).

Writes that change who may do what (users) are made in the same transaction as their audit event,
so the chain and the tables never disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import BigInteger, Column, Connection, MetaData, String, Table, Text

from chipex.service.common import ledger_for

T = TypeVar("T")
metadata = MetaData()

users = Table(
    "service_users",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("role", String(20), nullable=False),
    Column("key_id", String(32), nullable=False, unique=True),
    Column("key_hash", String(200), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("expires_at", String(40)),
    Column("revoked_at", String(40)),
    Column("password_hash", String(200)),  # Argon2id of the web sign-in password (s002), never the password
    Column("password_set_at", String(40)),
)

jobs = Table(
    "service_jobs",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("status", String(20), nullable=False),
    Column("user_name", String(100), nullable=False),
    Column("filename", String(300), nullable=False),
    Column("options", Text, nullable=False),
    Column("workdir", String(1000), nullable=False),
    Column("total", BigInteger),
    Column("done", BigInteger),
    Column("checked", BigInteger),
    Column("rejected", BigInteger),
    Column("summary", Text),
    Column("errors", Text),
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
    Column("owner", String(100)),
)


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def read(db: str | None, fn: Callable[[Connection], T]) -> T:
    from chipex.ledger.db import transaction

    with transaction(ledger_for(db, None).engine, write=False) as conn:
        return fn(conn)


def write(db: str | None, fn: Callable[[Connection], T]) -> T:
    from chipex.ledger.db import transaction

    with transaction(ledger_for(db, None).engine, write=True) as conn:
        return fn(conn)


def write_audited(
    db: str | None,
    actor: str | None,
    kind: str,
    subject: str,
    payload: dict[str, Any],
    fn: Callable[[Connection], T],
) -> T:
    """Run `fn` and append its audit event (`kind`, `subject`, `payload`, by `actor`) in one transaction."""
    led = ledger_for(db, actor)

    def both(conn: Connection) -> T:
        out = fn(conn)
        led._append(conn, kind, subject, payload)  # the ledger's own chained append, same transaction
        return out

    return led._write(both)
