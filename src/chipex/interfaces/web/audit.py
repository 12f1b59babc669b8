"""Audit: verify the hash chain (chipex.service.ledger.verify) and export the log."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response

from chipex.interfaces.web.render import page
from chipex.interfaces.web.session import Auth
from chipex.service import ledger

router = APIRouter(include_in_schema=False)


@router.get("/audit")
def audit(request: Request, auth: Auth, expect_head: str | None = None) -> Response:
    head = (expect_head or "").strip() or None
    result = ledger.verify(expect_head=head, db=request.app.state.db)
    return page(request, "audit.html", auth=auth, result=result.model_dump(), expect_head=head or "")


@router.get("/audit/export.{fmt}")
def export(fmt: Literal["csv", "jsonl"], request: Request, _auth: Auth) -> Response:
    media = "text/csv" if fmt == "csv" else "application/x-ndjson"
    return Response(
        ledger.export(fmt, db=request.app.state.db),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="chipex-audit.{fmt}"'},
    )
