"""Ledger and audit routes, mirroring `chipex ledger` and `chipex audit`. Writes need 'ledger:write'
and are recorded in the audit chain with the authenticated user as the actor."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import PlainTextResponse

from chipex.interfaces.http.auth import require
from chipex.ledger.records import LicenceSpec
from chipex.service import ledger
from chipex.service.common import Regime
from chipex.service.users import User

router = APIRouter()
Reader = Annotated[User, Depends(require("read"))]
Writer = Annotated[User, Depends(require("ledger:write"))]
Key = Annotated[str, Path(max_length=300, description="the reservation's key")]
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", max_length=300, description="the ledger's idempotency key")
]


@router.get("/ledger/licences", tags=["ledger"])
def licences(request: Request, _user: Reader) -> list[ledger.LicenceResult]:
    return ledger.licences(db=request.app.state.db)


@router.get("/ledger/licences/{number}", tags=["ledger"])
def licence(
    number: Annotated[str, Path(max_length=200)], request: Request, _user: Reader
) -> ledger.LicenceResult:
    """A licence: its terms, what is used and left, and every reservation against it."""
    return ledger.licence(number, db=request.app.state.db)


@router.post("/ledger/licences", tags=["ledger"])
def add_licence(body: LicenceSpec, request: Request, user: Writer) -> ledger.LicenceResult:
    """Record a licence as granted."""
    return ledger.add_licence(body, actor=user.name, db=request.app.state.db)


@router.post("/ledger/reservations", tags=["ledger"])
def reserve(
    body: ledger.ReserveRequest, request: Request, user: Writer, idempotency_key: IdempotencyKey = None
) -> ledger.OutcomeResult:
    """Reserve (with `ship`, reserve and ship) a line against its licence and every cap, atomically.
    A refusal is a 200 with `status: refused` and its reasons, as the CLI reports it."""
    return ledger.reserve(body, actor=user.name, key=idempotency_key, db=request.app.state.db)


@router.post("/ledger/reservations/{key}/ship", tags=["ledger"])
def ship(key: Key, body: ledger.ShipRequest, request: Request, user: Writer) -> ledger.OutcomeResult:
    return ledger.ship(key, body, actor=user.name, db=request.app.state.db)


@router.post("/ledger/reservations/{key}/cancel", tags=["ledger"])
def cancel(key: Key, body: ledger.CancelRequest, request: Request, user: Writer) -> ledger.OutcomeResult:
    return ledger.cancel(key, body, actor=user.name, db=request.app.state.db)


@router.get("/ledger/caps", tags=["ledger"])
def caps(
    request: Request,
    _user: Reader,
    country: Annotated[str | None, Query(max_length=60)] = None,
    as_of: dt.date | None = None,
    regime: Regime = "as-enforced",
) -> ledger.CapsResult:
    """Each cap's allocation on a date: limit, used, remaining, whether it binds, and why."""
    return ledger.caps(country=country, as_of=as_of, regime=regime, db=request.app.state.db)


@router.get("/audit/verify", tags=["audit"])
def verify(
    request: Request,
    _user: Reader,
    expect_head: Annotated[str | None, Query(pattern="^[0-9a-f]{64}$")] = None,
) -> ledger.VerifyResult:
    """Recompute the hash chain and the counted amounts; name the first event that was changed."""
    return ledger.verify(expect_head=expect_head, db=request.app.state.db)


@router.get("/audit/export", tags=["audit"], response_class=PlainTextResponse)
def export(request: Request, _user: Reader, format: Literal["csv", "jsonl"] = "jsonl") -> PlainTextResponse:
    """The audit log, with prev_hash and hash per event."""
    media = "text/csv" if format == "csv" else "application/x-ndjson"
    return PlainTextResponse(ledger.export(format, db=request.app.state.db), media_type=media)
