"""Compile the red flags of rules/red_flags.yaml into one Ibis expression: the `red_flags` column.

The same expression as the licence rules evaluates one order and a whole book, on DuckDB, Polars
or Spark. A flag is in force on orders dated on or after its `added` date; each of its tests is one
column comparison (see chipex.rules.flags for the kinds), null-safe, so a field the order does not
give never raises a flag. A flag never touches `license_required`: it names an inquiry
(Supp. No. 3 to 15 CFR part 732 (a)(2): "If there are 'red flags', inquire").
"""

from __future__ import annotations

import ibis
from ibis.expr.types import BooleanValue, Table

from chipex.catalog import Catalog
from chipex.orders.flag_data import SYSTEM_ID, catalog_rows, evaluated, inquiries, low_prices
from chipex.rules import Rulebook
from chipex.rules.flags import FlagTest, RedFlag

__all__ = [
    "catalog_rows",
    "evaluated",
    "flag_expr",
    "inquiries",
    "low_prices",
    "red_flags_column",
    "test_expr",
]

FALSE = ibis.literal(False)


def _norm(t: Table, name: str):
    return t[name].strip().lower()


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


def red_flags_column(t: Table, rulebook: Rulebook, catalog: Catalog):
    """'id;id;' of the flags a line raises ('' when none), in catalog order."""
    prices = low_prices(rulebook, catalog)
    flags = evaluated(rulebook)
    if not flags:
        return ibis.literal("")
    parts = [ibis.ifelse(flag_expr(t, f, rulebook, prices), f"{f.id};", "") for f in flags]
    return parts[0].concat(*parts[1:]) if len(parts) > 1 else parts[0]
