"""Validating every line of an order book and normalising it for the engine.

The book is read by `reading.read_file` (CSV, JSON Lines, Parquet, XLSX) into `orders_raw`; the
rules are in `validate`; results and reject files are written by `output`. Validation runs in
DuckDB, streaming: the book is never held as Python objects. The few distinct item names and
country spellings are resolved in Python once each and joined back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from chipex.catalog import Catalog
from chipex.core.dates import DATE_MESSAGE, sql_is_date
from chipex.errors import ChipexError, UnknownChipError, printable
from chipex.orders.output import atomic_path, write_table
from chipex.orders.parties import PartyScreening, screen_parties
from chipex.orders.reading import file_format, read_file, sql_str
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
from chipex.orders.validate import check_columns, item_problem, known_columns, line_checks
from chipex.rules.countries import Countries
from chipex.rules.model import PartyLists

__all__ = ["Loaded", "Rejected", "atomic_path", "file_format", "load_orders", "read_file", "write_rejects"]


def _sql_str(value: str) -> str:
    return sql_str(value)


@dataclass
class Rejected:
    line: int
    field: str
    value: str | None
    message: str
    unit: str = "line"  # a text file's line, a sheet's row, a Parquet file's record

    def __str__(self) -> str:
        value = self.value if self.value is None or len(self.value) <= 80 else self.value[:77] + "..."
        shown = "" if value is None else f" '{printable(value)}'"
        col = "column" if self.unit == "row" else "field"
        return f"{self.unit} {self.line}, {col} '{self.field}'{shown}: {printable(self.message)}"


@dataclass
class Loaded:
    """What validation found; the valid, normalised lines are the DuckDB view `orders_valid`."""

    items: dict[str, ItemStatus]
    rejected: list[Rejected]
    total: int
    extra: list[str] = field(default_factory=list)  # unknown columns kept out (--allow-extra-columns)


def load_orders(
    con: duckdb.DuckDBPyConnection,
    catalog: Catalog,
    countries: Countries,
    *,
    label: str,
    offset: int,
    materialize: bool = True,
    max_errors: int = 50,
    screener: PartyScreening | None = None,
    party_lists: PartyLists | None = None,
    allow_extra: bool = False,
    unit: str = "line",
) -> Loaded:
    """Validate and normalise the view `orders_raw` into the view `orders_valid` (rules: validate.py)."""
    columns = [r[0] for r in con.execute("DESCRIBE orders_raw").fetchall()]
    lower, extra = check_columns(columns, file=label, allow_extra=allow_extra)
    sel = [f"row_number() OVER () + {offset} AS line"]
    for c in (*REQUIRED, *OPTIONAL):
        sel.append(
            f'NULLIF(TRIM(CAST("{lower[c]}" AS VARCHAR)), \'\') AS "{c}"'
            if c in lower
            else f'NULL::VARCHAR AS "{c}"'
        )
    # Text formats are parsed once into a table; Parquet is read in place (columnar, cheap to rescan).
    kind = "TABLE" if materialize else "VIEW"
    con.execute(f"CREATE OR REPLACE TEMP {kind} orders_txt AS SELECT {', '.join(sel)} FROM orders_raw")

    items: dict[str, ItemStatus] = {}
    item_rows = []
    for (name,) in con.execute("SELECT DISTINCT item FROM orders_txt WHERE item IS NOT NULL").fetchall():
        problem = item_problem(name)
        if problem:
            item_rows.append((name, None, None, problem))
            continue
        try:
            st = resolve_item(name, catalog)
            items[st.item_id] = st
            item_rows.append((name, st.item_id, st.units, None))
        except UnknownChipError as exc:
            item_rows.append((name, None, None, exc.message))
        except ChipexError as exc:
            item_rows.append((name, None, None, exc.message))
    item_schema = pa.schema(
        [("raw", pa.string()), ("item_id", pa.string()), ("units", pa.int64()), ("err", pa.string())]
    )
    con.register(
        "item_map",
        pa.Table.from_pylist([dict(zip(item_schema.names, r, strict=True)) for r in item_rows], item_schema),
    )

    spellings = set()
    for f in COUNTRY_FIELDS:
        spellings.update(
            v
            for (v,) in con.execute(
                f'SELECT DISTINCT "{f}" FROM orders_txt WHERE "{f}" IS NOT NULL'
            ).fetchall()
        )
    country_rows = [(s, *countries.resolve(s)) for s in spellings]
    con.register(
        "country_map",
        pa.table(
            {k: [r[i] for r in country_rows] for i, k in enumerate(("raw", "code", "err"))},
            schema=pa.schema([("raw", pa.string()), ("code", pa.string()), ("err", pa.string())]),
        ),
    )
    uses = [
        v
        for (v,) in con.execute(
            "SELECT DISTINCT end_use FROM orders_txt WHERE end_use IS NOT NULL"
        ).fetchall()
    ]
    con.register(
        "end_use_map",
        pa.table(
            {"raw": uses, "category": [end_use_category(u) for u in uses]},
            schema=pa.schema([("raw", pa.string()), ("category", pa.string())]),
        ),
    )
    joins = " ".join(f'LEFT JOIN country_map c_{f} ON o."{f}" = c_{f}.raw' for f in COUNTRY_FIELDS)
    checks = (
        line_checks()
        + [
            (
                f,
                f'o."{f}" IS NOT NULL AND c_{f}.code IS NULL',
                f"c_{f}.err",
            )
            for f in COUNTRY_FIELDS
        ]
        + _typed_checks()
    )
    err_field = "CASE " + " ".join(f"WHEN {cond} THEN '{f}'" for f, cond, _ in checks) + " END"
    err_msg = "CASE " + " ".join(f"WHEN {cond} THEN {msg}" for _, cond, msg in checks) + " END"
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW orders_checked AS
        SELECT o.*, im.item_id, im.units, {err_field} AS err_field, {err_msg} AS err_msg,
               {", ".join(f"c_{f}.code AS {f}_code" for f in COUNTRY_FIELDS)}, eu.category AS end_use_category
        FROM orders_txt o LEFT JOIN item_map im ON o.item = im.raw {joins}
        LEFT JOIN end_use_map eu ON o.end_use = eu.raw"""
    )
    total = con.execute("SELECT count(*) FROM orders_checked").fetchall()[0][0]
    bad = con.execute(
        f"SELECT line, err_field, err_msg FROM orders_checked WHERE err_field IS NOT NULL ORDER BY line LIMIT {max_errors}"
    ).fetchall()
    rejected = []
    for line, fld, msg in bad:
        value = con.execute(f'SELECT "{fld}" FROM orders_checked WHERE line = ?', [line]).fetchall()[0][0]
        rejected.append(Rejected(line, fld, value, msg, unit))
    screen_parties(con, screener, party_lists, label=label)
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW orders_valid AS
        SELECT o.line, CAST(o.date AS DATE) AS date, o.item, o.item_id, CAST(o.units AS BIGINT) AS units,
               CAST(o.quantity AS BIGINT) AS quantity, o.destination_code AS destination, o.end_user,
               o.end_user_hq_code AS end_user_hq, o.parent_hq_code AS parent_hq, o.consignee,
               o.end_use_category AS end_use, o.end_use AS end_use_text, o.ship_from_code AS ship_from, o.exporter,
               coalesce(lp.party_listed, false) AS party_listed, lp.party_entries, lp.party_policy,
               lp.party_flags, coalesce(lp.party_affiliate, false) AS party_affiliate, lp.party_depends,
               lp.list_snapshot,
               {", ".join(_typed_select(f) for f in (*RED_FLAG_FIELDS, *JURISDICTION_FIELDS))}
        FROM orders_checked o
        LEFT JOIN line_parties lp ON lp.line = o.line
        WHERE o.err_field IS NULL"""
    )
    return Loaded(items, rejected, total, extra)


def _enum_sql(f: str) -> str:
    return f"regexp_replace(lower(o.\"{f}\"), '[ _]+', '-', 'g')"


def _typed_checks() -> list[tuple[str, str, str]]:
    """Validation of the typed optional columns declared in schema.FIELD_TYPES."""
    out = []
    for f, kind in FIELD_TYPES.items():
        if kind == "date":
            out.append(
                (
                    f,
                    f'o."{f}" IS NOT NULL AND NOT {sql_is_date(f"o.{f}")}',
                    f"'{DATE_MESSAGE}'",
                )
            )
        elif kind == "usd":
            out.append(
                (
                    f,
                    f'o."{f}" IS NOT NULL AND NOT coalesce(isfinite(TRY_CAST(o."{f}" AS DOUBLE)) AND TRY_CAST(o."{f}" AS DOUBLE) >= 0, false)',
                    "'not a price in USD (a number, 0 or more)'",
                )
            )
        elif kind == "pct":
            out.append(
                (
                    f,
                    f'o."{f}" IS NOT NULL AND NOT coalesce(TRY_CAST(o."{f}" AS DOUBLE) BETWEEN 0 AND 100, false)',
                    "'not a percentage (a number from 0 to 100)'",
                )
            )
        else:
            allowed = ", ".join(_sql_str(v) for v in kind)
            out.append(
                (
                    f,
                    f'o."{f}" IS NOT NULL AND {_enum_sql(f)} NOT IN ({allowed})',
                    _sql_str(f"use one of {', '.join(kind)}"),
                )
            )
    return out


def _typed_select(f: str) -> str:
    kind = FIELD_TYPES.get(f)
    if f in COUNTRY_FIELDS:
        return f"o.{f}_code AS {f}"
    if kind == "date":
        return f'CAST(o."{f}" AS DATE) AS {f}'
    if kind in ("usd", "pct"):
        return f'CAST(o."{f}" AS DOUBLE) AS {f}'
    if isinstance(kind, tuple):
        return f"{_enum_sql(f)} AS {f}"
    return f'o."{f}" AS {f}'


def count_rejected(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT count(*) FROM orders_checked WHERE err_field IS NOT NULL").fetchall()[0][0]


def write_rejects_view(con: duckdb.DuckDBPyConnection) -> None:
    """The view `orders_rejected`: each bad line with its field, error and the values as read."""
    cols = ", ".join(f'"{c}"' for c in known_columns())
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW orders_rejected AS SELECT line, err_field AS field, err_msg AS error, {cols}
            FROM orders_checked WHERE err_field IS NOT NULL ORDER BY line"""
    )


def write_rejects(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    """The bad lines in the reject file's format (its suffix), formula-safe; returns how many."""
    write_rejects_view(con)
    write_table(con, "orders_rejected", path)
    return count_rejected(con)
