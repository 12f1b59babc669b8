"""Schema of `jurisdiction.yaml`: is the item subject to the EAR (15 CFR 734.3, 734.4, 734.9)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from chipex.rules.model import GroupTest, RuleConfidence, When


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Basis(_Strict):
    paragraph: str
    text: str
    citation: str
    confidence: RuleConfidence


class Fdp(Basis):
    id: str
    source: str
    effective: dt.date
    until: dt.date | None = None
    when: When

    @property
    def starts(self) -> dt.date:
        return self.effective

    def in_force(self, on: dt.date, regime: str = "") -> bool:
        return self.effective <= on and (self.until is None or on <= self.until)


class DeMinimis(Basis):
    id: str
    percent: int = Field(ge=0, le=100)
    destination: GroupTest | None = None


class Jurisdiction(_Strict):
    in_us: Basis
    us_origin: Basis
    fdp: list[Fdp]
    entity_list_fdp: Basis
    de_minimis: list[DeMinimis] = Field(min_length=1)
