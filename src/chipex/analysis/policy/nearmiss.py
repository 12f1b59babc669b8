"""Designed to the line: how far each chip sits below the lines that would control it.

A *line* is one bound of one prong (a paragraph's or a Note's). For each bound above a chip's
figure, chipex raises that one figure to the bound and classifies the changed chip with the same
classifier: if it lands in a stricter paragraph, the bound is a line the chip sits under, and the
margin is reported as a ratio and an absolute gap. Raising TPP keeps the die area (so performance
density rises with it, as more compute on the same silicon would); raising performance density
keeps TPP (a smaller die). Chips whose controlled sibling sits across a line (A800/A100,
H800/H100) are reported with the capability they keep.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext
from fractions import Fraction
from typing import Any

from chipex.catalog import Catalog
from chipex.catalog.model import BIT_LENGTH, Chip, Figure
from chipex.core.classify import Measures, classify, measure
from chipex.core.metrics import as_float
from chipex.rules import Rulebook
from chipex.rules.model import EccnText, Prong

from .common import ECCN, ics, on_market, released, strictness

RAISABLE = ("tpp", "performance_density", "interconnect_gbps", "memory_bandwidth_gbps")
KEPT = ("tpp", "memory_bandwidth_gbps", "interconnect_gbps", "memory_gb")
_TINY = Fraction(1, 10**9)  # crossing a strict bound: the smallest step above it


@dataclass
class Line:
    metric: str
    bound: float
    wording: str
    rule: str  # paragraph or note the bound belongs to
    value: float
    ratio: float  # value / bound
    gap: float  # bound - value
    would_be: str  # the paragraph the chip would fall under across this line
    within_margin: bool


@dataclass
class NearMiss:
    chip: str
    chip_id: str
    datacenter: bool | None
    released: str | None
    text: str
    as_of: str
    eccn: str | None
    flagged: bool  # within the margin under at least one line
    lines: list[Line]
    sibling: str | None = None
    sibling_eccn: str | None = None
    kept: dict[str, float | None] = field(default_factory=dict)  # chip / sibling, per figure

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _dec(x: Fraction, rounding: str) -> Decimal:
    with localcontext() as ctx:
        ctx.prec, ctx.rounding = 40, rounding
        return Decimal(x.numerator) / Decimal(x.denominator)


def _fig(v: Decimal) -> Figure:
    return Figure(value=v, source="chipex counterfactual (near-miss line test)", confidence="estimate")


def with_figure(chip: Chip, m: Measures, metric: str, value: Fraction) -> Chip:
    """The chip with one tested figure set to `value` (rounded so the figure reaches it)."""
    if metric == "tpp":
        assert m.tpp_precision is not None
        tops = {
            **chip.dense_tops,
            m.tpp_precision: _fig(_dec(value / BIT_LENGTH[m.tpp_precision], ROUND_CEILING)),
        }
        return chip.model_copy(update={"dense_tops": tops})
    if metric == "performance_density":
        assert m.tpp is not None
        return chip.model_copy(update={"die_area_mm2": _fig(_dec(m.tpp / value, ROUND_FLOOR))})
    return chip.model_copy(update={metric: _fig(_dec(value, ROUND_CEILING))})


def _crossings(prong: Prong, v: Fraction) -> list[tuple[Fraction, Fraction]]:
    """(bound, value that reaches across it) for each bound above `v`."""
    out = []
    for key, b in prong.bounds().items():
        if key in ("at_least", "less_than") and v < b:
            out.append((b, b))
        elif key in ("more_than", "at_most") and v <= b:
            out.append((b, b + b * _TINY))
    return out


def lines_under(
    chip: Chip, text: EccnText, on: dt.date, *, catalog: Catalog, rulebook: Rulebook, margin: Fraction
) -> tuple[str | None, list[Line]]:
    """The chip's paragraph on `on` and every line whose crossing would make it stricter."""
    m = measure(chip)
    base = classify(chip, on, catalog=catalog, rulebook=rulebook).eccn
    order = [p.id for p in text.paragraphs]
    rules = [(p.id, p.all) for p in text.paragraphs] + [(n.id, n.all) for n in text.notes]
    seen: set[tuple[str, Fraction]] = set()
    out = []
    for rule_id, prongs in rules:
        for prong in prongs:
            v = m.value(prong.metric)
            if prong.metric not in RAISABLE or v is None or not isinstance(v, Fraction):
                continue
            for bound, target in _crossings(prong, v):
                if (prong.metric, bound) in seen:
                    continue
                seen.add((prong.metric, bound))
                after = classify(
                    with_figure(chip, m, prong.metric, target), on, catalog=catalog, rulebook=rulebook
                )
                if strictness(after.eccn, order) <= strictness(base, order):
                    continue
                out.append(
                    Line(
                        metric=prong.metric,
                        bound=float(bound),
                        wording=prong.describe(),
                        rule=rule_id,
                        value=float(v),
                        ratio=round(float(v / bound), 4),
                        gap=round(float(bound - v), 4),
                        would_be=after.eccn or "-",
                        within_margin=v >= bound * (1 - margin),
                    )
                )
    out.sort(key=lambda ln: -ln.ratio)
    return base, out


