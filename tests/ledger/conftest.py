"""Ledger fixtures: each test gets a fresh SQLite file and, when CHIPEX_TEST_PG_URL names a
PostgreSQL database, a fresh schema in it (created and dropped around the test)."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine

PG_ENV = "CHIPEX_TEST_PG_URL"


@pytest.fixture(autouse=True)
def _no_user_db(monkeypatch):
    monkeypatch.delenv("CHIPEX_DB", raising=False)
    monkeypatch.setenv("CHIPEX_USER", "tester")


@pytest.fixture(scope="session")
def pg_admin():
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(
            f"PostgreSQL ledger tests need a server: {PG_ENV} is not set "
            "(e.g. postgresql+psycopg://chipex:chipex@127.0.0.1:5432/chipex_test; .ci/run starts one)"
        )
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    yield admin
    admin.dispose()


@pytest.fixture
def pg_url(pg_admin):
    """A fresh schema in the test database, first on the search path of every connection."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with pg_admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = pg_admin.url.update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with pg_admin.connect() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")


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
