"""Sourced figures for compute accounting, and exact parsing of quantities such as '14.8T'.

Every preset figure carries the confidence mark of `shared/reference/ai-compute-figures.md`:
V verified in the primary text, S secondary reporting, M from memory (unverified), D derived by
arithmetic from cited inputs; and whether it is the publisher's own figure or a third-party
estimate. Arithmetic is exact (fractions); floats appear only in output.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chipex.errors import ChipexError

Mark = Literal["V", "S", "M", "D"]
MARKS: dict[str, str] = {
    "V": "verified in the primary text",
    "S": "secondary reporting",
    "M": "from memory, unverified",
    "D": "derived by arithmetic from cited inputs",
}

# Decimal SI-style multipliers used in the literature ('14.8T tokens', '2,664K GPU-hours').
_SUFFIX = {"K": 10**3, "M": 10**6, "B": 10**9, "G": 10**9, "T": 10**12, "P": 10**15}
_QUANTITY = re.compile(r"^\s*([-+]?[0-9][0-9_,]*\.?[0-9]*(?:[eE][-+]?[0-9]+)?)\s*([KMBGTP]?)\s*$")


def parse_quantity(text: str | float | int | Decimal, what: str = "value") -> Fraction:
    """'37e9', '37B', '14.8T', '2,664K', 0.3 -> exact Fraction; anything else is a ChipexError."""
    if isinstance(text, bool):
        raise ChipexError(f"expected a number, got {text!r}", field=what)
    if isinstance(text, int | Decimal):
        return Fraction(text)
    if isinstance(text, float):
        # A float typed on a command line or in YAML: its shortest repr is what the person wrote.
        return Fraction(Decimal(repr(text)))
    m = _QUANTITY.match(str(text))
    if not m:
        raise ChipexError(f"not a number: {text!r} (examples: 37e9, 37B, 14.8T, 0.3)", field=what)
    try:
        number = Fraction(Decimal(m.group(1).replace(",", "").replace("_", "")))
    except InvalidOperation:
        raise ChipexError(f"not a number: {text!r}", field=what) from None
    return number * _SUFFIX.get(m.group(2), 1)


def positive(x: Fraction, what: str) -> Fraction:
    if x <= 0:
        raise ChipexError(f"must be positive, got {float(x):g}", field=what)
    return x


def fraction_of_one(x: Fraction, what: str) -> Fraction:
    """Utilisations and shares: 0 < x <= 1 (an MFU above 1 would beat the chip's peak)."""
    if not 0 < x <= 1:
        raise ChipexError(
            f"must be in (0, 1], got {float(x):g} (a utilisation cannot exceed the peak)", field=what
        )
    return x


class Fig(BaseModel):
    """One sourced figure: a value (or a low-high range), unit, citation and confidence."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: Fraction | None = None
    low: Fraction | None = None
    high: Fraction | None = None
    unit: str = ""
    source: str = Field(min_length=2, description="a key of the file's `sources`, or a citation")
    confidence: Mark
    kind: Literal["published", "estimate"] = Field(
        description="published: the owner's own figure; estimate: a third party's or ours"
    )
    bound: Literal["upper", "lower"] | None = Field(
        None, description="the source gives only a bound ('less than two months')"
    )
    range_note: str | None = Field(None, description="where low/high come from when not the main source")
    note: str | None = None

    @field_validator("value", "low", "high", mode="before")
    @classmethod
    def _exact(cls, v: Any) -> Any:
        return None if v is None else parse_quantity(v)

    @model_validator(mode="after")
    def _consistent(self) -> Fig:
        if self.value is None and (self.low is None or self.high is None):
            raise ValueError("a figure needs a value, or both low and high")
        for x in (self.value, self.low, self.high):
            if x is not None and x < 0:
                raise ValueError("a figure cannot be negative")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError("low is above high")
        return self

    @property
    def central(self) -> Fraction:
        """The value, or the midpoint of a range given without one (said so in `describe`)."""
        if self.value is not None:
            return self.value
        assert self.low is not None and self.high is not None
        return (self.low + self.high) / 2

    def pick(self, case: str) -> Fraction:
        """'low' / 'central' / 'high' reading of the figure (the value when no range is given)."""
        if case == "low" and self.low is not None:
            return self.low
        if case == "high" and self.high is not None:
            return self.high
        return self.central

    def to_dict(self, sources: dict[str, str] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"value": as_float(self.value)}
        if self.low is not None or self.high is not None:
            out["low"], out["high"] = as_float(self.low), as_float(self.high)
        out.update(
            unit=self.unit,
            source=cite(self.source, sources),
            confidence=self.confidence,
            kind=self.kind,
        )
        for k in ("bound", "range_note", "note"):
            if getattr(self, k):
                out[k] = getattr(self, k)
        return out


def cite(key: str, sources: dict[str, str] | None) -> str:
    return (sources or {}).get(key, key)


def as_float(x: Fraction | None) -> float | None:
    """Output only: the arithmetic behind it stays exact."""
    return None if x is None else float(x)


def human(x: Fraction | float | None, unit: str = "") -> str:
    """Short engineering form for tables: 3.29e24, 2,788,000, 54.2, 0.346."""
    if x is None:
        return "-"
    v = float(x)
    if v != 0 and (abs(v) >= 1e9 or abs(v) < 1e-3):
        # Engineering notation, as the literature writes these: 37e9 parameters, 14.8e12 tokens.
        exp = 3 * math.floor(math.log10(abs(v)) / 3)
        s = f"{v / 10**exp:.4g}e{exp}"
    elif abs(v) >= 1000:
        s = f"{v:,.0f}" if abs(v - round(v)) < 0.05 or abs(v) >= 1e5 else f"{v:,.1f}"
    else:
        s = f"{v:.4g}"
    return f"{s} {unit}".strip()


def pct(x: Fraction | float | None) -> str:
    return "-" if x is None else f"{float(x) * 100:.1f}%"
