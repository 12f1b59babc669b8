"""Opening the ledger database: a SQLite file under CHIPEX_HOME by default (WAL), PostgreSQL by URL.

`--db URL` or CHIPEX_DB choose the database (`postgresql://user@host/db` or a SQLite path or URL).
Opening migrates the schema to the newest revisions shipped in `migrations/` (every head: other
areas add tables on their own branches), under a lock, so several processes may open a new ledger
at once. On PostgreSQL the application should connect as a role that does not own the tables (so
it cannot drop the append-only triggers): the owner migrates once with `chipex ledger migrate
--db OWNER_URL --grant APP_ROLE`, and the application's role then only reads and appends.

A SQLite ledger and its lock file are created mode 0600 (SQLite gives its -wal and -shm files the
database file's mode); a folder the ledger creates is 0700.
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


def private_file(path: Path | str) -> Path:
    """Create `path` (and any missing folders, 0700) as an empty file readable by its owner only,
    unless it exists; an existing file keeps its mode."""
    path = Path(path)
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600))
    return path


def _sqlite_engine(url: URL) -> Engine:
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        private_file(url.database)
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
        if getattr(exc.orig, "sqlstate", None) == "42501":  # insufficient privilege
            reason += (
                ": the schema is not at the newest revision and this role may not change it"
                " (run 'chipex ledger migrate --db OWNER_URL --grant ROLE' as the tables' owner)"
            )
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
    with open(private_file(f"{path}-writer.lock"), "a") as lock:
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
def _heads() -> frozenset[str]:
    """The newest revision of each branch: the ledger's line and the service's ("service": users, jobs)."""
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def migrate(engine: Engine) -> None:
    """Upgrade the schema to every head; one process migrates, the others wait and see it."""
    with engine.connect() as conn:
        if frozenset(MigrationContext.configure(conn).get_current_heads()) == _heads():
            return
    with transaction(engine, write=True) as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
        command.upgrade(alembic_config(conn), "heads")


# What the application's role may do on PostgreSQL: read everything, append events, entries and
# buckets, move the chain head. No UPDATE or DELETE on the log, and no ownership, so no ALTER TABLE
# ... DISABLE TRIGGER or DROP TRIGGER. (Locking a bucket FOR NO KEY UPDATE needs UPDATE on one of
# its columns; the append-only trigger refuses any actual update.) The HTTP service's own tables
# (migrations/versions/s001_service.py) are state, not history: users are added and revoked
# (a revoked row is renamed) and given passwords (s002), jobs are queued and their status moves;
# none is ever deleted.
APP_GRANTS = (
    "GRANT USAGE ON SCHEMA {schema} TO {role}",
    "GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}",
    "GRANT INSERT ON events, entries, buckets TO {role}",
    "GRANT UPDATE (seq, hash) ON chain_head TO {role}",
    "GRANT UPDATE (unit) ON buckets TO {role}",
    "GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
    "GRANT INSERT, UPDATE (name, revoked_at, password_hash, password_set_at) ON service_users TO {role}",
    "GRANT INSERT, UPDATE ON service_jobs TO {role}",
)


def grant_app_role(engine: Engine, role: str) -> None:
    """Give the application's PostgreSQL role exactly what the ledger needs (run as the owner)."""
    if engine.dialect.name != "postgresql":
        raise ChipexError("--grant is for PostgreSQL: a SQLite file has no roles", field="grant")
    try:
        with engine.begin() as conn:
            quoted = conn.dialect.identifier_preparer.quote
            schema = conn.exec_driver_sql("SELECT current_schema()").scalar_one()
            for statement in APP_GRANTS:
                conn.exec_driver_sql(statement.format(schema=quoted(schema), role=quoted(role)))
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise ChipexError(f"cannot grant {role} the ledger's rights: {reason}", field="grant") from None
