"""The ledger and its audit chain: licences, reservations, shipments, cancellations, caps, verify, export.

Every write runs on the ledger of the acting user (`actor`), so the audit chain names who did it.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chipex.ledger.records import LicenceSpec
from chipex.service.common import Regime, ledger_for


class OutcomeResult(BaseModel):
    """What a reserve, ship or cancel did, and every licence quantity and cap it drew on."""

    key: str = Field(description="the reservation's idempotency key")
    status: Literal["reserved", "shipped", "cancelled", "refused"]
    event: int | None = Field(description="the audit event that recorded it (null when refused)")
    replayed: bool = Field(description="the key was seen before: nothing new was recorded")
    line: dict[str, Any]
    draws: list[dict[str, Any]]
    refusals: list[str]
    reports: list[str]
    not_counted: list[str]


class LicenceResult(BaseModel):
    licence: dict[str, Any]
    quantities: list[dict[str, Any]] = Field(description="granted, used and remaining per unit")
    reservations: list[dict[str, Any]] | None = None


class ReserveRequest(BaseModel):
    """One shipment line: a catalog `item` with `units`, or `tpp` with `eccn` for an item outside it."""

    model_config = ConfigDict(extra="forbid")

    destination: str
    consignee: str = Field(min_length=1)
    item: str | None = None
    units: int | None = None
    tpp: str | None = Field(None, description="the line's total TPP (items outside the catalog)")
    eccn: str | None = None
    date: dt.date | None = Field(None, description="default today")
    licence: str | None = Field(None, description="licence number the line ships under")
    under: str | None = Field(
        None, description="authorization without a licence: LPP, AIA, NVEU, UVEU, ACM, NAC, NLR"
    )
    veu: str | None = None
    end_user: str | None = None
    regime: Regime = "as-enforced"
    ship: bool = Field(False, description="record the shipment in the same transaction")
    key: str | None = Field(None, description="idempotency key (the Idempotency-Key header wins)")

    def request(self):
        from chipex.ledger import Request

        return Request(
            destination=self.destination,
            consignee=self.consignee,
            item=self.item,
            units=self.units,
            tpp=self.tpp,
            eccn=self.eccn,
            on=self.date,
            licence=self.licence,
            authorization=self.under,
            veu=self.veu,
            end_user=self.end_user,
        )


class ShipRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    date: dt.date | None = None


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1)
    date: dt.date | None = None


def _outcome(o) -> OutcomeResult:
    return OutcomeResult.model_validate(o.to_dict())


def add_licence(spec: LicenceSpec, *, actor: str | None, db: str | None = None) -> LicenceResult:
    lic = ledger_for(db, actor).add_licence(spec)
    return licence(lic.number, db=db)


def licence(number: str, *, db: str | None = None) -> LicenceResult:
    lic, heads, reservations = ledger_for(db, None).licence(number)
    return LicenceResult(
        licence=lic.to_dict(), quantities=[h.to_dict() for h in heads], reservations=reservations
    )


def licences(*, db: str | None = None) -> list[LicenceResult]:
    return [
        LicenceResult(licence=lic.to_dict(), quantities=[h.to_dict() for h in heads])
        for lic, heads in ledger_for(db, None).licences()
    ]


def reserve(
    req: ReserveRequest, *, actor: str | None, key: str | None = None, db: str | None = None
) -> OutcomeResult:
    """Reserve (and with `ship`, ship) a line against its licence and every cap, atomically."""
    led = ledger_for(db, actor)
    return _outcome(led.reserve(req.request(), key=key or req.key, regime=req.regime, ship=req.ship))


def ship(key: str, req: ShipRequest, *, actor: str | None, db: str | None = None) -> OutcomeResult:
    return _outcome(ledger_for(db, actor).ship(key, on=req.date))


def cancel(key: str, req: CancelRequest, *, actor: str | None, db: str | None = None) -> OutcomeResult:
    return _outcome(ledger_for(db, actor).cancel(key, reason=req.reason, on=req.date))


class ReturnRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    units: int = Field(gt=0, description="how many units of the shipment came back")
    evidence: str = Field(min_length=1, max_length=500, description="RMA, bill of lading, document id")
    date: dt.date | None = None
    key: str | None = Field(None, description="this return's own key (default: the evidence)")


class ReturnResult(BaseModel):
    key: str = Field(description="the shipped reservation's key")
    event: int
    replayed: bool
    returned: int = Field(description="units of the shipment back in all")
    line: dict[str, Any]


def return_units(key: str, req: ReturnRequest, *, actor: str | None, db: str | None = None) -> ReturnResult:
    """Units of a shipment that came back (as `chipex ledger return`): re-credits exactly those."""
    o = ledger_for(db, actor).return_units(
        key, units=req.units, evidence=req.evidence, on=req.date, return_key=req.key
    )
    return ReturnResult(key=o.key, event=o.seq, replayed=o.replayed, returned=o.returned, line=o.line)


class CapsResult(BaseModel):
    country: str | None
    as_of: str
    regime: Regime
    caps: list[dict[str, Any]]


def authorizations() -> dict[str, str]:
    """The authorizations a reservation may be made under without a licence number, with their
    text (rules/caps.yaml `authorizations`; 'licence' is an individual licence, named instead)."""
    from chipex.ledger.caps import default_caps

    return {k: v for k, v in default_caps().data.authorizations.items() if k != "licence"}


def caps(
    *,
    country: str | None,
    as_of: dt.date | None = None,
    regime: Regime = "as-enforced",
    db: str | None = None,
) -> CapsResult:
    from chipex.rules.countries import iso_code

    on = as_of or dt.date.today()
    code = iso_code(country) if country else None
    rows = ledger_for(db, None).cap_status(country=code, as_of=on, regime=regime)
    return CapsResult(country=code, as_of=on.isoformat(), regime=regime, caps=[r.to_dict() for r in rows])


class VerifyResult(BaseModel):
    ok: bool
    events: int
    head_hash: str = Field(description="keep it elsewhere and pass it as expect_head later")
    problem: dict[str, Any] | None


def verify(*, expect_head: str | None = None, db: str | None = None) -> VerifyResult:
    """Recompute the hash chain and the counted amounts; name the first event that was changed."""
    return VerifyResult.model_validate(ledger_for(db, None).verify(expect_head=expect_head).to_dict())


def export(fmt: Literal["csv", "jsonl"], *, db: str | None = None) -> str:
    """The audit log with prev_hash and hash per event, for an auditor to verify on their own."""
    buf = io.StringIO()
    ledger_for(db, None).export(buf, fmt)
    return buf.getvalue()


class TrailEvent(BaseModel):
    seq: int
    at: str
    actor: str
    kind: str
    subject: str
    payload: dict[str, Any]
    hash: str


class QuantityUse(BaseModel):
    """One quantity of a licence split by what happened to it (amounts in the quantity's unit)."""

    unit: str
    granted: str
    reserved: str = Field(description="held by reservations not yet shipped")
    shipped: str = Field(description="drawn by shipments, before returns")
    returned: str = Field(description="re-credited by recorded returns")
    remaining: str


class LicenceDesk(BaseModel):
    licence: dict[str, Any]
    quantities: list[QuantityUse]
    reservations: list[dict[str, Any]]
    trail: list[TrailEvent] = Field(description="every audit event about it, in log order")


def licence_desk(number: str, *, db: str | None = None) -> LicenceDesk:
    """A licence with granted / reserved / shipped / returned / remaining per quantity, from the
    draws its reservations, shipments and returns recorded, and its audit trail."""
    return _desk(licence(number, db=db), _log(db))


def licence_desks(*, db: str | None = None) -> list[LicenceDesk]:
    """`licence_desk` of every licence, reading the audit log once."""
    log = _log(db)
    return [_desk(licence(r.licence["number"], db=db), log) for r in licences(db=db)]


def _log(db: str | None) -> list[TrailEvent]:
    import json

    rows = (json.loads(row) for row in export("jsonl", db=db).splitlines())
    return [TrailEvent(**{**ev, "payload": json.loads(ev["payload"])}) for ev in rows]


def _desk(res: LicenceResult, log: list[TrailEvent]) -> LicenceDesk:
    from fractions import Fraction

    from chipex.ledger.ledger import RETURN_MARK
    from chipex.ledger.records import fmt_amount

    number = res.licence["number"]
    status = {r["key"]: r["status"] for r in res.reservations or []}
    trail = [
        ev
        for ev in log
        if (ev.kind == "licence.added" and ev.subject == number)
        or (ev.kind.startswith("reservation.") and ev.subject.split(RETURN_MARK)[0] in status)
    ]
    quantities = []
    for q in res.quantities:
        split = {"reserved": Fraction(0), "shipped": Fraction(0), "returned": Fraction(0)}
        for ev in trail:
            for d in ev.payload.get("draws", []):
                if d["bucket"] != q["bucket"]:
                    continue
                if ev.kind == "reservation.made" and status[ev.subject] in ("reserved", "shipped"):
                    split[status[ev.subject]] += Fraction(d["amount"])
                elif ev.kind == "reservation.returned":
                    split["returned"] -= Fraction(d["amount"])  # a return's draws are negative
        quantities.append(
            QuantityUse(
                unit=q["unit"],
                granted=q["limit"],
                remaining=q["remaining"],
                **{k: fmt_amount(v) for k, v in split.items()},
            )
        )
    return LicenceDesk(
        licence=res.licence, quantities=quantities, reservations=res.reservations or [], trail=trail
    )
