"""Screening: one party, two names, yente-shaped /match queries, list snapshots and reviews."""

from __future__ import annotations

import copy
import os
import threading
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chipex.errors import ChipexError

_SCREENERS: dict[str, Any] = {}
_LOCK = threading.Lock()


def screener(threshold: float | None = None):
    """The screener on the current snapshot in CHIPEX_HOME (loaded once per process); with another
    `threshold`, a copy sharing the same index."""
    from chipex.screening import Screener

    home = os.environ.get("CHIPEX_HOME", "")
    with _LOCK:
        if home not in _SCREENERS:
            _SCREENERS[home] = Screener()
        s = _SCREENERS[home]
    if threshold is None or threshold == s.threshold:
        return s
    s = copy.copy(s)
    s.threshold = threshold
    return s


class FeatureOut(BaseModel):
    feature: str
    value: float
    effect: str = Field(description="what it did: base, x0.75, +0.05, cap 0.50, none")
    detail: str


class HitOut(BaseModel):
    query: str
    score: float
    matched_name: str
    matched_alias: bool
    entry_id: str
    entry_name: str
    list: str
    list_name: str
    countries: list[str]
    license_requirement: str
    license_policy: str
    license_basis: str = Field(description="entry (the list's own text) or list-level (chipex's summary)")
    citation: str
    regulation: str
    snapshot_id: str
    decision: str | None = None
    features: list[FeatureOut]


class ScreenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, description="party name, in any script")
    country: str | None = Field(None, description="ISO code or country name")
    address: str | None = None
    threshold: float = Field(0.80, ge=0.0, le=1.0)


class ScreenResult(BaseModel):
    query: str
    country: str | None
    threshold: float
    snapshot_id: str
    hits: list[HitOut]

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def screen(req: ScreenRequest) -> ScreenResult:
    """Every listed entry the party matches at or above the threshold, best first, each explained."""
    from chipex.screening import country_code

    s = screener(req.threshold)
    hits = s.screen(req.name, req.country, address=req.address)
    return ScreenResult(
        query=req.name,
        country=country_code(req.country),
        threshold=s.threshold,
        snapshot_id=s.snapshot_id,
        hits=[HitOut.model_validate(h.to_dict()) for h in hits],
    )


class MatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    a: str = Field(min_length=1, description="the party's name")
    b: str = Field(min_length=1, description="plays the listed name")
    threshold: float = Field(0.80, ge=0.0, le=1.0)


class MatchResult(BaseModel):
    a: str
    b: str
    score: float
    match: bool
    threshold: float
    features: list[FeatureOut]


def match(req: MatchRequest) -> MatchResult:
    return MatchResult.model_validate(screener(req.threshold).match(req.a, req.b).to_dict())


# --- yente's /match shape ---------------------------------------------------------------------------
# Request and response follow OpenSanctions yente (yente/data/common.py: EntityMatchQuery,
# EntityMatchResponse), so a client written for yente works against chipex unchanged.

NAME_PROPS = ("name", "alias", "previousName", "weakAlias")
COUNTRY_PROPS = (
    "country",
    "jurisdiction",
    "nationality",
    "citizenship",
    "mainCountry",
    "registrationCountry",
)


class EntityExample(BaseModel):
    id: str | None = None
    schema_: str = Field(alias="schema", examples=["Company"])
    properties: dict[str, str | list[Any]] = Field(examples=[{"name": ["Huawei Technologies"]}])

    model_config = ConfigDict(populate_by_name=True)

    def values(self, prop: str) -> list[str]:
        v = self.properties.get(prop, [])
        return [str(x) for x in (v if isinstance(v, list) else [v]) if str(x).strip()]

    def names(self) -> list[str]:
        names = [n for p in NAME_PROPS for n in self.values(p)]
        if not names:  # a Person described by name parts (yente combines them too)
            parts = [
                self.values(p)[:1]
                for p in ("firstName", "secondName", "middleName", "fatherName", "lastName")
            ]
            joined = " ".join(x[0] for x in parts if x)
            names = [joined] if joined else []
        return names


class EntityMatchQuery(BaseModel):
    weights: dict[str, float] = Field(
        default_factory=dict, description="accepted; chipex's features are fixed"
    )
    queries: dict[str, EntityExample]


class TotalSpec(BaseModel):
    value: int
    relation: str = "eq"


class ScoredEntity(BaseModel):
    id: str
    caption: str
    schema_: str = Field(alias="schema")
    properties: dict[str, list[str]]
    datasets: list[str]
    referents: list[str] = Field(default_factory=list)
    target: bool = True
    score: float
    features: dict[str, float]
    match: bool
    explanation: list[FeatureOut] = Field(description="chipex: each feature with what it did and why")

    model_config = ConfigDict(populate_by_name=True)


class EntityMatches(BaseModel):
    status: int = 200
    results: list[ScoredEntity]
    total: TotalSpec
    query: EntityExample


