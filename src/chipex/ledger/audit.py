"""The tamper-evident audit log: canonical event text, the hash chain, verification and export.

Each event's hash is SHA-256 over the JSON array [prev_hash, at, actor, kind, subject, payload,
os_user], where payload is the canonical JSON text stored with the event (keys sorted, no spaces,
UTF-8), actor is the user the event was recorded for and os_user the OS account that ran chipex
(events recorded before revision 0002 have no os_user and hash the first six only). The first
event's prev_hash is 64 zeros. An auditor can recompute the chain from an export with this recipe
alone.
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


def event_hash(
    prev_hash: str, at: str, actor: str, kind: str, subject: str, payload: str, os_user: str | None = None
) -> str:
    fields = [prev_hash, at, actor, kind, subject, payload]
    text = json.dumps(
        fields if os_user is None else [*fields, os_user], separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def row_hash(row: Any) -> str:
    return event_hash(row.prev_hash, row.at, row.actor, row.kind, row.subject, row.payload, row.os_user)


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
    os_user: str | None = None


@dataclass(frozen=True)
class Problem:
    seq: int
    # edited | deleted | reordered | inserted | entries | head | invalid | overdrawn (the log itself);
    # differs | truncated | checkpoint (against the signed checkpoints)
    what: str
    detail: str


@dataclass(frozen=True)
class Verification:
    events: int
    head_hash: str
    problem: Problem | None
    checkpoints: int = 0  # signed checkpoints the log was checked against
    checkpoint_file: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "head_hash": self.head_hash,
            "problem": asdict(self.problem) if self.problem else None,
            "checkpoints": self.checkpoints,
            "checkpoint_file": self.checkpoint_file,
        }


def first(*problems: Problem | None) -> Problem | None:
    """The problem at the earliest event (the first given wins a tie)."""
    found = [p for p in problems if p is not None]
    return min(found, key=lambda p: p.seq) if found else None


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
    if row_hash(row) != row.hash:
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
            yield EventRow(**{**rec, "seq": int(rec["seq"]), "os_user": rec.get("os_user") or None})
    else:
        for line in lines:
            if line.strip():
                rec = json.loads(line)
                yield EventRow(
                    **{f: rec[f] for f in EXPORT_FIELDS if f != "os_user"}, os_user=rec.get("os_user")
                )


class Replay:
    """The log's own story, told again from the events alone (their payloads are hashed, so this
    trusts nothing the database counts): a shipment is never cancelled, a return never gives back
    more than shipped, and no licence ever has more drawn on it than it grants."""

    def __init__(self) -> None:
        self.problem: Problem | None = None
        self._granted: dict[str, Fraction] = {}  # licence bucket -> quantity granted
        self._drawn: dict[str, Fraction] = {}
        self._shipped: dict[str, tuple[int, int]] = {}  # reservation key -> (event, units)
        self._returned: dict[str, int] = {}
        self._units: dict[str, int] = {}  # reservation key -> units of its line

    def feed(self, rows: Iterable[EventRow]) -> Iterator[EventRow]:
        """Pass the rows through, checking each (so one walk over the log serves the chain too)."""
        for row in rows:
            if self.problem is None:
                self.problem = self._check(row)
            yield row

    def _check(self, row: EventRow) -> Problem | None:
        p = parse(row.payload)
        if row.kind == "licence.added":
            for unit in ("units", "tpp"):
                if p.get(unit) is not None:
                    self._granted[f"licence/{p['number']}/{unit}"] = Fraction(p[unit])
        elif row.kind == "reservation.made":
            self._units[row.subject] = p["line"]["units"] or 0
        elif row.kind == "reservation.shipped":
            self._shipped[row.subject] = (row.seq, self._units.get(row.subject, 0))
        elif row.kind == "reservation.cancelled" and row.subject in self._shipped:
            return Problem(
                row.seq,
                "invalid",
                f"event #{row.seq} cancels reservation '{row.subject}', which shipped at event "
                f"#{self._shipped[row.subject][0]}: a shipment is final (a return is its own event)",
            )
        elif row.kind == "reservation.returned":
            key = p["reservation"]
            returned = self._returned.get(key, 0) + p["units"]
            if key not in self._shipped or returned > self._shipped[key][1]:
                return Problem(
                    row.seq, "invalid", f"event #{row.seq} returns more of '{key}' than was shipped"
                )
            self._returned[key] = returned
        return self._draw(row.seq, p.get("draws", ()))

    def _draw(self, seq: int, draws: Iterable[dict[str, Any]]) -> Problem | None:
        for d in draws:
            bucket = d["bucket"]
            if bucket not in self._granted:
                continue  # caps may be exceeded where they only report (rules/caps.yaml)
            drawn = self._drawn[bucket] = self._drawn.get(bucket, Fraction(0)) + Fraction(d["amount"])
            if drawn > self._granted[bucket]:
                return Problem(
                    seq,
                    "overdrawn",
                    f"after event #{seq}, {bucket} has {drawn} drawn of {self._granted[bucket]} granted",
                )
        return None
