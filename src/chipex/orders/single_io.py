"""One order's validation and party screening in Python: the rules of `validate.py` and `schema.py`
(as `io.load_orders` applies them to a book in DuckDB) and `parties.party_answer`, on one line.

The checks run in the order of `io.load_orders`' CASE (validate.line_checks, then the country
fields, then schema.FIELD_TYPES), so the first bad field names the same field with the same message.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from bisect import bisect_right
from datetime import date

from chipex.catalog import Catalog
from chipex.core.dates import DATE_MESSAGE, DATE_PATTERN
from chipex.errors import ChipexError, UnknownChipError
from chipex.limits import MAX_NAME_LENGTH
from chipex.orders.schema import (
    COUNTRY_FIELDS,
    FIELD_TYPES,
    JURISDICTION_FIELDS,
    OPTIONAL,
    RED_FLAG_FIELDS,
    REQUIRED,
    end_use_category,
)
from chipex.orders.tables import ItemStatus, resolve_item
from chipex.orders.validate import MAX_QUANTITY, item_problem, text_fields
from chipex.rules.countries import Countries

_DATE = re.compile(DATE_PATTERN, re.ASCII)
_DIGITS = re.compile(r"-?[0-9]+")
_DOUBLE = re.compile(r"[ \t\n\r\x0b\x0c]*[0-9A-Za-z+\-._]+[ \t\n\r\x0b\x0c]*")  # what TRY_CAST may read
_ENUM_GAP = re.compile(r"[ _]+")


class Invalid(ChipexError):
    """The first bad field of the order, as the book's reject line would name it."""


def _date(text: str) -> dt.date | None:
    """TRY_CAST(text AS DATE) for the accepted form (sql_is_date), else None."""
    if not _DATE.fullmatch(text) or text[:4] == "0000":
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _double(text: str) -> float | None:
    """TRY_CAST(text AS DOUBLE)."""
    if not _DOUBLE.fullmatch(text) or "__" in text or text.strip().startswith("_"):
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _enum(text: str) -> str:
    return _ENUM_GAP.sub("-", text.lower())


def _trimmed(value: str | None) -> str | None:
    """NULLIF(TRIM(value), ''): DuckDB's TRIM removes spaces only."""
    if value is None:
        return None
    value = value.strip(" ")
    return value or None


def validate_line(
    raw: dict[str, str | None],
    catalog: Catalog,
    countries: Countries,
    items: dict[str, tuple[ItemStatus | None, str | None]],
) -> tuple[dict, ItemStatus]:
    """The order's normalised fields (the columns of `orders_valid`, line 1), or `Invalid`.
    `items` caches item name -> (resolved item, error) across orders."""
    o = {c: _trimmed(raw.get(c)) for c in (*REQUIRED, *OPTIONAL)}

    def bad(field: str, message: str) -> Invalid:
        return Invalid(message, field=field)

    if o["date"] is None:
        raise bad("date", "missing date")
    on = _date(o["date"])
    if on is None:
        raise bad("date", DATE_MESSAGE)
    if o["item"] is None:
        raise bad("item", "missing item")
    name = o["item"]
    if name not in items:
        items[name] = _resolve(name, catalog)
    item, err = items[name]
    if item is None:
        raise bad("item", err or "")
    q = o["quantity"]
    if q is None:
        raise bad("quantity", "missing quantity")
    if not _DIGITS.fullmatch(q):
        raise bad("quantity", "not a whole number (write a quantity as digits only, e.g. 8)")
    if q.startswith("-") or q.lstrip("0") == "":
        raise bad("quantity", "must be a positive whole number")
    if len(q.lstrip("0")) > 13 or int(q) > MAX_QUANTITY:
        raise bad("quantity", f"too large (chipex holds at most {MAX_QUANTITY:,} units on a line)")
    if o["destination"] is None:
        raise bad("destination", "missing destination")
    for f in text_fields():
        if o[f] is not None and len(o[f]) > MAX_NAME_LENGTH:
            raise bad(f, f"longer than the {MAX_NAME_LENGTH:,} characters allowed")
    codes: dict[str, str | None] = {}
    for f in COUNTRY_FIELDS:
        codes[f] = None
        if o[f] is not None:
            code, why = countries.resolve(o[f])
            if code is None:
                raise bad(f, why or "")
            codes[f] = code
    typed: dict[str, object] = {}
    for f, kind in FIELD_TYPES.items():
        v = o[f]
        if v is None:
            typed[f] = None
        elif kind == "date":
            typed[f] = _date(v)
            if typed[f] is None:
                raise bad(f, DATE_MESSAGE)
        elif kind in ("usd", "pct"):
            x = _double(v)
            ok = x is not None and (math.isfinite(x) and x >= 0 if kind == "usd" else 0 <= x <= 100)
            if not ok:
                raise bad(
                    f,
                    "not a price in USD (a number, 0 or more)"
                    if kind == "usd"
                    else "not a percentage (a number from 0 to 100)",
                )
            typed[f] = x
        else:
            typed[f] = _enum(v)
            if typed[f] not in kind:
                raise bad(f, f"use one of {', '.join(kind)}")
    line = {
        "line": 1,
        "date": on,
        "item": name,
        "item_id": item.item_id,
        "units": item.units,
        "quantity": int(q),
        "destination": codes["destination"],
        "end_user": o["end_user"],
        "end_user_hq": codes["end_user_hq"],
        "parent_hq": codes["parent_hq"],
        "consignee": o["consignee"],
        "end_use": end_use_category(o["end_use"]),
        "end_use_text": o["end_use"],
        "ship_from": codes["ship_from"],
        "exporter": o["exporter"],
    }
    for f in (*RED_FLAG_FIELDS, *JURISDICTION_FIELDS):
        line[f] = codes[f] if f in COUNTRY_FIELDS else typed[f] if f in FIELD_TYPES else o[f]
    return line, item


