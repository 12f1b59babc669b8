"""The ledger: licences, reservations against licences and caps, shipments, cancellations and
recorded determinations, each an append-only, hash-chained event on SQLite or PostgreSQL.

A reservation is one transaction: it locks the buckets it draws on (SQLite: BEGIN IMMEDIATE;
PostgreSQL: SELECT ... FOR UPDATE on the bucket rows, then on the chain head), sums what they hold,
refuses if a binding limit would be passed, and otherwise appends its event and entries. So many
processes reserving at once never push a total past its limit, and a retried request (same
idempotency key) is counted once. Nothing is ever updated: a cancellation is a new event whose
entries release the reservation's amounts. A shipment is final: it cannot be cancelled; units that
come back are a return, its own event (units, date, evidence, user), which re-credits only those.

Every event names its `actor` (the user given: `--user`, the API's authenticated user, else
CHIPEX_USER, else the OS account) and, beside it, the OS account that ran chipex.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, OperationalError

from chipex.catalog import Catalog, default_catalog
from chipex.catalog.model import Chip
from chipex.core.classify import classify, measure, parse_date
from chipex.datafiles import validate
from chipex.errors import ChipexError
from chipex.ledger import audit, checkpoint, verify
from chipex.ledger.caps import Caps, bucket_name, check_regime, default_caps
from chipex.ledger.db import open_engine, transaction
from chipex.ledger.records import (
    CapRow,
    Headroom,
    Licence,
    LicenceSpec,
    Line,
    Outcome,
    Recorded,
    Request,
    num,
    scaled,
)
from chipex.ledger.schema import LIMITS, SCALE, Bucket, ChainHead, Entry, Event
from chipex.rules import active_reforms
from chipex.rules.countries import iso_code

T = TypeVar("T")
RETRIES = 20  # PostgreSQL: a deadlock or a racing duplicate is retried from the start
_RETRY_SQLSTATES = {"40001", "40P01", "23505"}  # serialization failure, deadlock, unique violation
RESERVATION_KINDS = ("reservation.made", "reservation.shipped", "reservation.cancelled")
RETURN_MARK = "#return:"  # a return's subject: the reservation key, this, the return's own key


# Statements built once: the hot path only binds values.
_HEAD = select(ChainHead.seq, ChainHead.hash).where(ChainHead.id == 1).with_for_update()
_SET_HEAD = update(ChainHead).where(ChainHead.id == 1)
_INSERT_EVENT = insert(Event)
_INSERT_ENTRIES = insert(Entry)
_EVENTS_OF = select(Event).where(Event.subject == bindparam("subject"))
_EVENTS_OF_MANY = select(Event).where(Event.subject.in_(bindparam("subjects", expanding=True)))
_LICENCE = select(Event).where(Event.kind == "licence.added", Event.subject == bindparam("number"))
_NAMES = bindparam("names", expanding=True)
# FOR NO KEY UPDATE: reservations wait for each other, while a cancellation's entries (whose foreign
# key takes a KEY SHARE lock on the bucket) never wait behind a reservation that waits for them.
_LOCK = (
    select(Bucket.id, Bucket.name)
    .where(Bucket.name.in_(_NAMES))
    .order_by(Bucket.name)
    .with_for_update(key_share=True)
)
_USED = (
    select(Bucket.name, func.coalesce(func.sum(Entry.amount), 0))
    .join(Entry, Entry.bucket_id == Bucket.id, isouter=True)
    .where(Bucket.name.in_(_NAMES))
    .group_by(Bucket.name)
)


@dataclass(frozen=True)
class _Plan:
    """One line of a reservation: what it draws on, or what is already recorded under its key."""

    line: Line
    key: str
    existing: dict[str, Any]
    specs: list[Headroom]
    skipped: list[str]

    @property
    def recorded(self) -> bool:
        return "reservation.made" in self.existing


class _Refused(Exception):
    """Raised inside a write transaction so it rolls back; carries the refusals outward."""

    def __init__(self, outcomes: list[Outcome]) -> None:
        self.outcomes = outcomes


# --- the ledger --------------------------------------------------------------------------------


def os_account() -> str:
    """The OS account running chipex, recorded beside every event's user."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"


def fits(value: str, column: str, field: str) -> str:
    """`value`, if it fits its column (the same limit on SQLite and PostgreSQL); else a clear error."""
    if len(value) > LIMITS[column]:
        raise ChipexError(
            f"{field} is {len(value):,} characters; the ledger holds at most {LIMITS[column]}", field=field
        )
    return value


