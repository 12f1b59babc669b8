"""Warnings shown with an item's classification and every order of it (`warnings.yaml`).

A warning never changes an ECCN or a licence answer; it is what a user must not miss (e.g. the
BIS guidance of 2025-05-13 on General Prohibition 10 and the Huawei Ascend chips).
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chipex.rules.model import RuleConfidence


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ItemWarning(_Strict):
    id: str
    text: str
    citation: str
    source: str
    confidence: RuleConfidence
    effective: dt.date
    until: dt.date | None = None
    chips: list[str] = Field([], description="catalog ids the warning names")
    designed_in: list[str] = Field([], description="designer countries (with `eccn`)")
    eccn: list[str] = Field([], description="ECCN prefixes (with `designed_in`)")

    @model_validator(mode="after")
    def _matches_something(self) -> ItemWarning:
        if not self.chips and not (self.designed_in and self.eccn):
            raise ValueError("a warning names `chips`, or `designed_in` with `eccn`")
        if ";" in self.id:
            raise ValueError("a warning id may not contain ';'")
        return self

    def shown(self) -> str:
        """The warning as printed with a classification (its text, citation and confidence)."""
        return f"{self.text} [{self.citation}; {self.confidence}]"

    def in_force(self, on: dt.date) -> bool:
        return self.effective <= on and (self.until is None or on <= self.until)

    def matches(self, chip_ids: list[str], designer: str | None, eccn: str | None) -> bool:
        if any(c in self.chips for c in chip_ids):
            return True
        return designer in self.designed_in and any((eccn or "").startswith(p) for p in self.eccn)


class Warnings(_Strict):
    warnings: list[ItemWarning] = []

    def by_id(self) -> dict[str, ItemWarning]:
        return {w.id: w for w in self.warnings}

    def first(
        self, on: dt.date, chip_ids: list[str], designer: str | None, eccn: str | None
    ) -> ItemWarning | None:
        """The first warning in force that matches the item (specific entries come first)."""
        for w in self.warnings:
            if w.in_force(on) and w.matches(chip_ids, designer, eccn):
                return w
        return None
