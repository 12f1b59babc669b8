"""The chipex HTTP API (FastAPI): `create_app()`; `chipex serve` runs it with uvicorn.

Interfaces only render: every route validates its body with the service layer's models, calls
one chipex.service function and returns its result model.
"""

from __future__ import annotations

import logging
import os
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from chipex.core import DISCLAIMER
from chipex.errors import ChipexError

log = logging.getLogger("chipex.http")
MAX_UPLOAD_MB = 200  # default upload limit for a book (413 beyond); `chipex serve --max-upload-mb`
API_CSP = "default-src 'none'; frame-ancestors 'none'"
# /docs and /redoc load Swagger UI / ReDoc from their CDN (FastAPI's defaults)
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
    "frame-ancestors 'none'"
)


def _error(status: int, detail) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def chipex_error_detail(exc: ChipexError) -> list[dict]:
    """A ChipexError in FastAPI's validation shape: `loc` names the field, `msg` is the CLI's message."""
    loc = ["body", exc.field] if exc.field else ["body"]
    ctx = {k: v for k, v in (("file", exc.file), ("record", exc.record)) if v is not None}
    return [{"loc": loc, "msg": exc.message, "type": "chipex", **({"ctx": ctx} if ctx else {})}]


def create_app(
    *, db: str | None = None, max_upload_mb: float | None = None, cors_origins: list[str] | None = None,
    run_jobs: bool = True,
) -> FastAPI:  # fmt: skip
    """The API on the ledger database `db` (default CHIPEX_DB / CHIPEX_HOME)."""
    from chipex.interfaces.http import books, routes, routes_ledger

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        from chipex.service.common import ledger_for

        ledger_for(db, None)  # opens and migrates the database (ledger and service branches)
        worker = None
        if run_jobs:
            from chipex.service.jobs import Worker

            worker = Worker(db)
            worker.start()
        app.state.worker = worker
        yield
        if worker is not None:
            worker.stop()

    app = FastAPI(
        title="chipex",
        version="1",
        summary="US export controls on AI compute, written as code",
        description=f"{DISCLAIMER} Every route but /health needs `Authorization: Bearer KEY` "
        f"(`chipex users add NAME --role viewer|analyst|officer|admin`). Book uploads are limited to "
        f"{max_upload_mb or MAX_UPLOAD_MB:g} MB (413 beyond).",
        lifespan=lifespan,
    )
    app.state.db = db
    app.state.worker = None
    app.state.max_upload = int(
        (max_upload_mb or float(os.environ.get("CHIPEX_MAX_UPLOAD_MB", MAX_UPLOAD_MB))) * 2**20
    )

    @app.middleware("http")
    async def guard(request: Request, call_next):
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > request.app.state.max_upload:
            response = _error(
                413, f"request body over the limit of {request.app.state.max_upload // 2**20} MB"
            )
        else:
            try:
                response = await call_next(request)
            except Exception:  # never a stack trace in a response; the log keeps it
                log.exception("unhandled error on %s %s", request.method, request.url.path)
                response = _error(500, "internal error")
        docs = request.url.path in ("/docs", "/redoc", "/docs/oauth2-redirect")
        response.headers.setdefault(
            "Content-Security-Policy", DOCS_CSP if docs else API_CSP
        )  # pages set their own
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    if cors_origins:  # closed by default: no cross-origin access unless origins are named
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware, allow_origins=cors_origins, allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        )  # fmt: skip

    @app.exception_handler(ChipexError)
    async def on_chipex_error(_request: Request, exc: ChipexError):
        return _error(422, chipex_error_detail(exc))

    @app.exception_handler(UnicodeError)
    async def on_unicode_error(_request: Request, _exc: UnicodeError):
        # e.g. a lone surrogate (\ud800) in a JSON string: valid JSON, not text any file can hold
        return _error(
            422,
            [{"loc": ["body"], "msg": "text must be valid Unicode (no lone surrogates)", "type": "unicode"}],
        )

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(_request: Request, exc: RequestValidationError):
        detail = [
            {
                "loc": list(e.get("loc", ())),
                "msg": e.get("msg", "invalid"),
                "type": e.get("type", "value_error"),
            }
            for e in exc.errors()
        ]  # without the echoed input: a rejected body is not sent back
        return _error(422, detail)

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(_request: Request, exc: StarletteHTTPException):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.get("/health", tags=["service"])
    def health() -> dict:
        """Liveness, without authentication."""
        return {"status": "ok"}

    app.include_router(routes.router, prefix="/api/v1")
    app.include_router(books.router, prefix="/api/v1")
    app.include_router(routes_ledger.router, prefix="/api/v1")

    from chipex.interfaces.web import mount

    mount(app)  # the web UI (chipex.interfaces.web): pages at /, same origin and service layer
    return app
