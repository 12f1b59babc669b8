"""Schema of the rule data (the YAML files beside this module).

Each model mirrors a piece of regulation: a dated text of an ECCN, its paragraphs and notes, and
the prongs ("TPP of 4800 or more") that make them up. Loading validates everything up front, so a
malformed rule file fails before any answer is given.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

RuleConfidence = Literal["verified", "secondary", "from-memory"]
Metric = Literal[
    "tpp",
    "performance_density",
    "interconnect_gbps",
    "memory_bandwidth_gbps",
    "memory_bandwidth_density",
    "datacenter",
    "item",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _exact(v: object) -> object:
    """YAML floats are binary; go through their shortest repr so 5.92 stays exactly 5.92."""
    if isinstance(v, float):
        v = Decimal(repr(v))
    elif isinstance(v, str):
        try:
            v = Decimal(v.strip())
        except ArithmeticError:
            return v  # not a number: the field's own validation says so
    # a reform's -1e999 is a valid Decimal: bound what a number in the rules can be (issue 11)
    if isinstance(v, Decimal) and (not v.is_finite() or abs(v) > MAX_BOUND):
        raise ValueError(f"'{v}' is not a finite number within +/-{MAX_BOUND:.0E}")
    return v


MAX_BOUND = Decimal(10) ** 18  # far above any threshold in the EAR (TPP 4800, 600 GB/s, ...)


class Prong(_Strict):
    """One condition of a paragraph, with bounds exactly as the text words them."""

    metric: Metric
    at_least: Decimal | None = Field(None, description="'X or more': inclusive lower bound")
    more_than: Decimal | None = Field(None, description="'greater than X': exclusive lower bound")
    less_than: Decimal | None = Field(None, description="'less than X': exclusive upper bound")
    at_most: Decimal | None = Field(None, description="'X or less': inclusive upper bound")
    is_: bool | str | None = Field(None, alias="is")
    text: str | None = None

    @field_validator("at_least", "more_than", "less_than", "at_most", mode="before")
    @classmethod
    def _exact_bounds(cls, v: object) -> object:
        return _exact(v)

    @model_validator(mode="after")
    def _one_kind(self) -> Prong:
        bounds = [self.at_least, self.more_than, self.less_than, self.at_most]
        if self.is_ is None and all(b is None for b in bounds):
            raise ValueError("a prong needs a bound (at_least/more_than/less_than/at_most) or 'is'")
        if self.is_ is not None and any(b is not None for b in bounds):
            raise ValueError("a prong has either 'is' or numeric bounds, not both")
        if self.at_least is not None and self.more_than is not None:
            raise ValueError("at_least and more_than both given")
        if self.less_than is not None and self.at_most is not None:
            raise ValueError("less_than and at_most both given")
        return self

    def bounds(self) -> dict[str, Fraction]:
        """The numeric bounds as exact fractions, keyed by their wording."""
        out = {}
        for key in ("at_least", "more_than", "less_than", "at_most"):
            v = getattr(self, key)
            if v is not None:
                out[key] = Fraction(v)
        return out

    def describe(self) -> str:
        if self.text:
            return self.text
        if self.is_ is not None:
            return f"{self.metric} is {self.is_}"
        words = {"at_least": ">=", "more_than": ">", "less_than": "<", "at_most": "<="}
        return " and ".join(f"{self.metric} {words[k]} {float(v):g}" for k, v in self.bounds().items())


class Paragraph(_Strict):
    id: str
    text: str
    all: list[Prong] = Field(min_length=1)


class Note(_Strict):
    """A Note that takes items out of paragraphs (e.g. Note 2 to 3A090, the non-datacenter note)."""

    id: str
    text: str
    citation: str
    confidence: RuleConfidence
    removes: list[str] = Field(min_length=1, description="paragraph prefixes the note removes")
    all: list[Prong] = Field(min_length=1)


class Advisory(_Strict):
    """Text shown with a classification that does not change the ECCN (e.g. foundry presumption)."""

    id: str
    text: str
    citation: str
    confidence: RuleConfidence
    applies_to: str


class EccnText(_Strict):
    """The text of one ECCN as in force from `effective` until the next text."""

    id: str
    effective: dt.date
    compliance: dt.date | None = None
    citation: str
    confidence: RuleConfidence
    note: str | None = None
    paragraphs: list[Paragraph] = []
    notes: list[Note] = []
    advisories: list[Advisory] = []
    derive: dict[str, str] = Field(default_factory=dict, description="systems: chip paragraph -> ECCN")


class Eccn(_Strict):
    eccn: str
    texts: list[EccnText] = Field(min_length=1)

    @model_validator(mode="after")
    def _dated_in_order(self) -> Eccn:
        dates = [t.effective for t in self.texts]
        if dates != sorted(dates) or len(set(dates)) != len(dates):
            raise ValueError("texts must be in strictly increasing order of 'effective'")
        return self

    def in_force(self, on: dt.date) -> EccnText | None:
        """The text in force on a date, or None before the first one (no silent extrapolation back)."""
        current = None
        for text in self.texts:
            if text.effective <= on:
                current = text
        return current


class Criteria(_Strict):
    note: str
    outside_eccn: bool = Field(False, description="criteria reach only items no ECCN paragraph covers")
    all: list[Prong] = []
    any: list[Prong] = []


class Letter(_Strict):
    """An is-informed letter: a licence requirement addressed to one company."""

    id: str
    version: str
    informed: str
    effective: dt.date
    until: dt.date | None = None
    legal_basis: str
    citation: str
    confidence: RuleConfidence
    destinations: list[str]
    destinations_except: list[str] = []
    headquartered_in: list[str] = []
    chips: list[str] = []
    criteria: Criteria | None = None

    def in_force(self, on: dt.date) -> bool:
        return self.effective <= on and (self.until is None or on <= self.until)


class Version(_Strict):
    id: str
    name: str
    effective: dt.date
    published: dt.date
    compliance: dt.date | None = None
    citation: str
    confidence: RuleConfidence
    enforcement: Literal["printed-not-enforced"] | None = None
    summary: str


class GroupChange(_Strict):
    country: str = Field(pattern=r"^[A-Z]{2}$")
    change: Literal["add", "remove"]
    effective: dt.date
    citation: str
    confidence: RuleConfidence


class CountryGroup(_Strict):
    label: str
    members: list[str]
    changes: list[GroupChange] = []

    @field_validator("members")
    @classmethod
    def _codes(cls, v: list[str]) -> list[str]:
        bad = [c for c in v if not (isinstance(c, str) and len(c) == 2 and c.isupper())]
        if bad:
            raise ValueError(f"not ISO 3166 alpha-2 codes: {bad} (quote codes: YAML reads NO as false)")
        return v


class SameAs(_Strict):
    country: str
    citation: str
    confidence: RuleConfidence


class Tiers(_Strict):
    effective: dt.date
    compliance: dt.date
    citation: str
    confidence: RuleConfidence
    enforcement: Literal["printed-not-enforced"] | None = None
    tier1: list[str]
    tier3_groups: list[str]
    tier3: list[str]


class Region(_Strict):
    """A region the EAR treats apart from its country (15 CFR 746.6), with its destination code."""

    name: str
    part_of: str
    paragraph: str
    citation: str
    confidence: RuleConfidence


class CountriesData(_Strict):
    snapshot: dt.date
    snapshot_citation: str
    same_as: dict[str, SameAs] = {}
    names: dict[str, str] = {}
    ambiguous: dict[str, list[str]] = {}  # names that could mean several countries: an error
    regions: dict[str, Region] = {}

    @model_validator(mode="after")
    def _known_codes(self) -> CountriesData:
        codes = [*self.names.values(), *(c for cs in self.ambiguous.values() for c in cs)]
        bad = [c for c in codes if not (len(c) == 2 and c.isupper()) and c not in self.regions]
        if bad:
            raise ValueError(f"names map to codes that are neither ISO alpha-2 nor a region: {bad}")
        return self

    groups: dict[str, CountryGroup]
    tiers: Tiers


Regime = Literal["as-enforced", "as-printed"]


class GroupTest(_Strict):
    """Membership test on a country: any_of / none_of country groups ('D:5') or ISO codes ('MO');
    `named` are ISO codes the text names explicitly, in whatever group exclusion (issue 10, error 1)."""

    any_of: list[str] = []
    none_of: list[str] = []
    named: list[str] = []

    @field_validator("named")
    @classmethod
    def _codes(cls, v: list[str]) -> list[str]:
        bad = [c for c in v if ":" in c]
        if bad:
            raise ValueError(f"named takes ISO codes, not country groups: {bad}")
        return v


class When(_Strict):
    """Conditions on an order line; all must hold (see the header of licensing.yaml)."""

    item: list[str] = []
    destination: GroupTest | None = None
    destination_outside: GroupTest | None = None
    headquartered: GroupTest | None = None
    end_user_headquartered: GroupTest | None = None  # the end user's own HQ, not its parent's
    headquartered_tier: list[int] = []  # AI Diffusion tiers of the end user's and the parent's HQ (both)
    end_use: list[str] = []
    ship_from: GroupTest | None = None
    ship_from_given: bool | None = None  # was a ship-from country given (91 FR 1684 turns on it)
    datacenter: bool | None = None
    tpp_below: Decimal | None = None
    dram_bandwidth_below: Decimal | None = None
    tier: list[int] = []
    on_ccl: bool | None = None  # the line's ECCN is a CCL entry (not EAR99): "any item on the CCL"
    listed_party: bool | None = None
    affiliate_party: bool | None = None  # owned 50%+ by listed parties (rules/affiliates.yaml)
    any: list[When] = []

    @field_validator("tpp_below", "dram_bandwidth_below", mode="before")
    @classmethod
    def _exact_bounds(cls, v: object) -> object:
        return _exact(v)


class _Dated(_Strict):
    id: str
    paragraph: str
    citation: str
    source: str
    confidence: RuleConfidence
    effective: dt.date
    compliance: dt.date | None = None
    until: dt.date | None = None
    regimes: list[Regime] = ["as-enforced", "as-printed"]
    when: When

    @property
    def starts(self) -> dt.date:
        """Obligations bind from the compliance date when one is given."""
        return self.compliance or self.effective

    def in_force(self, on: dt.date, regime: str) -> bool:
        return regime in self.regimes and self.starts <= on and (self.until is None or on <= self.until)


class Requirement(_Dated):
    text: str
    exceptions: list[str] = []
    depends_on: list[str] = Field([], description="stated limits added to the answer when it fires")


class Exception_(_Dated):
    conditions: list[str]
    missing: list[str] = []


class Policy(_Dated):
    policy: str
    note: str | None = None
    conditions: list[str] = Field([], description="what an application must meet under this policy")
    depends_on: list[str] = Field([], description="facts the policy turns on, added when it is chosen")
    requirement_in: list[str] = []


class PartyLists(_Strict):
    requirement: list[str]
    red_flag: list[str]


class LicensingPart(_Strict):
    """One licensing file (see LICENSING_FILES in rules/__init__.py); only licensing.yaml has party_lists."""

    requirements: list[Requirement] = []
    exceptions: list[Exception_] = []
    party_lists: PartyLists | None = None
    policies: list[Policy] = []


class Licensing(_Strict):
    requirements: list[Requirement]
    exceptions: list[Exception_]
    party_lists: PartyLists
    policies: list[Policy]

    @model_validator(mode="after")
    def _references(self) -> Licensing:
        known = {e.id for e in self.exceptions}
        for r in self.requirements:
            bad = [e for e in r.exceptions if e not in known]
            if bad:
                raise ValueError(f"requirement {r.id} names unknown exceptions {bad}")
        for r in [*self.requirements, *self.policies]:
            if any(";" in d for d in r.depends_on):
                raise ValueError(f"{r.id}: a depends_on text may not contain ';' (it separates them)")
        for kind in ("requirements", "exceptions", "policies"):
            ids = [r.id for r in getattr(self, kind)]
            dup = sorted({i for i in ids if ids.count(i) > 1})
            if dup:
                raise ValueError(f"{kind} ids must be unique across the licensing files: {dup}")
        return self


class ScopeEntry(_Strict):
    """One part of the law a determination evaluated, or cannot know (rules/scope.yaml)."""

    id: str
    kind: Literal["checked", "not_checked", "depends_on"]
    text: str = Field(pattern=r"^[^;]+$")
    citation: str
    needs: list[str] = []
    not_given: str | None = Field(None, pattern=r"^[^;]+$", description="shown when `needs` fails")
    value: Literal["rule_version", "list_snapshot"] | None = None
    when: When | None = None

    @model_validator(mode="after")
    def _fits_kind(self) -> ScopeEntry:
        if (self.when is not None) != (self.kind == "depends_on"):
            raise ValueError("`when` is given exactly for depends_on entries")
        if self.kind != "checked" and (self.needs or self.value or self.not_given):
            raise ValueError("`needs`, `not_given` and `value` are for checked entries")
        return self


class Scope(_Strict):
    entries: list[ScopeEntry] = Field(min_length=1)
