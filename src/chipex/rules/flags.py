"""Schema of the diversion rule data: red flags on order lines (`red_flags.yaml`) and dated
transshipment-hub events (`hubs.yaml`).

A red flag never decides a licence: it names an inquiry the exporter must make before shipping
(Supp. No. 3 to 15 CFR part 732, "If there are red flags, inquire"). Each flag's condition is a list
of tests, all of which must hold; a test on a field the order does not give is false, so an unknown
value is never a flag by itself. The test kinds are few on purpose (any engine, including a
decision table, can evaluate them):

    {field: F, in: [v, ...]}             F (lower-cased, trimmed) is one of the values
    {field: F, matches: REGEX}           F matches (case-insensitive search)
    {field: F, not_matches: REGEX}       F is given and does not match
    {field: F, not_in_fields: [G, ...]}  F is given and equals none of the given fields G
    {field: F, on_or_after: DATE}        date F is on or after DATE
    {field: F, within_days: N}           date F is at most N days before the order's date
    {field: F, below_market: X}          price per chip F / units < X x the item's low market price
    {field: F, hub: true}                country F is a known transshipment hub on the order's date
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chipex.rules.model import RuleConfidence

KINDS = ("in", "matches", "not_matches", "not_in_fields", "on_or_after", "within_days", "below_market", "hub")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class FlagTest(_Strict):
    field: str
    in_: list[str] | None = Field(None, alias="in")
    matches: str | None = None
    not_matches: str | None = None
    not_in_fields: list[str] | None = None
    on_or_after: dt.date | None = None
    within_days: int | None = Field(None, gt=0)
    below_market: Decimal | None = Field(None, gt=0, le=1)
    hub: Literal[True] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> FlagTest:
        given = [k for k in KINDS if getattr(self, "in_" if k == "in" else k) is not None]
        if len(given) != 1:
            raise ValueError(f"a test has exactly one of {', '.join(KINDS)} (found {given or 'none'})")
        for pattern in (self.matches, self.not_matches):
            if pattern is not None:
                re.compile(pattern)
        return self

    @property
    def kind(self) -> str:
        return next(k for k in KINDS if getattr(self, "in_" if k == "in" else k) is not None)

    def reads(self) -> list[str]:
        extra = {"within_days": ["date"], "below_market": ["item", "quantity"], "hub": ["date"]}
        return [self.field, *(self.not_in_fields or []), *extra.get(self.kind, [])]


class RedFlag(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    text: str = Field(description="the flag as the source words it (paraphrased where marked)")
    inquiry: str = Field(description="what the officer must ask or verify before shipping")
    source: str
    citation: str
    confidence: RuleConfidence
    added: dt.date
    added_confidence: RuleConfidence = Field(description="how sure the date added is")
    removed: dt.date | None = None
    when: list[FlagTest] | None = Field(
        None, description="null: not evaluated on order lines (no order field carries it)"
    )
    needs: str | None = Field(None, description="for a flag not evaluated: the fact it would need")
    cases: list[str] = []

    @model_validator(mode="after")
    def _evaluable(self) -> RedFlag:
        if self.when is None and not self.needs:
            raise ValueError("a flag that is not evaluated says what it needs ('needs')")
        return self

    def in_force(self, on: dt.date) -> bool:
        return self.added <= on and (self.removed is None or on < self.removed)

    def reads(self) -> list[str]:
        out: list[str] = []
        for t in self.when or []:
            out += [f for f in t.reads() if f not in out]
        return out


class MarketPrice(_Strict):
    chips: list[str] = Field(min_length=1, description="catalog chip ids priced alike")
    usd_low: Decimal = Field(gt=0)
    usd_high: Decimal = Field(gt=0)
    as_of: str
    source: str
    confidence: RuleConfidence


class RedFlags(_Strict):
    flags: list[RedFlag]
    market_prices: list[MarketPrice] = []

    @model_validator(mode="after")
    def _unique(self) -> RedFlags:
        ids = [f.id for f in self.flags]
        if len(ids) != len(set(ids)):
            raise ValueError("red flag ids must be unique")
        return self


class HubEvent(_Strict):
    country: str = Field(pattern=r"^[A-Z]{2}$")
    date: dt.date
    kind: Literal["named-hub", "case", "measure", "advisory", "draft-rule", "billing", "group-move"]
    event: str
    source: str
    confidence: RuleConfidence
    marks_hub: bool = Field(description="from this date the country counts as a known transshipment hub")
    until: dt.date | None = None
    figure: str | None = None

    @field_validator("country")
    @classmethod
    def _upper(cls, v: str) -> str:
        return v.upper()


class Hubs(_Strict):
    note: str
    events: list[HubEvent]

    def hub_periods(self) -> dict[str, list[tuple[dt.date, dt.date | None]]]:
        """country -> [(from, until)]: the dates on which it counts as a known hub."""
        out: dict[str, list[tuple[dt.date, dt.date | None]]] = {}
        for e in sorted(self.events, key=lambda e: e.date):
            if e.marks_hub:
                out.setdefault(e.country, []).append((e.date, e.until))
        return out

    def is_hub(self, country: str, on: dt.date) -> bool:
        return any(
            start <= on and (end is None or on < end) for start, end in self.hub_periods().get(country, [])
        )
