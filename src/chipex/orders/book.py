"""A whole order book in bulk: validation in DuckDB (`io.load_orders`), then one Ibis expression
(`engine.OrderEngine`) on DuckDB by default, or on Polars or Spark for the same rules.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pyarrow as pa

from chipex.catalog import Catalog, default_catalog
from chipex.core import DISCLAIMER
from chipex.errors import ChipexError
from chipex.orders.engine import OrderEngine, put_table
from chipex.orders.io import Rejected, load_orders, write_rejects, write_rejects_view
from chipex.orders.output import (
    XLSX_MAX_ROWS,
    atomic_path,
    check_outputs,
    spill_folder,
    write_table,
    write_xlsx,
)
from chipex.orders.reading import file_format, read_file
from chipex.rules import Rulebook, default_rulebook

ENGINES = ("duckdb", "polars", "spark")

__all__ = ["ENGINES", "CheckReport", "check_book", "make_engine"]


def make_engine(
    regime: str = "as-enforced", *, catalog: Catalog | None = None, rulebook: Rulebook | None = None
) -> OrderEngine:
    if catalog is None and rulebook is None:
        return _default_engine(regime)
    return OrderEngine(rulebook or default_rulebook(), catalog or default_catalog(), regime)


@cache
def _default_engine(regime: str) -> OrderEngine:
    return OrderEngine(default_rulebook(), default_catalog(), regime)


@dataclass
class CheckReport:
    total: int
    checked: int
    rejected: int
    results: pa.Table | None  # only when no output file was given
    output: Path | None
    summary: list[dict[str, Any]] = field(default_factory=list)
    errors: list[Rejected] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)  # unknown columns, with --allow-extra-columns
    flagged: int = 0  # lines raising at least one red flag


def _backend(name: str, con: duckdb.DuckDBPyConnection):
    if name == "duckdb":
        return ibis.duckdb.from_connection(con)
    if name == "polars":
        return ibis.polars.connect()
    if name == "spark":
        from chipex.orders.spark import spark_backend

        return spark_backend()
    raise ChipexError(f"unknown engine '{name}' (use {', '.join(ENGINES)})")


def _pairs(engine: OrderEngine, con: duckdb.DuckDBPyConnection, items: dict) -> pa.Table:
    """Classification rows for the (item, period) pairs present in `orders_valid`."""
    dated = con.execute("SELECT DISTINCT item_id, date FROM orders_valid").fetchall()
    pairs = {(item_id, engine.period_of(on)) for item_id, on in dated}
    periods = sorted({p for _, p in pairs})
    return engine.items_table([items[i] for i in sorted({i for i, _ in pairs})], periods)


def _run(engine: OrderEngine, con: duckdb.DuckDBPyConnection, items: dict, backend_name: str):
    """The one rule expression over `orders_valid`, on the chosen backend."""
    items_tbl = _pairs(engine, con, items)
    backend = _backend(backend_name, con)
    engine.register(backend)
    put_table(backend, "chipex_items", items_tbl)
    if backend_name == "duckdb":
        lines = backend.table("orders_valid")
    else:  # validated lines handed over as Arrow; the rule expression is the same
        lines = put_table(backend, "orders_valid", con.sql("SELECT * FROM orders_valid").to_arrow_table())
    return backend, engine.expression(lines, backend)


def _screener(enabled: bool, regime: str, list_as_of: str):
    """How to screen the parties (the list snapshot in force on each line's date, from CHIPEX_HOME,
    else the shipped one; `list_as_of="today"` for today's), or None."""
    if not enabled:
        return None
    from chipex.orders.parties import PartyScreening

    return PartyScreening(regime=regime, list_as_of=list_as_of)


def check_book(
    path: Path,
    *,
    out: Path | None = None,
    engine: str = "duckdb",
    regime: str = "as-enforced",
    catalog: Catalog | None = None,
    rulebook: Rulebook | None = None,
    reject_file: Path | None = None,
    screen: bool = True,
    list_as_of: str = "order",
    allow_extra_columns: bool = False,
    encoding: str | None = None,
    sheet: str | None = None,
) -> CheckReport:
    """Check every line of an order book; write results to `out` (Parquet, CSV, JSON Lines or XLSX).

    Nothing is written unless every line is valid or `reject_file` takes the bad ones; an output
    that is the book itself, or another output, is refused before anything is read."""
    path = Path(path)
    check_outputs(path, out=out, reject_file=reject_file)
    for target in (out, reject_file):
        if target is not None:
            file_format(target)
    with spill_folder() as spill:
        cat = catalog or default_catalog()
        eng = make_engine(regime, catalog=cat, rulebook=rulebook)
        con = _bulk_connection(spill)
        src = read_file(path, con, encoding=encoding, sheet=sheet, workdir=Path(spill))
        loaded = load_orders(
            con,
            cat,
            eng.rulebook.countries,
            label=src.label,
            offset=src.offset,
            materialize=src.fmt != "parquet",
            screener=_screener(screen and _has_parties(con), eng.regime, list_as_of),
            party_lists=eng.rulebook.licensing.party_lists,
            allow_extra=allow_extra_columns,
            unit=src.unit,
        )
        if loaded.total == 0:
            raise ChipexError(
                "no order lines (the file has only a header); nothing was written", file=src.label
            )
        n_bad = len(loaded.rejected)
        if n_bad and reject_file is None:
            shown = "\n".join(f"  {src.label}: {r}" for r in loaded.rejected[:20])
            more = "" if n_bad <= 20 else "\n  ..."
            raise ChipexError(
                f"{_count_bad(con)} bad {src.unit}(s); nothing was written (use --reject-file to check the rest):\n{shown}{more}",
                file=src.label,
            )
        backend, expr = _run(eng, con, loaded.items, engine)
        results = None
        fmt = None if out is None else file_format(out)
        if fmt in (None, "xlsx"):
            results = backend.to_pyarrow(expr)
            con.register("results_view", results)
        elif backend.name == "duckdb":
            con.execute(f"CREATE OR REPLACE TEMP VIEW results_view AS {backend.compile(expr)}")
        else:  # other engines hand Arrow batches over; kept in DuckDB (spilling) for the summary
            con.register("results_stream", backend.to_pyarrow_batches(expr))
            con.execute("CREATE OR REPLACE TEMP TABLE results_view AS SELECT * FROM results_stream")
        summary = [
            dict(zip(("destination", "license_required", "eccn", "lines", "units"), row, strict=True))
            for row in con.execute(
                """SELECT destination, license_required, coalesce(eccn, '-'), count(*), sum(quantity)
                   FROM results_view GROUP BY ALL ORDER BY 1, 2, 3"""
            ).fetchall()
        ]
        checked, flagged = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE coalesce(red_flags, '') <> '') FROM results_view"
        ).fetchall()[0]
        report = CheckReport(
            loaded.total,
            checked,
            _count_bad(con),
            results,
            out,
            summary,
            loaded.rejected,
            loaded.extra,
            flagged,
        )
        if reject_file is not None:
            write_rejects(con, reject_file)
        if out is not None:
            _write(con, out, fmt, report, src.label, regime)
        return report