class FeatureDoc(BaseModel):
    description: str
    coefficient: float = 1.0
    url: str = ""


class EntityMatchResponse(BaseModel):
    responses: dict[str, EntityMatches]
    matcher: dict[str, FeatureDoc]
    limit: int


FEATURE_DOCS = {
    "name_tokens": "IDF-weighted soft word overlap of the names, both ways",
    "han": "Han character bigrams, both ways",
    "pinyin": "pinyin of Han names (weak, capped at 0.60)",
    "generic_only": "a name of generic words only is capped at 0.50",
    "numbers": "x0.75 when numbers in the names differ",
    "qualifier": "x0.85 when parenthesised qualifiers differ",
    "country": "+0.05 for a shared country, -0.10 for a different one",
    "address": "+0.05 for a matching address",
    "decision": "a reviewer's decision for this party and entry",
}


def match_entities(
    dataset: str, query: EntityMatchQuery, *, threshold: float = 0.80, limit: int = 5
) -> EntityMatchResponse:
    """yente's POST /match/{dataset}: each query entity screened by its names and countries."""
    from chipex.screening import country_code

    if dataset not in ("default", "csl", "us"):
        raise ChipexError(
            f"unknown dataset '{dataset}' (chipex screens the US CSL: default, csl or us)", field="dataset"
        )
    s = screener(threshold)
    responses = {}
    for key, ex in query.queries.items():
        names = ex.names()
        if not names:
            raise ChipexError("the query entity has no name", field=f"queries.{key}.properties.name")
        countries = [c for p in COUNTRY_PROPS for c in ex.values(p)]
        cc = None
        for c in countries:
            try:
                cc = country_code(c)
                break
            except ChipexError:
                continue  # yente ignores a country it cannot read; so does chipex
        address = " ".join(ex.values("address")) or None
        best: dict[str, Any] = {}
        for n in names:
            for h in s.screen(n, cc, address=address):
                if h.entry_id not in best or h.score > best[h.entry_id].score:
                    best[h.entry_id] = h
        ranked = sorted(best.values(), key=lambda h: -h.score)
        results = [
            ScoredEntity(
                id=h.entry_id,
                caption=h.entry_name,
                schema=ex.schema_ if ex.schema_ in ("Company", "Organization", "Person") else "LegalEntity",
                properties={
                    "name": [h.entry_name],
                    **({"alias": [h.matched_name]} if h.matched_alias else {}),
                    "country": [c.lower() for c in h.countries],
                    "program": [h.list_name],
                    "notes": [f"{h.license_requirement} Policy: {h.license_policy}".strip()],
                    "sourceUrl": [h.citation] if h.citation else [],
                },
                datasets=[h.list],
                score=round(h.score, 4),
                features={f.name: round(f.value, 4) for f in h.features},
                match=h.score >= s.threshold,
                explanation=[FeatureOut.model_validate(f.to_dict()) for f in h.features],
            )
            for h in ranked[:limit]
        ]
        responses[key] = EntityMatches(results=results, total=TotalSpec(value=len(ranked)), query=ex)
    return EntityMatchResponse(
        responses=responses,
        matcher={k: FeatureDoc(description=v) for k, v in FEATURE_DOCS.items()},
        limit=limit,
    )


# --- lists and reviews ------------------------------------------------------------------------------


class ListsResult(BaseModel):
    current: str
    source_date: str
    counts: dict[str, int]
    total: int
    source: str
    loaded: list[dict[str, Any]]


def lists() -> ListsResult:
    from chipex.screening.store import Store

    s = screener()
    return ListsResult(
        current=s.snapshot_id,
        source_date=s.source_date.isoformat(),
        counts=s.counts,
        total=sum(s.counts.values()),
        source=s.index.source,
        loaded=[
            {"id": x.id, "source_date": str(x.source_date), "loaded_at": x.loaded_at, "counts": x.counts}
            for x in Store().snapshots()
        ],
    )


class ReviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, description="the party name as screened")
    entry_id: str = Field(min_length=1)
    decision: Literal["confirmed", "false_positive"]
    note: str = ""


class ReviewResult(BaseModel):
    query: str
    entry_id: str
    entry_name: str
    decision: str
    reviewer: str
    note: str
    decided_at: str
    snapshot_id: str


def review(req: ReviewRequest, *, reviewer: str) -> ReviewResult:
    """Record a reviewer's decision on a hit; later screens honour it."""
    d = screener().decide(req.name, req.entry_id, req.decision, reviewer=reviewer, note=req.note)
    return ReviewResult(
        query=d.query,
        entry_id=d.entry_id,
        entry_name=d.entry_name,
        decision=d.decision,
        reviewer=d.reviewer,
        note=d.note,
        decided_at=d.decided_at,
        snapshot_id=d.snapshot_id,
    )
