"""Order checks: one order, or a whole book, as typed requests and results (one Determination schema)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from chipex.core.dates import parse_date
from chipex.orders.schema import OPTIONAL
from chipex.service.common import Regime, ledger_for
from chipex.service.determination import Determination

Engine = Literal["duckdb", "polars", "spark"]
ListAsOf = Literal["order", "today"]
LIST_AS_OF_HELP = "order: the screening list in force on each order's date; today: today's list"
ResultFormat = Literal["csv", "parquet", "jsonl", "xlsx"]
FORMAT_SUFFIX = {"csv": ".csv", "parquet": ".parquet", "jsonl": ".jsonl", "xlsx": ".xlsx"}


class OrderRequest(BaseModel):
    """One order: the fields of the book schema (see chipex.orders.schema), and what to do with it."""

    model_config = ConfigDict(extra="forbid")

    # dates and red-flag inputs are text here: the order checker validates them, with the CLI's messages
    date: str = Field("today", max_length=40, description="YYYY-MM-DD, or 'today'")
    item: str = Field(description="catalog chip, a system like '8x H100', or 'DGX H100'")
    quantity: int = Field(1, description="units")
    destination: str = Field(description="ISO code or country name")
    end_user: str | None = None
    end_user_hq: str | None = None
    parent_hq: str | None = None
    consignee: str | None = None
    end_use: str | None = None
    ship_from: str | None = None
    exporter: str | None = None
    # diversion red-flag inputs (chipex.orders.schema.RED_FLAG_FIELDS); empty is never a flag
    consignee_type: str | None = Field(
        None, description="end-user, distributor, reseller, freight-forwarder, unknown"
    )
    payer_country: str | None = None
    payer_name: str | None = None
    end_user_business: str | None = None
    end_user_established: str | None = Field(None, description="YYYY-MM-DD")
    unit_price_usd: str | float | None = None
    declared_description: str | None = None
    delivery_address: str | None = None
    payment_terms: str | None = None
    # jurisdiction inputs (chipex.orders.schema.JURISDICTION_FIELDS)
    made_in: str | None = Field(None, description="country of manufacture (not given: US-origin assumed)")
    us_content_pct: str | float | None = Field(
        None, description="controlled US-origin content, % of value (0-100)"
    )
    exporter_role: str | None = Field(None, description="foundry, OSAT or other")
    regime: Regime = "as-enforced"
    screen: bool = Field(True, description="screen end user and consignee against the lists")
    list_as_of: ListAsOf = Field("order", description=LIST_AS_OF_HELP)
    ledger: bool = Field(False, description="show the ledger headroom the order would draw on")
    record: bool = Field(False, description="record the determination in the ledger's audit chain")

    def fields(self) -> dict[str, Any]:
        return {
            "date": parse_date(self.date, field="date").isoformat(),
            "item": self.item,
            "quantity": self.quantity,
            "destination": self.destination,
            **{k: getattr(self, k) for k in OPTIONAL},
        }


_ONE_AT_A_TIME = threading.Lock()  # the one-order path reuses one prepared DuckDB statement


def check_order(
    req: OrderRequest,
    *,
    actor: str | None = None,
    key: str | None = None,
    db: str | None = None,
    catalog: Any = None,
    order: str = "api",
) -> Determination:
    """May this order ship? The one-order path of chipex.orders, explained in full."""
    from chipex.orders import check_order as run

    with _ONE_AT_A_TIME:  # evaluated in Python (orders/single.py): no engine is built for one order
        d = run(
            **req.fields(), regime=req.regime, catalog=catalog, screen=req.screen, list_as_of=req.list_as_of
        )
    d["license_required_otherwise"] = (
        d["outcomes"]["otherwise"] if d.get("outcomes") else d["license_required"]
    )
    if req.ledger or req.record:
        row = {**d, "tpp_total": d["tpp_total"]}
        if req.ledger:
            from chipex.orders.ledger_link import LedgerLink

            link = LedgerLink.__new__(LedgerLink)  # the shared ledger for this actor, not a new engine
            link.ledger, link.regime, link.user = ledger_for(db, actor), req.regime, actor
            d["ledger"] = link.headroom(row, d["license_required"], [e["id"] for e in d["exceptions"]])
        if req.record:
            d["determination_id"] = record(
                d, actor=actor, key=key, db=db, order=order, screened=req.screen, catalog=catalog
            )
    return Determination.model_validate(d)


def record(
    d: dict[str, Any],
    *,
    actor: str | None,
    key: str | None,
    db: str | None,
    order: str,
    screened: bool = True,
    catalog: Any = None,
) -> str:
    """Store a determination in the ledger's audit chain, with what it was decided with
    (chipex.core.provenance.Provenance); a repeated `key` is recorded once."""
    from chipex.catalog import CHIPS_DIR
    from chipex.orders.ledger_link import INPUT_FIELDS, order_provenance

    inputs = {k: (None if d.get(k) is None else str(d[k])) for k in INPUT_FIELDS}
    decision = {k: v for k, v in d.items() if k not in ("ledger", "determination_id", "disclaimer")}
    # the list snapshot the parties were screened against ("<id> (list of <date>)...")
    snapshot = (d.get("list_snapshot") or "").split(" ")[0] or None
    rec = ledger_for(db, actor).record_determination(
        inputs=inputs,
        decision=json.loads(json.dumps(decision, default=str)),
        rule_version=d.get("rule_version"),
        list_snapshot=snapshot,
        order=order,
        key=key,
        user=actor,
        provenance=order_provenance(
            json.loads(json.dumps(d, default=str)),
            regime=d.get("regime") or "as-enforced",
            screened=screened,
            # the user's catalog files (CHIPEX_CATALOG, --catalog): those the chips came from
            catalog_files=sorted(
                {f for f in (catalog.origin.values() if catalog else ()) if Path(f).parent != CHIPS_DIR}
            ),
        ),
    )
    return rec.key


# --- books ----------------------------------------------------------------------------------------


class BookRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: Path = Field(description="order book: .csv, .parquet, .jsonl or .xlsx")
    out: Path | None = Field(None, description="results file: .parquet, .csv, .jsonl or .xlsx")
    engine: Engine = "duckdb"
    regime: Regime = "as-enforced"
    screen: bool = True
    list_as_of: ListAsOf = Field("order", description=LIST_AS_OF_HELP)
    reject_file: Path | None = Field(None, description="set bad lines aside here and check the rest")
    allow_extra_columns: bool = Field(False, description="ignore unknown columns (listed in the result)")
    encoding: str | None = Field(None, max_length=40, description="text encoding of a CSV/JSONL book")
    sheet: str | None = Field(None, max_length=100, description="the sheet of an .xlsx book")


class LineError(BaseModel):
    line: int
    field: str
    value: str | None = None
    message: str


class SummaryRow(BaseModel):
    destination: str
    license_required: bool
    eccn: str
    lines: int
    units: int


class BookResult(BaseModel):
    """A checked book: counts, the summary by destination / decision / ECCN, and the line errors.

    The determinations are `to_arrow()` / `to_pandas()` (tabular rows) or `determinations()`."""

    total: int
    checked: int
    rejected: int
    flagged: int = Field(0, description="lines raising at least one red flag")
    regime: Regime
    summary: list[SummaryRow]
    errors: list[LineError]
    ignored_columns: list[str] = Field(default_factory=list, description="unknown columns ignored")
    output: str | None = None
    _table: Any = PrivateAttr(None)  # the engine's rows: list columns as ids joined by ';'

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @property
    def results(self):
        """The engine's rows when no output file was written (else None: read them with to_arrow())."""
        return None if self.output else self._table

    def _joined(self):
        if self._table is None and self.output:
            self._table = read_joined(Path(self.output))
        return self._table

    def rows(self) -> list[dict[str, Any]]:
        """The rows as dicts, list columns as ids joined by ';' (what chipex.orders.explain reads)."""
        return self._joined().to_pylist()

    def to_arrow(self):
        """The DeterminationRow table, as a Parquet results file holds it (lists native)."""
        return shaped(self._joined(), "parquet")

    def to_pandas(self):
        return self.to_arrow().to_pandas()

    def determinations(self) -> Iterator[Determination]:
        yield from determinations(self._joined(), self.regime)


