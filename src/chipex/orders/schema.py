"""The order-line schema: what a user writes, and what chipex reads.

The minimal hand-written CSV has `date,item,quantity,destination`; the optional columns are
`end_user,end_user_hq,parent_hq,consignee,end_use,ship_from,exporter`. Countries are ISO 3166
codes or names ("China", "Hong Kong"); dates are YYYY-MM-DD; items are catalog chip names, a
system "8x H100", or chips from a user catalog file.
"""

from __future__ import annotations

import re

REQUIRED = ("date", "item", "quantity", "destination")
OPTIONAL = ("end_user", "end_user_hq", "parent_hq", "consignee", "end_use", "ship_from", "exporter")
COUNTRY_FIELDS = ("destination", "end_user_hq", "parent_hq", "ship_from")

# Declared end-use categories; free text is kept and mapped by keywords (first match wins).
END_USES = ("datacenter", "supercomputer", "advanced-node fab", "model training", "other")
_END_USE_WORDS = [
    ("supercomputer", re.compile(r"super ?comput|hpc cluster|exascale")),
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
