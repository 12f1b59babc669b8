"""The 50% ownership rules (rules/affiliates.yaml): is a party covered because listed parties own it?

Coverage propagates (OFAC FAQ 401, and the Affiliates rule's "or by entities subject to the Affiliates
rule"): starting from the listed owners, an entity becomes covered when the stakes held in it by covered
parties add up to the threshold or more; repeated to a fixed point, so chains of any length and cycles
are handled (a cycle of unlisted entities covers nothing by itself). Percentages are exact Decimals. The
answer names the listed owner(s), each ownership path with its percentages and sources, and the
look-through share (stakes multiplied along each path, added over paths) for information.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from chipex.datafiles import read_yaml
from chipex.rules import RULES_DIR
from chipex.screening.lists import Entry, list_info
from chipex.screening.ownership import Edge

if TYPE_CHECKING:
    from chipex.screening.screener import Screener

Confidence = str
# the more restrictive consequence first (several listed owners: the most restrictive applies)
_ORDER = ("EL", "MEU", "SDN", "DPL")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Suspension(_Strict):
    from_: date = Field(alias="from")
    until: date
    citation: str
    source: str
    confidence: Confidence


class OwnershipRule(_Strict):
    id: str
    name: str
    paragraph: str
    text: str
    citation: str
    source: str
    confidence: Confidence
    effective: date
    threshold: Decimal
    owner_lists: list[str]
    sdn_programs: list[str] = []
    sdn_programs_confidence: Confidence | None = None
    suspensions: list[Suspension] = []

    def suspended(self, on: date) -> Suspension | None:
        return next((s for s in self.suspensions if s.from_ <= on <= s.until), None)

    def in_force(self, on: date, regime: str) -> bool:
        return on >= self.effective and not (regime == "as-enforced" and self.suspended(on))

    def owner_counts(self, e: Entry) -> bool:
        """Does a listed entry count as an owner under this rule?"""
        if e.list not in self.owner_lists:
            return False
        if e.list == "SDN" and self.sdn_programs:
            return any(p in e.programs.replace("[", " ").replace("]", " ").split() for p in self.sdn_programs)
        return True


class AffiliatesData(_Strict):
    rules: list[OwnershipRule]
    weak_match: float


@cache
def rules_data() -> AffiliatesData:
    return AffiliatesData.model_validate(read_yaml(RULES_DIR / "affiliates.yaml"))


@dataclass(frozen=True)
class Root:
    """A listed owner: the graph's name for it and the list entry it is."""

    name: str
    entry: Entry
    score: float


@dataclass
class Coverage:
    rule: OwnershipRule
    party: str
    roots: list[Root]
    paths: list[list[Edge]]
    direct: Decimal  # stakes of covered owners in the party itself
    look_through: Decimal  # product along each path, summed (information only)

    @property
    def governing(self) -> Root:
        """The most restrictive listed owner (list order, then a denial policy first)."""
        return min(self.roots, key=lambda r: (_ORDER.index(r.entry.list) if r.entry.list in _ORDER else 9,
                                              "denial" not in r.entry.license_policy.lower()))  # fmt: skip

    def describe(self) -> str:
        g = self.governing
        pct = _pct
        paths = "; ".join(
            f"'{p[0].owner}' -> "
            + " -> ".join(f"{e.percent}% [{e.source}, as of {e.as_of}] '{e.owned}'" for e in p)
            for p in self.paths
        )
        return (
            f"'{self.party}' is {pct(self.direct)}% owned by covered parties (threshold {pct(self.rule.threshold)}%; "
            f"look-through {pct(self.look_through)}%): {self.rule.name}, {self.rule.citation}; listed owner "
            f"{g.entry.list} '{g.entry.name}' ({g.entry.federal_register_notice or list_info().get(g.entry.list, {}).get('citation', '')}); "
            f"paths: {paths}"
        )


def _pct(d: Decimal) -> str:
    return format(d.normalize(), "f")


@dataclass
class Graph:
    """Ownership edges keyed by the normalised names (or entry ids) of owner and owned."""

    screener: Screener
    edges: list[Edge]
    into: dict[str, list[Edge]] = field(default_factory=dict)
    _roots: dict[str, Root | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for e in self.edges:
            self.into.setdefault(self.key(e.owned), []).append(e)

    def key(self, name: str) -> str:
        if self.screener.entry(name) is not None:
            return "id:" + name
        from chipex.screening.screener import query_key

        return query_key(self.screener._norm.name(name))

    def listed(self, name: str) -> Root | None:
        """The list entry an owner name or id stands for (a strong match), if any."""
        k = self.key(name)
        if k not in self._roots:
            root = None
            if (e := self.screener.entry(name)) is not None:
                root = Root(name, e, 1.0)
            else:
                hits = self.screener.screen(name)
                if hits:
                    root = Root(name, self.screener.entry(hits[0].entry_id), hits[0].score)
            self._roots[k] = root
        return self._roots[k]

    def has_owners(self, party: str) -> bool:
        return bool(self.into.get(self.key(party)))

    def coverage(self, party: str, rule: OwnershipRule) -> Coverage | None:
        target = self.key(party)
        names: dict[str, str] = {}
        ancestors, stack = set(), [target]
        while stack:
            for e in self.into.get(stack.pop(), []):
                k = self.key(e.owner)
                names[k] = e.owner
                if k not in ancestors and k != target:
                    ancestors.add(k)
                    stack.append(k)
        roots = {k: r for k in ancestors if (r := self.listed(names[k])) and rule.owner_counts(r.entry)}
        covered: set[str] = set(roots)
        via: dict[str, list[Edge]] = {}
        changed = True
        while changed:
            changed = False
            for k in (*sorted(ancestors), target):
                if k in covered:
                    continue
                contrib = [e for e in self.into.get(k, []) if self.key(e.owner) in covered]
                if contrib and sum(e.percent for e in contrib) >= rule.threshold:
                    covered.add(k)
                    via[k] = contrib
                    changed = True
        if target not in via:
            return None

        def paths(k: str) -> list[list[Edge]]:
            out = []
            for e in via[k]:
                o = self.key(e.owner)
                out += [[e]] if o in roots else [[*p, e] for p in paths(o)]
            return out

        ps = paths(target)
        share = Decimal(0)
        for p in ps:
            f = Decimal(100)
            for e in p:
                f = f * e.percent / 100
            share += f
        used = {self.key(p[0].owner) for p in ps}
        return Coverage(rule, party, [roots[k] for k in sorted(used)], ps,
                        sum((e.percent for e in via[target]), Decimal(0)), share)  # fmt: skip
