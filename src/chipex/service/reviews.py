"""The screening review queue, with four eyes for clearing an Entity List hit.

The queue holds the hits of the parties of recorded determinations (end user, consignee) that no
reviewer has decided yet, screened again on the current list snapshot. An officer confirms a hit or
clears it (false positive) with a reason. Clearing a hit on the Entity List (list code `EL`: a
licence for all items subject to the EAR, 15 CFR 744.11) needs a second officer: the first
clearance is a proposal in the audit chain (`screening.clear_proposed`), and only another officer's
confirmation (`screening.clear_confirmed`) records the decision that later screens honour. Every
step is an audit event naming its officer.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from chipex.errors import ChipexError
from chipex.service import screening, store

FOUR_EYES_LISTS = ("EL",)  # clearing a hit on these needs a second officer
PARTY_FIELDS = ("end_user", "consignee")
RECENT = 200  # recorded determinations whose parties feed the queue


class QueueItem(BaseModel):
    party: str
    role: str = Field(description="end_user or consignee")
    determination_id: str
    hit: screening.HitOut
    proposal: dict[str, Any] | None = Field(None, description="a clearance awaiting a second officer")


class ReviewDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=500, description="the party name as screened")
    entry_id: str = Field(min_length=1, max_length=200)
    decision: Literal["confirmed", "false_positive"]
    reason: str = Field(min_length=1, max_length=2000, description="why (required)")


class ReviewOutcome(BaseModel):
    status: Literal["decided", "awaiting second officer"]
    decision: screening.ReviewResult | None = None
    proposed_by: str | None = None
    message: str


def _events(db: str | None, kinds: tuple[str, ...]) -> list[Any]:
    from chipex.ledger.schema import Event

    return store.read(
        db, lambda c: c.execute(select(Event).where(Event.kind.in_(kinds)).order_by(Event.seq)).all()
    )


def _pending(db: str | None) -> dict[tuple[str, str], dict[str, Any]]:
    """Clearances proposed and not yet confirmed, by (party casefolded, entry id)."""
    from chipex.ledger import audit

    out: dict[tuple[str, str], dict[str, Any]] = {}
    done = {e.subject for e in _events(db, ("screening.clear_confirmed",))}
    for e in _events(db, ("screening.clear_proposed",)):
        if e.subject not in done:
            p = audit.parse(e.payload)
            out[(p["name"].casefold(), p["entry_id"])] = {
                **p,
                "subject": e.subject,
                "by": e.actor,
                "at": e.at,
            }
    return out


def queue(*, db: str | None = None) -> list[QueueItem]:
    """Hits awaiting a decision, from the parties of the latest recorded determinations."""
    from chipex.ledger import audit

    pending = _pending(db)
    seen: set[tuple[str, str]] = set()
    items: list[QueueItem] = []
    for e in reversed(_events(db, ("determination.recorded",))[-RECENT:]):
        inputs = audit.parse(e.payload).get("inputs") or {}
        for role in PARTY_FIELDS:
            name = inputs.get(role)
            if not name:
                continue
            result = screening.screen(screening.ScreenRequest(name=name, country=inputs.get("destination")))
            for hit in result.hits:
                key = (name.casefold(), hit.entry_id)
                if hit.decision is not None or key in seen:
                    continue
                seen.add(key)
                items.append(QueueItem(party=name, role=role, determination_id=e.subject, hit=hit,
                                       proposal=pending.get(key)))  # fmt: skip
    return items


def decide(req: ReviewDecision, *, officer: str, db: str | None = None) -> ReviewOutcome:
    """An officer's decision; an Entity List clearance takes a second, different officer."""
    import datetime as dt

    hits = screening.screen(screening.ScreenRequest(name=req.name)).hits
    hit = next((h for h in hits if h.entry_id == req.entry_id), None)
    if hit is None:
        raise ChipexError(
            f"'{req.name}' does not match entry {req.entry_id} on the current list snapshot", field="entry_id"
        )
    four_eyes = req.decision == "false_positive" and hit.list in FOUR_EYES_LISTS
    payload = req.model_dump()
    if four_eyes:
        proposal = _pending(db).get((req.name.casefold(), req.entry_id))
        if proposal is None:
            subject = f"{req.entry_id}/{dt.datetime.now(dt.UTC).isoformat()}"
            store.write_audited(db, officer, "screening.clear_proposed", subject, payload, lambda _c: None)
            return ReviewOutcome(
                status="awaiting second officer",
                proposed_by=officer,
                message=f"clearing a hit on the Entity List needs a second officer: proposed by {officer}",
            )
        if proposal["by"] == officer:
            raise ChipexError(
                f"{officer} proposed this clearance: a second, different officer must confirm it",
                field="reviewer",
            )
        note = f"{req.reason} (four eyes: proposed by {proposal['by']}: {proposal['reason']})"
        confirm = {**payload, "proposed_by": proposal["by"], "proposal": proposal["subject"]}
        result = store.write_audited(
            db, officer, "screening.clear_confirmed", proposal["subject"], confirm,
            lambda _c: screening.review(
                screening.ReviewRequest(name=req.name, entry_id=req.entry_id, decision=req.decision, note=note),
                reviewer=officer,
            ),
        )  # fmt: skip
        return ReviewOutcome(status="decided", decision=result, proposed_by=proposal["by"],
                             message=f"cleared by {proposal['by']} and {officer}")  # fmt: skip
    subject = f"{req.entry_id}/{dt.datetime.now(dt.UTC).isoformat()}"
    result = store.write_audited(
        db, officer, "screening.reviewed", subject, payload,
        lambda _c: screening.review(
            screening.ReviewRequest(name=req.name, entry_id=req.entry_id, decision=req.decision, note=req.reason),
            reviewer=officer,
        ),
    )  # fmt: skip
    return ReviewOutcome(status="decided", decision=result, message=f"{req.decision} by {officer}")


def history(*, db: str | None = None) -> list[dict[str, Any]]:
    """Every review step in the audit chain (proposals, confirmations, single decisions), newest first."""
    from chipex.ledger import audit

    kinds = ("screening.reviewed", "screening.clear_proposed", "screening.clear_confirmed")
    return [
        {"event": e.seq, "at": e.at, "officer": e.actor, "kind": e.kind, **audit.parse(e.payload)}
        for e in reversed(_events(db, kinds))
    ]
