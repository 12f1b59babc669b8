"""The screening store: loaded list snapshots and reviewer decisions, in SQLite under CHIPEX_HOME.

CHIPEX_HOME defaults to the user's data directory (`$XDG_DATA_HOME/chipex`, `~/.local/share/chipex`,
`~/Library/Application Support/chipex` on macOS, `%APPDATA%\\chipex` on Windows). Loaded list files are
copied under `screening/lists/` so a snapshot stays reproducible after the original file is gone.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from chipex.errors import ChipexError
from chipex.home import chipex_home
from chipex.screening.lists import Snapshot

DECISIONS = ("confirmed", "false_positive")

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
CREATE TABLE IF NOT EXISTS decisions (
  query_key TEXT NOT NULL,
  entry_id TEXT NOT NULL,
  decision TEXT NOT NULL CHECK (decision IN ('confirmed', 'false_positive')),
  query TEXT NOT NULL,
  entry_name TEXT NOT NULL,
  snapshot_id TEXT NOT NULL,
  reviewer TEXT NOT NULL,
  note TEXT NOT NULL,
  decided_at TEXT NOT NULL,
  PRIMARY KEY (query_key, entry_id)
);
"""


@dataclass(frozen=True)
class StoredSnapshot:
    id: str
    source_date: date
    content_hash: str
    source: str
    path: Path
    counts: dict[str, int]
    loaded_at: str


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


class Store:
    """SQLite file `screening/screening.db` under `home` (CHIPEX_HOME by default)."""

    def __init__(self, home: Path | None = None) -> None:
        self.dir = (home or chipex_home()) / "screening"
        self.db_path = self.dir / "screening.db"

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(self.db_path)
        except (OSError, sqlite3.Error) as exc:
            raise ChipexError(f"cannot open the screening store: {exc}", file=str(self.db_path)) from None
        try:
            con.executescript(_SCHEMA)
            with con:  # one transaction: committed on success, rolled back on any error
                yield con
        finally:
            con.close()

    # --- snapshots -------------------------------------------------------------------------------
    def snapshots(self) -> list[StoredSnapshot]:
        if not self.db_path.exists():
            return []
        with self._db() as con:
            rows = con.execute(
                "SELECT id, source_date, content_hash, source, path, counts, loaded_at FROM snapshots "
                "ORDER BY loaded_at"
            ).fetchall()
        return [
            StoredSnapshot(r[0], date.fromisoformat(r[1]), r[2], r[3], Path(r[4]), json.loads(r[5]), r[6])
            for r in rows
        ]

    def current(self) -> StoredSnapshot | None:
        """The most recently loaded snapshot, if any was loaded (else the shipped list is current)."""
        snaps = self.snapshots()
        return snaps[-1] if snaps else None

    def add_snapshot(self, snap: Snapshot, file: Path) -> StoredSnapshot:
        """Copy the file in and record the snapshot as current; all or nothing."""
        lists_dir = self.dir / "lists"
        lists_dir.mkdir(parents=True, exist_ok=True)
        suffixes = "".join(file.suffixes[-2:]) if file.suffix == ".gz" else file.suffix
        target = lists_dir / f"{snap.id}{suffixes}"
        tmp = target.with_name(target.name + ".part")
        shutil.copyfile(file, tmp)
        now = datetime.now(UTC).isoformat(timespec="microseconds")
        try:
            with self._db() as con:
                con.execute("DELETE FROM snapshots WHERE id = ?", (snap.id,))
                con.execute(
                    "INSERT INTO snapshots VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        snap.id,
                        snap.source_date.isoformat(),
                        snap.content_hash,
                        snap.source,
                        str(target),
                        json.dumps(snap.counts),
                        now,
                    ),
                )
                tmp.replace(target)
        finally:
            tmp.unlink(missing_ok=True)
        return StoredSnapshot(
            snap.id, snap.source_date, snap.content_hash, snap.source, target, snap.counts, now
        )

    # --- reviewer decisions ----------------------------------------------------------------------
    def decide(self, d: Decision) -> None:
        if d.decision not in DECISIONS:
            raise ChipexError(
                f"decision must be one of {', '.join(DECISIONS)}, not '{d.decision}'", field="decision"
            )
        with self._db() as con:
            con.execute(
                "INSERT OR REPLACE INTO decisions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    d.query_key,
                    d.entry_id,
                    d.decision,
                    d.query,
                    d.entry_name,
                    d.snapshot_id,
                    d.reviewer,
                    d.note,
                    d.decided_at,
                ),
            )

    def decisions(self) -> dict[tuple[str, str], Decision]:
        if not self.db_path.exists():
            return {}
        with self._db() as con:
            rows = con.execute("SELECT * FROM decisions").fetchall()
        return {(r[0], r[1]): Decision(*r) for r in rows}
