"""Exposure windows: the dated intervals in which a chip could ship to a destination without a licence,
and the compute delivered inside them.

The licence decision is the order checker's (`chipex.orders.check_book`): chipex writes one order
book with a line per chip and per date on which any rule, letter or country group changes (the
order engine's own periods; within a period nothing changes), runs it once, and reads the windows
off the answers. A window closed by an is-informed letter also shows the date on which the rule
itself would have closed it (H800: letter 2023-10-23, rule 2023-11-17).

Compute delivered: estimated shipments (a sourced file) spread evenly over their period, the part
inside each window counted, in H100-equivalents on a TPP basis (chip TPP / H100 SXM TPP).

What a window counts (COUNTS): only items subject to the EAR have US licence-free windows, and a
window starts at the later of the chip's release and the first control that could reach it: the
is-informed letter to its vendor (NVIDIA, AMD: 2022-08-26) or the first general rule (2022-10-07).
Before that date nothing was controlled, so there was no window to close: the A100's pre-control
years (2020-05-14 to 2022-08-26) are sales, not a loophole. A Chinese-designed chip (Ascend, Biren,
Cambricon, Moore Threads) sold in China is not a US export: it has no window, and is listed as
excluded with the reason. Whether the foreign direct product rule (15 CFR 734.9(h)) reaches a
TSMC-made Ascend die is the order checker's jurisdiction step, not a window.
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chipex.catalog import Catalog
from chipex.catalog.model import Chip
from chipex.core.classify import measure
from chipex.core.metrics import as_float, h100_equivalents
from chipex.datafiles import read_yaml, validate
from chipex.orders import check_book
from chipex.orders.tables import Periods
from chipex.rules import Rulebook

from .common import ics, released

SHIPMENTS_FILE = Path(__file__).parent / "data" / "shipments.yaml"
COUNTS = (
    "licence-free windows of items subject to the EAR (US-designed: the catalog's designer_country, "
    "else an interim table of vendor headquarters), from the later of the chip's release and "
    "the first control that could reach it (its vendor's is-informed letter, else the first general rule), "
    "until the first date a licence is required; compute = estimated shipments inside the window, H100e on TPP"
)
# INTERIM (marked): designer country from the vendor's headquarters, used only when the catalog has
# no `designer_country` yet (the catalog issue adds it). Huawei (Shenzhen), Cambricon (Beijing),
# Biren (Shanghai), Moore Threads (Beijing): company websites / annual reports; every other catalog
# vendor (NVIDIA, AMD, Intel, Google, AWS) is headquartered in the US.
VENDOR_COUNTRY_INTERIM = {"huawei": "CN", "cambricon": "CN", "biren": "CN", "moore threads": "CN"}
REFERENCE = "nvidia-h100-sxm"
DAY = dt.timedelta(days=1)


class Shipment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chip: str
    destination: str
    start: dt.date
    end: dt.date
    units: int = Field(ge=0)
    low: int | None = None
    high: int | None = None
    source: str = Field(min_length=3)
    confidence: str
    mark: str | None = None
    note: str | None = None


class ShipmentFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shipments: list[Shipment]


def load_shipments(path: Path = SHIPMENTS_FILE, catalog: Catalog | None = None) -> list[Shipment]:
    data = validate(ShipmentFile, read_yaml(path), file=path)
    if catalog is not None:
        for i, s in enumerate(data.shipments):
            s.chip = catalog.get(s.chip).id  # forgiving names; an unknown chip names its record
            if s.end < s.start:
                from chipex.errors import ChipexError

                raise ChipexError("end before start", file=str(path), record=i + 1, field="end")
    return data.shipments


@dataclass
class Window:
    start: str
    end: str | None  # first day a licence is required (None: still open)
    closed_by: list[str]
    rule_close: str | None  # when a letter closed it: the date the regulation itself would have
    days: int
    units: float = 0.0
    units_low: float | None = None
    units_high: float | None = None
    h100e: float = 0.0
    sources: list[str] = field(default_factory=list)


@dataclass
class Exposure:
    chip: str
    chip_id: str
    destination: str
    released: str
    h100e_per_unit: float | None
    windows: list[Window]
    from_date: str = ""  # the later of the release and the first control that could reach it
    basis: str = ""  # why a US licence-free window is meaningful for it

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def h100e(self) -> float:
        return sum(w.h100e for w in self.windows)


def designer_country(chip: Chip) -> tuple[str, str]:
    """(ISO country, where the answer comes from): the catalog's field when it has one, else the
    interim vendor table."""
    field_value = getattr(chip, "designer_country", None)  # the catalog issue's field, when it lands
    if field_value is not None and getattr(field_value, "value", None):
        return str(field_value.value), "catalog designer_country"
    return VENDOR_COUNTRY_INTERIM.get(chip.vendor.lower(), "US"), "interim: vendor headquarters"


def subject_to_ear(chip: Chip) -> tuple[bool, str]:
    """Is a US licence-free window meaningful for this chip? (designer test; see COUNTS)"""
    country, basis = designer_country(chip)
    if country == "US":
        return True, f"US-designed ({basis}): US-origin or the direct product of US technology"
    return False, (
        f"designer headquartered in {country} ({basis}): a sale there is not a US export, so no US "
        "licence-free window; whether 15 CFR 734.9(h) reaches it is the jurisdiction step's question"
    )


def _elsewhere(when, destinations: list[str]) -> bool:
    """A requirement naming only countries (an embargo of part 746) none of the destinations is."""
    named = when.destination.any_of if when.destination else []
    return bool(destinations) and bool(named) and not any(":" in t or t in destinations for t in named)


def controls_start(
    chip: Chip, rulebook: Rulebook, regime: str, destinations: list[str] | None = None
) -> dt.date:
    """The first control that could reach the chip: its vendor's is-informed letter, else the first
    general licence requirement (listed-party requirements aside: they bind parties, not chips; and
    those of other destinations' embargoes)."""
    general = min(
        r.starts
        for r in rulebook.licensing.requirements
        if not (r.when.listed_party or r.when.affiliate_party)
        and regime in r.regimes
        and not _elsewhere(r.when, destinations or [])
    )
    letters = [x.effective for x in rulebook.letters if x.informed.lower() == chip.vendor.lower()]
    return min([general, *letters])


def _dates(chip: Chip, starts: list[dt.date], first: dt.date, until: dt.date) -> list[dt.date]:
    r = released(chip)
    assert r is not None
    begin = max(r, first)
    return [begin, *(d for d in starts if begin < d <= until)]


def _decide(rows: list[tuple[dt.date, str, str]], catalog: Catalog, rulebook: Rulebook, regime: str) -> dict:
    """(date, chip id, destination) -> (licence required, reasons), through the order checker."""
    with tempfile.TemporaryDirectory() as tmp:
        book = Path(tmp) / "windows.csv"
        with book.open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["date", "item", "quantity", "destination"])
            w.writerows((d.isoformat(), c, 1, dest) for d, c, dest in rows)
        report = check_book(book, catalog=catalog, rulebook=rulebook, regime=regime)
    assert report.results is not None
    return {
        (r["date"], r["item_id"], r["destination"]): (
            bool(r["license_required"]),
            [x for x in (r["reasons"] or "").split(";") if x],
        )
        for r in report.results.to_pylist()
    }


