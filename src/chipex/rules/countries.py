"""Dated Country Group membership (15 CFR 740 Supp. 1) and AI Diffusion tiers, from countries.yaml."""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass
from functools import cache, cached_property

import pycountry

from chipex.errors import ChipexError
from chipex.rules.model import CountriesData

REGIMES = ("as-enforced", "as-printed")


@cache
def _iso_index() -> dict[str, str]:
    """ISO 3166-1 alpha-2 and alpha-3 codes and the ISO name, official name and common name of every
    country, case-folded, to alpha-2 (exact spellings only: no fuzzy matching, issue 11)."""
    out: dict[str, str] = {"xk": "XK", "xkx": "XK"}  # Kosovo: user-assigned code, used by BIS
    for c in pycountry.countries:
        for attr in ("alpha_2", "alpha_3", "name", "official_name", "common_name"):
            v = getattr(c, attr, None)
            if v:
                out[v.casefold()] = c.alpha_2
    return out


@cache
def iso_code(value: str) -> str | None:
    """ISO 3166-1 alpha-2 for a code or an exact ISO name ('Hong Kong', 'cn', 'CHN'), else None."""
    text = " ".join(value.split())
    return _iso_index().get(text.casefold()) if text else None


@dataclass(frozen=True)
class Countries:
    data: CountriesData

    def code(self, value: str) -> str | None:
        """ISO code (or EAR region code) for a code or a name; None when unknown or ambiguous."""
        return self.resolve(value)[0]

    def resolve(self, value: str) -> tuple[str | None, str | None]:
        """(code, None) or (None, why not): ISO alpha-2/alpha-3 codes, exact ISO names, the EAR
        spellings and region codes of countries.yaml; a name that could mean several countries is an
        error listing them, never a guess (issue 11: no fuzzy matching)."""
        text = " ".join(value.split())
        key = text.casefold()
        amb, regions, folded = self._spellings
        if key in amb:
            shown = ", ".join(f"{c} ({self.label(c)})" for c in amb[key])
            return None, f"ambiguous country '{text}': could be {shown}; give the ISO code"
        found = regions.get(key) or folded.get(key) or iso_code(text)
        if found:
            return found, None
        near = difflib.get_close_matches(key, [*folded, *_iso_index()], n=3, cutoff=0.85)
        hint = f"; close: {', '.join(near)}" if near else ""
        return None, f"unknown country '{text}' (use an ISO 3166 code, an ISO name or an EAR name{hint})"

    @cached_property
    def _spellings(self) -> tuple[dict[str, list[str]], dict[str, str], dict[str, str]]:
        """countries.yaml's ambiguous names, region codes and EAR names, case-folded (built once)."""
        return (
            {k.casefold(): v for k, v in self.data.ambiguous.items()},
            {r.casefold(): r for r in self.data.regions},
            {k.casefold(): v for k, v in self.data.names.items()},
        )

    def label(self, code: str) -> str:
        region = self.data.regions.get(code)
        if region:
            return region.name
        c = pycountry.countries.get(alpha_2=code)
        return (getattr(c, "common_name", None) or c.name) if c else code

    def region_codes(self) -> list[str]:
        """The EAR's separately treated regions (15 CFR 746.6), as destination codes."""
        return sorted(self.data.regions)

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
