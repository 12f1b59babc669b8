"""Compile the red flags of rules/red_flags.yaml into one Ibis expression: the `red_flags` column.

The same expression as the licence rules evaluates one order and a whole book, on DuckDB, Polars
or Spark. A flag is in force on orders dated on or after its `added` date; each of its tests is one
column comparison (see chipex.rules.flags for the kinds), null-safe, so a field the order does not
give never raises a flag. A flag never touches `license_required`: it names an inquiry
(Supp. No. 3 to 15 CFR part 732 (a)(2): "If there are 'red flags', inquire").
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
from ibis.expr.types import BooleanValue, Table

from chipex.catalog import Catalog
from chipex.rules import Rulebook
from chipex.rules.flags import FlagTest, RedFlag

FALSE = ibis.literal(False)
SYSTEM_ID = r"^system-[0-9]+x-(.+)$"  # the id io.resolve_item gives an "N x CHIP" system


def _norm(t: Table, name: str):
    return t[name].strip().lower()


def low_prices(rulebook: Rulebook, catalog: Catalog) -> dict[str, float]:
    """Catalog item id -> low market price per chip (USD), for chips and one-chip-type systems."""
    per_chip = {c: float(p.usd_low) for p in rulebook.red_flags.market_prices for c in p.chips}
    out = dict(per_chip)
    for item in catalog:
        kinds = {p.chip for p in item.contains}
        if item.kind == "system" and len(kinds) == 1 and next(iter(kinds)) in per_chip:
            out[item.id] = per_chip[next(iter(kinds))]
    return out


def _below_market(t: Table, fraction: float, prices: dict[str, float]) -> BooleanValue:
    if not prices:
        return FALSE
    key = ibis.ifelse(t.item_id.startswith("system-"), t.item_id.re_extract(SYSTEM_ID, 1), t.item_id)
    low = ibis.cases(*((key == k, ibis.literal(v)) for k, v in sorted(prices.items())), else_=None)
    return t.unit_price_usd < t.units.cast("float64") * low * fraction


def _hub(t: Table, field: str, rulebook: Rulebook) -> BooleanValue:
    out: BooleanValue = FALSE
    for country, periods in sorted(rulebook.hubs.hub_periods().items()):
        for start, end in periods:
            cond = (t[field] == country) & (t.date >= ibis.literal(start))
            if end is not None:
                cond = cond & (t.date < ibis.literal(end))
            out = out | cond
    return out


def test_expr(t: Table, test: FlagTest, rulebook: Rulebook, prices: dict[str, float]) -> BooleanValue:
    """One test of a flag, false when its field is not given."""
    f = test.field
    known = t[f].notnull()
    match test.kind:
        case "in":
            cond = _norm(t, f).isin([v.lower() for v in test.in_ or []])
        case "matches":
            cond = _norm(t, f).re_search(test.matches)
        case "not_matches":
            cond = known & ~_norm(t, f).re_search(test.not_matches)
        case "not_in_fields":
            cond = known
            for other in test.not_in_fields or []:
                # the other field unknown: only the known ones are compared
                cond = cond & (t[other].isnull() | (_norm(t, f) != _norm(t, other)))
        case "on_or_after":
            cond = t[f] >= ibis.literal(test.on_or_after)
        case "within_days":
            cond = (t[f] <= t.date) & (t[f] > t.date - ibis.interval(days=test.within_days))
        case "below_market":
            cond = _below_market(t, float(test.below_market), prices)
        case "hub":
            cond = _hub(t, f, rulebook)
        case _:  # pragma: no cover - FlagTest validates the kinds
            raise AssertionError(test.kind)
    return cond.fill_null(False)


def flag_expr(t: Table, flag: RedFlag, rulebook: Rulebook, prices: dict[str, float]) -> BooleanValue:
    cond: BooleanValue = t.date >= ibis.literal(flag.added)
    if flag.removed is not None:
        cond = cond & (t.date < ibis.literal(flag.removed))
    for test in flag.when or []:
        cond = cond & test_expr(t, test, rulebook, prices)
    return cond


def evaluated(rulebook: Rulebook) -> list[RedFlag]:
    return [f for f in rulebook.red_flags.flags if f.when is not None]


def red_flags_column(t: Table, rulebook: Rulebook, catalog: Catalog):
    """'id;id;' of the flags a line raises ('' when none), in catalog order."""
    prices = low_prices(rulebook, catalog)
    flags = evaluated(rulebook)
    if not flags:
        return ibis.literal("")
    parts = [ibis.ifelse(flag_expr(t, f, rulebook, prices), f"{f.id};", "") for f in flags]
    return parts[0].concat(*parts[1:]) if len(parts) > 1 else parts[0]


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