def _resolve(name: str, catalog: Catalog) -> tuple[ItemStatus | None, str | None]:
    problem = item_problem(name)
    if problem:
        return None, problem
    try:
        return resolve_item(name, catalog), None
    except (UnknownChipError, ChipexError) as exc:
        return None, exc.message


NO_PARTIES = {
    "party_listed": False,
    "party_entries": None,
    "party_policy": None,
    "party_flags": None,
    "party_affiliate": False,
    "party_depends": None,
    "list_snapshot": None,
}


def _join(*parts: str | None) -> str | None:
    """NULLIF(concat_ws('; ', ...), '')."""
    return "; ".join(p for p in parts if p is not None) or None


def screen_line(line: dict, ps, lists, *, label: str = "order") -> dict:
    """The party columns of one valid line (parties.screen_parties' `line_parties` row)."""
    if ps is None or lists is None or (line["end_user"] is None and line["consignee"] is None):
        return dict(NO_PARTIES)
    # imported only when there are parties to screen: --no-screen loads no screening code at all
    from chipex.orders.parties import _periods, _screener, party_answer
    from chipex.screening.store import Store

    store = Store(ps.home)
    today = ps.list_as_of == "today"
    snaps = [store.current()] if today else store.accepted()
    d: date = line["date"]
    first = snaps[0]
    dates = [date.min if today else s.source_date for s in snaps]
    fit = [i for i, s in enumerate(dates) if s <= d]  # the ASOF join: the latest dated on or before
    s_i = max(fit, key=lambda i: dates[i]) if fit else None
    snap = snaps[s_i] if s_i is not None else first
    list_date = first.source_date if today else (dates[s_i] if s_i is not None else first.source_date)
    periods = _periods(ps.home)
    pstart = periods[bisect_right(periods, d) - 1]
    answers, graphs = [], {}
    for role, name, country in (
        ("end_user", line["end_user"], line["end_user_hq"] or line["destination"]),
        ("consignee", line["consignee"], line["destination"]),
    ):
        if name is None:
            answers.append(None)
            continue
        s = _screener(ps.home, snap)
        try:
            hits = s.screen_many([(name, country)])[0]
        except ChipexError as exc:
            raise ChipexError(exc.message, file=label or None, record=line["line"], field=role) from None
        answers.append(party_answer(ps, lists, s, role, name, hits, (snap.id, pstart), graphs))
    pe, pc = (a or {} for a in answers)
    shown = f"{snap.id} (list of {list_date.isoformat()})"
    if s_i is None:
        shown += f"; warning: no list snapshot dated on or before {d.isoformat()}, the oldest one was used"
    age_on = dt.date.today() if today else d
    age = (age_on - list_date).days
    if age > int(ps.warn_age):
        shown += (
            f"; warning: the list is {age} days old on {age_on.isoformat()} (more than {int(ps.warn_age)})"
        )
    return {
        "party_listed": bool(pe.get("listed")) or bool(pc.get("listed")),
        "party_entries": _join(pe.get("entries"), pc.get("entries")),
        "party_policy": pe.get("policy") if pe.get("policy") is not None else pc.get("policy"),
        "party_flags": _join(pe.get("flags"), pc.get("flags")),
        "party_affiliate": bool(pe.get("affiliate")) or bool(pc.get("affiliate")),
        "party_depends": _join(pe.get("depends"), pc.get("depends")),
        "list_snapshot": shown,
    }
