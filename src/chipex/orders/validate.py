"""The validation rules of an order book, in one place: which columns a book may have, what a
quantity, a date and a name must look like. Every reader (CSV, JSON Lines, Parquet, XLSX) and every
engine path validates through these; a bad value becomes a rejected line naming line and field,
never a silently different answer (issue 11).

The line rules are SQL conditions over the text columns of `orders_txt` (alias `o`), so a book of
any size is validated in DuckDB; names are checked once per distinct value in Python.
"""

from __future__ import annotations

import difflib

from chipex.core.dates import DATE_MESSAGE, sql_is_date
from chipex.errors import ChipexError
from chipex.limits import MAX_NAME_LENGTH
from chipex.orders.schema import FIELD_TYPES, OPTIONAL, REQUIRED, SYSTEM

# The largest quantity chipex holds on one line: far above any real order (the largest published
# export licences count chips in the hundreds of thousands), and small enough that units x chips x
# TPP stays exact in the engine's integers and decimal(38, 6).
MAX_QUANTITY = 10**12
# The most chips one "N x CHIP" system may hold (a rack-scale system has 72 to 576).
MAX_SYSTEM_CHIPS = 100_000


def known_columns() -> tuple[str, ...]:
    return (*REQUIRED, *OPTIONAL)


def column_key(name: str) -> str:
    """How a header cell is matched to a column: case and surrounding spaces do not matter."""
    return str(name).strip().lower()


def closest_column(name: str) -> str | None:
    guess = column_key(name).replace(" ", "_").replace("-", "_")
    found = difflib.get_close_matches(guess, known_columns(), n=1, cutoff=0.6)
    return found[0] if found else None


def duplicate_check(columns: list[str], *, file: str) -> dict[str, str]:
    """{column key: header cell}; a duplicate (also `item` beside `ITEM`) or an empty name is an error."""
    seen: dict[str, str] = {}
    for c in columns:
        k = column_key(c)
        if not k:
            raise ChipexError("a column has an empty name in the header", file=file)
        if k in seen:
            raise ChipexError(f"duplicate column '{c}' (also '{seen[k]}'): which one is meant?", file=file)
        seen[k] = c
    return seen


def check_columns(
    columns: list[str], *, file: str, allow_extra: bool = False
) -> tuple[dict[str, str], list[str]]:
    """Map each known column to its header cell; (mapping, extra columns kept but unused).

    Duplicates (also `item` beside `ITEM`) and missing required columns are errors; an unknown column
    is an error naming the closest known one, unless `allow_extra` (then it is listed in the summary)."""
    seen = duplicate_check(columns, file=file)
    known = set(known_columns())
    extra = [c for k, c in seen.items() if k not in known]
    if extra and not allow_extra:
        hints = []
        for c in extra:
            near = closest_column(c)
            hints.append(f"'{c}'" + (f" (did you mean '{near}'?)" if near else ""))
        raise ChipexError(
            f"unknown column(s) {', '.join(hints)}; known: {', '.join(known_columns())} "
            "(--allow-extra-columns to check the book anyway, ignoring them)",
            file=file,
        )
    missing = [c for c in REQUIRED if c not in seen]
    if missing:
        raise ChipexError(
            f"missing column(s) {', '.join(missing)} (needs {', '.join(REQUIRED)}; optional {', '.join(OPTIONAL)})",
            file=file,
        )
    return {k: c for k, c in seen.items() if k in known}, extra


def item_problem(name: str) -> str | None:
    """Why an item name cannot be resolved before the catalog is asked, or None."""
    if len(name) > MAX_NAME_LENGTH:
        return f"item name of {len(name):,} characters is longer than the {MAX_NAME_LENGTH:,} allowed"
    m = SYSTEM.match(name)
    if m:
        digits = m.group(1).lstrip("0")
        if not digits:
            return f"'{name}': a system holds at least one chip"
        if len(digits) > 7 or int(digits) > MAX_SYSTEM_CHIPS:
            return f"'{name}': too large (a system holds at most {MAX_SYSTEM_CHIPS:,} chips)"
    return None


def text_fields() -> list[str]:
    """Free-text columns (names, addresses, descriptions), each bounded by MAX_NAME_LENGTH."""
    return [c for c in ("item", *OPTIONAL) if c not in FIELD_TYPES]


def line_checks() -> list[tuple[str, str, str]]:
    """(field, SQL condition that is true for a bad line, SQL message) for the required columns and
    the length of every text field; the first that holds names the line's error."""
    return [
        ("date", "o.date IS NULL", "'missing date'"),
        ("date", f"NOT {sql_is_date('o.date')}", f"'{DATE_MESSAGE}'"),
        ("item", "o.item IS NULL", "'missing item'"),
        ("item", "im.item_id IS NULL", "im.err"),  # item_map: the catalog's answer, or item_problem()
        ("quantity", "o.quantity IS NULL", "'missing quantity'"),
        (
            "quantity",
            "NOT regexp_full_match(o.quantity, '-?[0-9]+')",
            "'not a whole number (write a quantity as digits only, e.g. 8)'",
        ),
        (
            "quantity",
            "starts_with(o.quantity, '-') OR ltrim(o.quantity, '0') = ''",
            "'must be a positive whole number'",
        ),
        (
            "quantity",
            f"length(ltrim(o.quantity, '0')) > 13 OR TRY_CAST(o.quantity AS BIGINT) > {MAX_QUANTITY}",
            f"'too large (chipex holds at most {MAX_QUANTITY:,} units on a line)'",
        ),
        ("destination", "o.destination IS NULL", "'missing destination'"),
    ] + [
        (
            f,
            f'length(o."{f}") > {MAX_NAME_LENGTH}',
            f"'longer than the {MAX_NAME_LENGTH:,} characters allowed'",
        )
        for f in text_fields()
    ]
