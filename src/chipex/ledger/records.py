"""What the ledger takes and gives back: requests, resolved lines, headroom on a licence or cap,
outcomes, licences, recorded determinations and cap status rows. Plain values, no database."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chipex.errors import ChipexError
from chipex.ledger import audit
from chipex.ledger.caps import eccn_matches
from chipex.ledger.schema import SCALE


def party_key(name: str) -> str:
    """The key a party is counted under: case and spacing do not make a new consignee."""
    return " ".join(name.split()).casefold()


def scaled(x: Fraction) -> int:
    """An amount in 1/SCALE units, rounded up: a cap never counts less than was shipped."""
    return math.ceil(x * SCALE)


def num(x: Fraction) -> str:
    """Exact decimal text of an amount held at 1/SCALE precision."""
    return str(Decimal(x.numerator) / Decimal(x.denominator)) if x.denominator != 1 else str(x.numerator)


# --- requests and their resolution -----------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """One shipment line to reserve, or to ask the remaining quantity for.

    Give a catalog `item` with `units` (its TPP and ECCN are computed for the date), or `tpp` (the
    line's total) with `eccn` for an item the catalog does not hold.
    """

    destination: str
    consignee: str
    units: int | None = None
    item: str | None = None
    tpp: Decimal | int | str | None = None
    eccn: str | None = None
    on: dt.date | str | None = None
    licence: str | None = None
    authorization: str | None = None
    veu: str | None = None
    end_user: str | None = None


@dataclass(frozen=True)
class Line:
    """A request resolved against the catalog and the rules: what a reservation event records."""

    item: str | None
    item_name: str | None
    eccn: str | None
    units: int | None
    tpp: Fraction | None
    destination: str
    consignee: str
    end_user: str | None
    veu: str | None
    on: dt.date
    licence: str | None
    authorization: str

    def record(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "item_name": self.item_name,
            "eccn": self.eccn,
            "units": self.units,
            "tpp": None if self.tpp is None else num(self.tpp),
            "destination": self.destination,
            "consignee": self.consignee,
            "end_user": self.end_user,
            "veu": self.veu,
            "date": self.on.isoformat(),
            "licence": self.licence,
            "authorization": self.authorization,
        }

    def keys(self) -> dict[str, str | None]:
        """The allocation keys a cap may be counted per."""
        return {
            "destination": self.destination,
            "consignee": party_key(self.consignee),
            "end_user": party_key(self.end_user) if self.end_user else None,
            "veu": self.veu,
        }


@dataclass(frozen=True)
class Headroom:
    """One quantity a line draws on: a licence's units or TPP, or a cap's allocation."""

    bucket: str
    title: str
    unit: str  # units | tpp
    limit: Fraction
    used: Fraction  # before this line
    requested: Fraction
    binding: bool
    on_exceed: str  # refuse | report
    citation: str
    confidence: str | None  # of the limit figure; None for a licence (the ledger's own record)
    why: str

    @property
    def remaining(self) -> Fraction:
        return self.limit - self.used

    @property
    def exceeds(self) -> bool:
        return self.used + self.requested > self.limit

    def refusal(self) -> str:
        left = max(self.remaining, Fraction(0))
        return f"{self.title}: {fmt_amount(left)} {self.unit} left of {fmt_amount(self.limit)}; this needs {fmt_amount(self.requested)}"

    def report(self) -> str:
        return (
            f"{self.title}: cumulative {fmt_amount(self.used + self.requested)} {self.unit} reaches "
            f"{fmt_amount(self.limit)} ({self.citation})"
        )

    def record(self) -> dict[str, Any]:
        return {
            "bucket": self.bucket,
            "title": self.title,
            "unit": self.unit,
            "limit": num(self.limit),
            "used": num(self.used),
            "amount": num(self.requested),
            "binding": self.binding,
            "on_exceed": self.on_exceed,
            "citation": self.citation,
            "confidence": self.confidence,
            "why": self.why,
        }

    @classmethod
    def from_record(cls, r: dict[str, Any]) -> Headroom:
        return cls(
            bucket=r["bucket"],
            title=r["title"],
            unit=r["unit"],
            limit=Fraction(r["limit"]),
            used=Fraction(r["used"]),
            requested=Fraction(r["amount"]),
            binding=r["binding"],
            on_exceed=r["on_exceed"],
            citation=r["citation"],
            confidence=r["confidence"],
            why=r["why"],
        )

    def to_dict(self) -> dict[str, Any]:
        return {**self.record(), "remaining": num(self.remaining), "exceeds": self.exceeds}


def fmt_amount(x: Fraction) -> str:
    """An amount for people: thousands separated, exact to the ledger's 1/SCALE (15,831.2)."""
    scaled_x = x * SCALE
    whole = scaled_x.numerator // scaled_x.denominator if scaled_x.denominator == 1 else round(scaled_x)
    return f"{Decimal(whole).scaleb(-3).normalize():,f}"


@dataclass(frozen=True)
class Outcome:
    """The answer to a reserve, ship or cancel: what happened and every quantity it drew on."""

    key: str
    status: str  # reserved | shipped | cancelled | returned | refused
    seq: int | None  # the event that recorded it (None when refused)
    line: dict[str, Any]
    draws: list[Headroom]
    refusals: list[str] = field(default_factory=list)
    reports: list[str] = field(default_factory=list)
    not_counted: list[str] = field(default_factory=list)
    replayed: bool = False  # the key was seen before: nothing new was recorded
    returned: int = 0  # units of a shipment that came back (status "returned")

    @property
    def ok(self) -> bool:
        return self.status != "refused"

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "status": self.status,
            "event": self.seq,
            "replayed": self.replayed,
            "returned": self.returned,
            "line": self.line,
            "draws": [d.to_dict() for d in self.draws],
            "refusals": self.refusals,
            "reports": self.reports,
            "not_counted": self.not_counted,
        }


