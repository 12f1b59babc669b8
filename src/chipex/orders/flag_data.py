"""The red-flag data of rules/red_flags.yaml as the checks read it, without any engine: market prices,
the evaluated flags, and the explanation of raised flags (inquiries). Shared by the bulk expression
(red_flags.py) and the one-order evaluator (single.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from chipex.catalog import Catalog
from chipex.rules import Rulebook
from chipex.rules.flags import RedFlag

SYSTEM_ID = r"^system-[0-9]+x-(.+)$"  # the id io.resolve_item gives an "N x CHIP" system


def low_prices(rulebook: Rulebook, catalog: Catalog) -> dict[str, float]:
    """Catalog item id -> low market price per chip (USD), for chips and one-chip-type systems."""
    per_chip = {c: float(p.usd_low) for p in rulebook.red_flags.market_prices for c in p.chips}
    out = dict(per_chip)
    for item in catalog:
        kinds = {p.chip for p in item.contains}
        if item.kind == "system" and len(kinds) == 1 and next(iter(kinds)) in per_chip:
            out[item.id] = per_chip[next(iter(kinds))]
    return out


def evaluated(rulebook: Rulebook) -> list[RedFlag]:
    return [f for f in rulebook.red_flags.flags if f.when is not None]


def inquiries(
    ids: list[str], rulebook: Rulebook, on: dt.date, countries: dict[str, str | None]
) -> list[dict[str, Any]]:
    """The explanation of raised flags: text, the inquiry to make, citation, confidence, inputs.
    `countries` maps the line's country fields (destination, ship_from) to their codes."""
    by_id = {f.id: f for f in rulebook.red_flags.flags}
    out = []
    for i in ids:
        f = by_id[i]
        detail = f.text
        for test in f.when or []:
            code = countries.get(test.field)
            if test.kind == "hub" and code:
                events = [e for e in rulebook.hubs.events if e.country == code and e.date <= on]
                detail += f" {code} to {on}: " + "; ".join(f"{e.date} {e.event}" for e in events)
        out.append(
            {
                "flag": f.id,
                "title": f.title,
                "detail": detail,
                "inquiry": f.inquiry,
                "citation": f.citation,
                "source": f.source,
                "confidence": f.confidence,
                "added": f.added.isoformat(),
                "reads": f.reads(),
            }
        )
    return out


def catalog_rows(rulebook: Rulebook, on: dt.date | None = None) -> list[dict[str, Any]]:
    """Every flag of the catalog (for `chipex flags`), in force on `on` if given."""
    rows = []
    for f in rulebook.red_flags.flags:
        if on is not None and not f.in_force(on):
            continue
        rows.append(
            {
                "id": f.id,
                "title": f.title,
                "text": f.text,
                "inquiry": f.inquiry,
                "citation": f.citation,
                "source": f.source,
                "confidence": f.confidence,
                "added": f.added.isoformat(),
                "added_confidence": f.added_confidence,
                "removed": f.removed.isoformat() if f.removed else None,
                "evaluated": f.when is not None,
                "reads": f.reads(),
                "condition": [
                    t.model_dump(by_alias=True, exclude_none=True, mode="json") for t in f.when or []
                ],
                "needs": f.needs,
                "cases": f.cases,
            }
        )
    return rows
