"""Chip and rule pages (chipex.service.catalog): a chip's figures with their sources and its
status under every rule version; a rule version with the ECCN text in force and its citations."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import Response

from chipex.errors import ChipexError
from chipex.interfaces.web.render import page
from chipex.interfaces.web.session import Auth
from chipex.service import catalog, policy

router = APIRouter(include_in_schema=False)
Name = Annotated[str, Path(max_length=200)]


def figures(rec: dict[str, Any]) -> list[dict[str, Any]]:
    """Every sourced figure of a record ({value, source, confidence, ...}), tops per precision."""
    refs = rec.get("sources", {})
    rows = []
    for name, v in rec.items():
        items = [(f"dense {p} T(FL)OPS", f) for p, f in v.items()] if name == "dense_tops" else [(name, v)]
        for label, f in items:
            if isinstance(f, dict) and "value" in f:
                rows.append(
                    {"figure": label.replace("_", " "), **f, "reference": refs.get(f.get("source", ""), "")}
                )
    return rows


@router.get("/chips")
def chip_list(request: Request, auth: Auth) -> Response:
    return page(request, "chips.html", auth=auth, chips=catalog.chips())


@router.get("/chips/{chip}")
def chip(chip: Name, request: Request, auth: Auth) -> Response:
    try:
        rec = catalog.chip_record(chip)
        history = catalog.history(catalog.HistoryRequest(chip=chip))
    except ChipexError as exc:
        raise HTTPException(404, exc.message) from None
    return page(request, "chip.html", auth=auth, rec=rec, figures=figures(rec),
                history=[h.to_dict() for h in history])  # fmt: skip


@router.get("/rules")
def rule_list(request: Request, auth: Auth) -> Response:
    return page(request, "rules.html", auth=auth, versions=catalog.rules())


@router.get("/rules/{version}")
def rule(version: Name, request: Request, auth: Auth) -> Response:
    try:
        rv = catalog.rule_version(version)
    except ChipexError as exc:
        raise HTTPException(404, exc.message) from None
    versions = catalog.rules()
    i = next(i for i, v in enumerate(versions) if v.id == version)
    changed = policy.diff(policy.DiffRequest(a=versions[i - 1].id, b=version)).data if i else None
    return page(request, "rule.html", auth=auth, rv=rv, v=rv.version, changed=changed,
                prev=versions[i - 1] if i else None, next=versions[i + 1] if i + 1 < len(versions) else None)  # fmt: skip
