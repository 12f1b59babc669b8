"""How many chips of one kind match a fleet of others, on each basis that can bind.

* training and prefill are compute-bound: count x dense peak x MFU at the precision used;
* decode is memory-bandwidth-bound: count x memory bandwidth (equal bandwidth utilisation assumed);
* holding the same weights and KV cache: count x memory capacity.
Interconnect (NVLink 400 vs 900 GB/s, the H800's cut) is *not* modelled: it decides how well a
large fleet scales, not its peak; both figures are shown so the reader sees the gap.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from chipex.analysis.compute import hardware
from chipex.analysis.compute.figures import as_float, fraction_of_one, positive
from chipex.catalog.model import Chip
from chipex.errors import ChipexError


@dataclass(frozen=True)
class Basis:
    key: str
    label: str
    unit: str
    per_chip: Callable[[Chip], hardware.Sourced]
    compute: bool


def bases(training_precisions: tuple[str, ...], serve_precision: str) -> list[Basis]:
    out = [
        Basis(
            f"training-{p}",
            f"training, {p.upper()} dense peak (compute-bound)",
            "FLOP/s",
            lambda c, p=p: hardware.peak_flops(c, p, "train"),
            True,
        )
        for p in training_precisions
    ]
    out.append(
        Basis(
            f"prefill-{serve_precision}",
            f"prefill, {serve_precision.upper()} dense peak (compute-bound)",
            "FLOP/s",
            lambda c: hardware.peak_flops(c, serve_precision, "serve"),
            True,
        )
    )
    out.append(
        Basis("decode", "decode, memory bandwidth (memory-bound)", "B/s", hardware.memory_bandwidth, False)
    )
    out.append(
        Basis("capacity", "memory capacity (holding weights + KV)", "B", hardware.memory_capacity, False)
    )
    return out


@dataclass(frozen=True)
class Row:
    basis: Basis
    fleet_total: Fraction
    target: hardware.Sourced
    parts: tuple[hardware.Sourced, ...]
    scale: Fraction  # MFU ratio applied to compute rows

    @property
    def count(self) -> Fraction:
        return self.fleet_total / (self.target.value * self.scale)

    def to_dict(self) -> dict[str, Any]:
        notes = [s.note for s in (*self.parts, self.target) if s.substitute]
        return {
            "basis": self.basis.key,
            "label": self.basis.label,
            "unit": self.basis.unit,
            "fleet_total": as_float(self.fleet_total),
            "per_target_chip": self.target.to_dict(),
            "fleet_per_chip": [p.to_dict() for p in self.parts],
            "mfu_ratio_applied": as_float(self.scale) if self.basis.compute else None,
            "equivalent_count": as_float(self.count),
            "equivalent_count_ceil": math.ceil(self.count),
            "notes": notes,
        }


@dataclass(frozen=True)
class Equivalence:
    fleet: tuple[tuple[Chip, Fraction], ...]
    target: Chip
    rows: tuple[Row, ...]
    skipped: tuple[str, ...]
    mfu_from: Fraction
    mfu_to: Fraction

    def to_dict(self) -> dict[str, Any]:
        return {
            "fleet": [{"chip": c.name, "chip_id": c.id, "count": as_float(n)} for c, n in self.fleet],
            "target": {"chip": self.target.name, "chip_id": self.target.id},
            "mfu_from": as_float(self.mfu_from),
            "mfu_to": as_float(self.mfu_to),
            "rows": [r.to_dict() for r in self.rows],
            "skipped": list(self.skipped),
            "interconnect_gbps": {
                c.name: as_float(_interconnect(c)) for c in [*(c for c, _ in self.fleet), self.target]
            },
            "assumptions": assumptions(self.mfu_from, self.mfu_to),
        }


def _interconnect(chip: Chip) -> Fraction | None:
    f = chip.interconnect_gbps
    return None if f is None or f.value is None else Fraction(f.value)


def assumptions(mfu_from: Fraction, mfu_to: Fraction) -> list[str]:
    same = mfu_from == mfu_to
    return [
        "compute rows: equal MFU on both sides"
        if same
        else f"compute rows: MFU {float(mfu_from):g} (fleet) vs {float(mfu_to):g} (target)",
        "decode row: equal fraction of peak memory bandwidth achieved on both sides",
        "interconnect (scale-up/scale-out bandwidth) not modelled; shown for comparison",
        "peaks are dense datasheet figures from the catalog; software maturity is not modelled",
    ]


def equivalence(
    fleet: list[tuple[Chip, Fraction]],
    target: Chip,
    *,
    training_precisions: tuple[str, ...] = ("bf16", "fp8"),
    serve_precision: str = "fp8",
    mfu_from: Fraction = Fraction(1),
    mfu_to: Fraction = Fraction(1),
) -> Equivalence:
    """Target chips matching `fleet` on every basis both sides have figures for (others skipped)."""
    if not fleet:
        raise ChipexError("the fleet is empty", field="from")
    for _, n in fleet:
        positive(n, "count")
    fraction_of_one(mfu_from, "mfu_from")
    fraction_of_one(mfu_to, "mfu_to")
    rows: list[Row] = []
    skipped: list[str] = []
    for b in bases(training_precisions, serve_precision):
        try:
            parts = tuple(b.per_chip(c) for c, _ in fleet)
            target_fig = b.per_chip(target)
        except ChipexError as exc:
            skipped.append(f"{b.label}: {exc.message}")
            continue
        total = sum((p.value * n for p, (_, n) in zip(parts, fleet, strict=True)), Fraction(0))
        scale = mfu_to / mfu_from if b.compute else Fraction(1)
        rows.append(Row(b, total, target_fig, parts, scale))
    if not rows:
        raise ChipexError("no basis has figures for both sides: " + "; ".join(skipped))
    return Equivalence(tuple(fleet), target, tuple(rows), tuple(skipped), mfu_from, mfu_to)
