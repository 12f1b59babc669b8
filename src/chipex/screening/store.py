"""The screening store: loaded list snapshots and reviewer decisions, in SQLite under CHIPEX_HOME.

CHIPEX_HOME defaults to the user's data directory (`$XDG_DATA_HOME/chipex`, `~/.local/share/chipex`,
`~/Library/Application Support/chipex` on macOS, `%APPDATA%\\chipex` on Windows). Loaded list files are
kept under `screening/lists/`, named by content, so every snapshot ever accepted stays reproducible
after the original file is gone (a determination dated D screens against the list in force on D).
The folder is created 0700 and its files 0600 (issue 11): reviewer decisions and list copies are
nobody else's to read or rewrite.

Reviewer decisions are an append-only log (who, OS account, when, on which entry content): the decision
in effect is the latest event for (party, entry); nothing is updated or deleted in place.
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path

from chipex.errors import ChipexError
from chipex.home import chipex_home
from chipex.screening.lists import (
    DEFAULT_DATE,
    DEFAULT_PROVENANCE,
    Snapshot,
    default_snapshot_path,
    file_hash,
)

DECISIONS = ("confirmed", "false_positive")
REOPENED = "reopened"  # appended when the entry a decision was made on changed

_SCHEMA = """
CREATE TABLE IF NOT EXISTS snapshots (
  id TEXT PRIMARY KEY,
  source_date TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  source TEXT NOT NULL,
  path TEXT NOT NULL,
  counts TEXT NOT NULL,
  loaded_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS decision_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  query_key TEXT NOT NULL,
  entry_id TEXT NOT NULL,
  decision TEXT NOT NULL CHECK (decision IN ('confirmed', 'false_positive', 'reopened')),
  query TEXT NOT NULL,
  entry_name TEXT NOT NULL,
  entry_hash TEXT NOT NULL,
  snapshot_id TEXT NOT NULL,
  reviewer TEXT NOT NULL,
  os_user TEXT NOT NULL,
  note TEXT NOT NULL,
  decided_at TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS decision_log_no_update BEFORE UPDATE ON decision_log
  BEGIN SELECT RAISE(ABORT, 'reviewer decisions are append-only'); END;
CREATE TRIGGER IF NOT EXISTS decision_log_no_delete BEFORE DELETE ON decision_log
  BEGIN SELECT RAISE(ABORT, 'reviewer decisions are append-only'); END;
"""
# columns added after the first release: (table, column, definition)
_ADDED = (
    ("snapshots", "forced_by", "TEXT NOT NULL DEFAULT ''"),
    ("snapshots", "os_user", "TEXT NOT NULL DEFAULT ''"),
    ("snapshots", "problems", "TEXT NOT NULL DEFAULT '[]'"),
    ("snapshots", "origin", "TEXT NOT NULL DEFAULT ''"),
)


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"


def private_dir(path: Path) -> Path:
    """Create `path` (and parents) with mode 0700 for the last part; tighten it if it exists."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.is_symlink():
        os.chmod(path, 0o700)
    return path


def private_file(path: Path) -> None:
    """Create `path` empty with mode 0600 unless it exists (then make sure it is 0600)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


@dataclass(frozen=True)
class StoredSnapshot:
    id: str
    source_date: date
    content_hash: str
    source: str
    path: Path
    counts: dict[str, int]
    loaded_at: str  # "shipped" for the list shipped with chipex
    forced_by: str = ""  # who forced it in despite the swap checks ("" = not forced)
    os_user: str = ""
    problems: tuple[str, ...] = ()  # the swap checks it was forced past
    origin: str = ""  # where it came from: a file, a URL


@cache
def shipped() -> StoredSnapshot:
    """The list shipped with chipex, as an accepted snapshot (the first baseline). Its counts are left
    empty so that naming it needs no parsing (the index has them)."""
    digest = file_hash(default_snapshot_path())
    return StoredSnapshot(
        f"{DEFAULT_DATE.isoformat()}-{digest[:12]}", DEFAULT_DATE, digest, DEFAULT_PROVENANCE,
        default_snapshot_path(), {}, "shipped",
    )  # fmt: skip


@dataclass(frozen=True)
class Decision:
    query_key: str
    entry_id: str
    decision: str
    query: str
    entry_name: str
    snapshot_id: str
    reviewer: str
    note: str
    decided_at: str
    entry_hash: str = ""  # the entry's content when decided ("" = recorded before hashes were kept)
    os_user: str = ""


class Store:
    """SQLite file `screening/screening.db` under `home` (CHIPEX_HOME by default)."""

    def __init__(self, home: Path | None = None) -> None:
        self.dir = (home or chipex_home()) / "screening"
        self.db_path = self.dir / "screening.db"

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        try:
            private_dir(self.dir)
            private_file(self.db_path)
            con = sqlite3.connect(self.db_path)
        except (OSError, sqlite3.Error) as exc:
            raise ChipexError(f"cannot open the screening store: {exc}", file=str(self.db_path)) from None
        try:
            con.executescript(_SCHEMA)
            _migrate(con)
            with con:  # one transaction: committed on success, rolled back on any error
                yield con
        except sqlite3.DatabaseError as exc:
            raise ChipexError(f"screening store: {exc}", file=str(self.db_path)) from None
        finally:
            con.close()

    # --- snapshots -------------------------------------------------------------------------------
    def snapshots(self) -> list[StoredSnapshot]:
        """Snapshots loaded into this store, in loading order (the shipped list not included)."""
        if not self.db_path.exists():
            return []
        with self._db() as con:
            rows = con.execute(
                "SELECT id, source_date, content_hash, source, path, counts, loaded_at, forced_by, os_user, "
                "problems, origin FROM snapshots ORDER BY loaded_at"
            ).fetchall()
        return [_stored(r) for r in rows]

    def accepted(self) -> list[StoredSnapshot]:
        """Every accepted snapshot, the shipped list included, by source date (then loading order)."""
        stored = self.snapshots()
        ship = [] if any(s.id == shipped().id for s in stored) else [shipped()]
        return sorted([*ship, *stored], key=lambda s: (s.source_date, s.loaded_at != "shipped", s.loaded_at))

    def current(self) -> StoredSnapshot:
        """The accepted snapshot with the latest source date (the shipped list if none was loaded)."""
        return self.accepted()[-1]

    def in_force(self, on: date) -> tuple[StoredSnapshot, str | None]:
        """The latest accepted snapshot dated on or before `on`; when none is that old, the oldest one
        and a warning saying so."""
        snaps = self.accepted()
        before = [s for s in snaps if s.source_date <= on]
        if before:
            return before[-1], None
        oldest = snaps[0]
        return oldest, (
            f"no list snapshot dated on or before {on.isoformat()}: screened against the oldest one, "
            f"{oldest.id} (list of {oldest.source_date.isoformat()})"
        )

    def add_snapshot(
        self, snap: Snapshot, file: Path, *, forced_by: str = "", problems: tuple[str, ...] = (),
        origin: str = "",
    ) -> StoredSnapshot:  # fmt: skip
        """Copy the file in (0600, named by content) and record the snapshot as accepted; all or nothing."""
        lists_dir = private_dir(self.dir / "lists")
        suffixes = "".join(file.suffixes[-2:]) if file.suffix == ".gz" else file.suffix
        target = lists_dir / f"{snap.id}{suffixes}"
        tmp = target.with_name(target.name + ".part")
        private_file(tmp)
        now = datetime.now(UTC).isoformat(timespec="microseconds")
        user = os_user()
        try:
            shutil.copyfile(file, tmp)
            with self._db() as con:
                con.execute("DELETE FROM snapshots WHERE id = ?", (snap.id,))
                con.execute(
                    "INSERT INTO snapshots (id, source_date, content_hash, source, path, counts, loaded_at, "
                    "forced_by, os_user, problems, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (snap.id, snap.source_date.isoformat(), snap.content_hash, snap.source, str(target),
                     json.dumps(snap.counts), now, forced_by, user, json.dumps(list(problems)),
                     origin or str(file)),
                )  # fmt: skip
                tmp.replace(target)
        except OSError as exc:
            raise ChipexError(f"cannot copy the list into the store: {exc}", file=str(file)) from None
        finally:
            tmp.unlink(missing_ok=True)
        return StoredSnapshot(snap.id, snap.source_date, snap.content_hash, snap.source, target, snap.counts,
                              now, forced_by, user, problems, origin or str(file))  # fmt: skip

    # --- reviewer decisions ----------------------------------------------------------------------
    def decide(self, d: Decision) -> None:
        """Append a decision event (confirmed, false_positive, or reopened)."""
        if d.decision not in (*DECISIONS, REOPENED):
            raise ChipexError(
                f"decision must be one of {', '.join(DECISIONS)}, not '{d.decision}'", field="decision"
            )
        with self._db() as con:
            con.execute(
                "INSERT INTO decision_log (query_key, entry_id, decision, query, entry_name, entry_hash, "
                "snapshot_id, reviewer, os_user, note, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (d.query_key, d.entry_id, d.decision, d.query, d.entry_name, d.entry_hash, d.snapshot_id,
                 d.reviewer, d.os_user or os_user(), d.note, d.decided_at),
            )  # fmt: skip

    def history(self) -> list[Decision]:
        """Every decision event, oldest first."""
        if not self.db_path.exists():
            return []
        with self._db() as con:
            rows = con.execute(
                "SELECT query_key, entry_id, decision, query, entry_name, snapshot_id, reviewer, note, "
                "decided_at, entry_hash, os_user FROM decision_log ORDER BY seq"
            ).fetchall()
        return [Decision(*r) for r in rows]

    def decisions(self) -> dict[tuple[str, str], Decision]:
        """The decision in effect per (party key, entry id): the latest event, unless it reopened it."""
        latest: dict[tuple[str, str], Decision] = {}
        for d in self.history():
            latest[(d.query_key, d.entry_id)] = d
        return {k: d for k, d in latest.items() if d.decision != REOPENED}


def _stored(r: tuple) -> StoredSnapshot:
    when, counts, problems = date.fromisoformat(r[1]), json.loads(r[5]), tuple(json.loads(r[9]))
    return StoredSnapshot(r[0], when, r[2], r[3], Path(r[4]), counts, r[6], r[7], r[8], problems, r[10])


def _migrate(con: sqlite3.Connection) -> None:
    """Add the columns of later versions; move a first-release `decisions` table into the log once."""
    for table, column, definition in _ADDED:
        have = {r[1] for r in con.execute(f"PRAGMA table_info({table})")}
        if column not in have:
            con.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
    old = con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'decisions'").fetchone()
    if old:
        with con:
            con.execute(
                "INSERT INTO decision_log (query_key, entry_id, decision, query, entry_name, entry_hash, "
                "snapshot_id, reviewer, os_user, note, decided_at) SELECT query_key, entry_id, decision, "
                "query, entry_name, '', snapshot_id, reviewer, '', note, decided_at FROM decisions "
                "ORDER BY decided_at"
            )
            con.execute("DROP TABLE decisions")


_PARTIES = """
CREATE TABLE IF NOT EXISTS parties (
  id TEXT NOT NULL, name TEXT NOT NULL, country TEXT NOT NULL, file TEXT NOT NULL, loaded_at TEXT NOT NULL
);
"""


def set_customers(store: Store, rows: list[tuple[str, str, str]], file: str) -> None:
    """Replace the customer master (id, name, country) in one transaction."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    with store._db() as con:
        con.executescript(_PARTIES)
        con.execute("DELETE FROM parties")
        con.executemany("INSERT INTO parties VALUES (?, ?, ?, ?, ?)", [(*r, file, now) for r in rows])


def customers(store: Store) -> list[tuple[str, str, str]]:
    if not store.db_path.exists():
        return []
    with store._db() as con:
        con.executescript(_PARTIES)
        return [tuple(r) for r in con.execute("SELECT id, name, country FROM parties ORDER BY rowid")]
