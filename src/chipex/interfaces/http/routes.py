"""Routes for classification, the catalog and rules, one-order checks, screening, the policy lab,
compute, and users. Each validates with a service model, calls one service function, returns its model."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request

from chipex.interfaces.http.auth import require
from chipex.rules.model import Version
from chipex.service import catalog, compute, orders, policy, screening, users
from chipex.service.common import Explained
from chipex.service.determination import Determination
from chipex.service.store import write_audited
from chipex.service.users import User

router = APIRouter()
Reader = Annotated[User, Depends(require("read"))]
Analyst = Annotated[User, Depends(require("lab"))]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=200, description="a retry with the same key is recorded once"),
]


# --- catalog and rules ------------------------------------------------------------------------------


@router.post("/classify", tags=["catalog"])
def classify(body: catalog.ClassifyRequest, _user: Reader) -> catalog.ClassificationResult:
    """The ECCN paragraph of a chip (by name, spec or figures) on a date, every threshold compared and cited."""
    return catalog.classify(body)


@router.get("/chips/{chip}/history", tags=["catalog"])
def history(chip: Annotated[str, Path(max_length=200)], _user: Reader) -> list[catalog.ClassificationResult]:
    """The chip's status under every rule version, in date order."""
    return catalog.history(catalog.HistoryRequest(chip=chip))


@router.get("/chips", tags=["catalog"])
def chips(_user: Reader) -> list[catalog.ChipRow]:
    """The catalog with TPP and performance density computed from its own figures."""
    return catalog.chips()


@router.get("/rules", tags=["catalog"])
def rules(_user: Reader) -> list[Version]:
    """Every rule version, dated and cited."""
    return catalog.rules()


# --- one order --------------------------------------------------------------------------------------


@router.post("/check", tags=["orders"], response_model_exclude_none=False)
def check(
    body: orders.OrderRequest, request: Request, user: Reader, idempotency_key: IdempotencyKey = None
) -> Determination:
    """May this order ship? The determination in the one schema (docs/schema/determination.schema.json).
    `"record": true` (officer) stores it in the audit chain and returns its `determination_id`."""
    if body.record and "record" not in user.permissions:
        raise HTTPException(
            403, f"permission 'record' is needed to record a determination; role '{user.role}'"
        )
    return orders.check_order(body, actor=user.name, key=idempotency_key, db=request.app.state.db)


# --- screening --------------------------------------------------------------------------------------


@router.post("/screen", tags=["screening"])
def screen(body: screening.ScreenRequest, _user: Reader) -> screening.ScreenResult:
    """Every listed entry the party matches, best first, each hit explained feature by feature."""
    return screening.screen(body)


@router.post("/match", tags=["screening"])
def match_names(body: screening.MatchRequest, _user: Reader) -> screening.MatchResult:
    """Two names scored directly, with the feature-by-feature explanation."""
    return screening.match(body)


@router.post("/match/{dataset}", tags=["screening"], response_model_by_alias=True)
def match_entities(
    dataset: Annotated[str, Path(max_length=50, description="default (the US Consolidated Screening List)")],
    body: screening.EntityMatchQuery,
    _user: Reader,
    threshold: Annotated[float, Query(ge=0, le=1)] = 0.80,
    limit: Annotated[int, Query(ge=1, le=100)] = 5,
) -> screening.EntityMatchResponse:
    """OpenSanctions yente's /match/{dataset}: `queries` of FollowTheMoney-style entities in,
    `responses` with scored `results` (`score`, `match`, `features`) out."""
    return screening.match_entities(dataset, body, threshold=threshold, limit=limit)


@router.get("/lists", tags=["screening"])
def lists(_user: Reader) -> screening.ListsResult:
    """The current list snapshot and its per-list counts."""
    return screening.lists()


@router.post("/screen/reviews", tags=["screening"])
def review(
    body: screening.ReviewRequest,
    request: Request,
    user: Annotated[User, Depends(require("screening:review"))],
) -> screening.ReviewResult:
    """Record a reviewer's decision on a hit (the reviewer is the authenticated user); later screens honour it."""
    return write_audited(
        request.app.state.db, user.name, "screening.reviewed",
        f"{body.entry_id}/{dt.datetime.now(dt.UTC).isoformat()}", body.model_dump(),
        lambda _conn: screening.review(body, reviewer=user.name),
    )  # fmt: skip


# --- policy lab and compute -------------------------------------------------------------------------


@router.post("/lab/diff", tags=["policy lab"])
def lab_diff(body: policy.DiffRequest, _user: Analyst) -> Explained:
    return policy.diff(body)


@router.post("/lab/near-misses", tags=["policy lab"])
def lab_near_misses(body: policy.NearMissRequest, _user: Analyst) -> Explained:
    return policy.near_misses(body)


@router.post("/lab/loopholes", tags=["policy lab"])
def lab_loopholes(body: policy.LoopholeRequest, _user: Analyst) -> Explained:
    return policy.loopholes(body)


@router.post("/lab/windows", tags=["policy lab"])
def lab_windows(body: policy.WindowsRequest, _user: Analyst) -> Explained:
    return policy.windows(body)


@router.post("/lab/plane", tags=["policy lab"])
def lab_plane(body: policy.PlaneRequest, _user: Analyst) -> Explained:
    """The data behind the TPP x performance-density chart (chips and the rule's lines on a date)."""
    return policy.plane(body)


@router.post("/compute/equiv", tags=["compute"])
def compute_equiv(body: compute.EquivRequest, _user: Analyst) -> Explained:
    return compute.equiv(body)


@router.post("/compute/scenario", tags=["compute"])
def compute_scenario(body: compute.ScenarioRequest, _user: Analyst) -> Explained:
    return compute.scenario(body)


# --- users (admin) ----------------------------------------------------------------------------------

Admin = Annotated[User, Depends(require("users"))]


@router.get("/users", tags=["users"])
def list_users(request: Request, _user: Admin) -> list[User]:
    return users.list_users(db=request.app.state.db)


@router.post("/users", tags=["users"])
def add_user(body: users.UserRequest, request: Request, user: Admin) -> users.NewUser:
    """A new user and its API key, shown once."""
    return users.add_user(
        body.name, body.role, expires=body.expires, actor=user.name, db=request.app.state.db
    )


@router.delete("/users/{name}", tags=["users"])
def revoke_user(name: Annotated[str, Path(max_length=100)], request: Request, user: Admin) -> User:
    return users.revoke(name, actor=user.name, db=request.app.state.db)
