"""Is the item subject to the EAR (rules/jurisdiction.yaml)? One Ibis expression per order line.

The answer is a `jurisdiction` text that names its basis ("US-origin (15 CFR 734.3(a)(2))",
"15 CFR 734.9(h) FDP ...", "de minimis ...", "not subject: ..."); a line that is not subject needs
no EAR licence. Unknown facts never give "not subject": they give "assumed subject", saying why.
"""

from __future__ import annotations

from string import Formatter

import ibis
from ibis.expr.types import BooleanValue, StringValue, Table, Value

from chipex.orders.compile import group_test, periods_in, when_expr
from chipex.orders.jurisdiction_text import FOREIGN, NOT_SUBJECT, TEXTS
from chipex.rules import Rulebook


def fill(template: str, **values: Value | str) -> StringValue:
    """A template of jurisdiction_text.py as one CONCAT: literal text, and columns where named."""
    parts: list[StringValue] = []
    text = ""
    for literal, name, _, _ in Formatter().parse(template):
        text += literal
        if name is None:
            continue
        v = values[name]
        if isinstance(v, Value):
            if text:
                parts.append(ibis.literal(text))
            parts.append(v)
            text = ""
        else:
            text += str(v)
    if text or not parts:
        parts.append(ibis.literal(text))
    return parts[0].concat(*parts[1:]) if len(parts) > 1 else parts[0]


def jurisdiction_expr(t: Table, rb: Rulebook, periods) -> StringValue:
    """The jurisdiction text of every line (made_in, us_content_pct, ship_from, destination, HQ,
    party and the item's ECCN flags must be columns of `t`)."""
    j = rb.jurisdiction
    made, ship = t.made_in, t.ship_from
    level = ibis.cases(
        *[(group_test(t, ("dest",), d.destination), d.percent) for d in j.de_minimis if d.destination],
        else_=next(d.percent for d in j.de_minimis if d.destination is None),
    )
    level_par = ibis.cases(
        *[(group_test(t, ("dest",), d.destination), d.paragraph) for d in j.de_minimis if d.destination],
        else_=next(d.paragraph for d in j.de_minimis if d.destination is None),
    )
    v = {"in_us": j.in_us.paragraph, "us_origin": j.us_origin.paragraph, "ship": ship}
    v |= {"foreign": fill(FOREIGN, made=made), "level": level.cast("string"), "level_par": level_par}
    v["pct"] = t.us_content_pct.cast("decimal(9, 2)").cast("string")
    branches: list[tuple[BooleanValue, StringValue]] = [
        (made.isnull() & (ship == "US"), fill(TEXTS["in_us_made_unknown"], **v)),
        (made.isnull(), fill(TEXTS["assumed_us_origin"], **v)),
        (made == "US", fill(TEXTS["us_origin"], **v)),
        (ship == "US", fill(TEXTS["in_us_foreign"], **v)),
    ]
    for f in j.fdp:
        hit = periods_in(t, periods.where(lambda s, f=f: f.in_force(s))) & when_expr(t, f.when)
        branches.append((hit, fill(TEXTS["fdp"], **v, paragraph=f.paragraph, id=f.id)))
    branches += [
        (
            t.party_listed.fill_null(False),
            fill(TEXTS["entity_list_fdp"], **v, paragraph=j.entity_list_fdp.paragraph),
        ),
        (t.us_content_pct > level, fill(TEXTS["de_minimis_exceeded"], **v)),
        (t.us_content_pct.isnull(), fill(TEXTS["pct_unknown"], **v)),
        (ship.isnull(), fill(TEXTS["ship_unknown"], **v)),
    ]
    return ibis.cases(*branches, else_=fill(TEXTS["not_subject"], **v))


def is_subject(jurisdiction: StringValue) -> BooleanValue:
    return ~jurisdiction.startswith(NOT_SUBJECT)
