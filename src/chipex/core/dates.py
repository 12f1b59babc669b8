"""The one date parser: order books (CSV, JSON Lines, Parquet, XLSX) and the CLI's `--date` and
`--as-of` accept the same form, an ISO 8601 calendar date YYYY-MM-DD with a year from 0001 to
9999 (the CLI also takes `today`). Nothing else is guessed: `2024-1-1`, `20240101`, `01/02/2024`,
`10000-01-01`, `0000-01-01` and BC dates are refused with this message."""

from __future__ import annotations

import datetime as dt
import re

from chipex.errors import ChipexError

# The SQL form of the same rule (order books are validated in DuckDB): the text must match
# DATE_PATTERN *and* be a real calendar day (TRY_CAST to DATE), year 0001..9999.
DATE_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
DATE_MESSAGE = "not a date (use YYYY-MM-DD, years 0001 to 9999)"
_DATE = re.compile(DATE_PATTERN)


def sql_is_date(expr: str) -> str:
    """A DuckDB condition true when the text `expr` is a date in the one accepted form."""
    return (
        f"(regexp_full_match({expr}, '{DATE_PATTERN}') AND TRY_CAST({expr} AS DATE) IS NOT NULL "
        f"AND left({expr}, 4) <> '0000')"
    )


def parse_date(value: dt.date | str, *, field: str | None = None) -> dt.date:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if text in ("today", "now"):
        return dt.date.today()
    if _DATE.fullmatch(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    raise ChipexError(f"'{value}' is {DATE_MESSAGE}", field=field)
