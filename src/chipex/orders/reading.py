"""Reading an order book into DuckDB as the view `orders_raw`: CSV, JSON Lines, Parquet or XLSX.

Every way a file can be unreadable becomes one ChipexError naming the file, the line (or sheet and
row) and what is wrong: an empty file, a spreadsheet or Parquet file under another name, text that
is not UTF-8 (the byte is named; `--encoding` reads other encodings), a ragged line, a quote never
closed, duplicate columns or JSON keys. CSV is parsed strictly with the header's own columns (the
sniffer never guesses a delimiter or skips a bad line), and a line is at most MAX_LINE_BYTES long,
so an unclosed quote cannot read the rest of a large book into memory.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from chipex.errors import ChipexError, utf8_problem
from chipex.orders.validate import duplicate_check

FORMATS = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".xlsx": "xlsx",
}
MAX_LINE_BYTES = 1 << 20  # 1 MiB: far above any order line, small enough to bound memory
_MAGIC = {b"PK\x03\x04": "a spreadsheet or other zip file (.xlsx)", b"PAR1": "a Parquet file"}
_OLE = b"\xd0\xcf\x11\xe0"  # the old binary Excel format (.xls)


def file_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ChipexError(
            f"unsupported file type '{path.suffix}' (use .csv, .parquet, .jsonl or .xlsx)", file=str(path)
        )
    return fmt


def sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class Source:
    """Where orders_raw came from: its name in messages, its first line's number less one, and
    what a record is called (a line of a text file, a row of a sheet)."""

    label: str
    fmt: str
    offset: int
    unit: str = "line"


def read_file(
    path: Path,
    con: duckdb.DuckDBPyConnection,
    *,
    encoding: str | None = None,
    sheet: str | None = None,
    workdir: Path | None = None,
) -> Source:
    """Expose an order file as the view `orders_raw` (materialised for text formats)."""
    fmt = file_format(path)
    _sniff(path, fmt)
    label = str(path)
    if encoding and fmt in ("csv", "jsonl") and codecs.lookup(_codec(encoding)).name != "utf-8":
        path = _to_utf8(path, encoding, workdir)
    elif encoding and fmt not in ("csv", "jsonl"):
        raise ChipexError(f"--encoding applies to CSV and JSON Lines, not {fmt}", file=label)
    if fmt == "xlsx":
        return _read_xlsx(path, con, sheet)
    if sheet is not None:
        raise ChipexError("--sheet applies to .xlsx books", file=label)
    try:
        if fmt == "csv":
            columns = _csv_header(path, label)
            cols = "{" + ", ".join(f"{sql_str(c)}: 'VARCHAR'" for c in columns) + "}"
            reader = (
                f"read_csv({sql_str(str(path))}, columns={cols}, header=true, delim=',', quote='\"', "
                f"escape='\"', strict_mode=true, null_padding=false, auto_detect=false, "
                f"max_line_size={MAX_LINE_BYTES})"
            )
        elif fmt == "jsonl":
            reader = f"read_json({sql_str(str(path))}, format='newline_delimited', sample_size=-1)"
        else:
            import pyarrow.parquet as pq

            duplicate_check(pq.read_schema(path).names, file=label)
            reader = f"read_parquet({sql_str(str(path))})"
        kind = "VIEW" if fmt == "parquet" else "TABLE"  # text is parsed once; Parquet read in place
        con.execute(f"CREATE OR REPLACE TEMP {kind} orders_raw AS SELECT * FROM {reader}")
    except duckdb.Error as exc:
        raise _read_error(exc, path, label, fmt) from None
    except OSError as exc:
        raise ChipexError(f"cannot read: {exc.strerror or exc}", file=label) from None
    except pa.ArrowException as exc:
        raise ChipexError(f"not a readable Parquet file ({str(exc).splitlines()[0]})", file=label) from None
    # CSV: the header is line 1, so the first order is line 2; JSON Lines / Parquet: record numbers.
    return Source(label, fmt, 1 if fmt == "csv" else 0, "line" if fmt != "parquet" else "record")


def _sniff(path: Path, fmt: str) -> None:
    """Refuse, by name, what cannot be an order book of the format its name claims."""
    try:
        with path.open("rb") as f:
            head = f.read(8)
    except FileNotFoundError:
        raise ChipexError("no such file", file=str(path)) from None
    except IsADirectoryError:
        raise ChipexError("is a folder, not an order book", file=str(path)) from None
    except OSError as exc:
        raise ChipexError(f"cannot read: {exc.strerror or exc}", file=str(path)) from None
    if not head:
        raise ChipexError("the file is empty (an order book needs a header and order lines)", file=str(path))
    kind = next((what for magic, what in _MAGIC.items() if head.startswith(magic)), None)
    if head.startswith(_OLE):
        kind = "an old-format Excel spreadsheet (.xls)"
    wanted = {"xlsx": "a spreadsheet or other zip file (.xlsx)", "parquet": "a Parquet file"}.get(fmt)
    if kind != wanted and (kind or wanted):
        hint = " (save it as .xlsx or CSV)" if "xls" in (kind or "") else ""
        got = kind or "text"
        raise ChipexError(f"is {got}, not the {fmt} its name says{hint}", file=str(path))


def _codec(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise ChipexError(
            f"unknown encoding '{name}' (e.g. utf-8, cp1252, latin-1)", field="encoding"
        ) from None


def _to_utf8(path: Path, encoding: str, workdir: Path | None) -> Path:
    """Transcode a book in another encoding to UTF-8 in the work folder, streaming."""
    if workdir is None:
        raise ChipexError("reading another encoding needs a work folder", file=str(path))
    out = workdir / ("book-utf8" + path.suffix.lower())
    line = 1
    with path.open("rb") as src, out.open("w", encoding="utf-8", newline="") as dst:
        for raw in src:
            try:
                dst.write(raw.decode(_codec(encoding)))
            except UnicodeDecodeError as exc:
                raise ChipexError(
                    f"byte 0x{raw[exc.start]:02X} at column {exc.start + 1} is not {encoding}",
                    file=str(path),
                    record=f"line {line}",
                ) from None
            line += 1
    return out


def _first_line(path: Path) -> bytes:
    with path.open("rb") as f:
        raw = f.readline(MAX_LINE_BYTES + 1)
    if len(raw) > MAX_LINE_BYTES:
        raise ChipexError(f"the header line is longer than {MAX_LINE_BYTES:,} bytes", file=str(path))
    return raw


def _csv_header(path: Path, label: str) -> list[str]:
    raw = _first_line(path)
    bad = utf8_problem(raw)
    if bad:
        raise ChipexError(bad[2], file=label, record="line 1")
    text = raw.decode("utf-8").lstrip("\ufeff")  # Excel's "CSV UTF-8" starts with a byte-order mark
    try:
        columns = next(csv.reader(io.StringIO(text), strict=True), [])
    except csv.Error as exc:
        raise ChipexError(f"the header is not valid CSV ({exc})", file=label, record="line 1") from None
    if not [c for c in columns if c.strip()]:
        raise ChipexError("the first line is empty; it must be the header", file=label, record="line 1")
    duplicate_check(columns, file=label)
    return columns


_LINE = re.compile(r"(?:on Line|in line|line):? (\d+)", re.IGNORECASE)
_CSV_REASONS = [
    (re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)"), "{1} field(s) where the header has {0}"),
    (re.compile(r"unterminated quote", re.I), "a quote is opened and never closed"),
    (
        re.compile(r"Maximum line size", re.I),
        f"a line longer than {MAX_LINE_BYTES:,} bytes (or a quote never closed)",
    ),
    (re.compile(r"duplicate key \"([^\"]*)\"", re.I), "duplicate key '{0}' in one record"),
]


def _read_error(exc: duckdb.Error, path: Path, label: str, fmt: str) -> ChipexError:
    text = str(exc)
    if re.search(r"unicode|utf-?8", text, re.I):
        found = _find_bad_utf8(path)
        if found:
            line, _col, msg = found
            return ChipexError(msg, file=label, record=f"line {line}")
    m = _LINE.search(text)
    line = int(m.group(1)) if m else None
    for pattern, message in _CSV_REASONS:
        hit = pattern.search(text)
        if hit:
            return ChipexError(message.format(*hit.groups()), file=label, record=line and f"line {line}")
    first = text.splitlines()[0].split("Error: ", 1)[-1]
    first = first.replace(f'"{path}"', "").replace(str(path), "the file")
    return ChipexError(f"cannot read as {fmt}: {first}", file=label, record=line and f"line {line}")


def _find_bad_utf8(path: Path) -> tuple[int, int, str] | None:
    """The first byte that is not UTF-8: scanned in whole lines, 4 MiB at a time."""
    line = 1
    carry = b""
    with path.open("rb") as f:
        while True:
            chunk = f.read(4 << 20)
            data = carry + chunk
            cut = data.rfind(b"\n") + 1 if chunk else len(data)
            whole, carry = data[:cut], data[cut:]
            found = utf8_problem(whole, line)
            if found:
                return found
            line += whole.count(b"\n")
            if not chunk:
                return None


def _cell(v: object) -> str | None:
    """A spreadsheet cell as the text a CSV would hold (dates ISO, whole numbers without '.0')."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float):
        return repr(v)
    return str(v)