def _write(
    con: duckdb.DuckDBPyConnection, out: Path, fmt: str, report: CheckReport, label: str, regime: str
) -> None:
    """Write the results atomically; an XLSX output also holds the summary and the rejected lines."""
    if fmt != "xlsx":
        write_table(con, "results_view", out)
        return
    if report.checked >= XLSX_MAX_ROWS:
        raise ChipexError(
            f"{report.checked:,} lines do not fit in one sheet (at most {XLSX_MAX_ROWS - 1:,}); write .parquet or .csv",
            file=str(out),
        )
    summary: list[tuple[str, object]] = [
        ("order book", label),
        ("regime", regime),
        ("lines", report.total),
        ("lines checked", report.checked),
        ("lines rejected", report.rejected),
        ("columns ignored", ", ".join(report.ignored_columns) or "none"),
        ("note", DISCLAIMER),
    ]
    summary += [
        (
            f"{s['destination']} / licence {'required' if s['license_required'] else 'not required'} / {s['eccn']}",
            f"{s['lines']:,} lines, {s['units']:,} units",
        )
        for s in report.summary
    ]
    write_rejects_view(con)
    with atomic_path(out) as tmp:
        write_xlsx(con, tmp, summary=summary, results="results_view", rejects="orders_rejected")


def _bulk_connection(spill: str) -> duckdb.DuckDBPyConnection:
    """DuckDB for a whole book: bounded memory (CHIPEX_MEMORY_LIMIT, default 1GB), spilling to
    `spill`, so a book of any size streams instead of filling RAM."""
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{os.environ.get('CHIPEX_MEMORY_LIMIT', '1GB')}'")
    con.execute(f"SET temp_directory = '{spill}'")
    return con


def _has_parties(con: duckdb.DuckDBPyConnection) -> bool:
    cols = {r[0].lower().strip() for r in con.execute("DESCRIBE orders_raw").fetchall()}
    return bool(cols & {"end_user", "consignee"})


def _count_bad(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT count(*) FROM orders_checked WHERE err_field IS NOT NULL").fetchall()[0][0]
