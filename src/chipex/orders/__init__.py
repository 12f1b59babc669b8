"""Licence determination for orders: one order interactively, or a whole order book in bulk.

A book goes through DuckDB: validation (`io.load_orders`), then one Ibis expression
(`engine.OrderEngine`) on DuckDB by default, or on Polars or Spark (`book.check_book`). One order
never touches a query engine: the same rule data, validation rules and lookup rows evaluated in
Python (`single.OneOrder`); tests/orders/test_single_equivalence.py proves both give the same
answer. The bulk names are imported on first use, so checking one order does not load ibis,
duckdb or pyarrow.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import TYPE_CHECKING, Any

from chipex.catalog import Catalog, default_catalog
from chipex.errors import ChipexError
from chipex.orders.schema import OPTIONAL
from chipex.orders.single import OneOrder
from chipex.orders.single_io import Invalid
from chipex.rules import Rulebook, default_rulebook

if TYPE_CHECKING:
    from chipex.orders.book import ENGINES, CheckReport, check_book, make_engine
    from chipex.orders.engine import OrderEngine

__all__ = ["ENGINES", "CheckReport", "check_book", "check_order", "decide_order", "make_engine"]


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(name)
    import importlib

    book = importlib.import_module("chipex.orders.book")
    try:
        return getattr(book, name)
    except AttributeError:
        raise AttributeError(f"module 'chipex.orders' has no attribute '{name}'") from None


@cache
def _default_one(regime: str) -> OneOrder:
    return OneOrder(default_rulebook(), default_catalog(), regime)


_ONE: dict[int, tuple[OrderEngine, OneOrder]] = {}


def _one(
    regime: str, catalog: Catalog | None, rulebook: Rulebook | None, engine: OrderEngine | None
) -> OneOrder:
    if engine is not None:  # the engine's rules, periods and classifications
        held = _ONE.get(id(engine))
        if held is None or held[0] is not engine:
            one = OneOrder(
                engine.rulebook,
                engine.catalog,
                engine.regime,
                periods=engine.periods,
                classifications=engine.classifications,
            )
            held = _ONE[id(engine)] = (engine, one)
        return held[1]
    if catalog is None and rulebook is None:
        return _default_one(regime)
    return OneOrder(rulebook or default_rulebook(), catalog or default_catalog(), regime)


def check_order(
    *,
    date: str | dt.date,
    item: str,
    quantity: int,
    destination: str,
    regime: str = "as-enforced",
    catalog: Catalog | None = None,
    rulebook: Rulebook | None = None,
    engine: OrderEngine | None = None,
    screen: bool = True,
    list_as_of: str = "order",
    **optional: str | None,
) -> dict[str, Any]:
    """One order, explained: the same validation and rules as a book's line, evaluated in Python."""
    one, row, screener = _prepare(locals(), optional)
    return _run(lambda: one.check(row, screener))


def decide_order(
    *,
    date: str | dt.date,
    item: str,
    quantity: int,
    destination: str,
    regime: str = "as-enforced",
    catalog: Catalog | None = None,
    rulebook: Rulebook | None = None,
    engine: OrderEngine | None = None,
    screen: bool = True,
    list_as_of: str = "order",
    **optional: str | None,
) -> dict[str, Any]:
    """One order's decision without the explanation: the columns a book's result line has
    (`schema.RESULT_COLUMNS`: license_required, reasons, exceptions, policy, depends_on, ...)."""
    one, row, screener = _prepare(locals(), optional)
    return _run(lambda: one.decide(row, screener))


def _prepare(args: dict[str, Any], optional: dict[str, str | None]):
    unknown = set(optional) - set(OPTIONAL)
    if unknown:
        raise ChipexError(f"unknown order field(s): {', '.join(sorted(unknown))}")
    one = _one(args["regime"], args["catalog"], args["rulebook"], args["engine"])
    row = {k: str(args[k]) for k in ("date", "item", "quantity")} | {"destination": args["destination"]}
    row.update({k: (None if v is None else str(v)) for k, v in optional.items()})
    screener = None
    if args["screen"] and (row.get("end_user") or row.get("consignee")):
        from chipex.orders.parties import PartyScreening

        screener = PartyScreening(regime=one.regime, list_as_of=args["list_as_of"])
    return one, row, screener


def _run(call):
    try:
        return call()
    except Invalid as exc:
        raise ChipexError(exc.message, field=exc.field) from None
