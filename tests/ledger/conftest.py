"""Ledger fixtures: each test gets a fresh SQLite file and, when CHIPEX_TEST_PG_URL names a
PostgreSQL database, a fresh schema in it (created and dropped around the test).

On PostgreSQL two roles play their production parts: CHIPEX_TEST_PG_OWNER_URL's role creates the
schema and runs the migrations (it owns the tables), and the ledger under test connects with
CHIPEX_TEST_PG_URL's role, granted only what `chipex ledger migrate --grant` grants. Without an owner
URL one role does both (and the test that the application role is refused skips)."""

from __future__ import annotations

import os
import uuid

import pytest
from ledger_helpers import OWNERS
from sqlalchemy import create_engine, make_url

PG_ENV = "CHIPEX_TEST_PG_URL"
PG_OWNER_ENV = "CHIPEX_TEST_PG_OWNER_URL"


@pytest.fixture(autouse=True)
def _no_user_db(monkeypatch, tmp_path):
    monkeypatch.delenv("CHIPEX_DB", raising=False)
    monkeypatch.setenv("CHIPEX_USER", "tester")
    # the signing key and checkpoint files live outside the database: here, per test
    monkeypatch.setenv("CHIPEX_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CHIPEX_AUDIT_KEY", raising=False)
    monkeypatch.delenv("CHIPEX_CHECKPOINTS", raising=False)


@pytest.fixture(scope="session")
def pg_admin():
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(
            f"PostgreSQL ledger tests need a server: {PG_ENV} is not set "
            "(e.g. postgresql+psycopg://chipex_app:chipex_app@127.0.0.1:5432/chipex_test, with "
            f"{PG_OWNER_ENV} for the tables' owner; .ci/run starts one)"
        )
    admin = create_engine(os.environ.get(PG_OWNER_ENV) or base, isolation_level="AUTOCOMMIT")
    yield admin
    admin.dispose()


@pytest.fixture
def pg_url(pg_admin):
    """A fresh schema in the test database, owned and migrated by the owner role, first on the
    search path of every connection; the URL the application's role connects with."""
    from chipex.ledger.db import grant_app_role, open_engine

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with pg_admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    path = {"options": f"-csearch_path={schema}"}
    owner = pg_admin.url.update_query_dict(path).render_as_string(hide_password=False)
    app = make_url(os.environ[PG_ENV]).update_query_dict(path)
    engine = open_engine(owner)
    if app.username != pg_admin.url.username:
        grant_app_role(engine, app.username)
    engine.dispose()
    url = app.render_as_string(hide_password=False)
    OWNERS[url] = owner
    yield url
    OWNERS.pop(url, None)
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
