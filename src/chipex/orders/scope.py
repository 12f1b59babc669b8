"""The scope of each determination (rules/scope.yaml) as result columns: `checked`, `not_checked`,
and the scope notes a line adds to `depends_on`, each a ';'-joined string like `reasons`.

One expression for one order and a whole book, as the licence rules themselves.
"""

from __future__ import annotations

import ibis
from ibis.expr.types import StringValue, Table

from chipex.orders.compile import when_expr
from chipex.orders.tables import Periods
from chipex.rules import Rulebook


def _given(t: Table, field: str):
    col = t[field]
    return col.notnull() & (col.cast("string").strip() != "")


def _concat(parts: list[StringValue]) -> StringValue:
    if not parts:
        return ibis.literal("")
    return parts[0].concat(*parts[1:]) if len(parts) > 1 else parts[0]


def rule_version_column(t: Table, rb: Rulebook, periods: Periods) -> StringValue:
    """The id of the rule version in force at the start of each line's period."""
    ids = []
    for k, start in enumerate(periods.starts):
        v = rb.version_on(start) if k else None
        ids.append((t.period == k, v.id if v else "none"))
    return ibis.cases(*ids, else_="none")


def scope_columns(t: Table, rb: Rulebook, periods: Periods) -> dict[str, StringValue]:
    """checked / not_checked / scope_depends for every line (needs: t has the order fields,
    `period` and `list_snapshot`)."""
    values = {"rule_version": rule_version_column(t, rb, periods), "list_snapshot": t.list_snapshot}
    checked, not_checked, depends = [], [], []
    for e in rb.scope:
        if e.kind == "not_checked":
            not_checked.append(ibis.literal(f"{e.text};"))
        elif e.kind == "depends_on":
            depends.append(ibis.ifelse(when_expr(t, e.when), f"{e.text};", ""))
        else:
            text = ibis.literal(e.text)
            if e.value:
                shown = values[e.value].fill_null("not given").replace(";", ",")  # ';' joins the list
                text = text.concat(" (", shown, ")")
            if not e.needs:
                checked.append(text.concat(";"))
                continue
            given = _given(t, e.needs[0])
            for field in e.needs[1:]:
                given = given | _given(t, field)
            why = e.not_given or f"no {' or '.join(n.replace('_', ' ') for n in e.needs)} given"
            missing = f"{e.text} ({why});"
            checked.append(ibis.ifelse(given, text.concat(";"), ""))
            not_checked.append(ibis.ifelse(given, "", missing))
    return {
        "checked": _concat(checked),
        "not_checked": _concat(not_checked),
        "scope_depends": _concat(depends),
    }
