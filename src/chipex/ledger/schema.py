"""The ledger's tables (one schema on SQLite and PostgreSQL; migrations in `migrations/`).

The event log is the ledger: licences, reservations, shipments, cancellations and recorded
determinations are append-only events, each hash-chained to the one before. Two small tables serve
it: `buckets` names each counted quantity (a licence's units, a cap's allocation for one country and
period) and is the row a reservation locks; `entries` holds each event's signed amount per bucket so
"used" is one indexed SUM. Entries are append-only too and `chipex audit verify` checks them against
the log.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Amounts are integers in thousandths of their unit (milli-TPP; units x 1000): exact sums in SQL on
# both databases, no floating point. TPP figures in the catalog have at most one decimal place.
SCALE = 1000
GENESIS = "0" * 64  # the previous hash of the first event

# The longest text each column holds, the same on both databases: PostgreSQL's VARCHAR(n) refuses
# longer text, and on SQLite (which does not) the triggers of revision 0002 refuse it the same way.
# The ledger checks these before it writes, so a long value is one clear error, never a traceback.
LIMITS = {"actor": 200, "os_user": 200, "kind": 40, "subject": 300, "bucket": 600}


class Base(DeclarativeBase):
    pass


class Event(Base):
    __tablename__ = "events"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))  # ISO 8601 UTC, exactly as hashed
    actor: Mapped[str] = mapped_column(String(200))  # the user given (--user, the API's user)
    os_user: Mapped[str | None] = mapped_column(String(200))  # the OS account that ran chipex (0002)
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(300))  # licence number, reservation key, ...
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON, exactly as hashed
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    # Each kind happens once per subject: a reservation is made, shipped, cancelled at most once.
    __table_args__ = (
        UniqueConstraint("kind", "subject", name="uq_events_kind_subject"),
        Index("ix_events_subject", "subject"),
    )


class ChainHead(Base):
    """The last event's number and hash: the lock every append takes, and the anchor that shows
    when events were deleted from the end of the log."""

    __tablename__ = "chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class Bucket(Base):
    __tablename__ = "buckets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(600), unique=True)  # licence/L-1/units, cap/<id>/<period>/<key>
    unit: Mapped[str] = mapped_column(String(8))


class Entry(Base):
    __tablename__ = "entries"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    event_seq: Mapped[int] = mapped_column(ForeignKey("events.seq"), index=True)
    bucket_id: Mapped[int] = mapped_column(ForeignKey("buckets.id"))
    amount: Mapped[int] = mapped_column(BigInteger)  # signed, in 1/SCALE of the bucket's unit

    __table_args__ = (Index("ix_entries_bucket", "bucket_id", "amount"),)
