"""Screening review queue (chipex.service.reviews): hits awaiting a decision, each with its entry,
score and features; officers confirm or clear with a reason; Entity List clears take four eyes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from chipex.errors import ChipexError
from chipex.interfaces.web.render import page
from chipex.interfaces.web.session import Auth, posted_form
from chipex.service import reviews

router = APIRouter(include_in_schema=False)


def _page(request: Request, auth, *, status: int = 200, outcome=None, error=None) -> Response:
    db = request.app.state.db
    return page(request, "reviews.html", status=status, auth=auth, items=reviews.queue(db=db),
                history=reviews.history(db=db), outcome=outcome, error=error)  # fmt: skip


@router.get("/reviews")
def queue(request: Request, auth: Auth) -> Response:
    return _page(request, auth)


@router.post("/reviews")
async def decide(request: Request, auth: Auth) -> Response:
    user = auth[0]
    form = await posted_form(request, auth, "screening:review")
    try:
        req = reviews.ReviewDecision.model_validate(
            {k: str(form.get(k, "")).strip() for k in ("name", "entry_id", "decision", "reason")}
        )
        outcome = reviews.decide(req, officer=user.name, db=request.app.state.db)
    except ValidationError as exc:
        error = "; ".join(f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors())
        return _page(request, auth, status=422, error=error)
    except ChipexError as exc:
        return _page(request, auth, status=409 if exc.field == "reviewer" else 422, error=exc.message)
    return _page(request, auth, outcome=outcome)