def _read_xlsx(path: Path, con: duckdb.DuckDBPyConnection, sheet: str | None) -> Source:
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise ChipexError(f"not a readable .xlsx workbook ({exc})", file=str(path)) from None
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            raise ChipexError(f"no sheet '{sheet}' (sheets: {', '.join(wb.sheetnames)})", file=str(path))
        ws = wb[sheet] if sheet is not None else wb.worksheets[0]
        label = f"{path}, sheet '{ws.title}'"
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None or all(c is None for c in header):
            raise ChipexError("the first row is empty; it must be the header", file=label, record="row 1")
        width = max(i for i, c in enumerate(header) if c is not None) + 1
        columns = [_cell(c) or "" for c in header[:width]]
        duplicate_check(columns, file=label)
        data: list[list[str | None]] = [[] for _ in columns]
        pending = 0  # empty rows are kept only when a filled row follows them
        for row in rows:
            cells = [_cell(c) for c in row[:width]] + [None] * max(0, width - len(row))
            if any(len(row) > width and c is not None for c in row[width:]):
                raise ChipexError(
                    f"a value beyond the header's {width} columns",
                    file=label,
                    record=f"row {_rows(data) + pending + 2}",
                )
            if all(c is None for c in cells):
                pending += 1
                continue
            for _ in range(pending):
                for col in data:
                    col.append(None)
            pending = 0
            for col, c in zip(data, cells, strict=True):
                col.append(c)
    finally:
        wb.close()
    table = pa.table([pa.array(col, pa.string()) for col in data], names=columns)
    con.register("orders_xlsx", table)
    con.execute("CREATE OR REPLACE TEMP TABLE orders_raw AS SELECT * FROM orders_xlsx")
    con.unregister("orders_xlsx")
    return Source(label, "xlsx", 1, "row")


def _rows(data: list[list[str | None]]) -> int:
    return len(data[0]) if data else 0
