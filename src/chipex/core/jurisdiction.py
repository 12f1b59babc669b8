"""Is the item subject to the EAR (rules/jurisdiction.yaml)? One Ibis expression per order line.

The answer is a `jurisdiction` text that names its basis ("US-origin (15 CFR 734.3(a)(2))",
"15 CFR 734.9(h) FDP ...", "de minimis ...", "not subject: ..."); a line that is not subject needs
no EAR licence. Unknown facts never give "not subject": they give "assumed subject", saying why.
"""

from __future__ import annotations

import ibis
from ibis.expr.types import BooleanValue, StringValue, Table

from chipex.orders.compile import group_test, periods_in, when_expr
from chipex.rules import Rulebook

NOT_SUBJECT = "not subject"


def _pct(v) -> StringValue:
    return v.cast("decimal(9, 2)").cast("string")


def jurisdiction_expr(t: Table, rb: Rulebook, periods) -> StringValue:
    """The jurisdiction text of every line (made_in, us_content_pct, ship_from, destination, HQ,
    party and the item's ECCN flags must be columns of `t`)."""
    j = rb.jurisdiction
    made, ship = t.made_in, t.ship_from
    foreign = ibis.literal("foreign-made in ").concat(made)
    level = ibis.cases(
        *[(group_test(t, ("dest",), d.destination), d.percent) for d in j.de_minimis if d.destination],
        else_=next(d.percent for d in j.de_minimis if d.destination is None),
    )
    level_par = ibis.cases(
        *[(group_test(t, ("dest",), d.destination), d.paragraph) for d in j.de_minimis if d.destination],
        else_=next(d.paragraph for d in j.de_minimis if d.destination is None),
    )
    branches: list[tuple[BooleanValue, StringValue | str]] = [
        (made.isnull() & (ship == "US"), f"in the United States ({j.in_us.paragraph}); made_in not given"),
        (made.isnull(), f"assumed US-origin ({j.us_origin.paragraph}): made_in not given"),
        (made == "US", f"US-origin ({j.us_origin.paragraph})"),
        (ship == "US", ibis.literal(f"in the United States ({j.in_us.paragraph}): ").concat(foreign)),
    ]
    for f in j.fdp:
        hit = periods_in(t, periods.where(lambda s, f=f: f.in_force(s))) & when_expr(t, f.when)
        branches.append(
            (
                hit,
                foreign.concat(
                    f": {f.paragraph} FDP ({f.id}; US-origin technology, software or tools presumed)"
                ),
            )
        )
    branches += [
        (
            t.party_listed.fill_null(False),
            foreign.concat(
                f": {j.entity_list_fdp.paragraph} Entity List FDP (a listed party; check the entry's footnote 1, 4 or 5)"
            ),
        ),
        (
            t.us_content_pct > level,
            foreign.concat(
                ": de minimis exceeded: controlled US content ",
                _pct(t.us_content_pct),
                "% > ",
                level.cast("string"),
                "% (",
                level_par,
                ")",
            ),
        ),
        (
            t.us_content_pct.isnull(),
            ibis.literal("assumed subject: ").concat(
                foreign,
                ", outside 734.9(h); us_content_pct not given (de minimis, 15 CFR 734.4, not assessed)",
            ),
        ),
        (
            ship.isnull(),
            ibis.literal(
                "assumed subject: ship_from not given (an item in the United States is subject, 15 CFR 734.3(a)(1)); shipped from abroad it is not: "
            ).concat(
                foreign,
                ", outside 734.9(h), controlled US content ",
                _pct(t.us_content_pct),
                "% <= ",
                level.cast("string"),
                "%",
            ),
        ),
    ]
    not_subject = ibis.literal(f"{NOT_SUBJECT}: ").concat(
        foreign,
        ", shipped from ",
        ship,
        ", outside 734.9(h), controlled US content ",
        _pct(t.us_content_pct),
        "% <= ",
        level.cast("string"),
        "% (",
        level_par,
        ")",
    )
    return ibis.cases(*branches, else_=not_subject)


def is_subject(jurisdiction: StringValue) -> BooleanValue:
    return ~jurisdiction.startswith(NOT_SUBJECT)
