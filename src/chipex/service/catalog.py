"""Classification, history, the catalog and the rulebook, as typed requests and results."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, model_validator

from chipex.core.classify import Classification
from chipex.errors import ChipexError
from chipex.rules.model import Version
from chipex.service.common import Regime


class ClassificationResult(RootModel[Classification]):
    """A chip's ECCN paragraph on a date, every threshold compared and cited (`chipex classify --json`)."""

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def __getattr__(self, name: str) -> Any:  # .eccn, .reasons, ... of the classification itself
        if name.startswith("_"):
            return super().__getattr__(name)
        return getattr(self.root, name)


class Figures(BaseModel):
    """A chip described by its figures (each marked as the user's own)."""

    model_config = ConfigDict(extra="forbid")

    name: str = "user chip"
    fp16: float | None = Field(None, description="dense FP16/BF16 TFLOPS")
    fp8: float | None = Field(None, description="dense FP8 TFLOPS")
    int8: float | None = Field(None, description="dense INT8 TOPS")
    fp4: float | None = Field(None, description="dense FP4 TFLOPS")
    die_area: float | None = Field(None, description="applicable die area, mm2")
    interconnect: float | None = Field(None, description="bidirectional chip-to-chip GB/s")
    memory_bandwidth: float | None = Field(None, description="memory bandwidth GB/s")
    datacenter: bool | None = None

    def chip(self):
        from chipex.catalog.model import Chip

        def fig(v: float | None) -> dict | None:
            return None if v is None else {"value": str(v), "source": "user input", "confidence": "published"}

        tops = {"fp16": self.fp16, "fp8": self.fp8, "int8": self.int8, "fp4": self.fp4}
        if all(v is None for v in tops.values()):
            raise ChipexError("give at least one throughput figure (fp16, fp8, int8 or fp4)", field="figures")
        return Chip.model_validate(
            {
                "id": "user-spec",
                "name": self.name,
                "vendor": "user",
                "family": self.name,
                "datacenter": {"value": self.datacenter, "source": "user input", "confidence": "published"},
                "dense_tops": {p: fig(v) for p, v in tops.items() if v is not None},
                "die_area_mm2": fig(self.die_area),
                "interconnect_gbps": fig(self.interconnect),
                "memory_bandwidth_gbps": fig(self.memory_bandwidth),
            }
        )


class ClassifyRequest(BaseModel):
    """Name a catalog chip, or give a `spec` (one record in the catalog schema), or its `figures`."""

    model_config = ConfigDict(extra="forbid")

    chip: str | None = Field(None, description="catalog name, e.g. 'H800' or 'NVIDIA H100 SXM5'")
    spec: dict[str, Any] | None = Field(None, description="one chip record in the catalog schema")
    figures: Figures | None = None
    as_of: dt.date | Literal["today"] = "today"
    datacenter: bool | None = Field(None, description="override 'designed or marketed for datacenters'")
    regime: Regime = Field(
        "as-enforced", description="accepted for symmetry with checks: an ECCN does not depend on it"
    )

    @model_validator(mode="after")
    def _one(self) -> ClassifyRequest:
        given = [k for k in ("chip", "spec", "figures") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of chip, spec or figures")
        return self

    def resolve(self, catalog):
        from chipex.catalog.model import Chip

        if self.figures is not None:
            return self.figures.chip()
        if self.spec is not None:
            from pydantic import ValidationError

            try:
                return Chip.model_validate(self.spec)
            except ValidationError as exc:
                err = exc.errors()[0]
                where = ".".join(str(x) for x in err["loc"])
                raise ChipexError(err["msg"], field=f"spec.{where}") from None
        return catalog.get(self.chip)


def _catalog(catalog):
    from chipex.catalog import default_catalog

    return catalog or default_catalog()


def classify(req: ClassifyRequest, *, catalog=None) -> ClassificationResult:
    from chipex.core.classify import classify as run

    cat = _catalog(catalog)
    on = dt.date.today() if req.as_of == "today" else req.as_of
    return ClassificationResult(run(req.resolve(cat), on, catalog=cat, datacenter=req.datacenter))


class HistoryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    chip: str
    datacenter: bool | None = None


def history(req: HistoryRequest, *, catalog=None) -> list[ClassificationResult]:
    """The chip's status under every rule version, in date order."""
    from chipex.core.classify import history as run

    cat = _catalog(catalog)
    return [ClassificationResult(c) for c in run(cat.get(req.chip), catalog=cat, datacenter=req.datacenter)]


class ChipRow(BaseModel):
    id: str
    name: str
    vendor: str
    kind: str
    datacenter: bool | None
    tpp: float | None = Field(description="total processing performance, from the catalog's figures")
    performance_density: float | None
    released: str | None
    file: str | None = Field(description="catalog file the record came from")


def chips(*, catalog=None) -> list[ChipRow]:
    """The catalog with TPP and performance density computed from its own figures."""
    from chipex.core.classify import measure
    from chipex.core.metrics import as_float

    cat = _catalog(catalog)
    rows = []
    for c in cat:
        m = measure(c) if c.kind != "system" else None
        rows.append(
            ChipRow(
                id=c.id,
                name=c.name,
                vendor=c.vendor,
                kind=c.kind,
                datacenter=c.datacenter.value,
                tpp=as_float(m.tpp, 1) if m else None,
                performance_density=as_float(m.performance_density, 2) if m else None,
                released=c.released.value.isoformat() if c.released else None,
                file=cat.origin.get(c.id),
            )
        )
    return rows


def rules() -> list[Version]:
    """Every rule version, dated and cited, with its confidence."""
    from chipex.rules import default_rulebook

    return list(default_rulebook().versions)


def chip_record(chip: str, *, catalog=None) -> dict[str, Any]:
    """A catalog record as stored: every figure with its source key, confidence and note, and the
    record's `sources` (key -> reference)."""
    return _catalog(catalog).get(chip).model_dump(mode="json", exclude_none=True)


class RuleVersion(BaseModel):
    version: Version
    texts: list[dict[str, Any]] = Field(description="each ECCN's text in force on the version's date")


def rule_version(version_id: str) -> RuleVersion:
    """A rule version with the text of each advanced-computing ECCN in force on its effective date."""
    from chipex.rules import default_rulebook

    rb = default_rulebook()
    found = [v for v in rb.versions if v.id == version_id]
    if not found:
        known = ", ".join(v.id for v in rb.versions)
        raise ChipexError(f"unknown rule version '{version_id}' (known: {known})", field="version")
    v = found[0]
    texts = []
    for name, eccn in rb.eccns.items():
        text = eccn.in_force(v.effective)
        if text is not None:
            texts.append({"eccn": name, **text.model_dump(mode="json", exclude_none=True)})
    return RuleVersion(version=v, texts=texts)
