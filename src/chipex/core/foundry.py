"""The foundry/OSAT transistor-count presumption (Note 1 to 3A090.a, rules/foundry.yaml).

Computed per item and date; an order shows it when its `exporter_role` is foundry or OSAT. Advice,
never a licence decision: it says whether the transistor-count attestation can overcome the
presumption that the IC is a 3A090.a datacenter item.
"""

from __future__ import annotations

import datetime as dt

from chipex.catalog.model import Chip
from chipex.rules.foundry import Foundry


def presumption(f: Foundry, chip: Chip, on: dt.date, eccn: str | None) -> str:
    """What Note 1 to 3A090.a (rules `f`) means for a fabricator or OSAT exporting this IC on this
    date ('' before it)."""
    r = f.rule
    if on < r.effective or chip.kind != "chip":
        return ""
    cite = f"({r.paragraph}; {r.citation}; {r.confidence})"
    head = "foundry/OSAT presumption: if this is an 'applicable advanced logic IC' (16/14 nm or below, or non-planar)"
    if (eccn or "").startswith("3A090.a"):
        return f"{head}, it is presumed 3A090.a and datacenter; chipex classifies it 3A090.a anyway {cite}"
    has_hbm = "hbm" in (chip.memory_type or "").lower()
    level = f.level(on, has_hbm)
    count = chip.transistors_billion.value if chip.transistors_billion else None
    if count is None:
        return (
            f"{head}, presume 3A090.a and datacenter: the transistor count is not known, so only an approved or "
            f"authorized IC designer's attestation (Note 1.a) can overcome it (the count route needs < {level} billion) {cite}"
        )
    if count < level:
        return (
            f"{head}: {count:g} billion transistors < {level} billion, so the fabricator's (packaging outside "
            f"Macau/D:5) or an approved OSAT's attestation of the aggregated approximated transistor count "
            f"overcomes the presumption (Note 1.b/c) {cite}"
        )
    return (
        f"{head}: {count:g} billion transistors >= {level} billion, so the count cannot overcome the presumption: "
        f"treat it as 3A090.a (datacenter) and apply 3A090.a's licence requirements unless an approved or "
        f"authorized IC designer attests otherwise (Note 1.a) {cite}"
    )
