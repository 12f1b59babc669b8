"""Opening the ledger database: a SQLite file under CHIPEX_HOME by default (WAL), PostgreSQL by URL.

`--db URL` or CHIPEX_DB choose the database (`postgresql://user@host/db` or a SQLite path or URL).
Opening migrates the schema to the newest revision shipped in `migrations/`, under a lock, so
several processes may open a new ledger at once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: SQLite's own busy timeout does the waiting
    fcntl = None

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from chipex.errors import ChipexError
from chipex.home import chipex_home

BUSY_TIMEOUT_S = 120  # SQLite: how long a writer waits for another writer before giving up
_MIGRATION_LOCK = 0x63686970  # PostgreSQL advisory lock key ("chip")


def resolve_url(db: str | None = None) -> URL:
    """The ledger's database URL: `db`, else CHIPEX_DB, else `ledger.db` under CHIPEX_HOME."""
    text = db or os.environ.get("CHIPEX_DB")
    if not text:
        return URL.create("sqlite", database=str(chipex_home() / "ledger.db"))
    if "://" not in text:  # a plain path is a SQLite file
        return URL.create("sqlite", database=str(Path(text).expanduser()))
    try:
        url = make_url(text)
    except ArgumentError:
        raise ChipexError(f"not a database URL: '{text}'", field="db") from None
    if url.get_backend_name() in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() != "sqlite":
        raise ChipexError(
            f"the ledger runs on SQLite or PostgreSQL, not '{url.get_backend_name()}'", field="db"
        )
    return url


def _sqlite_engine(url: URL) -> Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None  # the driver leaves transactions to us (see _on_begin)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")  # a committed ledger record survives power loss too
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A writer takes SQLite's write lock before it reads what it checks (BEGIN IMMEDIATE), so
        # two processes can never both see the same remaining quantity. Readers do not block.
        immediate = conn.get_execution_options().get("ledger_write")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def open_engine(db: str | None = None) -> Engine:
    """An engine on the ledger database, migrated to the newest schema."""
    url = resolve_url(db)
    shown = url.render_as_string(hide_password=True)
    try:
        engine = _sqlite_engine(url) if url.get_backend_name() == "sqlite" else create_engine(url)
    except ModuleNotFoundError as exc:
        raise ChipexError(
            f"cannot open {shown}: {exc.name} is not installed (pip install 'chipex[postgres]')", field="db"
        ) from None
    except OSError as exc:
        raise ChipexError(f"cannot open {shown}: {exc.strerror}", field="db") from None
    try:
        migrate(engine)
    except DBAPIError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise ChipexError(f"cannot open the ledger database {shown}: {reason}", field="db") from None
    return engine


@contextmanager
def transaction(engine: Engine, *, write: bool) -> Iterator[Connection]:
    """One transaction; a writing one holds the write lock (SQLite) from its first statement."""
    with engine.connect() as conn, _writers_queue(engine, write):
        conn.execution_options(ledger_write=write)
        with conn.begin():
            yield conn


@contextmanager
def _writers_queue(engine: Engine, write: bool) -> Iterator[None]:
    """SQLite writers wait their turn on an OS file lock, woken as soon as the writer before them
    commits, instead of polling SQLite's lock with growing sleeps (which, with 8 writers, left the
    database idle most of the time). The OS releases the lock of a killed process."""
    path = engine.url.database
    if not write or fcntl is None or engine.dialect.name != "sqlite" or not path or path == ":memory:":
        yield
        return
    with open(f"{path}-writer.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration for the migrations shipped in the package (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations").replace("%", "%%"))
    cfg.attributes["connection"] = connection
    return cfg


@cache
def _head() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def migrate(engine: Engine) -> None:
    """Upgrade the schema to the newest revision; one process migrates, the others wait and see it."""
    with engine.connect() as conn:
        if MigrationContext.configure(conn).get_current_revision() == _head():
            return
    with transaction(engine, write=True) as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
        command.upgrade(alembic_config(conn), "head")
