"""A recorded determination, read back from the audit chain with everything a report needs.

`recorded(determination_id)` finds the `determination.recorded` event whose subject is the id a
recorded check returned, and returns its inputs, decision, provenance (rule-data version, list
snapshot, and whatever else the record holds), the user, the time, the event's hash and position in
the chain, and the reviewer decisions on the order's parties. A provenance field the record does
not hold is named in `not_recorded`, never guessed.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select

from chipex.errors import ChipexError
from chipex.service import store

# what a report should show about where an answer came from; the record may hold more
PROVENANCE = ("rule_version", "list_snapshot", "catalog_sha256", "rule_data_sha256", "chipex_version")
PARTY_FIELDS = ("end_user", "consignee")


class ReviewerDecision(BaseModel):
    party: str
    entry_id: str
    entry_name: str
    decision: str
    reviewer: str
    note: str
    decided_at: str
    snapshot_id: str


class RecordedDetermination(BaseModel):
    determination_id: str
    event: int = Field(description="the audit event's number in the chain")
    event_hash: str
    prev_hash: str
    recorded_at: str = Field(description="when the event was appended (UTC), exactly as hashed")
    actor: str = Field(description="who recorded it (the authenticated user)")
    user: str | None
    order: str | None
    inputs: dict[str, Any]
    decision: dict[str, Any] = Field(description="the Determination as recorded")
    provenance: dict[str, Any] = Field(
        description="rule version, list snapshot and the rest the record holds"
    )
    not_recorded: list[str] = Field(description="provenance fields this record does not hold")
    reviews: list[ReviewerDecision] = Field(description="reviewer decisions on the order's parties")


def recorded(determination_id: str, *, db: str | None = None) -> RecordedDetermination:
    from chipex.ledger import audit
    from chipex.ledger.schema import Event

    ev = store.read(
        db,
        lambda c: c.execute(
            select(Event).where(Event.kind == "determination.recorded", Event.subject == determination_id)
        ).first(),
    )
    if ev is None:
        raise ChipexError(f"no recorded determination '{determination_id}'", field="determination_id")
    p = audit.parse(ev.payload)
    known = {"order", "inputs", "decision", "user", "provenance"}
    # the record's Provenance (chipex.core.provenance) beside the older top-level fields
    provenance = {**{k: v for k, v in p.items() if k not in known}, **(p.get("provenance") or {})}
    return RecordedDetermination(
        determination_id=determination_id,
        event=ev.seq,
        event_hash=ev.hash,
        prev_hash=ev.prev_hash,
        recorded_at=ev.at,
        actor=ev.actor,
        user=p.get("user"),
        order=p.get("order"),
        inputs=p.get("inputs") or {},
        decision=p.get("decision") or {},
        provenance=provenance,
        not_recorded=[k for k in PROVENANCE if provenance.get(k) in (None, "")],
        reviews=_reviews(p.get("inputs") or {}),
    )


def _reviews(inputs: dict[str, Any]) -> list[ReviewerDecision]:
    """Every reviewer decision taken on a party of the order (by the name as screened)."""
    from chipex.screening.store import Store

    names = {str(inputs[f]).casefold(): str(inputs[f]) for f in PARTY_FIELDS if inputs.get(f)}
    if not names:
        return []
    return [
        ReviewerDecision(
            party=d.query,
            entry_id=d.entry_id,
            entry_name=d.entry_name,
            decision=d.decision,
            reviewer=d.reviewer,
            note=d.note,
            decided_at=d.decided_at,
            snapshot_id=d.snapshot_id,
        )
        for d in Store().history()
        if d.query.casefold() in names
    ]