def _kept(chip: Chip, sib: Chip) -> dict[str, float | None]:
    a, b = measure(chip), measure(sib)
    out: dict[str, float | None] = {}
    for k in KEPT:
        if k == "memory_gb":
            x = (
                Fraction(chip.memory_gb.value)
                if chip.memory_gb and chip.memory_gb.value is not None
                else None
            )
            y = Fraction(sib.memory_gb.value) if sib.memory_gb and sib.memory_gb.value is not None else None
        else:
            x, y = a.value(k), b.value(k)
        out[k] = as_float(x / y) if isinstance(x, Fraction) and isinstance(y, Fraction) and y else None
    return out


def assess(
    chip: Chip, text: EccnText, on: dt.date, *, catalog: Catalog, rulebook: Rulebook, margin: Fraction
) -> NearMiss | None:
    """The chip's near-miss record under `text`, or None when it is neither near a line nor a cut-down
    variant of a more strictly controlled sibling."""
    eccn, lines = lines_under(chip, text, on, catalog=catalog, rulebook=rulebook, margin=margin)
    sib = catalog.find(chip.sibling) if chip.sibling else None
    sib_eccn = classify(sib, on, catalog=catalog, rulebook=rulebook).eccn if sib else None
    order = [p.id for p in text.paragraphs]
    cut_down = sib is not None and strictness(sib_eccn, order) > strictness(eccn, order)
    flagged = any(ln.within_margin for ln in lines)
    if not (flagged or (cut_down and lines)):
        return None
    r = released(chip)
    return NearMiss(
        chip=chip.name,
        chip_id=chip.id,
        datacenter=chip.datacenter.value,
        released=r.isoformat() if r else None,
        text=text.id,
        as_of=on.isoformat(),
        eccn=eccn,
        flagged=flagged,
        lines=lines,
        sibling=sib.id if sib else None,
        sibling_eccn=sib_eccn,
        kept=_kept(chip, sib) if sib else {},
    )


def near_misses(
    on: dt.date, *, catalog: Catalog, rulebook: Rulebook, margin: Fraction = Fraction(1, 10)
) -> list[NearMiss]:
    """Chips on the market on `on` that sit under a line of the 3A090 text then in force."""
    text = rulebook.eccns[ECCN].in_force(on)
    if text is None:
        return []
    found = [
        assess(c, text, on, catalog=catalog, rulebook=rulebook, margin=margin)
        for c in ics(catalog)
        if on_market(c, on)
    ]
    return sorted((n for n in found if n), key=lambda n: (-max(ln.ratio for ln in n.lines), n.chip_id))


def near_miss_history(
    *, catalog: Catalog, rulebook: Rulebook, margin: Fraction = Fraction(1, 10)
) -> list[NearMiss]:
    """Each chip under the text in force at its release and under every later text."""
    texts = rulebook.eccns[ECCN].texts
    out = []
    for i, text in enumerate(texts):
        end = texts[i + 1].effective if i + 1 < len(texts) else None
        for chip in ics(catalog):
            r = released(chip)
            if end is not None and r is not None and r >= end:
                continue
            on = max(text.effective, r) if r else text.effective
            n = assess(chip, text, on, catalog=catalog, rulebook=rulebook, margin=margin)
            if n:
                out.append(n)
    return out
