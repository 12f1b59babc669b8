"""The chipex web UI: server-rendered pages (Jinja2) and a little vanilla JavaScript, served by
`chipex serve` at `/`, on the same origin as the API. Pages only call chipex.service and render.

`mount(app)` is the one hook the HTTP app calls.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException


def _is_page(request: Request) -> bool:
    path = request.url.path
    api = path.startswith(("/api/", "/health", "/docs", "/redoc", "/openapi", "/static/"))
    return not api and "text/html" in request.headers.get("accept", "")


def mount(app: FastAPI) -> None:
    from chipex.interfaces.web import audit, books, chips, lab, licences, pages, report, reviews
    from chipex.interfaces.web.render import STATIC, page

    app.include_router(pages.router)
    app.include_router(books.router)
    app.include_router(audit.router)
    app.include_router(reviews.router)
    app.include_router(licences.router)
    app.include_router(lab.router)
    app.include_router(chips.router)
    app.include_router(report.router, prefix="/api/v1")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    api_handler = app.exception_handlers[StarletteHTTPException]

    async def on_http_error(request: Request, exc: StarletteHTTPException):
        # a browser asking for a page gets an HTML page (or the sign-in redirect); the API, JSON
        if not _is_page(request) or exc.status_code in (301, 302, 303, 307, 308):
            return await api_handler(request, exc)
        from chipex.interfaces.web.session import signed_in

        titles = {401: "Sign in first", 403: "Not allowed", 404: "Not found", 409: "Not ready yet"}
        return page(request, "error.html", status=exc.status_code, auth=signed_in(request) or (None, None),
                    title=titles.get(exc.status_code, "Error"), message=str(exc.detail), status_code=exc.status_code)  # fmt: skip

    app.add_exception_handler(StarletteHTTPException, on_http_error)
