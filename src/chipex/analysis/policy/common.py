"""Small helpers shared by the policy analyses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from fractions import Fraction

from chipex.catalog import Catalog
from chipex.catalog.model import Chip
from chipex.core.classify import Classification, parse_date
from chipex.errors import ChipexError
from chipex.rules import Rulebook

ECCN = "3A090"


def resolve_date(key: str, rulebook: Rulebook) -> tuple[dt.date, str]:
    """A date, or a rule version by id / name fragment (its effective date). Returns (date, label)."""
    try:
        return parse_date(key), key
    except ChipexError:
        v = rulebook.version(key)
        return v.effective, f"{v.id} ({v.name})"


def released(chip: Chip) -> dt.date | None:
    return chip.released.value if chip.released else None


def on_market(chip: Chip, on: dt.date) -> bool:
    """Released on or before `on`; a chip without a release date counts (it cannot be placed)."""
    r = released(chip)
    return r is None or r <= on


def ics(catalog: Catalog) -> Iterator[Chip]:
    """The integrated circuits of the catalog (not systems, not memory stacks)."""
    return (c for c in catalog if c.kind == "chip")


def tier(eccn: str | None) -> str | None:
    """'3A090.a.1' -> '3A090.a': the paragraph letter decides the licensing tier."""
    return None if eccn is None else ".".join(eccn.split(".")[:2])


def strictness(eccn: str | None, order: list[str]) -> int:
    """0 for uncontrolled; higher for tiers listed earlier in the text (.a before .b)."""
    t = tier(eccn)
    if t is None:
        return 0
    tiers = list(dict.fromkeys(tier(p) for p in order))
    return len(tiers) - tiers.index(t) if t in tiers else 1


def controlled(c: Classification) -> bool:
    return c.eccn is not None or bool(c.other_requirements)


def fmt(v: Fraction | float | bool | str | None, digits: int = 2) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool | str):
        return str(v).lower()
    f = float(v)
    if abs(f) >= 100 or f == int(f):
        return f"{f:,.0f}"
    return f"{f:,.{digits}f}"
