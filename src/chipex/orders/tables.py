"""Small lookup tables that turn an order line into the flat columns the rules test.

Time is cut into periods at every date on which any rule, group membership or letter changes, so
within one period every rule is either in force or not: a line's date maps to its period, and the
item's classification and the countries' groups are looked up per period. Built once per run from
the rulebook (tiny: items x periods, countries x periods).
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING

import pycountry

from chipex.catalog import Catalog
from chipex.catalog.model import Chip
from chipex.core.classify import Classification, classify, measure
from chipex.core.foundry import presumption
from chipex.core.metrics import as_float
from chipex.errors import ChipexError
from chipex.orders.predicate import col_name, item_flag
from chipex.orders.schema import SYSTEM
from chipex.rules import Rulebook

if TYPE_CHECKING:
    import pyarrow as pa

DAY = dt.timedelta(days=1)


def _breakpoints(rb: Rulebook) -> list[dt.date]:
    dates: set[dt.date] = {v.effective for v in rb.versions}
    for eccn in rb.eccns.values():
        dates.update(t.effective for t in eccn.texts)
    for letter in rb.letters:
        dates.add(letter.effective)
        if letter.until:
            dates.add(letter.until + DAY)
    lic = rb.licensing
    for rule in [*lic.requirements, *lic.exceptions, *lic.policies, *rb.jurisdiction.fdp]:
        dates.update({rule.effective, rule.starts})
        if rule.until:
            dates.add(rule.until + DAY)
    dates.update(rb.countries.change_dates())
    return sorted(dates)


@dataclass
class Periods:
    """Period k covers [starts[k], starts[k+1]); period 0 is everything before the first rule."""

    starts: list[dt.date]

    @classmethod
    def of(cls, rb: Rulebook) -> Periods:
        return cls([dt.date.min, *_breakpoints(rb)])

    def index(self, on: dt.date) -> int:
        return bisect.bisect_right(self.starts, on) - 1

    def start(self, k: int) -> dt.date:
        return self.starts[k]

    def where(self, predicate) -> list[int]:
        """Periods during which `predicate(start_date)` holds (constant within a period)."""
        return [k for k, s in enumerate(self.starts) if predicate(s)]


def _dec(x: float | None) -> Decimal | None:
    return None if x is None else Decimal(str(x)).quantize(Decimal("0.000001"))


@dataclass
class ItemStatus:
    item_id: str
    units: int  # accelerators per item (a system of N chips counts N)
    chip: Chip


def resolve_item(name: str, catalog: Catalog) -> ItemStatus:
    """A catalog chip or system by name, or 'N x CHIP' for a system of N chips."""
    m = SYSTEM.match(name)
    if m:
        n, chip_name = int(m.group(1)), m.group(2)
        chip = catalog.get(chip_name)
        if chip.kind == "system":
            raise ChipexError(f"'{name}': a system of systems is not supported; name the chip inside")
        system = Chip.model_validate(
            {
                "id": f"system-{n}x-{chip.id}",
                "name": f"{n} x {chip.name}",
                "vendor": chip.vendor,
                "family": chip.family,
                "kind": "system",
                "contains": [{"chip": chip.id, "count": n}],
                "datacenter": chip.datacenter.model_dump(),
            }
        )
        return ItemStatus(system.id, n, system)
    chip = catalog.get(name)
    units = sum(p.count for p in chip.contains) if chip.kind == "system" else 1
    return ItemStatus(chip.id, units, chip)


def letter_flag(letter_id: str) -> str:
    return "lt_" + "".join(ch if ch.isalnum() else "_" for ch in letter_id)


def item_has(c: Classification, prefix: str) -> bool:
    """Does the item's 3A090/4A090 paragraph or its CCL entry (3A991.p, 5A992.z, ...) start with
    the prefix; "ccl": is it on the CCL at all (not EAR99)."""
    ccl = c.ccl_eccn or ""
    if prefix == "ccl":
        return bool(c.eccn) or (ccl not in ("", "EAR99"))
    return (c.eccn or "").startswith(prefix) or ccl.startswith(prefix)


def item_status_table(
    items: list[ItemStatus],
    periods: list[int],
    p: Periods,
    rb: Rulebook,
    catalog: Catalog,
    prefixes: list[str],
) -> tuple[pa.Table, dict[tuple[str, int], Classification]]:
    """Classification of every (item, period) pair the input needs, with the tests the rules make
    on it (ECCN prefixes, is-informed letters) precomputed as flags."""
    import pyarrow as pa  # here: one order (orders/single.py) reads rows without Arrow

    DECIMAL = pa.decimal128(20, 6)
    rows: dict[str, list] = {
        k: []
        for k in (
            "item_id",
            "period",
            "eccn",
            "eccn_confidence",
            "datacenter",
            "tpp",
            "tpp_item",
            "dram_bandwidth",
            "depends",
            "warnings",
            "foundry",
        )
    }
    classes: dict[tuple[str, int], Classification] = {}
    for it in items:
        for k in periods:
            row, classes[(it.item_id, k)] = item_status_row(it, k, p, rb, catalog, prefixes)
            for name, value in row.items():
                rows.setdefault(name, []).append(value)
    schema = pa.schema(
        [
            ("item_id", pa.string()),
            ("period", pa.int32()),
            ("eccn", pa.string()),
            ("eccn_confidence", pa.string()),
            ("datacenter", pa.bool_()),
            ("tpp", DECIMAL),
            ("tpp_item", DECIMAL),
            ("dram_bandwidth", DECIMAL),
            ("depends", pa.string()),
            ("warnings", pa.string()),
            ("foundry", pa.string()),
        ]
        + [(item_flag(prefix), pa.bool_()) for prefix in prefixes]
        + [(letter_flag(letter.id), pa.bool_()) for letter in rb.letters]
    )
    for name in schema.names:
        rows.setdefault(name, [])
    return pa.table(rows, schema=schema), classes


def item_status_row(
    it: ItemStatus, k: int, p: Periods, rb: Rulebook, catalog: Catalog, prefixes: list[str]
) -> tuple[dict, Classification]:
    """One (item, period) row of the item lookup table (its columns by name), and the classification."""
    c = classify(it.chip, p.start(k) if k else dt.date(1900, 1, 1), catalog=catalog, rulebook=rb)
    per_chip = _per_chip(c, catalog)
    eccn, confidence = line_eccn(c)
    row = {
        "item_id": it.item_id,
        "period": k,
        "eccn": eccn,
        "eccn_confidence": confidence,
        "datacenter": c.datacenter if it.chip.kind != "system" else per_chip[1],
        "tpp": _dec(per_chip[0]),
        "tpp_item": _dec(c.tpp),
        "dram_bandwidth": _dec(per_chip[2]),
        "depends": ",".join(c.depends_on),
        "warnings": ";".join(c.warning_ids),  # rules/warnings.yaml ids
        "foundry": presumption(rb.foundry, it.chip, p.start(k), c.eccn) if k else "",  # Note 1 to 3A090.a
    }
    for prefix in prefixes:
        row[item_flag(prefix)] = item_has(c, prefix)
    fired = {r.id for r in c.other_requirements}
    for letter in rb.letters:
        row[letter_flag(letter.id)] = letter.id in fired
    return row, c


def line_eccn(c: Classification) -> tuple[str, str]:
    """The ECCN an order line is checked under, with its confidence: the 3A090/4A090 paragraph when
    one applies (its licence requirements are 3A090's even where a .z paragraph names it), else the
    item's CCL entry below the line (3A991.p, 4A994.l, a vendor's 5A992.c) or EAR99 (core/ccl.py)."""
    if c.eccn and c.ccl_eccn != c.eccn:  # described elsewhere (.z): the paragraph met is derived
        return c.eccn, "estimate" if c.depends_on else "derived"
    return c.eccn or c.ccl_eccn or "", c.ccl_confidence or ""


def _per_chip(c: Classification, catalog: Catalog) -> tuple[float | None, bool | None, float | None]:
    """TPP, datacenter flag and DRAM bandwidth of the IC a line is about (for systems: the chip inside)."""
    if not c.contains:
        return c.tpp, c.datacenter, c.memory_bandwidth_gbps
    chip = catalog.get(c.contains[0]["chip"])
    m = measure(chip)
    bw = chip.memory_bandwidth_gbps.value if chip.memory_bandwidth_gbps else None
    return as_float(m.tpp), chip.datacenter.value, float(bw) if bw is not None else None


@dataclass
class CountryTables:
    rb: Rulebook
    periods: Periods
    regime: str

    @cached_property
    def groups(self) -> list[str]:
        return list(self.rb.countries.data.groups)

    @cached_property
    def codes(self) -> list[str]:
        regions = self.rb.countries.region_codes()  # Crimea, Donetsk, Luhansk (15 CFR 746.6)
        return sorted({c.alpha_2 for c in pycountry.countries} | {"XK"} | set(regions))

    def table(self) -> pa.Table:
        """One row per (country, period): group flags and AI Diffusion tier under the regime."""
        import pyarrow as pa

        countries = self.rb.countries
        cols: dict[str, list] = {"code": [], "as_code": [], "period": []}
        for g in self.groups:
            cols[col_name(g)] = []
        cols["tier"] = []
        for k, start in enumerate(self.periods.starts):
            on = start if k else dt.date(1900, 1, 1)
            members = {g: countries.members(g, on) for g in self.groups}
            for code in self.codes:
                rule_code = countries.rule_country(code)
                cols["code"].append(code)
                cols["as_code"].append(rule_code)
                cols["period"].append(k)
                for g in self.groups:
                    cols[col_name(g)].append(rule_code in members[g])
                cols["tier"].append(countries.tier(code, on, self.regime))
        schema = pa.schema(
            [("code", pa.string()), ("as_code", pa.string()), ("period", pa.int32())]
            + [(col_name(g), pa.bool_()) for g in self.groups]
            + [("tier", pa.int8())]
        )
        return pa.table(cols, schema=schema)
