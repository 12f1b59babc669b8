"""`chipex audit verify` on the database: the hash chain, the chain head, the log replayed, the
counted amounts (table entries) against the log, and the chain against every signed checkpoint.
The problem reported is the one at the earliest event."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, select

from chipex.ledger import audit, checkpoint
from chipex.ledger.records import scaled
from chipex.ledger.schema import Bucket, ChainHead, Entry, Event

DRAW_KINDS = ("reservation.made", "reservation.cancelled", "reservation.returned")  # carry amounts


def verify(
    conn: Connection,
    *,
    expect_head: str | None = None,
    checkpoints: Path | None = None,
    public_key: Ed25519PublicKey | None = None,
) -> audit.Verification:
    hashes = dict(conn.execute(select(Event.seq, Event.hash)).all())
    replay = audit.Replay()
    walk = audit.verify_chain(replay.feed(stream(conn)), {h: s for s, h in hashes.items()})
    head = conn.execute(select(ChainHead.seq, ChainHead.hash).where(ChainHead.id == 1)).one()
    in_log = audit.first(
        walk.problem,
        audit.check_head(walk.last_seq, walk.last_hash, head.seq, head.hash),
        replay.problem if walk.problem is None else None,  # a replay stopped early proves nothing
        entries_problem(conn),
        audit.check_anchor(walk, expect_head),
    )
    lines = checkpoint.read(checkpoints) if checkpoints else []
    checked, against = 0, None
    if lines and public_key is None:
        against = audit.Problem(
            0, "checkpoint", f"{checkpoints} holds checkpoints but there is no key to check them against"
        )
    elif lines:
        last = max(hashes, default=0)
        checked, against = checkpoint.check(lines, public_key, hashes, last, str(checkpoints))
    return audit.Verification(
        len(hashes),
        walk.last_hash,
        audit.first(in_log, against),
        checkpoints=checked,
        checkpoint_file=str(checkpoints) if lines else None,
    )


def stream(conn: Connection) -> Iterator[Any]:
    yield from conn.execution_options(yield_per=2000).execute(select(Event).order_by(Event.seq))


def entries_problem(conn: Connection) -> audit.Problem | None:
    """The counted amounts (table entries) must be exactly the draws the log records."""
    actual: dict[int, list[tuple[str, int]]] = {}
    for seq, name, amount in conn.execute(
        select(Entry.event_seq, Bucket.name, Entry.amount).join(Bucket, Bucket.id == Entry.bucket_id)
    ):
        actual.setdefault(seq, []).append((name, amount))
    for ev in conn.execute(select(Event).where(Event.kind.in_(DRAW_KINDS)).order_by(Event.seq)):
        expected = sorted(
            (d["bucket"], scaled(Fraction(d["amount"]))) for d in audit.parse(ev.payload)["draws"]
        )
        if sorted(actual.pop(ev.seq, [])) != expected:
            return audit.Problem(
                ev.seq,
                "entries",
                f"the amounts counted for event #{ev.seq} (table entries) do not match the log",
            )
    if actual:
        seq = min(actual)
        return audit.Problem(
            seq, "entries", f"table entries counts amounts for event #{seq}, which draws none"
        )
    return None
