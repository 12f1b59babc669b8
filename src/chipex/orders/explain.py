"""Turn one result row (rule ids fired) into a full explanation with paragraphs and citations.

Nothing is decided here: the decision is the row's; this only looks up the rule data it names.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from chipex.core import DISCLAIMER
from chipex.orders.flag_data import inquiries
from chipex.rules.model import When

if TYPE_CHECKING:  # or any object with its rulebook, regime, classifications and period_of (single.py)
    from chipex.orders.engine import OrderEngine


def split_ids(value: str | None) -> list[str]:
    return [x for x in (value or "").split(";") if x]


def _where(code: str | None, on: dt.date, engine: OrderEngine) -> str:
    if not code:
        return "not given"
    groups = engine.rulebook.countries.groups_of(code, on)
    rule_code = engine.rulebook.countries.rule_country(code)
    shown = code if rule_code == code else f"{code} (as {rule_code})"
    if code in engine.rulebook.countries.data.regions:  # 15 CFR 746.6: Crimea, DNR, LNR
        shown = f"{code} ({engine.rulebook.countries.label(code)})"
    return f"{shown} [{', '.join(groups) or 'no listed group'}]"


def _hq_missing(when: When, row: dict[str, Any]) -> list[str]:
    """An exception whose headquarters test passed because an HQ was not given (e.g. AIA, 740.27(a))."""
    if not when.headquartered_tier:
        return []
    labels = {
        "end_user_hq": "end user's headquarters",
        "parent_hq": "ultimate parent's headquarters (if any)",
    }
    return [label for col, label in labels.items() if not row[col]]


def explain_row(row: dict[str, Any], engine: OrderEngine, *, classification: bool = True) -> dict[str, Any]:
    """The full explanation of one result row; `classification=False` leaves the item's
    classification out (a book's lines: the same item and period repeat)."""
    rb = engine.rulebook
    on: dt.date = row["date"]
    reqs = {r.id: r for r in rb.licensing.requirements}
    letters = {letter.id: letter for letter in rb.letters}
    context = (
        f"item {row['item']} ({row['eccn'] or 'no ECCN'}, {row['eccn_confidence'] or 'unknown'}); destination "
        f"{_where(row['destination'], on, engine)}; end-user HQ {_where(row['end_user_hq'], on, engine)}; "
        f"parent HQ {_where(row['parent_hq'], on, engine)}; end use {row['end_use'] or 'not declared'}"
    )
    reasons = []
    for rid in split_ids(row["reasons"]):
        certain = not rid.endswith("?")
        rid = rid.rstrip("?")
        if rid in ("listed-party", "affiliate-of-listed-party"):
            r = reqs[rid]
            reasons.append(
                {
                    "rule": r.id,
                    "paragraph": r.paragraph,
                    "citation": row["party_entries"],
                    "confidence": r.confidence,
                    "met": True,
                    "detail": f"{r.text} Match: {row['party_entries']}. List: {row['list_snapshot']}.",
                }
            )
        elif rid in reqs:
            r = reqs[rid]
            reasons.append(
                {
                    "rule": r.id,
                    "paragraph": r.paragraph,
                    "citation": r.citation,
                    "confidence": r.confidence,
                    "met": True,
                    "detail": f"{r.text} Here: {context}.",
                }
            )
        else:
            letter = letters[rid]
            detail = f"Is-informed letter to {letter.informed} ({letter.legal_basis}) covers this item for {', '.join(letter.destinations)}"
            if not certain:
                detail += (
                    f"; it binds {letter.informed} (or an exporter BIS has so informed): exporter not given, "
                    "so the licence requirement is shown as applying"
                )
            reasons.append(
                {
                    "rule": f"is-informed {letter.id}",
                    "paragraph": letter.legal_basis,
                    "citation": letter.citation,
                    "confidence": letter.confidence,
                    "met": True if certain else None,
                    "detail": detail + f". Here: {context}.",
                }
            )
    if not reasons and row["jurisdiction"].startswith("not subject"):
        reasons.append(
            {
                "rule": "not-subject",
                "paragraph": "15 CFR 734.3",
                "citation": "15 CFR 734.3, 734.4, 734.9 (rules/jurisdiction.yaml)",
                "confidence": None,
                "met": False,
                "detail": f"The item is not subject to the EAR, so no EAR licence is required: {row['jurisdiction']}. Here: {context}.",
            }
        )
    if not reasons:
        reasons.append(
            {
                "rule": "none",
                "paragraph": None,
                "citation": None,
                "confidence": None,
                "met": False,
                "detail": f"No advanced-computing licence requirement applies on {on} ({engine.regime}). Here: {context}.",
            }
        )
    excs = {e.id: e for e in rb.licensing.exceptions}
    exceptions = [
        {
            "id": e.id,
            "paragraph": e.paragraph,
            "citation": e.citation,
            "confidence": e.confidence,
            "conditions": e.conditions,
            "missing": e.missing + _hq_missing(e.when, row),
        }
        for e in (excs[i] for i in split_ids(row["exceptions"]))
    ]
    pols = {p.id: p for p in rb.licensing.policies}
    policy = None
    if row["policy_rule"]:
        p = pols[row["policy_rule"]]
        policy = {
            "policy": row["policy"],
            "rule": p.id,
            "paragraph": p.paragraph,
            "citation": p.citation,
            "confidence": p.confidence,
            "note": p.note,
            "conditions": p.conditions,
        }
    version = rb.version_on(on)
    found = engine.classifications.get((row["item_id"], engine.period_of(on))) if classification else None
    depends = split_ids(row["depends_on"])
    out = {
        "line": row["line"],
        "date": on.isoformat(),
        "item": row["item"],
        "item_id": row["item_id"],
        "quantity": row["quantity"],
        "destination": row["destination"],
        "jurisdiction": row["jurisdiction"],
        "license_required": row["license_required"],
        "eccn": row["eccn"],
        "eccn_confidence": row["eccn_confidence"],
        "reasons": reasons,
        "exceptions": exceptions,
        "policy": policy,
        "depends_on": depends,
        "checked": split_ids(row["checked"]),  # rules/scope.yaml: the parts of the EAR evaluated
        "not_checked": split_ids(row["not_checked"]),
        "regime": engine.regime,
        "rule_version": version.id if version else None,
        "tpp_total": float(row["tpp_total"]) if row["tpp_total"] is not None else None,
        "parties": row["party_entries"],
        "list_snapshot": row["list_snapshot"],
        "classification": found.to_dict() if found else None,
        "disclaimer": DISCLAIMER if classification else None,
    }
    known = rb.warnings.by_id()  # rules/warnings.yaml: shown first, never a decision
    out["warnings"] = [
        {"id": w.id, "text": w.text, "citation": w.citation, "confidence": w.confidence}
        for w in (known[i] for i in split_ids(row["warnings"]))
    ]
    out["advisories"] = [row["advisories"]] if row["advisories"] else []  # foundry/OSAT presumption
    # red flags: inquiries to make before shipping; they never change license_required
    out["red_flags"] = split_ids(row["red_flags"])
    out["red_flag_inquiries"] = inquiries(
        out["red_flags"], rb, on, {"destination": row["destination"], "ship_from": row["ship_from"]}
    )
    if row["license_required"] != row["license_required_otherwise"]:
        out["outcomes"] = {
            "if the uncertain conditions hold": row["license_required"],
            "otherwise": row["license_required_otherwise"],
        }
    for k in ("end_user", "end_user_hq", "parent_hq", "consignee", "end_use", "ship_from", "exporter"):
        out[k] = row[k]
    return out
