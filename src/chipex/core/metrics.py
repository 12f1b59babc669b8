"""Metrics defined by the Technical Notes to ECCN 3A090, computed exactly (fractions, no floats).

Pure functions of catalog figures; each names the note it implements.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction

from chipex.catalog.model import BIT_LENGTH

Number = Fraction | Decimal | int


def tpp(
    dense_tops: Mapping[str, Number | None], bits: Mapping[str, int] = BIT_LENGTH
) -> tuple[Fraction, str] | None:
    """Total processing performance and the precision that sets it.

    TN 1: TPP = 2 x MacTOPS x bit length; a datasheet's dense TOPS/TFLOPS already is 2 x MacTOPS
    (TN 1.b). TN 2: with several bit lengths, the highest TPP counts (an FP6 rate can set it).
    TN 3: dense, not sparse, figures. Ties go to the wider precision (the conventional FP16 reading).
    `bits` is the bit length per precision (chipex's reading by default; another reading can be tested).
    """
    best: tuple[Fraction, str] | None = None
    for precision, tops in dense_tops.items():
        if tops is None:
            continue
        value = Fraction(tops) * bits[precision]
        if best is None or value > best[0]:
            best = (value, precision)
    return best


def aggregate_tpp(units: list[Fraction]) -> Fraction:
    """TN 1.d: aggregate the TPPs of every processing unit on the IC (TPP1 + ... + TPPn)."""
    return sum(units, Fraction(0))


def performance_density(tpp_value: Fraction, applicable_die_area_mm2: Number) -> Fraction:
    """TN 4: TPP divided by applicable die area (mm2 of logic dies on non-planar nodes)."""
    area = Fraction(applicable_die_area_mm2)
    if area <= 0:
        raise ValueError("applicable die area must be positive")
    return tpp_value / area


def memory_bandwidth_density(bandwidth_gbps: Number, package_area_mm2: Number) -> Fraction:
    """Technical Note to 3A090.c: memory bandwidth (GB/s) divided by package or stack area (mm2)."""
    area = Fraction(package_area_mm2)
    if area <= 0:
        raise ValueError("package area must be positive")
    return Fraction(bandwidth_gbps) / area


def h100_equivalents(tpp_value: Fraction, h100_tpp: Fraction) -> Fraction:
    """H100-equivalents on a TPP basis (the basis of the AI Diffusion allocations)."""
    return tpp_value / h100_tpp


def as_float(x: Fraction | None, digits: int = 4) -> float | None:
    """For display and JSON only: comparisons are always made on the exact values."""
    return None if x is None else round(float(x), digits)
