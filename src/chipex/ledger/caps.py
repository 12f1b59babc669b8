"""Caps as rule data (`chipex/rules/caps.yaml`): which caps a shipment counts against, the limit in
force on its date, and whether the cap binds under a regime ("as-printed" or "as-enforced").

Nothing here names a cap: scope (destination tiers, ECCNs, authorization), key (per destination,
consignee, end user or VEU), period (fixed, calendar year, cumulative) and the stepped or
agreement-dependent limits all come from the data. Tiers come from the rulebook's dated country
data (`Rulebook.countries.tier`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chipex.datafiles import read_yaml, validate
from chipex.errors import ChipexError
from chipex.rules import RULES_DIR, Rulebook, active_reforms, build_rulebook, default_rulebook, load_raw
from chipex.rules.countries import REGIMES
from chipex.rules.model import _exact
from chipex.rules.reform import apply_reforms

CAPS_FILE = "caps.yaml"
Confidence = Literal["verified", "secondary", "derived", "from-memory"]
Per = Literal["destination", "consignee", "end_user", "veu"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Limit(_Strict):
    id: str
    start: dt.date | None = Field(None, alias="from", description="a stepped limit: in force from this date")
    value: Decimal = Field(gt=0)
    unit: Literal["tpp", "h100e"]
    when: str | None = Field(None, description="an agreement the destination must have signed")
    confidence: Confidence
    source: str

    @field_validator("value", mode="before")
    @classmethod
    def _exact_value(cls, v: object) -> object:
        return _exact(v)


class Period(_Strict):
    kind: Literal["fixed", "calendar-year", "cumulative"]
    start: dt.date = Field(description="shipments from this date count")
    end: dt.date | None = None
    label: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> Period:
        if self.kind == "fixed" and (self.end is None or not self.label):
            raise ValueError("a fixed period needs 'end' and 'label'")
        if self.end is not None and self.end < self.start:
            raise ValueError("period ends before it starts")
        return self

    def key(self, on: dt.date) -> str | None:
        """The period a shipment dated `on` counts in, or None outside the counting window."""
        if on < self.start or (self.end is not None and on > self.end):
            return None
        if self.kind == "fixed":
            return self.label
        return str(on.year) if self.kind == "calendar-year" else f"since-{self.start}"

    def window(self) -> str:
        return f"{self.start} to {self.end}" if self.end else f"from {self.start}"


class Scope(_Strict):
    destination_tiers: list[Literal[1, 2, 3]] = []
    destinations: list[str] = []
    eccns: list[str] = Field(min_length=1, description="ECCN paragraphs counted (3A090.a counts 3A090.a.1)")
    authorizations: list[str] = Field(min_length=1)


class Cap(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    rule_version: str
    citation: str
    confidence: Confidence
    note: str
    scope: Scope
    per: Per
    period: Period
    on_exceed: Literal["refuse", "report"]
    limits: list[Limit] = Field(min_length=1)


class NotEnforced(_Strict):
    announced: dt.date
    note: str
    citation: str
    confidence: Confidence


class Regime(_Strict):
    description: str
    citation: str
    confidence: Confidence
    not_enforced: dict[str, NotEnforced] = Field({}, description="rule version -> announcement")


class Agreement(_Strict):
    label: str
    citation: str
    confidence: Confidence
    countries: dict[str, dt.date] = Field({}, description="ISO code -> date signed")


class Conversion(_Strict):
    value: Decimal = Field(gt=0)
    source: str
    confidence: Confidence


class CapsData(_Strict):
    h100e_tpp: Conversion
    regimes: dict[str, Regime]
    authorizations: dict[str, str]
    agreements: dict[str, Agreement] = {}
    caps: list[Cap]


@dataclass(frozen=True)
class Applied:
    """A cap one shipment counts against: its allocation (key and period), limit and binding."""

    cap: Cap
    key: str
    period: str
    limit: Limit
    limit_tpp: Fraction
    binding: bool
    why: str

    @property
    def bucket(self) -> str:
        return bucket_name(self.cap.id, self.period, self.key)

    @property
    def limit_confidence(self) -> Confidence:
        return "derived" if self.limit.unit == "h100e" else self.limit.confidence


def bucket_name(cap_id: str, period: str, key: str) -> str:
    return f"cap/{cap_id}/{period}/{key}"


def eccn_matches(eccn: str, paragraph: str) -> bool:
    return eccn == paragraph or eccn.startswith(paragraph + ".")


@dataclass(frozen=True)
class Caps:
    data: CapsData
    rulebook: Rulebook

    @property
    def caps(self) -> list[Cap]:
        return self.data.caps

    def get(self, cap_id: str) -> Cap:
        for cap in self.data.caps:
            if cap.id == cap_id:
                return cap
        raise ChipexError(f"unknown cap '{cap_id}' (caps: {', '.join(c.id for c in self.data.caps)})")

    def h100e(self, tpp: Fraction) -> Fraction:
        return tpp / Fraction(self.data.h100e_tpp.value)

    def limit_tpp(self, limit: Limit) -> Fraction:
        value = Fraction(limit.value)
        return value * Fraction(self.data.h100e_tpp.value) if limit.unit == "h100e" else value

    def limit_on(self, cap: Cap, on: dt.date, country: str | None) -> Limit | None:
        """The limit in force on a date: the latest step, and an agreement's limit where the
        destination had signed it by then."""
        signed = {
            name
            for name, agreement in self.data.agreements.items()
            if country is not None and (d := agreement.countries.get(country)) is not None and d <= on
        }
        eligible = [
            lim
            for lim in cap.limits
            if (lim.start is None or lim.start <= on) and (lim.when is None or lim.when in signed)
        ]
        if not eligible:
            return None
        return max(eligible, key=lambda lim: (lim.when is not None, lim.start or dt.date.min))

    def binds(self, cap: Cap, on: dt.date, regime: str) -> tuple[bool, str]:
        """Whether the cap refuses (or reports) under a regime on a date, and why."""
        check_regime(regime)
        version = self.rulebook.version(cap.rule_version)
        if regime == "as-printed":
            return True, f"binds as printed from {version.effective} ({version.citation})"
        stopped = self.data.regimes[regime].not_enforced.get(cap.rule_version)
        if stopped is not None and on >= stopped.announced:
            return False, f"counted, not binding as enforced: {stopped.note} ({stopped.citation})"
        start = version.compliance or version.effective
        if on < start:
            why = f"compliance was not required before {start}"
            if stopped is not None:
                why += f"; {stopped.note} ({stopped.citation})"
            return False, f"counted, not binding as enforced: {why}"
        return True, f"binds as enforced from {start} ({version.citation})"

    def out_of_scope(
        self, cap: Cap, *, eccn: str | None, destination: str, authorization: str, on: dt.date
    ) -> str | None:
        """Why a shipment does not count against a cap, or None when it does."""
        scope = cap.scope
        if authorization not in scope.authorizations:
            return f"counts shipments under {', '.join(scope.authorizations)}, not {authorization}"
        if eccn is None or not any(eccn_matches(eccn, p) for p in scope.eccns):
            return f"counts {', '.join(scope.eccns)} items, not {eccn or 'uncontrolled items'}"
        return self.destination_out_of_scope(cap, destination, on)

    def destination_out_of_scope(self, cap: Cap, destination: str, on: dt.date) -> str | None:
        """Why shipments to a destination on a date do not count against a cap, or None."""
        scope = cap.scope
        if cap.period.key(on) is None:
            return f"counts shipments dated {cap.period.window()}, not {on}"
        country = self.rulebook.countries.rule_country(destination)
        if scope.destinations and country not in scope.destinations:
            return f"counts shipments to {', '.join(scope.destinations)}, not {country}"
        if scope.destination_tiers:
            tier = self.rulebook.countries.tier(country, on)
            if tier not in scope.destination_tiers:
                tiers = " or ".join(f"Tier {t}" for t in scope.destination_tiers)
                return f"counts shipments to {tiers} destinations; {country} is Tier {tier} on {on}"
        return None

    def applicable(
        self,
        *,
        eccn: str | None,
        destination: str,
        authorization: str,
        on: dt.date,
        keys: Mapping[str, str | None],
        regime: str,
    ) -> list[Applied]:
        """Every cap a shipment counts against. `keys` gives the shipment's destination, consignee,
        end_user and veu (the allocation keys a cap may be counted per)."""
        out = []
        country = self.rulebook.countries.rule_country(destination)
        for cap in self.data.caps:
            if self.out_of_scope(cap, eccn=eccn, destination=destination, authorization=authorization, on=on):
                continue
            key = keys.get(cap.per)
            if not key:
                per = cap.per.replace("_", " ")
                raise ChipexError(f"{cap.title} is counted per {per}: name the {per}", field=cap.per)
            limit = self.limit_on(cap, on, country)
            if limit is None:
                continue
            binding, why = self.binds(cap, on, regime)
            period = cap.period.key(on)
            assert period is not None  # out_of_scope checked the window
            out.append(Applied(cap, key, period, limit, self.limit_tpp(limit), binding, why))
        return out


def check_regime(regime: str) -> str:
    if regime not in REGIMES:
        raise ChipexError(f"unknown regime '{regime}' (use {' or '.join(REGIMES)})", field="regime")
    return regime


def _cap_problem(cap: Cap, data: CapsData, rulebook: Rulebook) -> tuple[str, str] | None:
    """The first reference in a cap that does not resolve, as (message, field)."""
    version = next((v for v in rulebook.versions if v.id == cap.rule_version), None)
    if version is None:
        return f"unknown rule version '{cap.rule_version}'", "rule_version"
    if cap.period.start < version.effective:
        return f"counting starts before the rule's effective date {version.effective}", "period.start"
    not_enforced = data.regimes["as-enforced"].not_enforced
    if version.enforcement == "printed-not-enforced" and cap.rule_version not in not_enforced:
        return "the rule is printed but not enforced: name the announcement under regimes", "rule_version"
    unknown = [a for a in cap.scope.authorizations if a not in data.authorizations]
    if unknown:
        return f"unknown authorization '{unknown[0]}'", "scope.authorizations"
    agreements = [lim.when for lim in cap.limits if lim.when is not None and lim.when not in data.agreements]
    if agreements:
        return f"unknown agreement '{agreements[0]}'", "limits.when"
    return None


def build_caps(raw: Any, rulebook: Rulebook, file: str = CAPS_FILE) -> Caps:
    """Validate the caps data completely (schema and references) before any cap is applied."""
    data = validate(CapsData, raw, file=file)
    if set(data.regimes) != set(REGIMES):
        raise ChipexError(f"regimes must be exactly {', '.join(REGIMES)}", file=file, field="regimes")
    for name, agreement in data.agreements.items():
        bad = [c for c in agreement.countries if not (len(c) == 2 and c.isupper())]
        if bad:
            raise ChipexError(f"not ISO 3166 alpha-2 codes: {bad}", file=file, field=f"agreements.{name}")
    seen: set[str] = set()
    for i, cap in enumerate(data.caps, start=1):
        duplicate = cap.id in seen or len({lim.id for lim in cap.limits}) != len(cap.limits)
        problem = ("duplicate cap or limit id", "id") if duplicate else _cap_problem(cap, data, rulebook)
        if problem:
            raise ChipexError(problem[0], file=file, record=i, field=problem[1])
        seen.add(cap.id)
    return Caps(data, rulebook)


def caps_from_raw(raw: dict[str, Any]) -> Caps:
    """Caps from the raw rule data of `chipex.rules.load_raw` (reforms overlay it first)."""
    return build_caps(raw.get(CAPS_FILE), build_rulebook(raw))


def default_caps() -> Caps:
    """The shipped caps, with the reforms in use (`chipex --reform FILE`) applied."""
    return _caps_with(active_reforms())


@cache
def _caps_with(reforms: tuple[Path, ...]) -> Caps:
    if not reforms:
        return build_caps(read_yaml(RULES_DIR / CAPS_FILE), default_rulebook())
    return caps_from_raw(apply_reforms(load_raw(), reforms))
