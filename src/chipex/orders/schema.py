"""The order-line schema: what a user writes, and what chipex reads.

The minimal hand-written CSV has `date,item,quantity,destination`; the optional columns are
`end_user,end_user_hq,parent_hq,consignee,end_use,ship_from,exporter`. Countries are ISO 3166
codes or names ("China", "Hong Kong"); dates are YYYY-MM-DD; items are catalog chip names, a
system "8x H100", or chips from a user catalog file.

Diversion red flags (rules/red_flags.yaml) read further optional columns, all of which may be left
empty (an unknown value is never a flag by itself): `consignee_type` (end-user, distributor,
reseller, freight-forwarder, unknown), `payer_country` (a country), `payer_name`,
`end_user_business` (free text, e.g. cloud, research, trading, logistics), `end_user_established`
(a date), `unit_price_usd` (price of one ordered item, a system counting as one), `declared_description`
(the goods' description on the invoice or export filing), `delivery_address`, `payment_terms`
(e.g. cash, letter of credit, open account; compared lower-cased).

Jurisdiction (is the item subject to the EAR at all: rules/jurisdiction.yaml) reads `made_in` (the
country of manufacture; not given: US-origin is assumed, and the answer says so), `us_content_pct`
(controlled US-origin content, percent of the item's value, 0-100, for de minimis, 15 CFR 734.4)
and `exporter_role` (foundry, OSAT or other: the foundry due-diligence presumption, Note 1 to 3A090.a).
"""

from __future__ import annotations

import re

REQUIRED = ("date", "item", "quantity", "destination")
RED_FLAG_FIELDS = (
    "consignee_type",
    "payer_country",
    "payer_name",
    "end_user_business",
    "end_user_established",
    "unit_price_usd",
    "declared_description",
    "delivery_address",
    "payment_terms",
)
JURISDICTION_FIELDS = ("made_in", "us_content_pct", "exporter_role")
OPTIONAL = (
    "end_user",
    "end_user_hq",
    "parent_hq",
    "consignee",
    "end_use",
    "ship_from",
    "exporter",
    *RED_FLAG_FIELDS,
    *JURISDICTION_FIELDS,
)
COUNTRY_FIELDS = ("destination", "end_user_hq", "parent_hq", "ship_from", "payer_country", "made_in")
CONSIGNEE_TYPES = ("end-user", "distributor", "reseller", "freight-forwarder", "unknown")
EXPORTER_ROLES = ("foundry", "osat", "other")  # read lower-cased: "OSAT" is osat
# Typed optional columns (the rest are text): how each is validated and what it becomes.
FIELD_TYPES = {
    "end_user_established": "date",
    "unit_price_usd": "usd",
    "consignee_type": CONSIGNEE_TYPES,
    "us_content_pct": "pct",
    "exporter_role": EXPORTER_ROLES,
}

# Declared end-use categories; free text is kept and mapped by keywords (first match wins).
END_USES = ("datacenter", "supercomputer", "advanced-node fab", "sme production", "model training", "other")
_END_USE_WORDS = [
    ("supercomputer", re.compile(r"super ?comput|hpc cluster|exascale")),
    # 744.23(a)(4): development or production of semiconductor manufacturing equipment
    (
        "sme production",
        re.compile(r"\bsme\b|(semiconductor|wafer|fab) (manufacturing |production )?(equipment|tools?)"),
    ),
    (
        "advanced-node fab",
        re.compile(r"\bfab\b|foundry|wafer|semiconductor (manufactur|produc)|advanced.node"),
    ),
    ("model training", re.compile(r"train")),
    ("datacenter", re.compile(r"data ?cent|cloud|colocation|server farm")),
]

SYSTEM = re.compile(r"^\s*(\d+)\s*[x×*]\s*(.+)$", re.IGNORECASE)


def end_use_category(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    t = text.strip().lower()
    if t in END_USES:
        return t
    for category, pattern in _END_USE_WORDS:
        if pattern.search(t):
            return category
    return "other"


# the columns of a checked line: a book's output and `decide_order`'s result
RESULT_COLUMNS = [
    "line",
    "date",
    "item",
    "item_id",
    "quantity",
    "destination",
    "end_user",
    "end_user_hq",
    "parent_hq",
    "consignee",
    "end_use",
    "ship_from",
    "exporter",
    "eccn",
    "eccn_confidence",
    "license_required",
    "license_required_otherwise",
    "reasons",
    "exceptions",
    "policy",
    "policy_rule",
    "depends_on",
    "checked",
    "not_checked",
    "party_entries",
    "list_snapshot",
    "tpp_total",
    "red_flags",
    "warnings",
    "jurisdiction",
    "advisories",
]
