"""The rulebook: the dated legal texts chipex applies, loaded from the YAML files in this folder.

Where a rule lives: `timeline.yaml` (every rule version with its Federal Register citation),
`eccn/3A090.yaml` and `eccn/4A090.yaml` (the thresholds), `is_informed.yaml` (letters to companies),
and the licence rules in the files of LICENSING_FILES below.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from chipex.datafiles import read_yaml, validate
from chipex.errors import ChipexError
from chipex.rules.alerts import Warnings
from chipex.rules.countries import Countries
from chipex.rules.flags import Hubs, RedFlags
from chipex.rules.foundry import Foundry
from chipex.rules.jurisdiction import Jurisdiction
from chipex.rules.model import (
    CountriesData,
    Eccn,
    Letter,
    Licensing,
    LicensingPart,
    Scope,
    ScopeEntry,
    Version,
)

RULES_DIR = Path(__file__).parent

# The licence rules, in the order their policies are tried (the first policy that matches a line
# gives its review policy): embargoes (15 CFR part 746), then the 744.23(a)(1)/(a)(2)/(a)(4) end
# uses (their 744.23(d) presumption of denial governs a line they fire on, before the 742.6(b)
# policies and the catch-all default), then the advanced-computing rules. Only licensing.yaml is required.
LICENSING_FILES = ("embargoes.yaml", "end_uses.yaml", "licensing.yaml")


@dataclass(frozen=True)
class Rulebook:
    versions: tuple[Version, ...]
    eccns: dict[str, Eccn]
    letters: tuple[Letter, ...]
    countries: Countries
    licensing: Licensing
    red_flags: RedFlags  # red_flags.yaml: inquiries, never a licence decision
    hubs: Hubs  # hubs.yaml: dated transshipment-hub events
    warnings: Warnings  # warnings.yaml: shown with an item, never a decision
    jurisdiction: Jurisdiction  # jurisdiction.yaml: is the item subject to the EAR
    foundry: Foundry  # foundry.yaml: Note 1 to 3A090.a transistor-count levels
    scope: tuple[ScopeEntry, ...] = ()  # scope.yaml: what every answer checked and did not

    def version_on(self, on: dt.date) -> Version | None:
        """The latest rule version in force on a date (None before the first)."""
        current = None
        for v in self.versions:
            if v.effective <= on:
                current = v
        return current

    def version(self, key: str) -> Version:
        """A version by id, name fragment or date (the version in force on that date)."""
        for v in self.versions:
            if key == v.id:
                return v
        try:
            on = dt.date.fromisoformat(key)
        except ValueError:
            matches = [v for v in self.versions if key.lower() in v.name.lower()]
            if len(matches) == 1:
                return matches[0]
            raise ChipexError(
                f"unknown rule version '{key}' (ids: {', '.join(v.id for v in self.versions)})"
            ) from None
        found = self.version_on(on)
        if found is None:
            raise ChipexError(f"no rule version in force on {key}; the first is {self.versions[0].id}")
        return found


def load_raw(rules_dir: Path = RULES_DIR) -> dict[str, Any]:
    """Every rule file's parsed YAML, keyed by its path relative to the rules folder.

    Reforms (what-if overlays) edit this raw form; `build_rulebook` then validates the result, so a
    bad reform fails before anything is answered.
    """
    return {
        path.relative_to(rules_dir).as_posix(): read_yaml(path)
        for path in sorted(rules_dir.rglob("*.yaml"))
        if path.relative_to(rules_dir).parts[0] != "reforms"  # shipped what-if examples, not law
    }


def _records(raw: dict[str, Any], name: str, model, key: str) -> list:
    data = raw.get(name)
    if not isinstance(data, dict) or key not in data:
        raise ChipexError(f"expected a top-level '{key}' list", file=name)
    return [validate(model, rec, file=name, record=i + 1) for i, rec in enumerate(data[key])]


def _licensing(raw: dict[str, Any]) -> Licensing:
    """The licensing files merged into one Licensing (each file validated under its own name)."""
    if "licensing.yaml" not in raw:
        raise ChipexError("missing", file="licensing.yaml")
    parts = [(n, validate(LicensingPart, raw[n], file=n)) for n in LICENSING_FILES if n in raw]
    party_lists = [p.party_lists for _, p in parts if p.party_lists is not None]
    if len(party_lists) != 1:
        raise ChipexError("party_lists must be given once, in licensing.yaml", file="licensing.yaml")
    merged = {
        kind: [rule.model_dump(by_alias=True) for _, p in parts for rule in getattr(p, kind)]
        for kind in ("requirements", "exceptions", "policies")
    }
    names = ", ".join(n for n, _ in parts)
    return validate(Licensing, {**merged, "party_lists": party_lists[0].model_dump()}, file=names)


def build_rulebook(raw: dict[str, Any]) -> Rulebook:
    versions = _records(raw, "timeline.yaml", Version, "versions")
    if [v.effective for v in versions] != sorted(v.effective for v in versions):
        raise ChipexError("versions must be in date order", file="timeline.yaml")
    eccns = {}
    for name in sorted(n for n in raw if n.startswith("eccn/")):
        eccn = validate(Eccn, raw[name], file=name)
        eccns[eccn.eccn] = eccn
    letters = _records(raw, "is_informed.yaml", Letter, "letters")
    known = {v.id for v in versions}
    for i, letter in enumerate(letters):
        if letter.version not in known:
            raise ChipexError(
                f"unknown version '{letter.version}'", file="is_informed.yaml", record=i + 1, field="version"
            )
    countries = Countries(validate(CountriesData, raw.get("countries.yaml"), file="countries.yaml"))
    licensing = _licensing(raw)
    red_flags = validate(RedFlags, raw.get("red_flags.yaml"), file="red_flags.yaml")
    hubs = validate(Hubs, raw.get("hubs.yaml"), file="hubs.yaml")
    scope = validate(Scope, raw.get("scope.yaml"), file="scope.yaml")
    warnings = validate(Warnings, raw.get("warnings.yaml", {}), file="warnings.yaml")
    jurisdiction = validate(Jurisdiction, raw.get("jurisdiction.yaml"), file="jurisdiction.yaml")
    foundry = validate(Foundry, raw.get("foundry.yaml"), file="foundry.yaml")
    return Rulebook(
        tuple(versions),
        eccns,
        tuple(letters),
        countries,
        licensing,
        red_flags,
        hubs,
        warnings,
        jurisdiction,
        foundry,
        tuple(scope.entries),
    )


def load_rulebook(rules_dir: Path = RULES_DIR) -> Rulebook:
    return build_rulebook(load_raw(rules_dir))


_reforms: tuple[Path, ...] = ()


def use_reforms(paths: list[Path]) -> None:
    """Make `default_rulebook()` return the rulebook with these reform files applied (validated now)."""
    global _reforms
    from chipex.rules.reform import apply_reforms

    apply_reforms(load_raw(), paths)
    _reforms = tuple(paths)
    default_rulebook.cache_clear()


def active_reforms() -> tuple[Path, ...]:
    return _reforms


@cache
def default_rulebook() -> Rulebook:
    if _reforms:
        from chipex.rules.reform import apply_reforms

        return build_rulebook(apply_reforms(load_raw(), _reforms))
    return load_rulebook()