# --- licences ----------------------------------------------------------------------------------


class LicenceSpec(BaseModel):
    """A licence as granted: who, what, where, when, and how much (units and/or TPP)."""

    model_config = ConfigDict(extra="forbid")

    number: str = Field(min_length=1, max_length=200)
    holder: str = Field(min_length=1)
    items: list[str] = Field([], description="catalog chips or systems; empty: any item")
    eccns: list[str] = Field([], description="ECCN paragraphs covered; empty: any")
    destinations: list[str] = Field(min_length=1)
    consignees: list[str] = []
    end_users: list[str] = []
    valid_from: dt.date
    valid_to: dt.date
    conditions: list[str] = []
    units: int | None = Field(None, gt=0)
    tpp: Decimal | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _sane(self) -> LicenceSpec:
        if self.units is None and self.tpp is None:
            raise ValueError("a licence grants a quantity: give units and/or tpp")
        if self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        return self


@dataclass(frozen=True)
class Licence:
    number: str
    holder: str
    items: list[str]
    eccns: list[str]
    destinations: list[str]
    consignees: list[str]
    end_users: list[str]
    valid_from: dt.date
    valid_to: dt.date
    conditions: list[str]
    units: int | None
    tpp: Fraction | None
    seq: int
    recorded_at: str
    recorded_by: str

    @classmethod
    def from_event(cls, ev: Any) -> Licence:
        p = audit.parse(ev.payload)
        return cls(
            number=p["number"],
            holder=p["holder"],
            items=p["items"],
            eccns=p["eccns"],
            destinations=p["destinations"],
            consignees=p["consignees"],
            end_users=p["end_users"],
            valid_from=dt.date.fromisoformat(p["valid_from"]),
            valid_to=dt.date.fromisoformat(p["valid_to"]),
            conditions=p["conditions"],
            units=p["units"],
            tpp=None if p["tpp"] is None else Fraction(p["tpp"]),
            seq=ev.seq,
            recorded_at=ev.at,
            recorded_by=ev.actor,
        )

    def quantities(self) -> list[tuple[str, Fraction]]:
        """(unit, granted) for each quantity the licence counts."""
        out = []
        if self.units is not None:
            out.append(("units", Fraction(self.units)))
        if self.tpp is not None:
            out.append(("tpp", self.tpp))
        return out

    def bucket(self, unit: str) -> str:
        return f"licence/{self.number}/{unit}"

    def headroom(self, used: dict[str, Fraction], line: Line | None = None) -> list[Headroom]:
        """Each granted quantity with what is used (and what `line` would draw)."""
        out = []
        for unit, granted in self.quantities():
            amount = None if line is None else (line.units if unit == "units" else line.tpp)
            requested = Fraction(amount or 0)
            out.append(
                Headroom(
                    bucket=self.bucket(unit),
                    title=f"licence {self.number}",
                    unit=unit,
                    limit=granted,
                    used=used.get(self.bucket(unit), Fraction(0)),
                    requested=requested,
                    binding=True,
                    on_exceed="refuse",
                    citation=f"licence {self.number} held by {self.holder}, valid {self.valid_from} to {self.valid_to}",
                    confidence=None,
                    why="a licence's quantity binds under every regime",
                )
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["tpp"] = None if self.tpp is None else num(self.tpp)
        return d

    def check(self, line: Line) -> None:
        """The licence's terms against a line; a mismatch is the user's error, named by field."""
        n = self.number
        if not self.valid_from <= line.on <= self.valid_to:
            raise ChipexError(
                f"{line.on} is outside licence {n}'s validity ({self.valid_from} to {self.valid_to})",
                field="date",
            )
        if self.units is not None and line.units is None:
            raise ChipexError(f"licence {n} is granted in units: give the number of units", field="units")
        if self.tpp is not None and line.tpp is None:
            raise ChipexError(
                f"licence {n} is granted in TPP: give a catalog item or the line's TPP", field="tpp"
            )
        if line.destination not in self.destinations:
            raise ChipexError(
                f"licence {n} does not cover {line.destination} (it covers {', '.join(self.destinations)})",
                field="destination",
            )
        if self.items and line.item not in self.items:
            raise ChipexError(
                f"licence {n} does not cover {line.item_name or 'this item'} (it covers {', '.join(self.items)})",
                field="item",
            )
        if self.eccns and not (line.eccn and any(eccn_matches(line.eccn, e) for e in self.eccns)):
            raise ChipexError(
                f"licence {n} covers {', '.join(self.eccns)}, not {line.eccn or 'an unclassified item'}",
                field="eccn",
            )
        if self.consignees and party_key(line.consignee) not in {party_key(c) for c in self.consignees}:
            raise ChipexError(
                f"licence {n} does not name consignee '{line.consignee}' ({'; '.join(self.consignees)})",
                field="consignee",
            )
        if self.end_users and not (
            line.end_user and party_key(line.end_user) in {party_key(e) for e in self.end_users}
        ):
            raise ChipexError(f"licence {n} names end users: {'; '.join(self.end_users)}", field="end_user")


@dataclass(frozen=True)
class Recorded:
    key: str
    seq: int
    replayed: bool  # the key was recorded before: nothing new was recorded
    existing: str | None = field(default=None, compare=False, repr=False)  # then, the payload stored


@dataclass(frozen=True)
class CapRow:
    """One line of `ledger caps`: a cap's allocation for one key and period on a date."""

    cap: str
    title: str
    key: str | None
    period: str | None
    limit: Fraction | None
    used: Fraction | None
    binding: bool
    why: str
    applies: bool
    note: str
    on_exceed: str
    citation: str
    confidence: str
    limit_confidence: str | None
    limit_source: str | None
    h100e_tpp: Fraction

    @property
    def remaining(self) -> Fraction | None:
        return None if self.limit is None or self.used is None else self.limit - self.used

    def to_dict(self) -> dict[str, Any]:
        def opt(x: Fraction | None) -> str | None:
            return None if x is None else num(x)

        def h100e(x: Fraction | None) -> float | None:
            return None if x is None else round(float(x / self.h100e_tpp), 1)

        return {
            "cap": self.cap,
            "title": self.title,
            "key": self.key,
            "period": self.period,
            "unit": "tpp",
            "limit": opt(self.limit),
            "used": opt(self.used),
            "remaining": opt(self.remaining),
            "limit_h100e": h100e(self.limit),
            "used_h100e": h100e(self.used),
            "remaining_h100e": h100e(self.remaining),
            "binding": self.binding,
            "why": self.why,
            "applies": self.applies,
            "note": self.note,
            "on_exceed": self.on_exceed,
            "citation": self.citation,
            "confidence": self.confidence,
            "limit_confidence": self.limit_confidence,
            "limit_source": self.limit_source,
        }
