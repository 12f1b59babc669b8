"""The item's place on the Commerce Control List when 3A090/4A090 is not the whole answer.

An accelerator below the 3A090 lines is still on the CCL (15 CFR 774 Supp. 1): 3A991.p for ICs of
8 TOPS or more (or 150 GB/s of I/O), 3A991.a.1 before that paragraph existed, 4A994 for computers,
a vendor's own entry such as 5A992.c (mass-market encryption); and an item described elsewhere that
meets 3A090 parameters takes the matching `.z` paragraph (e.g. 5A992.z.1). The embargoes of part 746
reach every CCL item, so the answer is never "none": it is an entry, or EAR99, with its confidence.
Rule data: `chipex/rules/ccl.yaml`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from chipex.catalog.model import Chip
from chipex.datafiles import read_yaml, validate
from chipex.rules import RULES_DIR
from chipex.rules.model import RuleConfidence

CclMetric = Literal["tops", "gflops_32bit", "interconnect_gbps"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Strict):
    metric: CclMetric
    at_least: Decimal
    text: str


class Entry(_Strict):
    id: str
    item: Literal["chip", "system"]
    effective: dt.date | None = Field(description="null: in the CCL before every rule chipex models")
    effective_citation: str
    effective_confidence: RuleConfidence
    citation: str
    confidence: RuleConfidence
    text: str
    reading: str | None = None
    any: list[Condition] = []
    contains: str | None = Field(None, description="systems: an IC inside is classified in this entry")
    fallback: bool = False

    def in_force(self, on: dt.date) -> bool:
        return self.effective is None or self.effective <= on


class ZParagraphs(_Strict):
    effective: dt.date
    citation: str
    confidence: RuleConfidence
    map: dict[str, dict[Literal["a", "b"], str]]


class CclData(_Strict):
    entries: list[Entry]
    z_paragraphs: ZParagraphs


@cache
def ccl_data() -> CclData:
    path = RULES_DIR / "ccl.yaml"
    return validate(CclData, read_yaml(path), file=path)


@dataclass(frozen=True)
class CclAnswer:
    """The ECCN the item has on the CCL on a date, how sure chipex is, and why."""

    eccn: str
    confidence: str  # derived (the CCL text applied to catalog figures) | published | secondary | estimate
    basis: str
    citation: str


def _tops(chip: Chip) -> Fraction | None:
    """3A991.p Note 3: 2 x MacTOPS over all units; the highest dense rate at any precision."""
    rates = [Fraction(f.value) for f in chip.dense_tops.values() if f.value is not None]
    return max(rates) if rates else None


def _gflops_32bit(chip: Chip) -> Fraction | None:
    figs = [chip.dense_tops.get(p) for p in ("fp32", "fp64")]
    rates = [Fraction(f.value) * 1000 for f in figs if f is not None and f.value is not None]
    return max(rates) if rates else None


def _value(chip: Chip, metric: str) -> Fraction | None:
    if metric == "tops":
        return _tops(chip)
    if metric == "gflops_32bit":
        return _gflops_32bit(chip)
    f = chip.interconnect_gbps
    return None if f is None or f.value is None else Fraction(f.value)


def _test(entry: Entry, chip: Chip) -> tuple[bool | None, str]:
    """Any-of over the entry's conditions: (met, what was compared)."""
    results, parts = [], []
    for cond in entry.any:
        v = _value(chip, cond.metric)
        if v is None:
            results.append(None)
            parts.append(f"{cond.metric} unknown")
            continue
        ok = v >= Fraction(cond.at_least)
        results.append(ok)
        parts.append(f"{cond.text}: {cond.metric} {float(v):,.6g} {'yes' if ok else 'no'}")
    met = True if any(r is True for r in results) else (None if None in results else False)
    return met, "; ".join(parts)


def _z(sub: str, letter: str, on: dt.date) -> str | None:
    z = ccl_data().z_paragraphs
    if on < z.effective or letter not in ("a", "b"):
        return None
    # the most specific paragraph the item is described in wins (3A001.b.2 before 3A001)
    hits = [k for k in z.map if sub == k or sub.startswith(k + ".")]
    return z.map[max(hits, key=len)].get(letter) if hits else None  # type: ignore[call-overload]


