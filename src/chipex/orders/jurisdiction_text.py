"""The jurisdiction answers' wording (15 CFR 734.3, 734.4, 734.9), written once: the book's Ibis
expression (orders/jurisdiction.py) and one order in Python (orders/single.py) fill the same
templates, so the two paths cannot drift apart in their words."""

from __future__ import annotations

NOT_SUBJECT = "not subject"
FOREIGN = "foreign-made in {made}"
PCT_LEVEL = "controlled US content {pct}% <= {level}%"

TEXTS = {
    "in_us_made_unknown": "in the United States ({in_us}); made_in not given",
    "assumed_us_origin": "assumed US-origin ({us_origin}): made_in not given",
    "us_origin": "US-origin ({us_origin})",
    "in_us_foreign": "in the United States ({in_us}): {foreign}",
    "fdp": "{foreign}: {paragraph} FDP ({id}; US-origin technology, software or tools presumed)",
    "entity_list_fdp": "{foreign}: {paragraph} Entity List FDP (a listed party; check the entry's footnote 1, 4 or 5)",
    "de_minimis_exceeded": "{foreign}: de minimis exceeded: controlled US content {pct}% > {level}% ({level_par})",
    "pct_unknown": "assumed subject: {foreign}, outside 734.9(h); us_content_pct not given (de minimis, 15 CFR 734.4, not assessed)",
    "ship_unknown": "assumed subject: ship_from not given (an item in the United States is subject, 15 CFR 734.3(a)(1)); "
    f"shipped from abroad it is not: {{foreign}}, outside 734.9(h), {PCT_LEVEL}",
    "not_subject": f"{NOT_SUBJECT}: {{foreign}}, shipped from {{ship}}, outside 734.9(h), {PCT_LEVEL} ({{level_par}})",
}
