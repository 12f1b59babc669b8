"""Reading order books (CSV, Parquet, JSON Lines), validating every line, writing results atomically.

Reading and validation run in DuckDB, streaming: the book is never held as Python objects. The
few distinct item names and country spellings are resolved in Python once each and joined back.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from chipex.catalog import Catalog
from chipex.catalog.model import Chip
from chipex.errors import ChipexError, UnknownChipError
from chipex.orders.parties import PartyScreening, screen_parties
from chipex.orders.schema import (
    COUNTRY_FIELDS,
    FIELD_TYPES,
    OPTIONAL,
    RED_FLAG_FIELDS,
    REQUIRED,
    SYSTEM,
    end_use_category,
)
from chipex.orders.tables import ItemStatus
from chipex.rules.countries import Countries
from chipex.rules.model import PartyLists

FORMATS = {".csv": "csv", ".parquet": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}


def file_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ChipexError(
            f"unsupported file type '{path.suffix}' (use .csv, .parquet or .jsonl)", file=str(path)
        )
    return fmt


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


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


@dataclass
class Rejected:
    line: int
    field: str
    value: str | None
    message: str

    def __str__(self) -> str:
        shown = "" if self.value is None else f" '{self.value}'"
        return f"line {self.line}, field '{self.field}'{shown}: {self.message}"


@dataclass
class Loaded:
    """What validation found; the valid, normalised lines are the DuckDB view `orders_valid`."""

    items: dict[str, ItemStatus]
    rejected: list[Rejected]
    total: int


def read_file(path: Path, con: duckdb.DuckDBPyConnection) -> int:
    """Expose an order file as the view `orders_raw`; returns the line offset of its first order
    (CSV: the header is line 1, so the first order is line 2; JSON Lines / Parquet: record numbers)."""
    fmt = file_format(path)
    if not path.exists():
        raise ChipexError("no such file", file=str(path))
    src = _sql_str(str(path))
    reader = {
        "csv": f"read_csv({src}, all_varchar=true, header=true)",
        "jsonl": f"read_json({src}, format='newline_delimited')",
        "parquet": f"read_parquet({src})",
    }[fmt]
    try:
        con.execute(f"CREATE OR REPLACE TEMP VIEW orders_raw AS SELECT * FROM {reader}")
        con.execute("DESCRIBE orders_raw").fetchall()
    except duckdb.Error as exc:
        raise ChipexError(f"cannot read as {fmt}: {str(exc).splitlines()[0]}", file=str(path)) from None
    # CSV: the header is line 1, so the first order is line 2; JSON Lines / Parquet: record numbers.
    return 1 if fmt == "csv" else 0


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
) -> Loaded:
    """Validate and normalise the view `orders_raw` into the view `orders_valid`."""
    columns = [r[0] for r in con.execute("DESCRIBE orders_raw").fetchall()]
    path = label
    lower = {c.lower().strip(): c for c in columns}
    missing = [c for c in REQUIRED if c not in lower]
    if missing:
        raise ChipexError(
            f"missing column(s) {', '.join(missing)} (needs {', '.join(REQUIRED)}; optional {', '.join(OPTIONAL)})",
            file=str(path),
        )
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
    country_rows = [(s, countries.code(s)) for s in spellings]
    con.register(
        "country_map",
        pa.table(
            {"raw": [r[0] for r in country_rows], "code": [r[1] for r in country_rows]},
            schema=pa.schema([("raw", pa.string()), ("code", pa.string())]),
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
        [
            ("date", "o.date IS NULL", "'missing date'"),
            ("date", "TRY_CAST(o.date AS DATE) IS NULL", "'not a date (use YYYY-MM-DD)'"),
            ("item", "o.item IS NULL", "'missing item'"),
            ("item", "im.item_id IS NULL", "im.err"),
            ("quantity", "o.quantity IS NULL", "'missing quantity'"),
            ("quantity", "TRY_CAST(o.quantity AS BIGINT) IS NULL", "'not a whole number'"),
            ("quantity", "TRY_CAST(o.quantity AS BIGINT) <= 0", "'must be a positive whole number'"),
            ("destination", "o.destination IS NULL", "'missing destination'"),
        ]
        + [
            (
                f,
                f'o."{f}" IS NOT NULL AND c_{f}.code IS NULL',
                "'unknown country (use an ISO 3166 code or name)'",
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
        rejected.append(Rejected(line, fld, value, msg))
    screen_parties(con, screener, party_lists, label=str(path))
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW orders_valid AS
        SELECT o.line, CAST(o.date AS DATE) AS date, o.item, o.item_id, CAST(o.units AS BIGINT) AS units,
               CAST(o.quantity AS BIGINT) AS quantity, o.destination_code AS destination, o.end_user,
               o.end_user_hq_code AS end_user_hq, o.parent_hq_code AS parent_hq, o.consignee,
               o.end_use_category AS end_use, o.end_use AS end_use_text, o.ship_from_code AS ship_from, o.exporter,
               coalesce(lp.party_listed, false) AS party_listed, lp.party_entries, lp.party_policy,
               lp.party_flags, coalesce(lp.party_affiliate, false) AS party_affiliate, lp.party_depends,
               lp.list_snapshot,
               {", ".join(_typed_select(f) for f in RED_FLAG_FIELDS)}
        FROM orders_checked o
        LEFT JOIN line_parties lp ON lp.line = o.line
        WHERE o.err_field IS NULL"""
    )
    return Loaded(items, rejected, total)


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
                    f'o."{f}" IS NOT NULL AND TRY_CAST(o."{f}" AS DATE) IS NULL',
                    "'not a date (use YYYY-MM-DD)'",
                )
            )
        elif kind == "usd":
            out.append(
                (
                    f,
                    f'o."{f}" IS NOT NULL AND coalesce(TRY_CAST(o."{f}" AS DOUBLE) < 0, true)',
                    "'not a price in USD (a number, 0 or more)'",
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
    if kind == "usd":
        return f'CAST(o."{f}" AS DOUBLE) AS {f}'
    if isinstance(kind, tuple):
        return f"{_enum_sql(f)} AS {f}"
    return f'o."{f}" AS {f}'


def count_rejected(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT count(*) FROM orders_checked WHERE err_field IS NOT NULL").fetchall()[0][0]


def write_rejects(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    n = count_rejected(con)
    with atomic_path(path) as tmp:
        con.execute(
            f"""COPY (SELECT line, err_field AS field, err_msg AS error, date, item, quantity, destination,
                   end_user, end_user_hq, parent_hq, consignee, end_use, ship_from, exporter
                 FROM orders_checked WHERE err_field IS NOT NULL ORDER BY line)
               TO {_sql_str(str(tmp))} (FORMAT CSV, HEADER)"""
        )
    return n


class atomic_path:
    """Write to a temporary file beside the target, then rename: readers never see half a file."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __enter__(self) -> Path:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(
            prefix=f".{self.target.name}.", suffix=self.target.suffix, dir=self.target.parent
        )
        os.close(fd)
        os.unlink(name)
        self.tmp = Path(name)
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None and self.tmp.exists():
            os.replace(self.tmp, self.target)
        elif self.tmp.exists():
            self.tmp.unlink()
