"""Ledger fixtures: each test gets a fresh SQLite file and, when CHIPEX_TEST_PG_URL names a
PostgreSQL server, a fresh PostgreSQL database (created and dropped around the test)."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

PG_ENV = "CHIPEX_TEST_PG_URL"


@pytest.fixture(autouse=True)
def _no_user_db(monkeypatch):
    monkeypatch.delenv("CHIPEX_DB", raising=False)
    monkeypatch.setenv("CHIPEX_USER", "tester")


@pytest.fixture
def pg_url():
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(
            f"PostgreSQL ledger tests need a server: {PG_ENV} is not set "
            "(e.g. postgresql+psycopg://chipex:chipex@127.0.0.1:5432/chipex_test; .ci/run starts one)"
        )
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    name = f"chipex_t_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield make_url(base).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request, tmp_path) -> str:
    """The ledger database URL: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def ledger(db):
    from chipex.ledger import open_ledger

    with open_ledger(db) as opened:
        yield opened
