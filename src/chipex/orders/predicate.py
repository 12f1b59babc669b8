"""The `When` test of rules/licensing.yaml on one enriched order line, in Python.

The column names are those of the bulk path's enriched table (tables.py, engine.enrich): the same
names, flags and null rules as `compile.when_expr`, so one order and a whole book read the rule data
the same way. A row is a dict of those columns; a missing value is None and fails a test, exactly as
the bulk expression's `fill_null(False)`.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache

from chipex.rules.model import GroupTest, When

HQ = ("eu", "pa")  # the end user's headquarters, and its ultimate parent's
HQ_COLUMNS = ("end_user_hq", "parent_hq")
SIX = Decimal("0.000001")  # the lookup tables' decimal(20, 6)


def col_name(group: str) -> str:
    """'D:5' -> 'D5' (country-group flags are columns)."""
    return group.replace(":", "")


def is_group(token: str) -> bool:
    return ":" in token


@cache
def item_flag(prefix: str) -> str:
    """Column of the item lookup table that says the item's ECCN starts with `prefix`."""
    return "it_" + "".join(ch if ch.isalnum() else "_" for ch in prefix)


def item_prefixes(w: When) -> set[str]:
    """Every ECCN prefix a `When` (and its alternatives) tests."""
    out = {p for p in w.item if p != "any"}
    for sub in w.any:
        out |= item_prefixes(sub)
    return out


@cache
def _columns(prefixes: tuple[str, ...], token: str) -> tuple[tuple[str, ...], str | None]:
    """The columns a group token or a country code is read from (names built once, not per line)."""
    if is_group(token):
        return tuple(f"{p}_{col_name(token)}" for p in prefixes), None
    return tuple(f"{p}_as" for p in prefixes), token


def _in(row: dict, prefixes: tuple[str, ...], token: str) -> bool:
    cols, code = _columns(prefixes, token)
    if code is None:
        return any(bool(row.get(c)) for c in cols)
    return any(row.get(c) == code for c in cols)


def group_ok(row: dict, prefixes: tuple[str, ...], test: GroupTest) -> bool:
    cond = True
    if test.any_of:
        cond = any(_in(row, prefixes, token) for token in test.any_of)
    for token in test.none_of:
        cond = cond and not _in(row, prefixes, token)
    for code in test.named:  # named in the text: in, whatever the group exclusion says
        cond = cond or _in(row, prefixes, code)
    return cond


def _below(value: Decimal | None, bound: Decimal) -> bool:
    return value is not None and value < bound.quantize(SIX)


def when_ok(row: dict, w: When) -> bool:
    """Does the line meet every condition of `w` (as `compile.when_expr` on the same columns)."""
    if w.item and "any" not in w.item and not any(row[item_flag(p)] for p in w.item):
        return False
    if w.destination and not group_ok(row, ("dest",), w.destination):
        return False
    if w.destination_outside and group_ok(row, ("dest",), w.destination_outside):
        return False
    if w.headquartered and not group_ok(row, HQ, w.headquartered):
        return False
    if w.end_user_headquartered and not group_ok(row, ("eu",), w.end_user_headquartered):
        return False
    if w.headquartered_tier:  # every HQ given is in one of the tiers
        for p, column in zip(HQ, HQ_COLUMNS, strict=True):
            if row[f"{p}_tier"] not in w.headquartered_tier and row[column] is not None:
                return False
    if w.ship_from and not group_ok(row, ("from",), w.ship_from):
        return False
    if w.ship_from_given is not None and (row["ship_from"] is not None) != w.ship_from_given:
        return False
    if w.end_use and row["end_use"] not in w.end_use:
        return False
    if w.datacenter is not None and row["datacenter"] != w.datacenter:
        return False
    if w.tpp_below is not None and not _below(row["tpp"], w.tpp_below):
        return False
    if w.dram_bandwidth_below is not None and not _below(row["dram_bandwidth"], w.dram_bandwidth_below):
        return False
    if w.on_ccl is not None and (row["eccn"] is None or (row["eccn"] not in ("", "EAR99")) != w.on_ccl):
        return False
    if w.listed_party is not None and row["party_listed"] != w.listed_party:
        return False
    if w.affiliate_party is not None and row["party_affiliate"] != w.affiliate_party:
        return False
    if w.tier and row["dest_tier"] not in w.tier:
        return False
    return not w.any or any(when_ok(row, sub) for sub in w.any)
