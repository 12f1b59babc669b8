"""Writing results and reject files: atomically, durably, and safe to open in a spreadsheet.

* Atomic and durable: a hidden temporary file beside the target, fsynced, renamed over it, and the
  folder fsynced; a run that is killed leaves only its temporary file, which the next run removes
  (`clean_stale`). DuckDB's spill folders are named by process and cleaned the same way.
* An output that cannot be written (disk full, no permission) is an `OutputError` (exit 4), not
  bad input; the temporary file is removed and the target left as it was.
* Lists (reasons, exceptions, depends_on) are native lists in Parquet and JSON Lines, and joined
  with ';' without a trailing separator in CSV and XLSX; `tpp_total` is written without padding.
* Spreadsheet safety (OWASP, CSV injection): in CSV a text cell starting with = + - @ tab or CR
  is prefixed with an apostrophe; in XLSX every text cell is stored as a string (never a
  formula). JSON Lines and Parquet stay exact.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb

from chipex.errors import ChipexError, OutputError
from chipex.orders.reading import file_format, sql_str

LIST_COLUMNS = ("reasons", "exceptions", "depends_on", "checked", "not_checked")
FORMULA_START = "^[=+\\-@\t\r]"  # OWASP: characters that make a spreadsheet read a cell as a formula
XLSX_MAX_ROWS = 1_048_576
_TMP = re.compile(r"^\.(?P<name>.+)\.chipex-(?P<pid>\d+)-[^.]+\.tmp$")
_SPILL = re.compile(r"^chipex-duckdb-(?P<pid>\d+)-")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale(folder: Path, pattern: re.Pattern[str] = _TMP) -> list[Path]:
    """Remove our own leftovers (temporary outputs, spill folders) of processes no longer running."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for e in entries:
        m = pattern.match(e.name)
        if not m or _alive(int(m.group("pid"))):
            continue
        try:
            if e.stat(follow_symlinks=False).st_uid != os.getuid():
                continue
            if e.is_dir(follow_symlinks=False):
                import shutil

                shutil.rmtree(e.path, ignore_errors=True)
            else:
                os.unlink(e.path)
            removed.append(Path(e.path))
        except OSError:
            continue
    return removed


