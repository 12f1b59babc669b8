"""Dated Country Group membership (15 CFR 740 Supp. 1) and AI Diffusion tiers, from countries.yaml."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

import pycountry

from chipex.errors import ChipexError
from chipex.rules.model import CountriesData

REGIMES = ("as-enforced", "as-printed")


@cache
def iso_code(value: str) -> str | None:
    """ISO 3166-1 alpha-2 for a code or an ISO name ('Hong Kong', 'cn'), via pycountry."""
    text = value.strip()
    if not text:
        return None
    if len(text) == 2 and pycountry.countries.get(alpha_2=text.upper()):
        return text.upper()
    try:
        return pycountry.countries.lookup(text).alpha_2
    except LookupError:
        pass
    try:
        found = pycountry.countries.search_fuzzy(text)
    except LookupError:
        return None
    return found[0].alpha_2 if len(found) == 1 else None


@dataclass(frozen=True)
class Countries:
    data: CountriesData

    def code(self, value: str) -> str | None:
        """ISO code for a code or a name, EAR spellings included ('Macau', 'Burma', 'Korea, South')."""
        folded = {k.lower(): v for k, v in self.data.names.items()}
        return folded.get(value.strip().lower()) or iso_code(value)

    def rule_country(self, code: str) -> str:
        """The country a destination counts as for these rules (Hong Kong -> China)."""
        same = self.data.same_as.get(code)
        return same.country if same else code

    def members(self, group: str, on: dt.date) -> frozenset[str]:
        g = self.data.groups.get(group)
        if g is None:
            raise ChipexError(f"unknown country group '{group}' (known: {', '.join(self.data.groups)})")
        members = set(g.members)
        for ch in g.changes:
            # members is the snapshot; undo changes that come after `on`, apply those before it
            # that postdate the snapshot.
            if ch.effective > on and ch.effective <= self.data.snapshot:
                (members.discard if ch.change == "add" else members.add)(ch.country)
            elif ch.effective <= on and ch.effective > self.data.snapshot:
                (members.add if ch.change == "add" else members.discard)(ch.country)
        return frozenset(members)

    def in_group(self, code: str, group: str, on: dt.date) -> bool:
        return self.rule_country(code) in self.members(group, on)

    def groups_of(self, code: str, on: dt.date) -> list[str]:
        c = self.rule_country(code)
        return [g for g in self.data.groups if c in self.members(g, on)]

    def tier(self, code: str, on: dt.date, regime: str = "as-printed") -> int | None:
        """AI Diffusion tier (1-3) on a date, or None when no tier applies (before it, or as enforced)."""
        t = self.data.tiers
        if on < t.effective or (regime == "as-enforced" and t.enforcement == "printed-not-enforced"):
            return None
        c = self.rule_country(code)
        if c in t.tier1:
            return 1
        if c in t.tier3 or any(c in self.members(g, on) for g in t.tier3_groups):
            return 3
        return 2

    def change_dates(self) -> list[dt.date]:
        dates = {ch.effective for g in self.data.groups.values() for ch in g.changes}
        return sorted(dates | {self.data.tiers.effective})
