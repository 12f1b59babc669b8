"""Jinja2 templates (autoescaped) and the pages' security headers. Rendering only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from chipex.core import DISCLAIMER

HERE = Path(__file__).parent
STATIC = HERE / "static"
# every asset is served by chipex itself: no CDN, nothing inline (script-src 'self' only)
WEB_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
NAV = (
    ("/check", "Check an order", "read"),
    ("/books", "Upload a book", "read"),
    ("/reviews", "Screening reviews", "read"),
    ("/audit", "Audit", "read"),
    ("/licences", "Licences and caps", "read"),
    ("/lab", "Policy lab", "lab"),
    ("/chips", "Chips", "read"),
    ("/rules", "Rules", "read"),
)

templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters["yesno"] = lambda v: "yes" if v else ("no" if v is not None else "—")


def num(v: Any, digits: int = 1) -> str:
    if v is None:
        return "—"
    if isinstance(v, int):
        return f"{v:,}"
    try:
        return f"{float(v):,.{digits}f}"
    except (TypeError, ValueError):
        return str(v)


templates.env.filters["num"] = num


def page(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    """Render `name` with the signed-in user (if any), the CSRF token and the navigation."""
    user, session = ctx.pop("auth", (None, None))
    nav = [(href, label) for href, label, perm in NAV if user and perm in user.permissions]
    response = templates.TemplateResponse(
        request,
        name,
        {
            "user": user,
            "csrf": session.csrf if session else "",
            "nav": nav,
            "path": request.url.path,
            "disclaimer": DISCLAIMER,
            **ctx,
        },
        status_code=status,
    )
    response.headers["Content-Security-Policy"] = WEB_CSP
    return response


def html_document(name: str, **ctx: Any) -> str:
    """A template rendered to a string outside a request (the report for the PDF and the CLI)."""
    return templates.env.get_template(name).render(disclaimer=DISCLAIMER, **ctx)
