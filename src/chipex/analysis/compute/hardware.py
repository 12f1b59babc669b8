"""Chip figures for compute accounting, read from the catalog (never hard-coded here).

Units: catalog dense throughput is TFLOPS/TOPS (1e12 per second), memory bandwidth GB/s and
capacity GB (decimal, 1e9 bytes: the unit of the datasheets), TDP watts.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

from chipex.catalog.model import BIT_LENGTH, Chip, Figure
from chipex.errors import ChipexError

TERA = 10**12
GIGA = 10**9
# Substitutes used only when the catalog lacks the precision asked for, and always reported:
# BF16 and FP16 run at the same rate on every part in the catalog that lists both (Ascend sheets print
# FP16 only); 8-bit inference may run as FP8 or INT8 (W8A8 INT8 is how DeepSeek-V3 runs on Ascend and
# A100, V3 README sec. 6), else 16-bit; training without FP8 tensor cores falls back to 16-bit.
_SERVE_SUBSTITUTE = {
    "bf16": ("fp16",),
    "fp16": ("bf16",),
    "fp8": ("int8", "bf16", "fp16"),
    "int8": ("fp8", "bf16", "fp16"),
}
_TRAIN_SUBSTITUTE = {"bf16": ("fp16",), "fp16": ("bf16",), "fp8": ("bf16", "fp16")}
# A stated peak basis (MFU "on an FP8 basis") admits only the BF16/FP16 naming difference.
_BASIS_SUBSTITUTE = {"bf16": ("fp16",), "fp16": ("bf16",)}
_SUBSTITUTES = {"serve": _SERVE_SUBSTITUTE, "train": _TRAIN_SUBSTITUTE, "basis": _BASIS_SUBSTITUTE}
Use = Literal["serve", "train", "basis"]


@dataclass(frozen=True)
class Sourced:
    """An exact value taken from one catalog figure, with where it came from."""

    value: Fraction
    chip: str
    field: str
    source: str
    confidence: str
    note: str | None = None
    substitute: bool = False  # another precision's figure, used because the asked one is absent

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "value": float(self.value),
            "chip": self.chip,
            "field": self.field,
            "source": self.source,
            "confidence": self.confidence,
        }
        if self.note:
            out["note"] = self.note
        if self.substitute:
            out["substitute"] = True
        return out


def _sourced(
    chip: Chip, field: str, fig: Figure | None, scale: int, substitute: str | None = None
) -> Sourced:
    if fig is None or fig.value is None:
        why = f" ({fig.note})" if fig is not None and fig.note else ""
        raise ChipexError(
            f"{chip.name} has no {field} figure in the catalog{why}", record=chip.id, field=field
        )
    source = chip.sources.get(fig.source, fig.source)
    note = substitute or fig.note
    return Sourced(
        Fraction(fig.value) * scale, chip.name, field, source, fig.confidence, note, substitute is not None
    )


def peak_flops(chip: Chip, precision: str, use: Use = "serve") -> Sourced:
    """Dense peak FLOP/s per chip at a precision; a substitute only if absent, and said so."""
    precision = precision.lower()
    if precision not in BIT_LENGTH:
        raise ChipexError(
            f"unknown precision '{precision}' (one of {', '.join(BIT_LENGTH)})", field="precision"
        )
    fig = chip.dense_tops.get(precision)  # type: ignore[call-overload]
    if fig is not None and fig.value is not None:
        return _sourced(chip, f"dense_tops.{precision}", fig, TERA)
    for alt in _SUBSTITUTES[use].get(precision, ()):
        alt_fig = chip.dense_tops.get(alt)  # type: ignore[call-overload]
        if alt_fig is not None and alt_fig.value is not None:
            why = (
                "same bit length"
                if BIT_LENGTH[alt] == BIT_LENGTH[precision]
                else f"no {precision}: runs at {alt}"
            )
            note = f"catalog has no dense {precision} for {chip.name}; used its {alt} rate ({why})"
            return _sourced(chip, f"dense_tops.{alt}", alt_fig, TERA, note)
    have = ", ".join(p for p, f in chip.dense_tops.items() if f.value is not None) or "none"
    raise ChipexError(
        f"{chip.name} has no dense {precision} figure in the catalog (has: {have})",
        record=chip.id,
        field=f"dense_tops.{precision}",
    )


def memory_bandwidth(chip: Chip) -> Sourced:
    """Bytes per second."""
    return _sourced(chip, "memory_bandwidth_gbps", chip.memory_bandwidth_gbps, GIGA)


def memory_capacity(chip: Chip) -> Sourced:
    """Bytes (decimal GB x 1e9)."""
    return _sourced(chip, "memory_gb", chip.memory_gb, GIGA)


def tdp(chip: Chip) -> Sourced:
    """Watts."""
    return _sourced(chip, "tdp_w", chip.tdp_w, 1)
