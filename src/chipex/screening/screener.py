"""The screening API: `Screener.screen(name, country)` -> hits, each explaining itself.

from chipex.screening import Screener
s = Screener()                          # current snapshot (the shipped 2026-07-31 list by default)
for hit in s.screen("Huawei Tech Co", country="CN"):
    print(hit.score, hit.list, hit.matched_name, hit.license_requirement, hit.citation)
s.screen_many([("Sugon", "CN"), ("Sugon", "CN"), ("ACME GmbH", "DE")])  # each distinct party once
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pycountry

from chipex.errors import ChipexError
from chipex.limits import MAX_NAME_LENGTH
from chipex.screening.checks import entry_hash
from chipex.screening.index import Index, load_index
from chipex.screening.lists import Entry, list_info
from chipex.screening.match import THRESHOLD, Feature, compare
from chipex.screening.normalize import Name, normaliser, split_aliases
from chipex.screening.store import Decision, Store, StoredSnapshot

CANDIDATES = 20  # names scored per query after the index's pre-ranking
# names whose pre-score (exact and near words, IDF-weighted) is under this share of the threshold are not
# scored: the scorer's compounds and phonetics do not lift a name that far (checked on both labelled sets)
PREFILTER = 0.6
HAN_SOURCE_NOTE = "the Han name is chipex's (han_names.yml, confidence from-memory), not the list's: the CSL gives Latin names"
# when scores tie, the list with the heavier consequence for an export first
_LIST_ORDER = {
    code: i for i, code in enumerate(("EL", "MEU", "DPL", "UVL", "SDN", "ISN", "DTC", "SSI", "CAP"))
}


@dataclass(frozen=True)
class Hit:
    """One listed entry that matches a screened party."""

    query: str
    score: float
    matched_name: str  # the listed name or alias that matched
    matched_alias: bool
    entry_id: str
    entry_name: str
    list: str  # EL, MEU, UVL, DPL, SDN, ...
    list_name: str
    countries: tuple[str, ...]
    license_requirement: str
    license_policy: str
    license_basis: str  # "entry" (the list's own text) or "list-level" (chipex's summary of the list)
    citation: str  # Federal Register notice(s) of the entry; the list's regulation when it has none
    regulation: str  # the list's legal basis (CFR)
    snapshot_id: str
    features: tuple[Feature, ...]
    decision: str | None = None  # a reviewer's "confirmed" / "false_positive" for this party and entry

    def to_dict(self) -> dict:
        return {
            "query": self.query,
            "score": round(self.score, 4),
            "matched_name": self.matched_name,
            "matched_alias": self.matched_alias,
            "entry_id": self.entry_id,
            "entry_name": self.entry_name,
            "list": self.list,
            "list_name": self.list_name,
            "countries": list(self.countries),
            "license_requirement": self.license_requirement,
            "license_policy": self.license_policy,
            "license_basis": self.license_basis,
            "citation": self.citation,
            "regulation": self.regulation,
            "snapshot_id": self.snapshot_id,
            "decision": self.decision,
            "features": [f.to_dict() for f in self.features],
        }


@dataclass(frozen=True)
class MatchResult:
    """`chipex match`: two names scored directly."""

    a: str
    b: str
    score: float
    match: bool
    threshold: float
    features: tuple[Feature, ...] = field(default=())

    def to_dict(self) -> dict:
        return {
            "a": self.a,
            "b": self.b,
            "score": round(self.score, 4),
            "match": self.match,
            "threshold": self.threshold,
            "features": [f.to_dict() for f in self.features],
        }


def country_code(value: str | None) -> str | None:
    """ISO 3166 alpha-2 from a code or a name ("CN", "CHN", "China"); None for none; an error if unknown."""
    if value is None or not value.strip():
        return None
    v = value.strip()
    region = pycountry.subdivisions.get(code=v.upper()) if "-" in v else None
    if region is not None:  # an ISO 3166-2 region (UA-43 Crimea, 746.6): lists name its country
        return region.country_code
    try:
        c = pycountry.countries.lookup(v)
    except LookupError:
        raise ChipexError(
            f"unknown country '{value}' (use an ISO 3166 code such as CN)", field="country"
        ) from None
    return c.alpha_2


def bounded(name: str) -> str:
    """The name, or a ChipexError if it is longer than MAX_NAME_LENGTH (chipex.limits)."""
    if len(name) > MAX_NAME_LENGTH:
        raise ChipexError(
            f"party name of {len(name):,} characters is longer than the {MAX_NAME_LENGTH:,} allowed",
            field="name",
        )
    return name


def query_key(n: Name) -> str:
    """The key a reviewer decision is stored under: the normalised party name."""
    return " ".join(n.tokens) + (f"|{n.han}" if n.han else "")


def list_age_warning(source_date: date, on: date, max_age_days: int) -> str | None:
    """A warning when the list is more than `max_age_days` older than the day screened for."""
    age = (on - source_date).days
    if age > max_age_days:
        return (
            f"list snapshot of {source_date.isoformat()} is {age} days old on {on.isoformat()} "
            f"(more than {max_age_days}); update it with 'chipex lists update'"
        )
    return None


class Screener:
    """Screens parties against one list snapshot: by default the newest accepted one in CHIPEX_HOME
    (the list shipped with chipex if none was loaded); with `as_of`, the one in force on that date
    (the latest dated on or before it). Reviewer decisions from the store are honoured on every call,
    as long as the entry they were made on has not changed."""

    def __init__(
        self,
        *,
        home: Path | None = None,
        threshold: float = THRESHOLD,
        list_file: Path | None = None,
        list_date: date | None = None,
        as_of: date | None = None,
        snapshot: StoredSnapshot | None = None,
    ) -> None:
        self.store = Store(home)
        self.threshold = threshold
        self.notes: list[str] = []  # how the snapshot was chosen, when that needs saying
        if list_file is not None:
            path, when, source = list_file, list_date or date.today(), str(list_file)
        else:
            if snapshot is None and as_of is not None:
                snapshot, note = self.store.in_force(as_of)
                self.notes += [note] if note else []
            snap = snapshot or self.store.current()
            path, when, source = snap.path, snap.source_date, snap.source
        self.index: Index = load_index(path, when, source, self.store.dir / "cache")
        self._norm = normaliser()
        self._decisions = self.store.decisions()
        self._hashes: dict[str, str] = {}

    def warnings(self, on: date | None = None, max_age_days: int = 7) -> list[str]:
        """What a result screened for `on` (today by default) must say about its list."""
        stale = list_age_warning(self.source_date, on or date.today(), max_age_days)
        return [*self.notes, *([stale] if stale else [])]

    def entry(self, entry_id: str) -> Entry | None:
        """The snapshot's entry with this id."""
        if not hasattr(self, "_by_id"):
            self._by_id = {e.id: e for e in self.index.entries}
        return self._by_id.get(entry_id)

    def entry_hash(self, entry: Entry) -> str:
        if entry.id not in self._hashes:
            self._hashes[entry.id] = entry_hash(entry)
        return self._hashes[entry.id]

    def _decision(self, key: str, entry: Entry) -> tuple[Decision | None, Decision | None]:
        """(the decision in effect, a decision no longer in effect because its entry changed)."""
        d = self._decisions.get((key, entry.id))
        if d is None or not d.entry_hash or d.entry_hash == self.entry_hash(entry):
            return d, None
        return None, d

    # --- snapshot ----------------------------------------------------------------------------------
    @property
    def snapshot_id(self) -> str:
        return self.index.snapshot_id

    @property
    def source_date(self) -> date:
        return date.fromisoformat(self.index.source_date)

    @property
    def counts(self) -> dict[str, int]:
        return dict(self.index.counts)

    # --- screening ---------------------------------------------------------------------------------
    def screen(
        self,
        name: str,
        country: str | None = None,
        *,
        address: str | None = None,
        include_suppressed: bool = False,
        threshold: float | None = None,
    ) -> list[Hit]:
        """Every listed entry matching `name` at or above the threshold (or confirmed by a reviewer), best
        first. `country` (ISO code or name) raises or lowers scores; entries a reviewer marked
        false_positive for this party are left out unless `include_suppressed`. `threshold` overrides the
        screener's for this call (the ownership rules look for weak resemblances)."""
        bar = self.threshold if threshold is None else threshold
        q = self._norm.name(bounded(name))
        cc = country_code(country)
        if q.empty:
            return []
        key = query_key(q)
        ix = self.index
        best: dict[int, tuple[float, int, list[Feature]]] = {}
        for nid in ix.candidates(q, CANDIDATES, PREFILTER * bar):
            ei = ix.name_entry[nid]
            entry = ix.entries[ei]
            score, feats = compare(q, ix.name(nid), ix, cc, entry.countries)
            if address and entry.addresses:
                score, feats = _address(address, entry, score, feats)
            if ei not in best or score > best[ei][0]:
                best[ei] = (score, nid, feats)
        for (k, entry_id), d in self._decisions.items():  # confirmed hits are reported whatever they score
            if (
                k == key
                and d.decision == "confirmed"
                and not any(ix.entries[ei].id == entry_id for ei in best)
            ):
                for ei, e in enumerate(ix.entries):
                    if e.id == entry_id and self._decision(key, e)[0] is not None:
                        nid = ix.name_entry.index(ei)
                        best[ei] = (0.0, nid, [])
        hits = []
        for ei, (score, nid, feats) in best.items():
            entry = ix.entries[ei]
            decision, lapsed = self._decision(key, entry)
            verdict = decision.decision if decision else None
            if verdict == "false_positive" and not include_suppressed:
                continue
            if score < bar and verdict != "confirmed":
                continue
            if self.index.name_rows[nid][0] in entry.han_names:
                feats = [*feats, Feature("han_source", 1.0, "none", HAN_SOURCE_NOTE)]
            if decision:
                feats = [
                    *feats,
                    Feature(
                        "decision",
                        1.0 if verdict == "confirmed" else 0.0,
                        "reported" if verdict == "confirmed" else "suppressed",
                        f"{verdict} by {decision.reviewer} on {decision.decided_at[:10]}"
                        + (f": {decision.note}" if decision.note else ""),
                    ),
                ]
            if lapsed:
                feats = [
                    *feats,
                    Feature(
                        "decision",
                        0.5,
                        "reopened",
                        f"{lapsed.decision} by {lapsed.reviewer} on {lapsed.decided_at[:10]} no longer "
                        "applies: the entry changed since (review again)",
                    ),
                ]
            hits.append(self._hit(name, score, nid, entry, feats, verdict))
        hits.sort(key=lambda h: (-h.score, _LIST_ORDER.get(h.list, 99), h.entry_name))
        return hits

    def screen_many(
        self,
        parties: Iterable[tuple[str, str | None] | str],
        *,
        progress: Callable[[int], None] | None = None,
    ) -> list[list[Hit]]:
        """Hits for each party (name, or (name, country)), in input order; each distinct party is
        screened once (same normalised name and country), however often it appears."""
        memo: dict[tuple[str, str | None], list[Hit]] = {}
        out: list[list[Hit]] = []
        for p in parties:
            name, country = (p, None) if isinstance(p, str) else p
            k = (query_key(self._norm.name(name)), country_code(country))
            if k not in memo:
                memo[k] = self.screen(name, country)
            out.append(memo[k])
            if progress:
                progress(1)
        return out

    def match(self, a: str, b: str) -> MatchResult:
        """Score two names directly (b plays the listed name), with the same features as screening."""
        qa = self._norm.name(a)
        parts = split_aliases(b)  # b as the index would hold it: each name it writes, and all of it
        score, feats = max(
            (compare(qa, self._norm.name(p), self.index) for p in dict.fromkeys([b, *parts])),
            key=lambda x: x[0],
        )
        return MatchResult(a, b, score, score >= self.threshold, self.threshold, tuple(feats))

    def decide(self, name: str, entry_id: str, decision: str, *, reviewer: str, note: str = "") -> Decision:
        """Record a reviewer's decision on (party, entry); later screens honour it."""
        found = [e for e in self.index.entries if e.id == entry_id] or [
            e for e in self.index.entries if len(entry_id) >= 8 and e.id.startswith(entry_id)
        ]
        if len(found) != 1:
            problem = "no entry" if not found else f"{len(found)} entries match"
            raise ChipexError(f"{problem} '{entry_id}' in snapshot {self.snapshot_id}", field="entry_id")
        entry = found[0]
        q = self._norm.name(bounded(name))
        if q.empty:
            raise ChipexError("the party name is empty after normalisation", field="name")
        d = Decision(
            query_key(q),
            entry.id,
            decision,
            name,
            entry.name,
            self.snapshot_id,
            reviewer,
            note,
            datetime.now(UTC).isoformat(timespec="seconds"),
            self.entry_hash(entry),
        )
        self.store.decide(d)
        self._decisions = self.store.decisions()
        return d

    def _hit(
        self, query: str, score: float, nid: int, e: Entry, feats: Sequence[Feature], verdict: str | None
    ) -> Hit:
        info = list_info().get(e.list, {})
        own = bool(e.license_requirement or e.license_policy)
        return Hit(
            query=query,
            score=score,
            matched_name=self.index.name_rows[nid][0],
            matched_alias=bool(self.index.name_is_alias[nid]),
            entry_id=e.id,
            entry_name=e.name,
            list=e.list,
            list_name=e.source,
            countries=e.countries,
            license_requirement=e.license_requirement if own else info.get("license_requirement", ""),
            license_policy=e.license_policy if own else info.get("license_policy", ""),
            license_basis="entry" if own else "list-level",
            citation=e.federal_register_notice or info.get("citation", ""),
            regulation=info.get("citation", ""),
            snapshot_id=self.snapshot_id,
            features=tuple(feats),
            decision=verdict,
        )


def _address(address: str, e: Entry, score: float, feats: list[Feature]) -> tuple[float, list[Feature]]:
    """Address as a qualifier: shared address words beyond the country raise the score a little."""
    norm = normaliser()
    q = set(norm.name(address).tokens)
    best = max((len(q & set(norm.name(a).tokens)) / len(q) for a in e.addresses), default=0.0) if q else 0.0
    if best >= 0.5:
        return min(1.0, score + 0.05), [
            *feats,
            Feature("address", best, "+0.05", f"{best:.0%} of the address words agree"),
        ]
    return score, feats
