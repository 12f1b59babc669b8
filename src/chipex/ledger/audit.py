"""The tamper-evident audit log: canonical event text, the hash chain, verification and export.

Each event's hash is SHA-256 over the JSON array [prev_hash, at, actor, kind, subject, payload],
where payload is the canonical JSON text stored with the event (keys sorted, no spaces, UTF-8). The
first event's prev_hash is 64 zeros. An auditor can recompute the chain from an export with this
recipe alone.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from decimal import Decimal
from fractions import Fraction
from typing import IO, Any, NamedTuple

from chipex.ledger.schema import GENESIS


def _jsonable(v: Any) -> Any:
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, Decimal | Fraction):
        return str(v)
    raise TypeError(f"cannot record a {type(v).__name__} in the ledger: {v!r}")


def canonical(obj: Any) -> str:
    """The one text of a payload: what is stored and what is hashed."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_jsonable)


def parse(payload: str) -> Any:
    return json.loads(payload)


def event_hash(prev_hash: str, at: str, actor: str, kind: str, subject: str, payload: str) -> str:
    text = json.dumps(
        [prev_hash, at, actor, kind, subject, payload], separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EventRow(NamedTuple):
    """One event as stored and exported (a database row has the same attributes)."""

    seq: int
    at: str
    actor: str
    kind: str
    subject: str
    payload: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Problem:
    seq: int
    what: str  # edited | deleted | reordered | inserted | entries | head
    detail: str


@dataclass(frozen=True)
class Verification:
    events: int
    head_hash: str
    problem: Problem | None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "head_hash": self.head_hash,
            "problem": asdict(self.problem) if self.problem else None,
        }


@dataclass
class ChainWalk:
    problem: Problem | None = None
    last_seq: int = 0
    last_hash: str = GENESIS


def verify_chain(rows: Iterable[EventRow], position: dict[str, int]) -> ChainWalk:
    """Walk the events in seq order and stop at the first that breaks the chain.

    `position` maps every stored hash to its event's seq, so a link to an event elsewhere in the log
    tells a reordering (the predecessor comes later) or an insertion (it comes earlier) from a
    deletion (the predecessor is gone).
    """
    walk = ChainWalk()
    for row in rows:
        walk.problem = _broken_link(row, walk, position)
        if walk.problem:
            break
        walk.last_seq, walk.last_hash = row.seq, row.hash
    return walk


def _broken_link(row: EventRow, walk: ChainWalk, position: dict[str, int]) -> Problem | None:
    seq, prev = row.seq, walk.last_seq
    if event_hash(row.prev_hash, row.at, row.actor, row.kind, row.subject, row.payload) != row.hash:
        return Problem(seq, "edited", f"event #{seq} was edited: its contents no longer match its hash")
    if row.prev_hash != walk.last_hash:
        linked = position.get(row.prev_hash)
        if linked is not None and linked > seq:
            return Problem(
                seq,
                "reordered",
                f"event #{seq} is out of order: it was recorded after the event now at #{linked}",
            )
        if linked is not None:
            return Problem(
                prev,
                "inserted",
                f"event #{prev} was inserted: event #{seq} was recorded right after #{linked}",
            )
        return Problem(
            prev + 1,
            "deleted",
            f"event #{prev + 1} was deleted: event #{seq} was recorded after an event no longer in the log",
        )
    if seq != prev + 1:
        return Problem(prev + 1, "deleted", f"event #{prev + 1} is missing from the log")
    return None


def check_head(last_seq: int, last_hash: str, head_seq: int, head_hash: str) -> Problem | None:
    """The chain head names the last event appended: a shorter log lost its tail."""
    if head_seq > last_seq:
        return Problem(
            last_seq + 1,
            "deleted",
            f"event #{last_seq + 1} was deleted: the chain head records {head_seq} events, "
            f"the log ends at #{last_seq}",
        )
    if (head_seq, head_hash) != (last_seq, last_hash):
        return Problem(
            last_seq, "head", f"the chain head (#{head_seq}) does not match the log's last event #{last_seq}"
        )
    return None


def check_anchor(walk: ChainWalk, expect_head: str | None) -> Problem | None:
    """The last hash against one recorded outside the database (the only defence against someone
    who deletes the newest events and rewinds the chain head too)."""
    if expect_head and expect_head != walk.last_hash:
        return Problem(
            walk.last_seq,
            "head",
            f"the log's last hash is not {expect_head}: events were removed or rewritten",
        )
    return None


EXPORT_FIELDS = EventRow._fields


def export(rows: Iterable[EventRow], out: IO[str], fmt: str) -> int:
    """Write the log for an auditor: CSV (payload as its stored JSON text) or JSONL. Returns the count."""
    n = 0
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(EXPORT_FIELDS)
        for row in rows:
            writer.writerow([getattr(row, f) for f in EXPORT_FIELDS])
            n += 1
    else:
        for row in rows:
            out.write(json.dumps({f: getattr(row, f) for f in EXPORT_FIELDS}, ensure_ascii=False) + "\n")
            n += 1
    return n


def verify_export(lines: Iterable[str], fmt: str, *, expect_head: str | None = None) -> Verification:
    """Verify an exported log on its own (an auditor's copy): the chain, and the last hash against
    one recorded elsewhere (without it, events cut from the end of a copy cannot be seen)."""
    rows = list(read_export(lines, fmt))
    walk = verify_chain(rows, {r.hash: r.seq for r in rows})
    return Verification(len(rows), walk.last_hash, walk.problem or check_anchor(walk, expect_head))


def read_export(lines: Iterable[str], fmt: str) -> Iterator[EventRow]:
    """Rows of an exported log (the inverse of `export`)."""
    if fmt == "csv":
        for rec in csv.DictReader(lines):
            yield EventRow(**{**rec, "seq": int(rec["seq"])})
    else:
        for line in lines:
            if line.strip():
                rec = json.loads(line)
                yield EventRow(**{f: rec[f] for f in EXPORT_FIELDS})