def check_book(req: BookRequest, *, catalog: Any = None) -> BookResult:
    """Check every line of a book with the bulk path (one rule expression on DuckDB, Polars or Spark).

    CSV, Parquet and XLSX results are the engine's own (streamed); a .jsonl results file holds one
    Determination per line, the same objects as `check --json`."""
    from chipex.orders import check_book as run
    from chipex.orders.reading import file_format

    fmt = file_format(req.out) if req.out else None
    report = run(
        req.path,
        out=req.out if fmt != "jsonl" else None,
        engine=req.engine,
        regime=req.regime,
        catalog=catalog,
        reject_file=req.reject_file,
        screen=req.screen,
        list_as_of=req.list_as_of,
        allow_extra_columns=req.allow_extra_columns,
        encoding=req.encoding,
        sheet=req.sheet,
    )
    if fmt == "jsonl":
        from chipex.orders.io import atomic_path

        with atomic_path(req.out) as tmp, open(tmp, "w", encoding="utf-8") as fh:
            for d in determinations(report.results, req.regime):
                fh.write(d.model_dump_json() + "\n")
    result = BookResult(
        total=report.total,
        checked=report.checked,
        rejected=report.rejected,
        flagged=report.flagged,
        regime=req.regime,
        summary=[SummaryRow(**s) for s in report.summary],
        errors=[
            LineError(line=r.line, field=r.field, value=r.value, message=r.message) for r in report.errors
        ],
        ignored_columns=list(report.ignored_columns),
        output=str(req.out) if req.out and fmt != "jsonl" else None,
    )
    result._table = report.results
    return result


