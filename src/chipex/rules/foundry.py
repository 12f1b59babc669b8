"""Schema of `foundry.yaml`: the transistor-count levels of Note 1 to 3A090.a."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, model_validator

from chipex.rules.model import RuleConfidence


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Level(_Strict):
    billion: int
    from_year: int | None = None
    until_year: int | None = None
    without_hbm: bool = False


class FoundryRule(_Strict):
    paragraph: str
    citation: str
    source: str
    confidence: RuleConfidence
    effective: dt.date
    note: str


class Foundry(_Strict):
    rule: FoundryRule
    levels: list[Level]

    @model_validator(mode="after")
    def _catch_all_last(self) -> Foundry:
        last = self.levels[-1] if self.levels else None
        if last is None or last.from_year or last.until_year or last.without_hbm:
            raise ValueError("the last level must hold for every year and every IC (the 30 billion level)")
        return self

    def level(self, on: dt.date, has_hbm: bool) -> int:
        for lv in self.levels:
            if lv.without_hbm and has_hbm:
                continue
            if (lv.from_year or on.year) <= on.year <= (lv.until_year or on.year):
                return lv.billion
        return self.levels[-1].billion
