"""Licences and caps (chipex.service.ledger, as `chipex ledger licence list|show` and `caps`): each
licence's granted / reserved / shipped / returned / remaining and its audit trail, every cap's
headroom; reservation and shipment forms for users with 'ledger:write'."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import ValidationError

from chipex.errors import ChipexError
from chipex.interfaces.web.render import page
from chipex.interfaces.web.session import Auth, posted_form
from chipex.service import catalog, ledger

router = APIRouter(include_in_schema=False)
Number = Annotated[str, Path(max_length=200)]
RESERVE_FIELDS = (
    ("item", "Chip or system", "H100"),
    ("units", "Units", "10"),
    ("destination", "Destination (ISO code or country)", "AE"),
    ("consignee", "Ultimate consignee", ""),
    ("end_user", "End user", ""),
    ("date", "Shipment date (empty: today)", ""),
)


def _errors(exc: ValidationError) -> list[tuple[str, str]]:
    return [(".".join(str(x) for x in e["loc"]) or "form", e["msg"]) for e in exc.errors()]


def _caps(request: Request, country: str, as_of: str) -> tuple[ledger.CapsResult | None, list]:
    try:
        on = dt.date.fromisoformat(as_of) if as_of else None
        return ledger.caps(country=country or None, as_of=on, db=request.app.state.db), []
    except ValueError as exc:
        return None, [("as_of", str(exc))]
    except ChipexError as exc:
        return None, [(exc.field or "country", exc.message)]


def _page(
    request: Request, auth, *, status: int = 200, country: str = "", as_of: str = "", **ctx
) -> Response:
    db = request.app.state.db
    desks = ledger.licence_desks(db=db)
    caps, cap_errors = _caps(request, country, as_of)
    ctx.setdefault("values", {})
    ctx.setdefault("errors", [])
    return page(request, "licences.html", status=status, auth=auth, desks=desks, caps=caps,
                cap_errors=cap_errors, authorizations=list(ledger.authorizations()), country=country, as_of=as_of, fields=RESERVE_FIELDS,
                chips=catalog.chips(), **ctx)  # fmt: skip


@router.get("/licences")
def licences(request: Request, auth: Auth, country: str = "", as_of: str = "") -> Response:
    return _page(request, auth, country=country.strip()[:60], as_of=as_of.strip()[:10])


@router.post("/licences/reserve")
async def reserve(request: Request, auth: Auth) -> Response:
    user = auth[0]
    form = await posted_form(request, auth, "ledger:write")
    values = {k: str(form.get(k, "")).strip() for k, _, _ in RESERVE_FIELDS}
    values["licence"] = str(form.get("licence", "")).strip()
    values["under"] = str(form.get("under", "")).strip()
    values["ship"] = form.get("ship") == "on"
    body = {k: v for k, v in values.items() if v not in ("", False)}
    try:
        req = ledger.ReserveRequest.model_validate(body)
        outcome = ledger.reserve(req, actor=user.name, db=request.app.state.db)
    except ValidationError as exc:
        return _page(request, auth, status=422, values=values, errors=_errors(exc))
    except ChipexError as exc:
        return _page(request, auth, status=422, values=values, errors=[(exc.field or "form", exc.message)])
    return _page(request, auth, outcome=outcome, values={} if outcome.status != "refused" else values)


def _licence_page(request: Request, auth, number: str, *, status: int = 200, **ctx) -> Response:
    try:
        desk = ledger.licence_desk(number, db=request.app.state.db)
    except ChipexError as exc:
        from fastapi import HTTPException

        raise HTTPException(404, exc.message) from None
    return page(request, "licence.html", status=status, auth=auth, desk=desk, **ctx)


@router.get("/licences/{number}")
def licence(number: Number, request: Request, auth: Auth) -> Response:
    return _licence_page(request, auth, number)


ACTIONS = {
    "ship": (("date",), lambda key, body, **kw: ledger.ship(key, ledger.ShipRequest.model_validate(body), **kw)),
    "cancel": (("reason", "date"),
               lambda key, body, **kw: ledger.cancel(key, ledger.CancelRequest.model_validate(body), **kw)),
    "return": (("units", "evidence", "date"),
               lambda key, body, **kw: ledger.return_units(key, ledger.ReturnRequest.model_validate(body), **kw)),
}  # fmt: skip


@router.post("/licences/{number}/{action}")
async def act(
    number: Number, action: Literal["ship", "cancel", "return"], request: Request, auth: Auth
) -> Response:
    """Ship or cancel a reservation, or record units of a shipment that came back."""
    user = auth[0]
    form = await posted_form(request, auth, "ledger:write")
    fields, run = ACTIONS[action]
    body = {k: v for k in fields if (v := str(form.get(k, "")).strip())}
    try:
        done = run(str(form.get("key", "")).strip(), body, actor=user.name, db=request.app.state.db)
    except ValidationError as exc:
        return _licence_page(request, auth, number, status=422, errors=_errors(exc))
    except ChipexError as exc:
        return _licence_page(request, auth, number, status=422, errors=[(exc.field or "form", exc.message)])
    if action == "return":
        return _licence_page(request, auth, number, returned=done)
    return _licence_page(request, auth, number, outcome=done)
