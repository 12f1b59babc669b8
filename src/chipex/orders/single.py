"""One order, evaluated in Python: the same rule data as the bulk Ibis expression (engine.py), read
the same way, without a query engine.

The line is enriched with the same columns as `OrderEngine.enrich` (the item's lookup row from
`tables.item_status_row`, each country's groups and tier for the line's period), every `When` of
rules/licensing.yaml, scope.yaml, jurisdiction.yaml and red_flags.yaml is tested by
`predicate.when_ok` on those columns, and the decision is combined as `OrderEngine.determine` does;
`explain.explain_row` then explains the row exactly as for a book's line.
tests/orders/test_single_equivalence.py proves both paths give the same answer.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from chipex.catalog import Catalog
from chipex.core import DISCLAIMER
from chipex.errors import ChipexError
from chipex.orders.explain import explain_row
from chipex.orders.flag_data import SYSTEM_ID, evaluated, low_prices
from chipex.orders.jurisdiction_text import FOREIGN, NOT_SUBJECT, TEXTS
from chipex.orders.predicate import HQ, col_name, group_ok, item_prefixes, when_ok
from chipex.orders.schema import RESULT_COLUMNS
from chipex.orders.single_io import screen_line, validate_line
from chipex.orders.tables import CountryTables, ItemStatus, Periods, item_status_row, letter_flag
from chipex.rules import Rulebook
from chipex.rules.countries import REGIMES
from chipex.rules.flags import FlagTest
from chipex.rules.model import GroupTest

WS = " \t\n\r\x0b\x0c"  # what the engines' strip() removes
_SYSTEM_ID = re.compile(SYSTEM_ID)
_US = GroupTest(any_of=["US"])


def _pct(x: float) -> str:
    """CAST(CAST(x AS DECIMAL(9, 2)) AS VARCHAR)."""
    d = Decimal(repr(x)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return str(d.copy_abs() if d == 0 else d)


def _norm(v: Any) -> str | None:
    return None if v is None else str(v).strip(WS).lower()


class OneOrder:
    """The rules of one engine (rulebook, catalog, regime) ready for one order at a time; the
    attributes `explain_row` reads (rulebook, regime, classifications, period_of) are an engine's."""

    def __init__(
        self,
        rulebook: Rulebook,
        catalog: Catalog,
        regime: str,
        *,
        periods: Periods | None = None,
        classifications: dict | None = None,
    ) -> None:
        if regime not in REGIMES:
            raise ChipexError(f"unknown regime '{regime}' (use {' or '.join(REGIMES)})")
        self.rulebook, self.catalog, self.regime = rulebook, catalog, regime
        self.periods = periods or Periods.of(rulebook)
        self.classifications = {} if classifications is None else classifications
        lic = rulebook.licensing
        where = self.periods.where
        self._req = [(r, set(where(lambda s, r=r: r.in_force(s, regime)))) for r in lic.requirements]
        self._exc = [(e, set(where(lambda s, e=e: e.in_force(s, regime)))) for e in lic.exceptions]
        self._covers = {
            e.id: frozenset(r.id for r in lic.requirements if e.id in r.exceptions) for e in lic.exceptions
        }
        self._pol = [(p, set(where(lambda s, p=p: p.in_force(s, regime)))) for p in lic.policies]
        self._letters = [
            (
                t,
                set(where(lambda s, t=t: t.in_force(s))),
                GroupTest(any_of=t.destinations, none_of=t.destinations_except),
                GroupTest(any_of=t.headquartered_in) if t.headquartered_in else None,
            )
            for t in rulebook.letters
        ]
        self._fdp = [(f, set(where(lambda s, f=f: f.in_force(s)))) for f in rulebook.jurisdiction.fdp]
        found: set[str] = set()
        for rule in [*lic.requirements, *lic.exceptions, *lic.policies, *rulebook.jurisdiction.fdp]:
            found |= item_prefixes(rule.when)
        self._prefixes = sorted(found)
        self._countries = CountryTables(rulebook, self.periods, regime)
        self._items: dict[str, tuple[ItemStatus | None, str | None]] = {}
        self._rows: dict[tuple[str, int], dict] = {}
        self._class_json: dict[tuple[str, int], str | None] = {}
        self._places: dict[tuple[str, int], dict] = {}
        self._members: dict[int, dict[str, frozenset[str]]] = {}
        self._prices = low_prices(rulebook, catalog)
        self._flags = evaluated(rulebook)

    def period_of(self, on: dt.date) -> int:
        return self.periods.index(on)

    # -- the line's columns ---------------------------------------------------------------------

    def _item_row(self, it: ItemStatus, k: int) -> dict:
        key = (it.item_id, k)
        if key not in self._rows:
            row, c = item_status_row(it, k, self.periods, self.rulebook, self.catalog, self._prefixes)
            self._rows[key] = row
            self.classifications[key] = c
        elif key not in self.classifications:
            self.classifications[key] = item_status_row(
                it, k, self.periods, self.rulebook, self.catalog, self._prefixes
            )[1]
        return self._rows[key]

    def _place(self, code: str | None, k: int) -> dict:
        """A country's row of `CountryTables.table()` (as_code, group flags, tier), or all null."""
        groups = self._countries.groups
        if code is None or code not in self._countries.codes:
            return {"as": None, "tier": None, **{col_name(g): False for g in groups}}
        key = (code, k)
        if key not in self._places:
            countries = self.rulebook.countries
            on = self.periods.start(k) if k else dt.date(1900, 1, 1)
            if k not in self._members:
                self._members[k] = {g: countries.members(g, on) for g in groups}
            rule_code = countries.rule_country(code)
            self._places[key] = {
                "as": rule_code,
                "tier": countries.tier(code, on, self.regime),
                **{col_name(g): rule_code in self._members[k][g] for g in groups},
            }
        return self._places[key]

    def enrich(self, line: dict, item: ItemStatus) -> dict:
        k = self.period_of(line["date"])
        t = dict(line)
        t["period"] = k
        t["exporter_norm"] = _norm(line["exporter"])
        t.update({c: v for c, v in self._item_row(item, k).items() if c not in ("item_id", "period")})
        for prefix, column in (("dest", "destination"), ("eu", "end_user_hq"), ("pa", "parent_hq"), ("from", "ship_from")):  # fmt: skip
            for c, v in self._place(line[column], k).items():
                t[f"{prefix}_{c}"] = v
        return t

    # -- the rules ------------------------------------------------------------------------------

    def _letter(
        self, t: dict, letter, in_force: set[int], to: GroupTest, hq: GroupTest | None
    ) -> tuple[bool, bool]:
        where = group_ok(t, ("dest",), to)
        if hq is not None:  # a delivery inside the US is not an export (15 CFR 734.13)
            where = where or (group_ok(t, HQ, hq) and not group_ok(t, ("dest",), _US))
        base = t["period"] in in_force and bool(t[letter_flag(letter.id)]) and where
        return base and t["exporter_norm"] == letter.informed.lower(), base and t["exporter_norm"] is None

    def jurisdiction(self, t: dict) -> str:
        """orders/jurisdiction.py's answer for the line, from the same templates."""
        j = self.rulebook.jurisdiction
        made, ship, pct = t["made_in"], t["ship_from"], t["us_content_pct"]
        level, level_par = next((d.percent, d.paragraph) for d in j.de_minimis if d.destination is None)
        for d in j.de_minimis:
            if d.destination and group_ok(t, ("dest",), d.destination):
                level, level_par = d.percent, d.paragraph
                break
        v = {"in_us": j.in_us.paragraph, "us_origin": j.us_origin.paragraph, "ship": ship}
        v |= {"foreign": FOREIGN.format(made=made), "level": level, "level_par": level_par}
        v["pct"] = None if pct is None else _pct(pct)
        if made is None:
            return TEXTS["in_us_made_unknown" if ship == "US" else "assumed_us_origin"].format(**v)
        if made == "US":
            return TEXTS["us_origin"].format(**v)
        if ship == "US":
            return TEXTS["in_us_foreign"].format(**v)
        for f, in_force in self._fdp:
            if t["period"] in in_force and when_ok(t, f.when):
                return TEXTS["fdp"].format(**v, paragraph=f.paragraph, id=f.id)
        if t["party_listed"]:
            return TEXTS["entity_list_fdp"].format(**v, paragraph=j.entity_list_fdp.paragraph)
        if pct is not None and pct > level:
            return TEXTS["de_minimis_exceeded"].format(**v)
        if pct is None:
            return TEXTS["pct_unknown"].format(**v)
        return TEXTS["ship_unknown" if ship is None else "not_subject"].format(**v)

    def determine(self, t: dict) -> dict:
        """OrderEngine.determine on one enriched line."""
        lic = self.rulebook.licensing
        k = t["period"]
        fired = {r.id: k in f and when_ok(t, r.when) for r, f in self._req}
        unsure: dict[str, bool] = {}
        for letter, f, to, hq in self._letters:
            fired[letter.id], unsure[letter.id] = self._letter(t, letter, f, to, hq)
        exc_ok = [k in f and when_ok(t, e.when) for e, f in self._exc]
        pol_ok = [k in f and when_ok(t, p.when) for p, f in self._pol]
        jurisdiction = self.jurisdiction(t)
        subject = not jurisdiction.startswith(NOT_SUBJECT)
        certain = any(fired.values())
        possible = any(unsure.values())
        reasons = "".join(f"{rid};" for rid, c in fired.items() if c)
        reasons += "".join(f"{rid}?;" for rid, c in unsure.items() if c)
        exc_parts = []
        hit = {rid for rid, c in fired.items() if c}
        for (e, _), ok in zip(self._exc, exc_ok, strict=True):
            # an exception applies when a requirement that names it fired and no other did
            cover = self._covers[e.id]
            if ok and hit & cover and not possible and not hit - cover:
                exc_parts.append(f"{e.id};")
        policy_rule = None
        for (pol, _), ok in zip(self._pol, pol_ok, strict=True):
            if ok and (not pol.requirement_in or any(fired[rid] for rid in pol.requirement_in)):
                policy_rule = pol.id
                break
        names = {p.id: p.policy for p in lic.policies}
        if policy_rule in ("listed-party", "affiliate-of-listed-party"):
            policy = t["party_policy"]
        else:
            policy = names.get(policy_rule, policy_rule) if policy_rule is not None else None
        required = (certain or possible) and subject
        stated = [
            "".join(f"{d};" for d in r.depends_on) if fired[r.id] else ""
            for r in lic.requirements
            if r.depends_on
        ]
        stated += ["".join(f"{d};" for d in p.depends_on) if policy_rule == p.id else "" for p in lic.policies if p.depends_on]  # fmt: skip
        depends = "is-informed: exporter not given;" if possible else ""
        depends += "".join(s if required else "" for s in stated)
        depends += f"{t['depends']};" if t["depends"] not in ("", None) else ""
        depends += f"red flag: {t['party_flags']};" if t["party_flags"] is not None else ""
        depends += f"{t['party_depends']};" if t["party_depends"] is not None else ""
        return {
            "eccn": t["eccn"] or None if t["eccn"] is not None else None,
            "eccn_confidence": t["eccn_confidence"] or None if t["eccn_confidence"] is not None else None,
            "license_required": required,
            "license_required_otherwise": certain and subject,
            "reasons": reasons if required else "",
            "exceptions": "".join(exc_parts) if required else "",
            "policy": policy if required else None,
            "policy_rule": policy_rule if required else None,
            "depends_on": depends,
            "jurisdiction": jurisdiction,
            "warnings": t["warnings"] or "",
            "advisories": (t["foundry"] or "") if t["exporter_role"] in ("foundry", "osat") else "",
        }

    def scope(self, t: dict) -> tuple[str, str, str]:
        """scope.scope_columns on one line: checked, not_checked, scope notes for depends_on."""
        k = t["period"]
        version = self.rulebook.version_on(self.periods.start(k)) if k else None
        values = {"rule_version": version.id if version else "none", "list_snapshot": t["list_snapshot"]}
        checked, not_checked, depends = [], [], []
        for e in self.rulebook.scope:
            if e.kind == "not_checked":
                not_checked.append(f"{e.text};")
            elif e.kind == "depends_on":
                depends.append(f"{e.text};" if when_ok(t, e.when) else "")
            else:
                text = e.text
                if e.value:
                    v = values[e.value]
                    text += f" ({('not given' if v is None else v).replace(';', ',')})"
                if not e.needs:
                    checked.append(f"{text};")
                    continue
                given = any(t[f] is not None and str(t[f]).strip(WS) != "" for f in e.needs)
                why = e.not_given or f"no {' or '.join(n.replace('_', ' ') for n in e.needs)} given"
                checked.append(f"{text};" if given else "")
                not_checked.append("" if given else f"{e.text} ({why});")
        return "".join(checked), "".join(not_checked), "".join(depends)

    def _test(self, t: dict, test: FlagTest) -> bool:
        f = test.field
        v = t[f]
        match test.kind:
            case "in":
                return v is not None and _norm(v) in [x.lower() for x in test.in_ or []]
            case "matches":
                return v is not None and re.search(test.matches, _norm(v)) is not None
            case "not_matches":
                return v is not None and re.search(test.not_matches, _norm(v)) is None
            case "not_in_fields":
                return v is not None and all(
                    t[o] is None or _norm(v) != _norm(t[o]) for o in test.not_in_fields or []
                )
            case "on_or_after":
                return v is not None and v >= test.on_or_after
            case "within_days":
                return v is not None and t["date"] - dt.timedelta(days=test.within_days) < v <= t["date"]
            case "below_market":
                m = _SYSTEM_ID.search(t["item_id"]) if t["item_id"].startswith("system-") else None
                key = (m.group(1) if m else "") if t["item_id"].startswith("system-") else t["item_id"]
                low = self._prices.get(key)
                if low is None or v is None or not self._prices:
                    return False
                return v < float(t["units"]) * low * float(test.below_market)
            case "hub":
                for country, periods in sorted(self.rulebook.hubs.hub_periods().items()):
                    for start, end in periods:
                        if v == country and t["date"] >= start and (end is None or t["date"] < end):
                            return True
                return False
        raise AssertionError(test.kind)  # pragma: no cover - FlagTest validates the kinds

    def red_flags(self, t: dict) -> str:
        out = []
        for flag in self._flags:
            on = t["date"] >= flag.added and (flag.removed is None or t["date"] < flag.removed)
            if on and all(self._test(t, test) for test in flag.when or []):
                out.append(f"{flag.id};")
        return "".join(out)

    # -- one order ------------------------------------------------------------------------------

    def result_row(self, line: dict, item: ItemStatus) -> dict:
        """The bulk path's result row (schema.RESULT_COLUMNS) for one valid, screened line."""
        t = self.enrich(line, item)
        out = dict(t)
        out.update(self.determine(t))
        checked, not_checked, scope_depends = self.scope(t)
        out.update(checked=checked, not_checked=not_checked, depends_on=out["depends_on"] + scope_depends)
        out["tpp_total"] = None if t["tpp_item"] is None else t["tpp_item"] * t["quantity"]
        out["red_flags"] = self.red_flags(t)
        return out

    def _checked_row(self, raw: dict[str, str | None], screener) -> dict:
        """Validate, screen and decide one raw order (raises single_io.Invalid for a bad field)."""
        line, item = validate_line(raw, self.catalog, self.rulebook.countries, self._items)
        line.update(screen_line(line, screener, self.rulebook.licensing.party_lists))
        return self.result_row(line, item)

    def decide(self, raw: dict[str, str | None], screener=None) -> dict[str, Any]:
        """One order's result row, the columns a book's line has (schema.RESULT_COLUMNS)."""
        row = self._checked_row(raw, screener)
        return {c: row[c] for c in RESULT_COLUMNS}

    def check(self, raw: dict[str, str | None], screener=None) -> dict[str, Any]:
        """One order's explanation."""
        row = self._checked_row(raw, screener)
        out = explain_row(row, self, classification=False)
        out["classification"] = self._classification(row["item_id"], self.period_of(row["date"]))
        out["disclaimer"] = DISCLAIMER
        return out

    def _classification(self, item_id: str, k: int) -> dict | None:
        """The item's classification as a fresh dict; `asdict` is a third of an order's time, so
        the dict is kept as JSON text and parsed per call (only where the round trip is exact)."""
        key = (item_id, k)
        if key not in self._class_json:
            found = self.classifications.get(key)
            d = found.to_dict() if found else None
            text = json.dumps(d)
            self._class_json[key] = text if json.loads(text) == d else None
            return d
        text = self._class_json[key]
        if text is None:
            found = self.classifications.get(key)
            return found.to_dict() if found else None
        return json.loads(text)
