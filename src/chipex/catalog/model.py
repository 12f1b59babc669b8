"""The chip catalog's record schema.

Every figure carries its own source and confidence (handbook principle 7): a value without a source
is rejected at load time, and an unknown figure is simply absent (or `value: null` with a note),
never a guess presented as fact.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Confidence = Literal["published", "secondary", "estimate"]

# Bit length of the multiply inputs per precision (BIS Technical Note 1.c to 3A090: "the largest
# bit-length of the inputs to the multiply operation"). TF32 inputs are 19-bit values (1 sign,
# 8 exponent, 10 mantissa bits) held in 32-bit registers: chipex counts 19, its reading, so a
# vendor that prints TF32 at the BF16 rate (AWS) does not get a TPP above its FP8 one.
BIT_LENGTH: dict[str, int] = {
    "fp64": 64,
    "fp32": 32,
    "tf32": 19,
    "fp16": 16,
    "bf16": 16,
    "fp8": 8,
    "int8": 8,
    "fp6": 6,
    "fp4": 4,
    "int4": 4,
}
Precision = Literal["fp64", "fp32", "tf32", "fp16", "bf16", "fp8", "int8", "fp6", "fp4", "int4"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Reading(_Strict):
    """Another reading of a disputed figure: a second source's value, or the figure read another way."""

    value: Decimal = Field(ge=0)
    source: str = Field(min_length=3)
    confidence: Confidence
    note: str = Field(min_length=3, description="what this reading assumes")

    @field_validator("value", mode="before")
    @classmethod
    def _exact(cls, v: object) -> object:
        return Decimal(repr(v)) if isinstance(v, float) else v


class Figure(_Strict):
    """One number with where it came from."""

    value: Decimal | None = Field(description="the figure; null when the vendor does not publish it")
    source: str = Field(min_length=3, description="citation: a key of the chip's `sources` or text")
    confidence: Confidence
    note: str | None = None
    disputed: list[Reading] = Field(
        default_factory=list, description="other readings; classify shows each that changes the answer"
    )

    @field_validator("value", mode="before")
    @classmethod
    def _exact(cls, v: object) -> object:
        # YAML floats are binary; go through their shortest repr so 1978.9 stays 1978.9 exactly.
        if isinstance(v, float):
            return Decimal(repr(v))
        return v

    @model_validator(mode="after")
    def _non_negative(self) -> Figure:
        if self.value is not None and self.value < 0:
            raise ValueError("a figure cannot be negative")
        if self.value is None and not self.note:
            raise ValueError("an unknown figure (value: null) needs a note saying why")
        return self


class DateFigure(_Strict):
    value: dt.date
    source: str = Field(min_length=3)
    confidence: Confidence
    note: str | None = None


class BoolFigure(_Strict):
    value: bool | None
    source: str = Field(min_length=3)
    confidence: Confidence
    note: str | None = None


class TextFigure(_Strict):
    """A word-valued fact (an ECCN, a country) with where it came from."""

    value: str | None
    source: str = Field(min_length=3)
    confidence: Confidence
    note: str | None = None

    @model_validator(mode="after")
    def _explained(self) -> TextFigure:
        if self.value is None and not self.note:
            raise ValueError("an unknown value (value: null) needs a note saying why")
        return self


class CountryFigure(TextFigure):
    """An ISO 3166-1 alpha-2 country code (US, TW, CN, ...)."""

    @field_validator("value")
    @classmethod
    def _iso2(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[A-Z]{2}", v):
            raise ValueError(f"'{v}' is not an ISO 3166-1 alpha-2 country code (e.g. US, TW, CN)")
        return v


class Fab(_Strict):
    """Who manufactures the logic die(s): for "is it subject to the EAR" (15 CFR 734.3, 734.9)."""

    foundry: str = Field(min_length=2, description="front-end fabricator, e.g. TSMC, Samsung, SMIC")
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO-2 country of the fab (wafer fabrication)")
    node: str | None = Field(None, description="process node as the foundry names it, e.g. 'N4 (4N)'")
    dies: str | None = Field(None, description="which dies this fab makes when a package mixes fabs")
    source: str = Field(min_length=3)
    confidence: Confidence
    note: str | None = None


class Contains(_Strict):
    """A system (server, board, superchip) classifies through the chips it contains (4A090)."""

    chip: str = Field(description="catalog id of the contained accelerator")
    count: int = Field(gt=0)


class Chip(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    vendor: str
    family: str = Field(description="product family; a bare family name resolves to the default variant")
    default_variant: bool = False
    aliases: list[str] = []
    kind: Literal["chip", "system", "memory"] = "chip"
    contains: list[Contains] = []
    form_factor: str | None = None
    sibling: str | None = Field(None, description="uncontrolled/controlled sibling id, e.g. H800 -> H100")
    released: DateFigure | None = None
    datacenter: BoolFigure = Field(
        description="designed or marketed for use in datacenters (Note 2 to 3A090)"
    )
    # Dense (non-sparse) throughput, TFLOPS or TOPS, per precision (Technical Note 3 to 3A090).
    dense_tops: dict[Precision, Figure] = {}
    die_area_mm2: Figure | None = Field(
        None, description="applicable die area: logic dies on non-planar nodes (Technical Note 4)"
    )
    interconnect_gbps: Figure | None = Field(
        None, description="aggregate bidirectional chip-to-chip rate, GB/s; the note says if PCIe counted"
    )
    memory_bandwidth_gbps: Figure | None = None
    memory_gb: Figure | None = None
    memory_type: str | None = None
    memory_package_area_mm2: Figure | None = Field(None, description="HBM stacks: for 3A090.c density")
    tdp_w: Figure | None = None
    tpp_published: Figure | None = Field(None, description="a TPP stated by a source, to cross-check")
    # Jurisdiction and CCL facts (read by chipex.core.ccl and the orders' "subject to the EAR" step).
    designer_country: CountryFigure | None = Field(
        None, description="ISO-2 country where the designer (the vendor) is headquartered"
    )
    fabs: list[Fab] = Field(
        default_factory=list, description="the fab(s) of the logic dies; first = main compute die"
    )
    transistors_billion: Figure | None = Field(
        None, description="published transistor count of the whole package's dies, in billions"
    )
    sub_threshold_eccn: TextFigure | None = Field(
        None,
        description="the CCL entry the item is described in apart from 3A090/4A090 (e.g. 5A992.c, 3A991.p); "
        "meeting 3A090 parameters turns it into the matching .z paragraph",
    )
    pd_published: Figure | None = None
    note: str | None = None
    sources: dict[str, str] = Field(default_factory=dict, description="source key -> full citation")

    @model_validator(mode="after")
    def _system_has_contents(self) -> Chip:
        if self.kind == "system" and not self.contains:
            raise ValueError("a system must list the chips it contains")
        return self
