"""Order checks: one order, or a whole book, as typed requests and results (one Determination schema)."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from chipex.errors import ChipexError
from chipex.orders.schema import OPTIONAL
from chipex.service.common import Regime, ledger_for
from chipex.service.determination import Determination

Engine = Literal["duckdb", "polars", "spark"]
ResultFormat = Literal["csv", "parquet", "jsonl", "xlsx"]
FORMAT_SUFFIX = {"csv": ".csv", "parquet": ".parquet", "jsonl": ".jsonl", "xlsx": ".xlsx"}


class OrderRequest(BaseModel):
    """One order: the fields of the book schema (see chipex.orders.schema), and what to do with it."""

    model_config = ConfigDict(extra="forbid")

    date: dt.date | Literal["today"] = Field("today", description="YYYY-MM-DD, or 'today'")
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
    regime: Regime = "as-enforced"
    screen: bool = Field(True, description="screen end user and consignee against the lists")
    ledger: bool = Field(False, description="show the ledger headroom the order would draw on")
    record: bool = Field(False, description="record the determination in the ledger's audit chain")

    def fields(self) -> dict[str, Any]:
        on = dt.date.today() if self.date == "today" else self.date
        return {
            "date": on.isoformat(),
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
) -> Determination:
    """May this order ship? The one-order path of chipex.orders, explained in full."""
    from chipex.orders import check_order as run
    from chipex.orders import make_engine

    eng = make_engine(req.regime, catalog=catalog) if catalog is not None else make_engine(req.regime)
    with _ONE_AT_A_TIME:
        d = run(**req.fields(), engine=eng, screen=req.screen)
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
            d["determination_id"] = record(d, actor=actor, key=key, db=db, order="api")
    return Determination.model_validate(d)


def record(d: dict[str, Any], *, actor: str | None, key: str | None, db: str | None, order: str) -> str:
    """Store a determination in the ledger's audit chain; a repeated `key` is recorded once."""
    from chipex.orders import _SCREENERS
    from chipex.orders.ledger_link import INPUT_FIELDS

    inputs = {k: (None if d.get(k) is None else str(d[k])) for k in INPUT_FIELDS}
    decision = {k: v for k, v in d.items() if k not in ("ledger", "determination_id", "disclaimer")}
    snapshot = next((s.snapshot_id for s in _SCREENERS.values()), None)
    rec = ledger_for(db, actor).record_determination(
        inputs=inputs,
        decision=json.loads(json.dumps(decision, default=str)),
        rule_version=d.get("rule_version"),
        list_snapshot=snapshot,
        order=order,
        key=key,
        user=actor,
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
    reject_file: Path | None = Field(None, description="set bad lines aside here (CSV) and check the rest")


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
    regime: Regime
    summary: list[SummaryRow]
    errors: list[LineError]
    output: str | None = None
    _table: Any = PrivateAttr(None)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def to_arrow(self):
        """The tabular rows (DeterminationRow columns), read back from the output file if one was written."""
        if self._table is None and self.output:
            self._table = read_table(Path(self.output))
        return self._table

    def to_pandas(self):
        return self.to_arrow().to_pandas()

    def determinations(self) -> Iterator[Determination]:
        yield from determinations(self.to_arrow(), self.regime)


def _xlsx_to_csv(path: Path, workdir: Path) -> Path:
    """An .xlsx book as CSV (every cell as text), so line numbers stay those of the sheet."""
    import csv

    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several kinds for a file that is not a workbook
        raise ChipexError(f"cannot read as xlsx: {exc}", file=str(path)) from None
    out = workdir / (path.stem + ".csv")
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        for row in wb.active.iter_rows(values_only=True):
            w.writerow(
                [
                    "" if v is None else (v.date().isoformat() if isinstance(v, dt.datetime) else v)
                    for v in row
                ]
            )
    wb.close()
    return out


def check_book(req: BookRequest, *, catalog: Any = None) -> BookResult:
    """Check every line of a book with the bulk path (one rule expression on DuckDB, Polars or Spark)."""
    from chipex.orders import check_book as run

    with tempfile.TemporaryDirectory(prefix="chipex-book-") as tmp:
        path = req.path
        if path.suffix.lower() == ".xlsx":
            path = _xlsx_to_csv(path, Path(tmp))
        fmt = _out_format(req.out) if req.out else None
        direct = fmt in ("csv", "parquet")  # the engine writes these itself, streaming
        report = run(
            path,
            out=req.out if direct else None,
            engine=req.engine,
            regime=req.regime,
            catalog=catalog,
            reject_file=req.reject_file,
            screen=req.screen,
        )
        result = BookResult(
            total=report.total,
            checked=report.checked,
            rejected=report.rejected,
            regime=req.regime,
            summary=[SummaryRow(**s) for s in report.summary],
            errors=[
                LineError(line=r.line, field=r.field, value=r.value, message=r.message) for r in report.errors
            ],
            output=str(req.out) if req.out else None,
        )
        result._table = report.results
        if req.out is not None and not direct:
            write_results(report.results, req.out, req.regime)
        return result


def _out_format(path: Path) -> ResultFormat:
    for fmt, suffix in FORMAT_SUFFIX.items():
        if path.suffix.lower() == suffix:
            return fmt  # type: ignore[return-value]
    raise ChipexError(
        f"unsupported results file type '{path.suffix}' (use .parquet, .csv, .jsonl or .xlsx)", file=str(path)
    )


def read_table(path: Path):
    import pyarrow.parquet as pq

    if path.suffix == ".parquet":
        return pq.read_table(path)
    import duckdb

    from chipex.orders import _reader

    return duckdb.sql(f"SELECT * FROM {_reader(path)} ORDER BY line").to_arrow_table()


def determinations(table, regime: str) -> Iterator[Determination]:
    """Each tabular result row explained as a Determination (reasons cited; no per-line classification)."""
    from chipex.orders import make_engine
    from chipex.orders.explain import explain_row

    eng = make_engine(regime)
    for batch in table.to_batches(max_chunksize=10_000):
        for row in batch.to_pylist():
            d = explain_row(row, eng, classification=False)
            d["license_required_otherwise"] = row["license_required_otherwise"]
            yield Determination.model_validate(d)


def write_results(table, out: Path, regime: str) -> Path:
    """Write tabular rows as .parquet / .csv / .xlsx (DeterminationRow) or .jsonl (Determination), atomically."""
    from chipex.orders.io import atomic_path

    fmt = _out_format(out)
    table = table.sort_by("line")
    with atomic_path(out) as tmp:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            pq.write_table(table, tmp)
        elif fmt == "csv":
            import pyarrow.csv as pcsv

            pcsv.write_csv(table, tmp)
        elif fmt == "jsonl":
            with open(tmp, "w", encoding="utf-8") as fh:
                for d in determinations(table, regime):
                    fh.write(d.model_dump_json() + "\n")
        else:
            import openpyxl

            wb = openpyxl.Workbook(write_only=True)
            ws = wb.create_sheet("determinations")
            ws.append(table.column_names)
            for batch in table.to_batches(max_chunksize=10_000):
                for row in batch.to_pylist():
                    ws.append(
                        [
                            float(v)
                            if hasattr(v, "as_integer_ratio") and not isinstance(v, int | float)
                            else v
                            for v in row.values()
                        ]
                    )
            wb.save(tmp)
    return out
