"""Compile the licensing rule data (rules/licensing.yaml) into Ibis expressions.

This is the one implementation of the licence rules: the same expression evaluates a single
order (a one-row table) and a whole order book, on DuckDB, Polars or Spark. Each `When` key maps
to one column test on the enriched order table built in `tables.py`.
"""

from __future__ import annotations

import ibis
from ibis.expr.types import BooleanValue, Table

from chipex.orders.predicate import HQ, HQ_COLUMNS, col_name, is_group, item_flag, item_prefixes
from chipex.rules.model import GroupTest, When

__all__ = [
    "HQ",
    "HQ_COLUMNS",
    "col_name",
    "group_test",
    "is_group",
    "item_flag",
    "item_prefixes",
    "when_expr",
]

TRUE = ibis.literal(True)
DECIMAL = "decimal(20, 6)"  # the lookup tables' exact TPP and bandwidth type


def _in(t: Table, prefixes: tuple[str, ...], token: str) -> BooleanValue:
    """Is the country (any of the prefixed ones: end user's or parent's HQ) in a group or a code?"""
    if is_group(token):
        tests = [t[f"{p}_{col_name(token)}"] for p in prefixes]
    else:  # codes compare as the rules see them: Hong Kong counts as China
        tests = [t[f"{p}_as"] == token for p in prefixes]
    out = tests[0].fill_null(False)
    for test in tests[1:]:
        out = out | test.fill_null(False)
    return out


def group_test(t: Table, prefixes: tuple[str, ...], test: GroupTest) -> BooleanValue:
    cond: BooleanValue = TRUE
    if test.any_of:
        anyc = _in(t, prefixes, test.any_of[0])
        for token in test.any_of[1:]:
            anyc = anyc | _in(t, prefixes, token)
        cond = cond & anyc
    for token in test.none_of:
        cond = cond & ~_in(t, prefixes, token)
    for code in test.named:  # named in the text: in, whatever the group exclusion says
        cond = cond | _in(t, prefixes, code)
    return cond


def item_test(t: Table, prefixes: list[str]) -> BooleanValue:
    # ECCN prefixes are tested once per (item, period) in the lookup table, not per line.
    if "any" in prefixes:
        return TRUE  # "ccl" (any item on the CCL, not EAR99) is a flag like a prefix: tables.py
    out = t[item_flag(prefixes[0])]
    for p in prefixes[1:]:
        out = out | t[item_flag(p)]
    return out


def when_expr(t: Table, w: When) -> BooleanValue:
    cond: BooleanValue = TRUE
    if w.item:
        cond = cond & item_test(t, w.item)
    if w.destination:
        cond = cond & group_test(t, ("dest",), w.destination)
    if w.destination_outside:
        cond = cond & ~group_test(t, ("dest",), w.destination_outside)
    if w.headquartered:
        cond = cond & group_test(t, HQ, w.headquartered)
    if w.end_user_headquartered:
        cond = cond & group_test(t, ("eu",), w.end_user_headquartered)
    if w.headquartered_tier:  # every HQ given is in one of the tiers (an HQ not given: see explain)
        for p, column in zip(HQ, HQ_COLUMNS, strict=True):
            tier_ok = t[f"{p}_tier"].isin(w.headquartered_tier).fill_null(False)
            cond = cond & (tier_ok | t[column].isnull())
    if w.ship_from:
        cond = cond & group_test(t, ("from",), w.ship_from)
    if w.ship_from_given is not None:
        cond = cond & (t.ship_from.notnull() == w.ship_from_given)
    if w.end_use:
        cond = cond & t.end_use.isin(w.end_use).fill_null(False)
    if w.datacenter is not None:
        cond = cond & (t.datacenter == w.datacenter).fill_null(False)
    if w.tpp_below is not None:  # exact: decimal columns against decimal literals
        cond = cond & (t.tpp < ibis.literal(w.tpp_below, type=DECIMAL)).fill_null(False)
    if w.dram_bandwidth_below is not None:
        cond = cond & (t.dram_bandwidth < ibis.literal(w.dram_bandwidth_below, type=DECIMAL)).fill_null(False)
    if w.on_ccl is not None:
        cond = cond & (t.eccn.notin(["", "EAR99"]) == w.on_ccl).fill_null(False)
    if w.listed_party is not None:
        cond = cond & (t.party_listed == w.listed_party).fill_null(False)
    if w.affiliate_party is not None:
        cond = cond & (t.party_affiliate == w.affiliate_party).fill_null(False)
    if w.tier:
        cond = cond & t.dest_tier.isin(w.tier).fill_null(False)
    if w.any:
        alt = when_expr(t, w.any[0])
        for sub in w.any[1:]:
            alt = alt | when_expr(t, sub)
        cond = cond & alt
    return cond


def periods_in(t: Table, periods: list[int]) -> BooleanValue:
    """period in the list, written as ranges (engines turn long IN lists into joins)."""
    if not periods:
        return ibis.literal(False)
    runs: list[list[int]] = []
    for k in sorted(periods):
        if runs and k == runs[-1][1] + 1:
            runs[-1][1] = k
        else:
            runs.append([k, k])
    out = None
    for lo, hi in runs:
        test = t.period == lo if lo == hi else t.period.between(lo, hi)
        out = test if out is None else out | test
    return out
