"""A report per recorded determination: HTML that prints well, and a PDF (WeasyPrint, offline).

`GET /api/v1/determinations/{id}/report[?format=pdf]` (a Bearer key or a browser session) and
`chipex report ID --pdf out.pdf` render `chipex.service.reports.recorded(id)`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.security import HTTPAuthorizationCredentials

from chipex.errors import ChipexError
from chipex.interfaces.http.auth import bearer, current_user
from chipex.interfaces.web.render import STATIC, WEB_CSP, html_document
from chipex.interfaces.web.session import require_page, signed_in
from chipex.service import reports
from chipex.service.users import User

router = APIRouter()
DeterminationId = Annotated[
    str, Path(max_length=300, description="the determination_id a recorded check returned")
]


def key_or_session(request: Request, creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> User:
    """A Bearer key (as every API route), else the browser's session; read permission."""
    found = signed_in(request) if creds is None else None
    user = found[0] if found else current_user(request, creds)
    require_page(user, "read")
    return user


def report_html(rec: reports.RecordedDetermination, *, for_pdf: bool = False) -> str:
    return html_document("report.html", rec=rec, d=rec.decision, for_pdf=for_pdf)


def _fetch_nothing(url: str, *args, **kwargs):
    # the PDF is made offline: no stylesheet, font or image is fetched from anywhere
    raise ValueError(f"chipex reports fetch nothing ({url})")


def report_pdf(rec: reports.RecordedDetermination) -> bytes:
    try:
        from weasyprint import CSS, HTML
    except OSError as exc:  # WeasyPrint needs Pango (Debian: libpango-1.0-0 libpangoft2-1.0-0)
        raise ChipexError(f"PDF reports need the Pango libraries: {exc}", field="format") from None
    css = [CSS(filename=str(STATIC / "app.css")), CSS(filename=str(STATIC / "report.css"))]
    return HTML(string=report_html(rec, for_pdf=True), url_fetcher=_fetch_nothing).write_pdf(stylesheets=css)


@router.get("/determinations/{determination_id}/report", tags=["audit"], response_class=HTMLResponse)
def report(
    determination_id: DeterminationId,
    request: Request,
    _user: Annotated[User, Depends(key_or_session)],
    format: Annotated[Literal["html", "pdf"], Query()] = "html",
) -> Response:
    """The report of a recorded determination: inputs, decision, every citation, rule-data version,
    list snapshot, reviewer decisions, the user, the time and the audit event's hash."""
    try:
        rec = reports.recorded(determination_id, db=request.app.state.db)
    except ChipexError as exc:
        raise HTTPException(404, exc.message) from None
    if format == "pdf":
        return Response(
            report_pdf(rec),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="chipex-{determination_id}.pdf"'},
        )
    return HTMLResponse(report_html(rec), headers={"Content-Security-Policy": WEB_CSP})
