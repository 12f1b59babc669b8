"""Sign-in, sign-out, and "Check an order". Each page validates with a service model, calls one
chipex.service function and renders its result."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from chipex.errors import ChipexError
from chipex.interfaces.web.render import page
from chipex.interfaces.web.session import (
    SESSION_COOKIE,
    SIGNIN_COOKIE,
    Auth,
    check_csrf,
    cookie_args,
    posted_form,
    require_page,
    sessions,
    signed_in,
    verify_key,
    verify_name_password,
)
from chipex.service import catalog, orders

router = APIRouter(include_in_schema=False)
ORDER_FIELDS = (
    ("item", "Chip or system", "H100, 8x H100, DGX H100"),
    ("quantity", "Quantity (units)", "8"),
    ("date", "Date (YYYY-MM-DD)", "2024-01-01"),
    ("destination", "Destination (ISO code or country)", "CN"),
    ("end_user", "End user", ""),
    ("end_user_hq", "End user's headquarters", ""),
    ("parent_hq", "Parent's headquarters", ""),
    ("consignee", "Consignee", ""),
    ("end_use", "End use", "datacenter, model training"),
    ("ship_from", "Ship from", "US"),
    ("exporter", "Exporter", ""),
    ("made_in", "Made in (not given: US-origin assumed)", "TW, CN"),
    ("us_content_pct", "US-origin content (% of value, for de minimis)", "20"),
    ("exporter_role", "Exporter's role (foundry, OSAT or other)", "foundry"),
)


def _safe_next(target: str | None) -> str:
    # only a path on this site: never an absolute URL an attacker could put in ?next=
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/check"


@router.get("/")
def home(request: Request) -> Response:
    return RedirectResponse("/check" if signed_in(request) else "/signin", status_code=303)


@router.get("/signin")
def signin_form(request: Request, next: str | None = None) -> Response:
    import secrets

    token = secrets.token_urlsafe(32)
    r = page(request, "signin.html", signin_csrf=token, next=_safe_next(next))
    r.set_cookie(SIGNIN_COOKIE, token, max_age=3600, **cookie_args(request))
    return r


@router.post("/signin")
def signin(
    request: Request,
    key: Annotated[str, Form(max_length=300)] = "",
    name: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "/check",
) -> Response:
    """Either form of the sign-in page: an API key, or a user name and password."""
    import hmac

    cookie = request.cookies.get(SIGNIN_COOKIE, "")
    if not csrf or not cookie or not hmac.compare_digest(csrf, cookie):
        raise HTTPException(403, "the sign-in form's CSRF token is missing or wrong: reload the page")
    by_password = not key.strip()
    try:
        if by_password:
            if not name.strip() or not password:
                raise HTTPException(422, "give your user name and password, or your API key")
            user = verify_name_password(request, name, password)
        else:
            verify_key(request, key)
    except HTTPException as exc:
        return page(request, "signin.html", status=exc.status_code, error=exc.detail, signin_csrf=cookie,
                    next=_safe_next(next), typed_name=name.strip()[:100], by_password=by_password)  # fmt: skip
    token, _ = sessions(request).open(user=user) if by_password else sessions(request).open(key.strip())
    r = RedirectResponse(_safe_next(next), status_code=303)
    r.set_cookie(SESSION_COOKIE, token, **cookie_args(request))
    r.delete_cookie(SIGNIN_COOKIE, path="/")
    return r


@router.post("/signout")
def signout(request: Request, auth: Auth, csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
    check_csrf(auth[1], csrf)
    sessions(request).close(request.cookies.get(SESSION_COOKIE))
    r = RedirectResponse("/signin", status_code=303)
    r.delete_cookie(SESSION_COOKIE, path="/")
    return r


def _chips() -> list[catalog.ChipRow]:
    return catalog.chips()


@router.get("/check")
def check_form(request: Request, auth: Auth) -> Response:
    return page(request, "check.html", auth=auth, fields=ORDER_FIELDS, values={"quantity": "1"},
                chips=_chips(), result=None, errors=[])  # fmt: skip


@router.post("/check")
async def check(request: Request, auth: Auth) -> Response:
    user = auth[0]
    form = await posted_form(request, auth)
    values = {k: str(form.get(k, "")).strip() for k, _, _ in ORDER_FIELDS}
    values["regime"] = str(form.get("regime", "as-enforced"))
    body = {k: v for k, v in values.items() if v}
    body["screen"] = form.get("screen") == "on"
    body["record"] = form.get("record") == "on"
    if body["record"]:
        require_page(user, "record")
    errors, result = [], None
    try:
        req = orders.OrderRequest.model_validate(body)
        result = orders.check_order(req, actor=user.name, db=request.app.state.db, order="web")
    except ValidationError as exc:
        errors = [(".".join(str(x) for x in e["loc"]) or "form", e["msg"]) for e in exc.errors()]
    except ChipexError as exc:
        errors = [(exc.field or "form", exc.message)]
    values["screen"], values["record"] = body["screen"], body["record"]
    return page(request, "check.html", status=422 if errors else 200, auth=auth, fields=ORDER_FIELDS,
                values=values, chips=_chips(), result=result, errors=errors)  # fmt: skip
