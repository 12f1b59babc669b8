"""chipex: US export controls on AI compute, written as code. Analysis, not legal advice.

The Python API calls the same service layer as the command line and the HTTP API, and returns
the same result models (each with `.to_dict()`):

    import chipex
    chipex.classify("H800", "2023-06-01").eccn          # None: 400 GB/s < 600 GB/s under the 2022 text
    d = chipex.check({"date": "2024-01-01", "item": "H100", "quantity": 8, "destination": "CN"})
    d.license_required, d.eccn, d.reasons[0].citation   # a Determination (docs/schema/)
    book = chipex.check_book("orders.csv")              # or a pandas / Polars DataFrame, an Arrow table
    book.summary, book.to_pandas(), book.to_arrow(), list(book.determinations())
    chipex.screen("Huawei Tech Co", country="CN").hits[0].entry_name

Nothing heavy is imported until a function is called, so `import chipex` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import datetime as dt
    from pathlib import Path

__all__ = ["check", "check_book", "check_order", "classify", "history", "screen"]


def classify(chip: str, as_of: str | dt.date = "today", *, datacenter: bool | None = None):
    """A chip's ECCN paragraph on a date (a ClassificationResult: `.eccn`, `.reasons`, `.to_dict()`)."""
    from chipex.service.catalog import ClassifyRequest
    from chipex.service.catalog import classify as run

    return run(ClassifyRequest(chip=chip, as_of=as_of, datacenter=datacenter))


def history(chip: str, *, datacenter: bool | None = None):
    """The chip's status under every rule version, in date order."""
    from chipex.service.catalog import HistoryRequest
    from chipex.service.catalog import history as run

    return run(HistoryRequest(chip=chip, datacenter=datacenter))


def check_order(**order: Any):
    """One order, explained: a Determination. Fields as in a book (`date`, `item`, `quantity`,
    `destination`, optional parties, ...) plus `regime`, `screen`."""
    from chipex.service.orders import OrderRequest
    from chipex.service.orders import check_order as run

    return run(OrderRequest(**order))


def _book_path(book: Any, tmp: Path) -> Path:
    """A book as a file the bulk path reads: a path as is; a DataFrame or Arrow table as Parquet."""
    from pathlib import Path

    if isinstance(book, str | Path):
        return Path(book)
    import pyarrow as pa
    import pyarrow.parquet as pq

    if isinstance(book, pa.Table):
        table = book
    elif type(book).__module__.startswith("polars"):
        table = book.to_arrow()
    elif type(book).__module__.startswith("pandas"):
        table = pa.Table.from_pandas(book, preserve_index=False)
    else:
        from chipex.errors import ChipexError

        raise ChipexError(
            f"a book is a path (str or Path), a pandas or Polars DataFrame, or an Arrow table, not {type(book).__name__}"
        )
    # every column as text, as a CSV would hold it: validation (and its messages) is the same
    table = pa.table({n: pa.array([None if v is None else str(v) for v in table[n].to_pylist()], pa.string())
                      for n in table.column_names})  # fmt: skip
    path = tmp / "book.parquet"
    pq.write_table(table, path)
    return path


def check_book(book: Any, *, out: str | Path | None = None, regime: str = "as-enforced", screen: bool = True,
               engine: str = "duckdb", reject_file: str | Path | None = None):  # fmt: skip
    """Every line of a book (path, pandas / Polars DataFrame or Arrow table): a BookResult with
    `.summary`, `.errors`, `.to_arrow()`, `.to_pandas()`, `.determinations()`."""
    import tempfile
    from pathlib import Path

    from chipex.service.orders import BookRequest
    from chipex.service.orders import check_book as run

    with tempfile.TemporaryDirectory(prefix="chipex-api-") as tmp:
        path = _book_path(book, Path(tmp))
        req = BookRequest(
            path=path, out=out, regime=regime, screen=screen, engine=engine, reject_file=reject_file
        )
        result = run(req)
        result.to_arrow()  # read back before the temporary folder goes
        return result


def check(order_or_book: Any = None, /, **order: Any):
    """`check({...})` or `check(date=..., item=..., ...)`: one order; `check(path | DataFrame | Table)`: a book."""
    if order_or_book is None:
        return check_order(**order)
    if isinstance(order_or_book, dict):
        return check_order(**order_or_book, **order)
    return check_book(order_or_book, **order)


def screen(name: str, country: str | None = None, *, address: str | None = None, threshold: float = 0.80):
    """Screen a party against the Consolidated Screening List: a ScreenResult with explained hits."""
    from chipex.service.screening import ScreenRequest
    from chipex.service.screening import screen as run

    return run(ScreenRequest(name=name, country=country, address=address, threshold=threshold))