@contextlib.contextmanager
def spill_folder() -> Iterator[str]:
    """A DuckDB spill folder in the temp directory, named by this process; stale ones removed."""
    tmp = Path(tempfile.gettempdir())
    clean_stale(tmp, _SPILL)
    with tempfile.TemporaryDirectory(prefix=f"chipex-duckdb-{os.getpid()}-") as spill:
        yield spill


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class atomic_path:
    """Write to a temporary file beside the target, then rename: readers never see half a file."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __enter__(self) -> Path:
        folder = self.target.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            clean_stale(folder)
            fd, name = tempfile.mkstemp(
                prefix=f".{self.target.name}.chipex-{os.getpid()}-", suffix=".tmp", dir=folder
            )
        except OSError as exc:
            raise _output_error(exc, self.target) from None
        os.close(fd)
        os.unlink(name)
        self.tmp = Path(name)
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None and self.tmp.exists():
            try:
                with self.tmp.open("rb+") as f:
                    os.fsync(f.fileno())
                os.replace(self.tmp, self.target)
                _fsync_dir(self.target.parent)
                return False
            except OSError as err:
                self.tmp.unlink(missing_ok=True)
                raise _output_error(err, self.target) from None
        self.tmp.unlink(missing_ok=True)
        if exc_type is not None and issubclass(exc_type, (OSError, duckdb.IOException)):
            raise _output_error(exc, self.target) from None
        return False


def _output_error(exc: BaseException, target: Path) -> OutputError:
    if isinstance(exc, OSError):
        why = exc.strerror or str(exc)
    else:
        text = str(exc)
        why = "No space left on device" if "space" in text.lower() else text.splitlines()[0]
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        why = "No space left on device"
    return OutputError(f"cannot write the output: {why} (nothing was written)", file=str(target))


def check_outputs(book: Path, **outputs: Path | None) -> None:
    """Refuse an output that is the input book, or the same file as another output."""
    seen: dict[str, str] = {}

    def key(p: Path) -> str:
        return os.path.normcase(os.path.realpath(p))

    book_key = key(book)
    for option, path in outputs.items():
        if path is None:
            continue
        k = key(path)
        if k == book_key:
            raise ChipexError(
                f"--{option.replace('_', '-')} is the order book itself; it would be overwritten",
                file=str(path),
            )
        if k in seen:
            raise ChipexError(
                f"--{option.replace('_', '-')} and --{seen[k]} are the same file", file=str(path)
            )
        seen[k] = option.replace("_", "-")


def _split(col: str) -> str:
    return f"list_filter(string_split(coalesce({col}, ''), ';'), lambda x: x <> '')"


def safe_text_sql(expr: str) -> str:
    """A text cell neutralised for CSV: an apostrophe before a leading formula character."""
    return f"CASE WHEN regexp_matches({expr}, '{FORMULA_START}') THEN '''' || {expr} ELSE {expr} END"


def shaped_select(con: duckdb.DuckDBPyConnection, relation: str, fmt: str) -> str:
    """The SELECT that writes `relation` in `fmt`: lists native or joined, numbers unpadded, text safe."""
    cols = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    out = []
    for name, typ, *_ in cols:
        q = f'"{name}"'
        if name in LIST_COLUMNS and typ == "VARCHAR":
            expr = _split(q) if fmt in ("parquet", "jsonl") else f"array_to_string({_split(q)}, ';')"
        elif typ.startswith("DECIMAL") and fmt in ("csv", "xlsx"):
            expr = f"CASE WHEN contains(CAST({q} AS VARCHAR), '.') THEN rtrim(rtrim(CAST({q} AS VARCHAR), '0'), '.') ELSE CAST({q} AS VARCHAR) END"
        elif typ.startswith("DECIMAL") and fmt == "jsonl":
            expr = f"CAST({q} AS DOUBLE)"
        else:
            expr = q
        if fmt == "csv" and (typ == "VARCHAR" or name in LIST_COLUMNS):
            expr = safe_text_sql(expr)
        out.append(f"{expr} AS {q}")
    return f"SELECT {', '.join(out)} FROM {relation}"


COPY_OPTIONS = {"csv": "FORMAT CSV, HEADER", "jsonl": "FORMAT JSON", "parquet": "FORMAT PARQUET"}


def copy_to(con: duckdb.DuckDBPyConnection, relation: str, target: Path, fmt: str) -> None:
    con.execute(f"COPY ({shaped_select(con, relation, fmt)}) TO {sql_str(str(target))} ({COPY_OPTIONS[fmt]})")


_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _xlsx_value(v):
    """Characters XML cannot hold are written as \\xNN text, as they are printed."""
    if isinstance(v, str):
        return _ILLEGAL.sub(lambda m: f"\\x{ord(m.group()):02x}", v)
    return v


def write_xlsx(
    con: duckdb.DuckDBPyConnection,
    target: Path,
    *,
    summary: list[tuple[str, object]],
    results: str,
    rejects: str | None,
) -> None:
    """A workbook: `summary` (key, value rows), `results` (frozen header, filters), `rejects`."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)

    def sheet(title: str, relation: str | None, header: list[str] | None = None, rows=None) -> None:
        ws = wb.create_sheet(title)
        ws.freeze_panes = "A2"
        if relation is not None:
            cur = con.execute(shaped_select(con, relation, "xlsx"))
            header = [d[0] for d in cur.description]
            rows = iter(lambda: cur.fetchmany(10_000), [])
        else:
            rows = iter([rows])
        ws.append(header)
        n = 1
        for batch in rows:
            for row in batch:
                cells = []
                for v in row:
                    cell = WriteOnlyCell(ws, value=_xlsx_value(v))
                    if isinstance(v, str):
                        cell.data_type = "s"  # a string, even when it starts with '=': never a formula
                    cells.append(cell)
                ws.append(cells)
                n += 1
        ws.auto_filter.ref = f"A1:{get_column_letter(max(1, len(header)))}{n}"

    sheet("summary", None, ["item", "value"], list(summary))
    sheet("results", results)
    if rejects is not None:
        sheet("rejects", rejects)
    else:
        sheet("rejects", None, ["line", "field", "error"], [])
    wb.save(target)


def write_table(con: duckdb.DuckDBPyConnection, relation: str, target: Path) -> None:
    """Write a relation to `target` (its suffix gives the format), atomically."""
    fmt = file_format(target)
    with atomic_path(target) as tmp:
        if fmt == "xlsx":
            write_xlsx(con, tmp, summary=[], results=relation, rejects=None)
        else:
            copy_to(con, relation, tmp, fmt)