def _join_sql(con, relation: str) -> str:
    """`relation` with its list columns as ids joined by ';', as the engine gives them."""
    from chipex.orders.output import LIST_COLUMNS

    cols = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    out = [
        f'array_to_string("{n}", \';\') AS "{n}"' if n in LIST_COLUMNS and t.endswith("[]") else f'"{n}"'
        for n, t, *_ in cols
    ]
    return f"SELECT {', '.join(out)} FROM {relation}"


def read_joined(path: Path):
    """A CSV / Parquet / XLSX results file read back as the engine's rows (ordered by line)."""
    import duckdb

    from chipex.orders.reading import file_format, sql_str

    fmt = file_format(path)
    con = duckdb.connect()
    if fmt == "xlsx":
        import openpyxl
        import pyarrow as pa

        wb = openpyxl.load_workbook(path, read_only=True)
        rows = list(wb["results"].iter_rows(values_only=True))
        wb.close()
        con.register("t", pa.Table.from_pylist([dict(zip(rows[0], r, strict=True)) for r in rows[1:]]))
    else:
        reader = {"parquet": "read_parquet", "csv": "read_csv", "jsonl": "read_json"}[fmt]
        con.execute(f"CREATE VIEW t AS SELECT * FROM {reader}({sql_str(str(path))})")
    return con.sql(f"{_join_sql(con, 't')} ORDER BY line").to_arrow_table()


def shaped(table, fmt: str):
    """The engine's rows as the results file of `fmt` holds them (chipex.orders.output)."""
    import duckdb

    from chipex.orders.output import shaped_select

    con = duckdb.connect()
    con.register("t", table)
    return con.sql(f"{shaped_select(con, 't', fmt)} ORDER BY line").to_arrow_table()


def determinations(table, regime: str) -> Iterator[Determination]:
    """Each engine row explained as a Determination (reasons cited; no per-line classification)."""
    from chipex.orders import make_engine
    from chipex.orders.explain import explain_row

    eng = make_engine(regime)
    for batch in table.sort_by("line").to_batches(max_chunksize=10_000):
        for row in batch.to_pylist():
            d = explain_row(row, eng, classification=False)
            d["license_required_otherwise"] = row["license_required_otherwise"]
            yield Determination.model_validate(d)


def write_results(parquet: Path, out: Path, regime: str) -> Path:
    """A Parquet results file written again as `out` (.csv / .xlsx / .parquet rows, or .jsonl
    Determinations), atomically, with the engine's writers."""
    from chipex.orders.reading import file_format

    if file_format(out) == "jsonl":
        from chipex.orders.io import atomic_path

        with atomic_path(out) as tmp, open(tmp, "w", encoding="utf-8") as fh:
            for d in determinations(read_joined(parquet), regime):
                fh.write(d.model_dump_json() + "\n")
        return out
    import duckdb

    from chipex.orders.output import write_table

    con = duckdb.connect()
    con.register("rows", read_joined(parquet))
    write_table(con, "rows", out)
    return out