def _spread(s: Shipment, start: dt.date, end: dt.date | None) -> Fraction:
    """The share of a shipment period inside [start, end)."""
    lo = max(s.start, start)
    hi = min(s.end + DAY, end) if end else s.end + DAY
    if hi <= lo:
        return Fraction(0)
    return Fraction((hi - lo).days, (s.end + DAY - s.start).days)


def exposure_windows(
    *,
    catalog: Catalog,
    rulebook: Rulebook,
    destinations: list[str],
    shipments: list[Shipment],
    regime: str = "as-enforced",
    until: dt.date | None = None,
    chips: list[str] | None = None,
) -> list[Exposure]:
    """Every dated, EAR-subject chip's licence-free windows to each destination (see COUNTS)."""
    until = until or dt.date.today()
    starts = Periods.of(rulebook).starts[1:]
    pool = [c for c in candidates(catalog, until, chips) if subject_to_ear(c)[0]]
    first_of = {c.id: controls_start(c, rulebook, regime, destinations) for c in pool}
    rows = [
        (d, c.id, dest)
        for c in pool
        for dest in destinations
        for d in _dates(c, starts, first_of[c.id], until)
    ]
    answer = _decide(rows, catalog, rulebook, regime)
    letters = {letter.id for letter in rulebook.letters}
    h100 = measure(catalog.get(REFERENCE)).tpp
    out = []
    for chip in pool:
        tpp = measure(chip).tpp
        per_unit = h100_equivalents(tpp, h100) if tpp is not None and h100 else None
        for dest in destinations:
            dates = _dates(chip, starts, first_of[chip.id], until)
            wins: list[Window] = []
            open_at: dt.date | None = None
            for i, d in enumerate(dates):
                needed, reasons = answer[(d, chip.id, dest)]
                if not needed and open_at is None:
                    open_at = d
                if needed and open_at is not None:
                    rule_close = None
                    if all(r.rstrip("?") in letters for r in reasons):
                        rule_close = next(
                            (
                                x.isoformat()
                                for x in dates[i:]
                                if any(r.rstrip("?") not in letters for r in answer[(x, chip.id, dest)][1])
                            ),
                            None,
                        )
                    wins.append(
                        Window(open_at.isoformat(), d.isoformat(), reasons, rule_close, (d - open_at).days)
                    )
                    open_at = None
            if open_at is not None:
                wins.append(Window(open_at.isoformat(), None, [], None, (until + DAY - open_at).days))
            wins = [w for w in wins if w.days > 0]  # closed the day it opened: no window
            for w in wins:
                ws, we = dt.date.fromisoformat(w.start), dt.date.fromisoformat(w.end) if w.end else None
                low = high = Fraction(0)
                ranged = False
                for s in shipments:
                    if s.chip != chip.id or s.destination != dest:
                        continue
                    share = _spread(s, ws, we)
                    if not share:
                        continue
                    w.units += float(s.units * share)
                    ranged = ranged or s.low is not None or s.high is not None
                    low += (
                        s.low if s.low is not None else s.units
                    ) * share  # an entry without a range adds its units
                    high += (s.high if s.high is not None else s.units) * share
                    w.sources.append(s.source)
                if ranged:
                    w.units_low, w.units_high = round(float(low), 1), round(float(high), 1)
                w.units = round(w.units, 1)
                w.h100e = as_float(Fraction(w.units) * per_unit, 1) or 0.0 if per_unit else 0.0
            out.append(
                Exposure(
                    chip.name,
                    chip.id,
                    dest,
                    released(chip).isoformat(),
                    as_float(per_unit),
                    wins,
                    dates[0].isoformat(),
                    subject_to_ear(chip)[1],
                )
            )
    return out


def candidates(catalog: Catalog, until: dt.date, chips: list[str] | None = None) -> list[Chip]:
    """Dated integrated circuits released by `until` (or the named ones)."""
    wanted = {catalog.get(c).id for c in chips} if chips else None
    return [
        c for c in ics(catalog) if released(c) and released(c) <= until and (wanted is None or c.id in wanted)
    ]


def excluded(catalog: Catalog, until: dt.date, chips: list[str] | None = None) -> list[dict[str, str]]:
    """The chips that get no window because they are not subject to the EAR, each with the reason."""
    return [
        {"chip": c.name, "chip_id": c.id, "reason": subject_to_ear(c)[1]}
        for c in candidates(catalog, until, chips)
        if not subject_to_ear(c)[0]
    ]