class Ledger:
    """The ledger on one database. Open with `open_ledger(db)`; close (or use `with`) when done."""

    def __init__(
        self,
        db: str | None = None,
        *,
        actor: str | None = None,
        caps: Caps | None = None,
        catalog: Catalog | None = None,
    ) -> None:
        self.os_user = os_account()
        self.actor = fits(actor or os.environ.get("CHIPEX_USER") or self.os_user, "actor", "user")
        self.engine = open_engine(db)
        self.caps = caps or default_caps()
        self.rulebook = self.caps.rulebook
        self._catalog = catalog
        self._classified: dict[tuple[str, dt.date], tuple[str | None, Fraction | None]] = {}
        self._licences: dict[str, Licence] = {}

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = default_catalog()
        return self._catalog

    # --- transactions ---

    def _write(self, fn: Callable[[Connection], T]) -> T:
        """Run `fn` in one write transaction, retrying PostgreSQL deadlocks and racing duplicates."""
        for attempt in range(RETRIES + 1):
            try:
                with transaction(self.engine, write=True) as conn:
                    return fn(conn)
            except DBAPIError as exc:
                if attempt < RETRIES and getattr(exc.orig, "sqlstate", None) in _RETRY_SQLSTATES:
                    time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
                    continue
                if getattr(exc.orig, "sqlstate", None) == "22001" or "value too long" in str(exc.orig):
                    reason = str(exc.orig).strip().splitlines()[0]
                    raise ChipexError(f"the ledger database refused a value: {reason}") from None
                if isinstance(exc, OperationalError):
                    raise ChipexError(f"the ledger database refused the change: {exc.orig}") from None
                raise
        raise AssertionError("unreachable")

    def _append(
        self, conn: Connection, kind: str, subject: str, payload: dict[str, Any], actor: str | None = None
    ) -> int:
        return self._append_many(conn, [(kind, subject, payload)], actor)[0]

    def _append_many(
        self, conn: Connection, events: list[tuple[str, str, dict[str, Any]]], actor: str | None = None
    ) -> list[int]:
        """Append events to the chain in order; the chain head stays locked until commit."""
        if not events:
            return []
        actor = fits(actor or self.actor, "actor", "user")
        head = conn.execute(_HEAD).one()
        seq, prev = head.seq, head.hash
        rows = []
        for kind, subject, payload in events:
            seq += 1
            at = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
            text = audit.canonical(payload)
            fits(subject, "subject", "key")
            digest = audit.event_hash(prev, at, actor, kind, subject, text, self.os_user)
            rows.append(
                {"seq": seq, "at": at, "actor": actor, "os_user": self.os_user, "kind": kind,
                 "subject": subject, "payload": text, "prev_hash": prev, "hash": digest}
            )  # fmt: skip
            prev = digest
        conn.execute(_INSERT_EVENT, rows)
        conn.execute(_SET_HEAD, {"seq": seq, "hash": prev})
        return [r["seq"] for r in rows]

    def _lock_buckets(self, conn: Connection, units: dict[str, str]) -> dict[str, int]:
        """Lock the buckets (creating any new one), in name order so writers never wait in a cycle."""
        names = sorted(fits(n, "bucket", "consignee") for n in units)
        ids = {r.name: r.id for r in conn.execute(_LOCK, {"names": names})} if names else {}
        missing = [n for n in names if n not in ids]
        if missing:
            ins = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
            new = [{"name": n, "unit": units[n]} for n in missing]
            conn.execute(ins(Bucket).values(new).on_conflict_do_nothing(index_elements=["name"]))
            ids = {r.name: r.id for r in conn.execute(_LOCK, {"names": names})}
        return ids

    @staticmethod
    def _used(conn: Connection, names: list[str]) -> dict[str, Fraction]:
        """What each bucket holds now (reserved and shipped, less cancelled)."""
        found = {name: Fraction(int(total), SCALE) for name, total in conn.execute(_USED, {"names": names})}
        return {n: found.get(n, Fraction(0)) for n in names}

    @staticmethod
    def _events(conn: Connection, subject: str) -> dict[str, Any]:
        return {ev.kind: ev for ev in conn.execute(_EVENTS_OF, {"subject": subject})}

    @staticmethod
    def _events_many(conn: Connection, subjects: list[str]) -> dict[str, dict[str, Any]]:
        """The events recorded under each subject, by kind (one query for a whole batch)."""
        found: dict[str, dict[str, Any]] = {s: {} for s in subjects}
        for ev in conn.execute(_EVENTS_OF_MANY, {"subjects": subjects}):
            found[ev.subject][ev.kind] = ev
        return found

    # --- resolution ---

    def _item(self, chip: Chip, on: dt.date) -> tuple[str | None, Fraction | None]:
        """(ECCN on the date, TPP per unit) of a catalog chip or system, exactly."""
        cached = self._classified.get((chip.id, on))
        if cached is None:
            c = classify(chip, on, catalog=self.catalog, rulebook=self.rulebook)
            if c.depends_on:
                raise ChipexError(
                    f"the ECCN of {chip.name} on {on} depends on {', '.join(c.depends_on)}: give the ECCN",
                    field="eccn",
                )
            if chip.kind == "system":
                parts = [(measure(self.catalog.get(p.chip)).tpp, p.count) for p in chip.contains]
                tpp = (
                    None if any(t is None for t, _ in parts) else sum((t * n for t, n in parts), Fraction(0))
                )
            else:
                tpp = measure(chip).tpp
            cached = (c.eccn, tpp)
            self._classified[(chip.id, on)] = cached
        return cached

    def resolve(self, req: Request, *, licence_pending: bool = False) -> Line:
        """Check and complete a request (catalog, country, quantities) before any database work.

        `licence_pending`: authorization "licence" without a number stands for a licence not yet
        granted (what-if questions only: a reservation needs the licence it ships under)."""
        on = dt.date.today() if req.on is None else parse_date(req.on)
        destination = iso_code(req.destination or "")
        if destination is None:
            raise ChipexError(
                f"unknown destination '{req.destination}' (use an ISO code such as IN)", field="to"
            )
        if not req.consignee or not req.consignee.strip():
            raise ChipexError("name the ultimate consignee", field="consignee")
        if req.units is not None and (isinstance(req.units, bool) or req.units <= 0):
            raise ChipexError(f"units must be a positive whole number, not {req.units}", field="units")
        given_tpp = None
        if req.tpp is not None:
            try:
                given_tpp = Fraction(Decimal(str(req.tpp)))
            except (ArithmeticError, ValueError):
                raise ChipexError(f"TPP must be a number, not '{req.tpp}'", field="tpp") from None
            if given_tpp <= 0:
                raise ChipexError(f"TPP must be positive, not {req.tpp}", field="tpp")
        item = item_name = None
        eccn, tpp = req.eccn, given_tpp
        if req.item:
            if req.tpp is not None:
                raise ChipexError("give a catalog item with units, or the line's TPP, not both", field="tpp")
            if req.units is None:
                raise ChipexError(f"how many units of {req.item}?", field="units")
            chip = self.catalog.get(req.item)
            item, item_name = chip.id, chip.name
            found_eccn, unit_tpp = self._item(chip, on)
            eccn = req.eccn or found_eccn
            if unit_tpp is None:
                raise ChipexError(f"the catalog has no TPP for {chip.name}: give the line's TPP", field="tpp")
            tpp = unit_tpp * req.units
        elif req.units is None and tpp is None:
            raise ChipexError("give a quantity: units of a catalog item, or the line's TPP", field="units")
        elif req.eccn is None:
            raise ChipexError("an item outside the catalog needs its ECCN (e.g. 3A090.a)", field="eccn")
        if req.licence:
            authorization = req.authorization or "licence"
            if authorization != "licence":
                raise ChipexError(f"a line under licence {req.licence} cannot also be under {authorization}")
        elif req.authorization is None or (req.authorization == "licence" and not licence_pending):
            raise ChipexError(
                f"name the licence, or the authorization ({', '.join(a for a in self.caps.data.authorizations)})",
                field="licence",
            )
        else:
            authorization = req.authorization
        if authorization not in self.caps.data.authorizations:
            known = ", ".join(self.caps.data.authorizations)
            raise ChipexError(f"unknown authorization '{authorization}' (known: {known})", field="under")
        return Line(
            item=item,
            item_name=item_name,
            eccn=eccn,
            units=req.units,
            tpp=None if tpp is None else Fraction(scaled(tpp), SCALE),
            destination=destination,
            consignee=" ".join(req.consignee.split()),
            end_user=req.end_user,
            veu=req.veu,
            on=on,
            licence=req.licence,
            authorization=authorization,
        )

    def _licence(self, conn: Connection, number: str) -> Licence:
        """A recorded licence; licences never change once recorded, so each is read once."""
        lic = self._licences.get(number)
        if lic is None:
            row = conn.execute(_LICENCE, {"number": number}).one_or_none()
            if row is None:
                raise ChipexError(
                    f"unknown licence '{number}' (see 'chipex ledger licence list')", field="licence"
                )
            lic = self._licences[number] = Licence.from_event(row)
        return lic

    def _headroom(self, conn: Connection, line: Line, regime: str) -> tuple[list[Headroom], list[str]]:
        """Every quantity the line draws on (without amounts used yet) and why other caps do not count it."""
        specs: list[Headroom] = []
        if line.licence:
            lic = self._licence(conn, line.licence)
            lic.check(line)
            specs += lic.headroom({}, line)
        applied = self.caps.applicable(
            eccn=line.eccn,
            destination=line.destination,
            authorization=line.authorization,
            on=line.on,
            keys=line.keys(),
            regime=regime,
        )
        for a in applied:
            if line.tpp is None:
                raise ChipexError(
                    f"{a.cap.title} counts TPP: give a catalog item or the line's TPP", field="tpp"
                )
            specs.append(
                Headroom(
                    bucket=a.bucket,
                    title=f"{a.cap.title} [{a.key}, {a.period}]",
                    unit="tpp",
                    limit=a.limit_tpp,
                    used=Fraction(0),
                    requested=line.tpp,
                    binding=a.binding,
                    on_exceed=a.cap.on_exceed,
                    citation=a.cap.citation,
                    confidence=a.limit_confidence,
                    why=a.why,
                )
            )
        counted = {a.cap.id for a in applied}
        skipped = [
            f"{cap.id}: {why}"
            for cap in self.caps.caps
            if cap.id not in counted
            and (
                why := self.caps.out_of_scope(
                    cap,
                    eccn=line.eccn,
                    destination=line.destination,
                    authorization=line.authorization,
                    on=line.on,
                )
            )
        ]
        return specs, skipped

    # --- the API ---

    def remaining(self, request: Request, *, regime: str = "as-enforced") -> list[Headroom]:
        """What a line would draw on and how much each has left, without reserving anything.

        For the order checker: a line with any `h.exceeds and h.binding` would be refused. With
        `authorization="licence"` and no licence number, the line is one a licence is still to be
        applied for: the answer is the caps it would count against.
        """
        check_regime(regime)
        line = self.resolve(request, licence_pending=True)
        with transaction(self.engine, write=False) as conn:
            specs, _ = self._headroom(conn, line, regime)
            used = self._used(conn, [s.bucket for s in specs])
        return [replace(s, used=used[s.bucket]) for s in specs]

    def reserve(
        self, request: Request, *, key: str | None = None, regime: str = "as-enforced", ship: bool = False
    ) -> Outcome:
        """Reserve a line against its licence and every cap it counts against, atomically.

        `key` is the idempotency key: a request repeated with the same key is answered from the
        ledger and counted once. `ship=True` records the shipment in the same transaction.
        """
        return self.reserve_many([(request, key)], regime=regime, ship=ship)[0]

    def reserve_many(
        self, lines: list[tuple[Request, str | None]], *, regime: str = "as-enforced", ship: bool = False
    ) -> list[Outcome]:
        """Reserve several lines (an order) in one transaction: all are recorded, or none.

        Each line is checked against what the lines before it draw. If one is refused, nothing is
        recorded and every outcome says so.
        """
        check_regime(regime)
        if active_reforms():
            raise ChipexError("a reform is a what-if: the ledger records real shipments only (drop --reform)")
        resolved = [
            (self.resolve(req), fits(key or f"r-{uuid.uuid4().hex[:16]}", "subject", "key"))
            for req, key in lines
        ]
        keys = [key for _, key in resolved]
        if len(set(keys)) != len(keys):
            raise ChipexError("the same key is given to two lines of one batch", field="key")
        # A refusal read from a consistent snapshot is a refusal at that instant, so it needs no
        # lock: only lines that fit go on to the write transaction, which checks them again.
        with transaction(self.engine, write=False) as conn:
            plans = self._plans(conn, resolved, regime)
            _, refused = self._judge(plans, self._used(conn, self._buckets(plans)))
        if refused:
            return refused
        try:
            return self._write(lambda conn: self._reserve_all(conn, plans, regime, ship))
        except _Refused as exc:
            return exc.outcomes

    def _plans(self, conn: Connection, lines: list[tuple[Line, str]], regime: str) -> list[_Plan]:
        """What each line draws on, or the events already recorded under its key."""
        recorded = self._events_many(conn, [key for _, key in lines])
        plans = []
        for line, key in lines:
            existing = recorded[key]
            made = existing.get("reservation.made")
            if made is not None and audit.parse(made.payload)["line"] != line.record():
                raise ChipexError(
                    f"key '{key}' was already used for a different reservation (event #{made.seq})",
                    field="key",
                )
            specs, skipped = ([], []) if made is not None else self._headroom(conn, line, regime)
            plans.append(_Plan(line, key, existing, specs, skipped))
        return plans

    def _refresh(self, conn: Connection, plans: list[_Plan], regime: str) -> list[_Plan]:
        """The plans again where a key was recorded since they were made (a concurrent retry)."""
        new = [p for p in plans if not p.recorded]
        now = self._events_many(conn, [p.key for p in new]) if new else {}
        if not any("reservation.made" in now[p.key] for p in new):
            return plans
        return self._plans(conn, [(p.line, p.key) for p in plans], regime)

    @staticmethod
    def _buckets(plans: list[_Plan]) -> list[str]:
        return sorted({s.bucket for p in plans if not p.recorded for s in p.specs})

    @staticmethod
    def _judge(
        plans: list[_Plan], used: dict[str, Fraction]
    ) -> tuple[list[list[Headroom]], list[Outcome] | None]:
        """Each new line's draws, counting what the lines before it draw; refusals if one does not fit."""
        running = dict(used)
        draws_by_line: list[list[Headroom]] = []
        for i, plan in enumerate(plans, start=1):
            draws = [] if plan.recorded else [replace(s, used=running[s.bucket]) for s in plan.specs]
            refusals = [d.refusal() for d in draws if d.binding and d.on_exceed == "refuse" and d.exceeds]
            if refusals:
                why = f"not recorded: line {i} of the batch was refused"
                return draws_by_line, [
                    Outcome(
                        p.key,
                        "refused",
                        None,
                        p.line.record(),
                        draws,
                        refusals=refusals,
                        not_counted=p.skipped,
                    )
                    if p is plan
                    else Outcome(p.key, "refused", None, p.line.record(), [], refusals=[why])
                    for p in plans
                ]
            for d in draws:
                running[d.bucket] += d.requested
            draws_by_line.append(draws)
        return draws_by_line, None

    def _reserve_all(self, conn: Connection, plans: list[_Plan], regime: str, ship: bool) -> list[Outcome]:
        # Keys first (another writer may have recorded one since the snapshot), then every bucket
        # locked at once in name order, then what they hold now, then the appends.
        plans = self._refresh(conn, plans, regime)
        names = self._buckets(plans)
        ids = self._lock_buckets(conn, {s.bucket: s.unit for p in plans for s in p.specs})
        draws_by_line, refused = self._judge(plans, self._used(conn, names))
        if refused:
            raise _Refused(refused)
        events: list[tuple[str, str, dict[str, Any]]] = []
        made: dict[str, dict[str, Any]] = {}
        for plan, draws in zip(plans, draws_by_line, strict=True):
            if not plan.recorded:
                made[plan.key] = self._made(plan, regime, draws)
                events.append(("reservation.made", plan.key, made[plan.key]))
            if ship and (not plan.recorded or self._shippable(conn, plan.key, plan.existing, plan.line.on)):
                events.append(("reservation.shipped", plan.key, {"date": plan.line.on.isoformat()}))
        seqs = dict(
            zip(((kind, key) for kind, key, _ in events), self._append_many(conn, events), strict=True)
        )
        amounts = [
            {
                "event_seq": seqs["reservation.made", p.key],
                "bucket_id": ids[d.bucket],
                "amount": scaled(d.requested),
            }
            for p, draws in zip(plans, draws_by_line, strict=True)
            for d in draws
        ]
        if amounts:
            conn.execute(_INSERT_ENTRIES, amounts)
        outcomes = []
        for plan, draws in zip(plans, draws_by_line, strict=True):
            if plan.key in made:
                status, kind = (
                    ("shipped", "reservation.shipped") if ship else ("reserved", "reservation.made")
                )
                p = made[plan.key]
                outcomes.append(
                    Outcome(
                        plan.key,
                        status,
                        seqs[kind, plan.key],
                        p["line"],
                        draws,
                        reports=p["reports"],
                        not_counted=p["not_counted"],
                    )
                )
            elif ("reservation.shipped", plan.key) in seqs:
                outcomes.append(self._state(plan.key, self._events(conn, plan.key), replayed=False))
            else:
                outcomes.append(self._state(plan.key, plan.existing, replayed=True))
        return outcomes

    def _made(self, plan: _Plan, regime: str, draws: list[Headroom]) -> dict[str, Any]:
        """The payload of a reservation.made event: the line, every draw with its limit and use, and why."""
        version = self.rulebook.version_on(plan.line.on)
        return {
            "line": plan.line.record(),
            "regime": regime,
            "rule_version": version.id if version else None,
            "draws": [d.record() for d in draws],
            "reports": [d.report() for d in draws if d.binding and d.on_exceed == "report" and d.exceeds],
            "not_counted": plan.skipped,
        }

    def _state(self, key: str, events: dict[str, Any], *, replayed: bool) -> Outcome:
        made = events["reservation.made"]
        p = audit.parse(made.payload)
        status = "reserved"
        seq = made.seq
        for kind, name in (("reservation.shipped", "shipped"), ("reservation.cancelled", "cancelled")):
            if kind in events:
                status, seq = name, events[kind].seq
        draws = [Headroom.from_record(d) for d in p["draws"]]
        return Outcome(
            key,
            status,
            seq,
            p["line"],
            draws,
            reports=p["reports"],
            not_counted=p["not_counted"],
            replayed=replayed,
        )

    def ship(self, key: str, *, on: dt.date | str | None = None) -> Outcome:
        """Record that a reservation shipped (on `on`, default today). Shipping twice is a no-op."""
        day = dt.date.today() if on is None else parse_date(on)
        return self._write(lambda conn: self._ship(conn, key, day))

    def _ship(self, conn: Connection, key: str, on: dt.date) -> Outcome:
        events = self._events(conn, key)
        if not self._shippable(conn, key, events, on):
            return self._state(key, events, replayed=True)
        self._append(conn, "reservation.shipped", key, {"date": on.isoformat()})
        return self._state(key, self._events(conn, key), replayed=False)

    def _shippable(self, conn: Connection, key: str, events: dict[str, Any], on: dt.date) -> bool:
        """Whether a recorded reservation still has to ship (False: it has); an error if it cannot."""
        if "reservation.made" not in events:
            raise ChipexError(f"unknown reservation '{key}'", field="key")
        if "reservation.cancelled" in events:
            raise ChipexError(
                f"reservation '{key}' was cancelled (event #{events['reservation.cancelled'].seq})"
            )
        if "reservation.shipped" in events:
            return False
        line = audit.parse(events["reservation.made"].payload)["line"]
        if line["licence"]:
            lic = self._licence(conn, line["licence"])
            if not lic.valid_from <= on <= lic.valid_to:
                raise ChipexError(
                    f"{on} is outside licence {lic.number}'s validity ({lic.valid_from} to {lic.valid_to})",
                    field="date",
                )
        return True

    def cancel(self, key: str, *, reason: str, on: dt.date | str | None = None) -> Outcome:
        """Release a reservation through a new event; cancelling twice is a no-op. A shipment is
        final and cannot be cancelled (`return_units` records what came back)."""
        if not reason or not reason.strip():
            raise ChipexError("give the reason for the cancellation", field="reason")
        day = dt.date.today() if on is None else parse_date(on)
        return self._write(lambda conn: self._cancel(conn, key, reason.strip(), day))

    def _cancel(self, conn: Connection, key: str, reason: str, on: dt.date) -> Outcome:
        events = self._events(conn, key)
        if "reservation.made" not in events:
            raise ChipexError(f"unknown reservation '{key}'", field="key")
        if "reservation.cancelled" in events:
            return self._state(key, events, replayed=True)
        if "reservation.shipped" in events:
            raise ChipexError(
                f"reservation '{key}' shipped (event #{events['reservation.shipped'].seq}): a shipment is "
                "final; record what came back with 'chipex ledger return'",
                field="key",
            )
        made = audit.parse(events["reservation.made"].payload)
        release = [{**d, "amount": num(-Fraction(d["amount"]))} for d in made["draws"]]
        seq = self._append(
            conn,
            "reservation.cancelled",
            key,
            {
                "date": on.isoformat(),
                "reason": reason,
                "cancels": events["reservation.made"].seq,
                "draws": release,
            },
        )
        self._release(conn, seq, release)
        return self._state(key, self._events(conn, key), replayed=False)

    @staticmethod
    def _release(conn: Connection, seq: int, release: list[dict[str, Any]]) -> None:
        """The entries of an event that gives amounts back (negative draws)."""
        if not release:
            return
        ids = dict(
            conn.execute(
                select(Bucket.name, Bucket.id).where(Bucket.name.in_([d["bucket"] for d in release]))
            ).all()
        )
        conn.execute(
            _INSERT_ENTRIES,
            [
                {"event_seq": seq, "bucket_id": ids[d["bucket"]], "amount": scaled(Fraction(d["amount"]))}
                for d in release
            ],
        )

    # --- returns ---

    def return_units(
        self,
        key: str,
        *,
        units: int,
        evidence: str,
        on: dt.date | str | None = None,
        return_key: str | None = None,
    ) -> Outcome:
        """Record that `units` of a shipped reservation came back (evidence: an RMA, a bill of
        lading, a document id). The return re-credits the licence and caps the shipment drew on by
        exactly those units; never more than shipped. The same return (its key, by default the
        evidence reference) recorded again is a no-op."""
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise ChipexError(f"units returned must be a positive whole number, not {units}", field="units")
        if not evidence or not evidence.strip():
            raise ChipexError(
                "give the evidence of the return (an RMA or document reference)", field="evidence"
            )
        day = dt.date.today() if on is None else parse_date(on)
        subject = fits(f"{key}{RETURN_MARK}{return_key or evidence.strip()}", "subject", "key")
        return self._write(lambda conn: self._return(conn, key, subject, units, evidence.strip(), day))

    def _return(
        self, conn: Connection, key: str, subject: str, units: int, evidence: str, on: dt.date
    ) -> Outcome:
        events = self._events(conn, key)
        if "reservation.made" not in events:
            raise ChipexError(f"unknown reservation '{key}'", field="key")
        if "reservation.shipped" not in events:
            raise ChipexError(
                f"reservation '{key}' has not shipped: nothing can come back (cancel a reservation instead)",
                field="key",
            )
        made = audit.parse(events["reservation.made"].payload)
        shipped_units = made["line"]["units"]
        if not shipped_units:
            raise ChipexError(f"reservation '{key}' was given as a TPP total: it has no units to return")
        previous = self._returns(conn, key)
        payload = {"reservation": key, "units": units, "date": on.isoformat(), "evidence": evidence}
        if subject in previous:
            ev = previous[subject]
            if {k: v for k, v in audit.parse(ev.payload).items() if k != "draws"} != payload:
                raise ChipexError(
                    f"return '{subject}' was already recorded differently (event #{ev.seq})", field="key"
                )
            return self._returned(key, events, previous, replayed=True)
        shipped_on = dt.date.fromisoformat(audit.parse(events["reservation.shipped"].payload)["date"])
        if on < shipped_on:
            raise ChipexError(f"a return on {on} is before the shipment on {shipped_on}", field="date")
        back = sum(audit.parse(ev.payload)["units"] for ev in previous.values())
        if back + units > shipped_units:
            raise ChipexError(
                f"reservation '{key}' shipped {shipped_units} units and {back} came back already: "
                f"{units} more cannot be returned",
                field="units",
            )
        share = Fraction(units, shipped_units)
        release = [{**d, "amount": num(-Fraction(d["amount"]) * share)} for d in made["draws"]]
        seq = self._append(conn, "reservation.returned", subject, {**payload, "draws": release})
        self._release(conn, seq, release)
        return self._returned(key, events, self._returns(conn, key), replayed=False)

    def _returns(self, conn: Connection, key: str) -> dict[str, Any]:
        """The returns recorded against a reservation, by subject."""
        rows = conn.execute(
            select(Event).where(
                Event.kind == "reservation.returned",
                Event.subject.startswith(f"{key}{RETURN_MARK}", autoescape=True),
            )
        )
        return {ev.subject: ev for ev in rows if audit.parse(ev.payload)["reservation"] == key}

    def _returned(
        self, key: str, events: dict[str, Any], returns: dict[str, Any], *, replayed: bool
    ) -> Outcome:
        o = self._state(key, events, replayed=replayed)
        last = max(returns.values(), key=lambda ev: ev.seq)
        units = sum(audit.parse(ev.payload)["units"] for ev in returns.values())
        return replace(o, status="returned", seq=last.seq, returned=units)

    # --- licences ---

    def add_licence(self, spec: LicenceSpec | dict[str, Any]) -> Licence:
        """Record a licence; its number must be new. Items are checked against the catalog."""
        if not isinstance(spec, LicenceSpec):
            spec = validate(LicenceSpec, spec, file="licence")
        destinations = []
        for d in spec.destinations:
            code = iso_code(d)
            if code is None:
                raise ChipexError(f"unknown destination '{d}'", field="destinations")
            destinations.append(code)
        payload = {
            **spec.model_dump(mode="json"),
            "items": [self.catalog.get(i).id for i in spec.items],
            "destinations": destinations,
            "tpp": None if spec.tpp is None else num(Fraction(spec.tpp)),
        }

        def add(conn: Connection) -> Licence:
            existing = self._events(conn, spec.number).get("licence.added")
            if existing is not None:
                raise ChipexError(
                    f"licence {spec.number} already exists (event #{existing.seq})", field="number"
                )
            self._append(conn, "licence.added", spec.number, payload)
            return self._licence(conn, spec.number)

        return self._write(add)

    def licence(self, number: str) -> tuple[Licence, list[Headroom], list[dict[str, Any]]]:
        """A licence, what is left of each quantity, and every reservation against it."""
        with transaction(self.engine, write=False) as conn:
            lic = self._licence(conn, number)
            names = [lic.bucket(u) for u, _ in lic.quantities()]
            used = self._used(conn, names)
            keys = conn.execute(
                select(Event.subject)
                .distinct()
                .join(Entry, Entry.event_seq == Event.seq)
                .join(Bucket, Bucket.id == Entry.bucket_id)
                .where(Bucket.name.in_(names), Event.kind == "reservation.made")
            ).scalars()
            rows = conn.execute(
                select(Event)
                .where(Event.kind.in_(RESERVATION_KINDS), Event.subject.in_(list(keys)))
                .order_by(Event.seq)
            )
            by_key: dict[str, dict[str, Any]] = {}
            for ev in rows:
                by_key.setdefault(ev.subject, {})[ev.kind] = ev
        heads = lic.headroom(used)
        reservations = []
        for key, events in by_key.items():
            o = self._state(key, events, replayed=False)
            reservations.append({"key": key, "status": o.status, "event": o.seq, **o.line})
        return lic, heads, reservations

    def licences(self) -> list[tuple[Licence, list[Headroom]]]:
        with transaction(self.engine, write=False) as conn:
            lics = [
                Licence.from_event(ev)
                for ev in conn.execute(select(Event).where(Event.kind == "licence.added").order_by(Event.seq))
            ]
            used = self._used(conn, [lic.bucket(u) for lic in lics for u, _ in lic.quantities()])
        return [(lic, lic.headroom(used)) for lic in lics]

    # --- determinations ---

    def record_determination(
        self,
        *,
        inputs: dict[str, Any],
        decision: dict[str, Any],
        rule_version: str | None,
        list_snapshot: str | None,
        order: str | None = None,
        key: str | None = None,
        user: str | None = None,
        provenance: dict[str, Any] | None = None,
    ) -> Recorded:
        """Store an order determination with its inputs, the rule version, the screening-list
        snapshot, what it was decided with (`provenance`, see chipex.core.provenance) and the user,
        as an event in the audit chain. A repeated `key` is recorded once; reusing a key for a
        different determination is an error."""
        payload = {
            "order": order,
            "inputs": inputs,
            "decision": decision,
            "rule_version": rule_version,
            "list_snapshot": list_snapshot,
            "user": user or self.actor,
            **({"provenance": provenance} if provenance is not None else {}),
        }
        key = key or f"d-{uuid.uuid4().hex[:16]}"
        (rec,) = self.record_determinations([(key, payload)], user=user)
        if rec.replayed and rec.existing != audit.canonical(payload):
            raise ChipexError(
                f"key '{key}' was already used for a different determination (event #{rec.seq})", field="key"
            )
        return rec

    def record_determinations(
        self, items: list[tuple[str, dict[str, Any]]], *, user: str | None = None
    ) -> list[Recorded]:
        """Store several determinations (key, payload) in one transaction: all or none. A key
        recorded before is not recorded again: its Recorded is `replayed`, with the payload stored
        then (`existing`) for the caller to compare."""
        for _, payload in items:
            audit.canonical(payload)  # fails early on a value JSON cannot hold
        if len({k for k, _ in items}) != len(items):
            raise ChipexError("the same key twice in one batch of determinations", field="key")

        def record(conn: Connection) -> list[Recorded]:
            found = self._events_many(conn, [k for k, _ in items]) if items else {}
            new = [(k, p) for k, p in items if "determination.recorded" not in found[k]]
            seqs = iter(self._append_many(conn, [("determination.recorded", k, p) for k, p in new], user))
            out = []
            for k, _ in items:
                ev = found[k].get("determination.recorded")
                out.append(Recorded(k, ev.seq, True, ev.payload) if ev else Recorded(k, next(seqs), False))
            return out

        return self._write(record)

    def recorded_keys(self, prefix: str) -> set[str]:
        """The keys of the determinations recorded under keys starting with `prefix` (one index range)."""
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        with transaction(self.engine, write=False) as conn:
            rows = conn.execute(
                select(Event.subject).where(
                    Event.kind == "determination.recorded", Event.subject >= prefix, Event.subject < upper
                )
            )
            return {s for (s,) in rows}

    def record_rescreen(self, payload: dict[str, Any], *, key: str) -> Recorded:
        """Store a re-screen after a list change (the snapshots compared, the parties whose matches
        changed, the recorded determinations that would now differ) as an event in the audit chain.
        A repeated `key` is recorded once."""
        audit.canonical(payload)  # fails early on a value JSON cannot hold

        def record(conn: Connection) -> Recorded:
            existing = self._events(conn, key).get("screening.rescreened")
            if existing is not None:
                return Recorded(key, existing.seq, True)
            return Recorded(key, self._append(conn, "screening.rescreened", key, payload), False)

        return self._write(record)

    def events(self, kinds: tuple[str, ...]) -> list[tuple[str, dict[str, Any]]]:
        """(subject, payload) of every event of these kinds, in log order."""
        with transaction(self.engine, write=False) as conn:
            rows = conn.execute(
                select(Event.subject, Event.payload).where(Event.kind.in_(kinds)).order_by(Event.seq)
            )
            return [(subject, audit.parse(payload)) for subject, payload in rows]

    # --- caps ---

    def cap_status(
        self, *, country: str | None, as_of: dt.date | str, regime: str = "as-enforced"
    ) -> list[CapRow]:
        """Each cap's allocation on a date: limit, used, remaining, whether it binds, and why."""
        check_regime(regime)
        on = parse_date(as_of)
        code = None
        if country:
            code = iso_code(country)
            if code is None:
                raise ChipexError(
                    f"unknown country '{country}' (use an ISO code such as IN)", field="country"
                )
            code = self.rulebook.countries.rule_country(code)
        rows: list[CapRow] = []
        with transaction(self.engine, write=False) as conn:
            for cap in self.caps.caps:
                binding, why = self.caps.binds(cap, on, regime)
                period = cap.period.key(on)
                limit = self.caps.limit_on(cap, on, code)
                fields = {
                    "cap": cap.id,
                    "title": cap.title,
                    "period": period,
                    "binding": binding,
                    "why": why,
                    "on_exceed": cap.on_exceed,
                    "citation": cap.citation,
                    "confidence": cap.confidence,
                    "h100e_tpp": Fraction(self.caps.data.h100e_tpp.value),
                    "limit": None if limit is None else self.caps.limit_tpp(limit),
                    "limit_confidence": None
                    if limit is None
                    else ("derived" if limit.unit == "h100e" else limit.confidence),
                    "limit_source": None if limit is None else limit.source,
                }
                not_here = self.caps.destination_out_of_scope(cap, code, on) if code else None
                if period is None or limit is None or not_here:
                    note = (
                        not_here
                        or f"no allocation in force on {on}: counts shipments dated {cap.period.window()}"
                    )
                    rows.append(CapRow(key=code, used=None, applies=False, note=note, **fields))
                elif cap.per == "destination" and code:
                    name = bucket_name(cap.id, period, code)
                    used = self._used(conn, [name])[name]
                    rows.append(CapRow(key=code, used=used, applies=True, note=cap.note, **fields))
                elif held := self._cap_buckets(conn, cap.id, period, code):
                    rows += [
                        CapRow(key=k, used=u, applies=True, note=cap.note, **fields) for k, u in held.items()
                    ]
                else:
                    each = f"each {cap.per.replace('_', ' ')}"
                    rows.append(
                        CapRow(
                            key=each,
                            used=None,
                            applies=True,
                            note=f"nothing recorded yet. {cap.note}",
                            **fields,
                        )
                    )
        return rows

    def _cap_buckets(
        self, conn: Connection, cap_id: str, period: str, country: str | None
    ) -> dict[str, Fraction]:
        """Used per key of a cap's period; with a country, only keys that shipments there drew on."""
        prefix = bucket_name(cap_id, period, "")
        rows = conn.execute(
            select(Bucket.name, func.coalesce(func.sum(Entry.amount), 0))
            .join(Entry, Entry.bucket_id == Bucket.id)
            .where(Bucket.name.startswith(prefix, autoescape=True))
            .group_by(Bucket.name)
            .order_by(Bucket.name)
        ).all()
        held = {name[len(prefix) :]: Fraction(int(total), SCALE) for name, total in rows}
        if country is None:
            return held
        shipped_there = set()
        for (payload,) in conn.execute(
            select(Event.payload)
            .join(Entry, Entry.event_seq == Event.seq)
            .join(Bucket, Bucket.id == Entry.bucket_id)
            .where(Event.kind == "reservation.made", Bucket.name.startswith(prefix, autoescape=True))
        ):
            p = audit.parse(payload)
            if self.rulebook.countries.rule_country(p["line"]["destination"]) == country:
                shipped_there.update(
                    d["bucket"][len(prefix) :] for d in p["draws"] if d["bucket"].startswith(prefix)
                )
        return {k: v for k, v in held.items() if k in shipped_there}

    # --- audit ---

    def verify(
        self,
        *,
        expect_head: str | None = None,
        checkpoints: Path | str | None = None,
        key: Path | str | None = None,
        public_key: Path | None = None,
    ) -> audit.Verification:
        """Recompute the hash chain, replay the log, check the counted amounts against it and the
        chain against every signed checkpoint; name the first event that breaks."""
        path = checkpoint.checkpoints_path(self.engine.url, checkpoints)
        with transaction(self.engine, write=False) as conn:
            return verify.verify(
                conn,
                expect_head=expect_head,
                checkpoints=path,
                public_key=checkpoint.public_key(checkpoint.key_path(key), public_key),
            )

    def checkpoint(
        self, *, checkpoints: Path | str | None = None, key: Path | str | None = None
    ) -> tuple[checkpoint.Checkpoint, Path]:
        """Sign the chain head and append it to the checkpoint file; refused if the log is broken."""
        path = checkpoint.checkpoints_path(self.engine.url, checkpoints)
        signer = checkpoint.signing_key(checkpoint.key_path(key))
        with transaction(self.engine, write=False) as conn:
            check = verify.verify(conn, checkpoints=path, public_key=signer.public_key())
            if not check.ok:
                raise ChipexError(f"not signing a broken log: {check.problem.detail}")
            hashes = dict(conn.execute(select(Event.seq, Event.hash)).all())
        signed = checkpoint.sign(
            signer,
            path,
            seq=max(hashes, default=0),
            hashes=hashes,
            ledger=self.engine.url.render_as_string(hide_password=True),
            actor=self.actor,
            os_user=self.os_user,
        )
        return signed, path

    def export(self, out: Any, fmt: str) -> int:
        if fmt not in ("csv", "jsonl"):
            raise ChipexError(f"unknown export format '{fmt}' (csv or jsonl)", field="format")
        with transaction(self.engine, write=False) as conn:
            return audit.export(verify.stream(conn), out, fmt)


def open_ledger(db: str | None = None, **kwargs: Any) -> Ledger:
    """The ledger at `db` (a URL or SQLite path), else CHIPEX_DB, else ledger.db under CHIPEX_HOME."""
    return Ledger(db, **kwargs)