def _estimated(chip: Chip) -> bool:
    figs = [*chip.dense_tops.values(), chip.interconnect_gbps]
    return any(f is not None and f.confidence == "estimate" for f in figs)


def ccl_eccn(
    chip: Chip,
    on: dt.date,
    advanced: str | None,
    contained: list[CclAnswer] | None = None,
    *,
    certain: bool = True,
) -> CclAnswer:
    """The item's ECCN on `on`. `advanced` is its 3A090/4A090 paragraph (or None); `contained` the
    answers for the ICs inside a system; `certain` False when that paragraph is possible, not certain
    (a figure unknown or disputed): the answer is then marked `estimate`."""
    sub = chip.sub_threshold_eccn
    named = sub.value if sub is not None and sub.value else None
    where = f"{sub.source}, {sub.confidence}" if sub is not None else ""
    if advanced:
        letter = advanced.split(".")[1] if "." in advanced else ""
        z = _z(named, letter, on) if named else None
        if z:
            zp = ccl_data().z_paragraphs
            return CclAnswer(
                z,
                sub.confidence if sub else "derived",
                f"described in {named} ({where}) and meets the {advanced} parameters: the .z paragraph "
                f"applies from {zp.effective} (its licence requirements are those of {advanced})",
                f"15 CFR 774 Supp. 1, ECCN {z}; {zp.citation}",
            )
        return CclAnswer(
            advanced,
            "derived" if certain else "estimate",
            f"meets {advanced} (see the reasons above)"
            if certain
            else f"{advanced} on the stricter reading (see depends_on)",
            f"15 CFR 774 Supp. 1, ECCN {advanced}",
        )
    entries = [e for e in ccl_data().entries if e.item == ("system" if chip.kind == "system" else "chip")]
    if named:
        entry = next((e for e in entries if e.id == named), None)
        if entry is None or entry.in_force(on):
            return CclAnswer(
                named,
                sub.confidence,  # type: ignore[union-attr]
                f"the catalog's classification ({where})" + (f": {sub.note}" if sub and sub.note else ""),
                f"15 CFR 774 Supp. 1, ECCN {named}",
            )
    if chip.kind == "memory":
        return CclAnswer(
            "EAR99",
            "estimate",
            "memory below the 3A090.c line: the 2026-07-23 CCL text lists EEPROM and SRAM (3A991.b) but "
            "not DRAM stacks; chipex found no entry describing it, so EAR99 (confirm with the vendor)",
            "15 CFR 734.3(c) (EAR99); 15 CFR 774 Supp. 1, ECCN 3A991.b",
        )
    if chip.kind == "system":
        for e in entries:
            if not e.in_force(on):
                continue
            if e.contains and contained and any(c.eccn == e.contains for c in contained):
                conf = "estimate" if any(c.confidence == "estimate" for c in contained) else "derived"
                return CclAnswer(e.id, conf, f"{e.id}: contains an IC classified {e.contains}", e.citation)
            if e.fallback:
                return CclAnswer(
                    e.id, "estimate", f"{e.id}: APP of 0.0128 WT or more ({e.reading})", e.citation
                )
        return CclAnswer("EAR99", "estimate", "no computer entry found", "15 CFR 734.3(c)")
    unknown = []
    for e in entries:
        if not e.in_force(on):
            continue
        met, detail = _test(e, chip)
        if met:
            conf = "estimate" if e.reading or _estimated(chip) else "derived"
            reading = f" ({e.reading})" if e.reading else ""
            caveat = (
                "; unless the vendor classifies it under an entry earlier in the order of review "
                "(e.g. 5A992.c mass-market encryption), AT-only as well"
            )
            return CclAnswer(e.id, conf, f"{e.id} met ({detail}){reading}{caveat}", e.citation)
        if met is None:
            unknown.append(f"{e.id} ({detail})")
    if unknown:
        first = next(e for e in entries if e.in_force(on) and unknown[0].startswith(e.id))
        return CclAnswer(
            first.id,
            "estimate",
            f"figures missing to test {', '.join(unknown)}; an accelerator almost always meets them",
            first.citation,
        )
    return CclAnswer(
        "EAR99",
        "derived",
        "below 3A991.p and 3A991.a.1 as tested on the catalog figures; no other entry found",
        "15 CFR 734.3(c)",
    )
