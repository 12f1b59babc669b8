"""One renderer for every command that prints rows: a table fitted to the terminal, CSV, JSON or JSON Lines.

A table never cuts a cell. Each column is as wide as its longest cell unless it holds running text
(`wrap`), which wraps at spaces down to its longest word. When the terminal is too narrow for all
columns, those with the highest `drop` number are left out first (and named under the table:
`--wide` or `--format csv` shows them); the answer columns (`drop=0`) are never left out. When even
the answer columns do not fit, each row is printed as a block of `column: value` lines. Under the
table: a one-line legend for the symbols it uses.

Piped output (stdout not a terminal) defaults to CSV, which a script or a spreadsheet reads; the
CSV is formula-safe (OWASP: a text cell starting with = + - @ tab or CR gets a leading apostrophe).
"""

from __future__ import annotations

import csv
import json
import sys
import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Literal

import typer

from chipex.errors import ChipexError

FORMATS = ("table", "csv", "json", "jsonl")
PIPED_FORMAT = "csv"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Format = Literal["table", "csv", "json", "jsonl"]
FormatOpt = Annotated[
    Format | None,
    typer.Option(
        "--format",
        show_default=False,
        help=f"table, csv, json (one document) or jsonl (one object per line); default: table at a terminal, "
        f"{PIPED_FORMAT} when piped",
    ),
]
ObjectFormatOpt = Annotated[  # a command that prints one object (pick_object_format)
    str | None,
    typer.Option(
        "--format",
        metavar="table|json",
        show_default=False,
        help="table (the text, also when piped) or json (one document, the same as --json)",
    ),
]
WideOpt = Annotated[
    bool, typer.Option("--wide", help="tables: every column at full width, whatever the terminal's width")
]


@dataclass(frozen=True)
class Col:
    """One column: the row key, its header (with the unit), and how it may give way when narrow."""

    key: str
    header: str
    drop: int = 0  # 0: carries the answer, always shown; higher numbers are left out first when narrow
    wrap: bool = False  # running text: may wrap at spaces (never inside a word)
    right: bool = False
    show: Callable[[Any], str] | None = None  # the cell's text from the row's value (default str, '-')


def pick_format(fmt: str | None, json_flag: bool = False, json_means: str = "json") -> str:
    """The output format: --format, else --json (a synonym), else table at a terminal, CSV when piped."""
    if json_flag:
        if fmt not in (None, json_means):
            raise ChipexError(f"--json means --format {json_means}; it cannot go with --format {fmt}")
        return json_means
    if fmt:
        return fmt
    return "table" if sys.stdout.isatty() else PIPED_FORMAT


def pick_object_format(fmt: str | None, json_flag: bool = False) -> str:
    """The format of a command that prints one object (a result, not rows): json with --json or
    --format json, else its text (`table`), at a terminal or piped; csv and jsonl are refused."""
    out = pick_format(fmt, json_flag) if fmt or json_flag else "table"
    if out not in ("table", "json"):
        raise ChipexError(f"this command prints one object: --format table or json, not {out}")
    return out


def cell_text(col: Col, value: Any) -> str:
    if col.show is not None:
        return col.show(value)
    if value is None or value == "" or value == []:
        return "-"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def emit(
    rows: Sequence[dict],
    cols: Sequence[Col],
    fmt: str,
    *,
    title: str | None = None,
    legend: Iterable[str] = (),
    wide: bool = False,
    document: Any = None,
) -> None:
    """Print `rows` in `fmt`. csv/jsonl write every key of the rows (scripts get all fields, lists
    `;`-joined in CSV); json writes `document` if given (a command's full answer) else the rows."""
    if fmt == "json":
        _write(json.dumps(rows if document is None else document, ensure_ascii=False, default=str) + "\n")
    elif fmt == "jsonl":
        for r in rows:
            _write(json.dumps(r, ensure_ascii=False, default=str) + "\n")
    elif fmt == "csv":
        keys = list(dict.fromkeys(k for r in rows for k in r)) or [c.key for c in cols]
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(keys)
        for r in rows:
            w.writerow([_csv_cell(r.get(k)) for k in keys])
    else:
        print_table(rows, cols, title=title, legend=legend, wide=wide)


def _write(s: str) -> None:
    sys.stdout.write(s)


def _csv_cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, list | tuple):
        v = ";".join(str(x) for x in v)
    elif isinstance(v, dict):
        v = json.dumps(v, ensure_ascii=False, default=str)
    elif isinstance(v, bool):
        return "true" if v else "false"
    s = str(v)
    return "'" + s if isinstance(v, str) and s.startswith(FORMULA_START) else s


def _longest_word(text: str) -> int:
    from rich.cells import cell_len

    return max((cell_len(w) for w in text.split()), default=1)


def _longest_line(text: str) -> int:
    from rich.cells import cell_len

    return max((cell_len(x) for x in text.split("\n")), default=1)


@cache
def _overhead(n: int) -> int:
    """Characters a table of n columns spends on borders and padding (measured, not assumed)."""
    from rich.console import Console

    t = _table(["x"] * n, show_header=False)
    for c in t.columns:
        c.width = 1
    t.add_row(*["x"] * n)
    c = Console(width=1000, file=_Null(), color_system=None)
    return _measure(c, t) - n


def _table(headers: list[str], **kw):
    """The table style: a rule under the header, columns two spaces apart, no frame (fits narrow terminals)."""
    from rich import box
    from rich.table import Table

    return Table(*headers, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0), **kw)


class _Null:
    def write(self, s: str) -> int:
        return len(s)

    def flush(self) -> None:
        pass


def _measure(console, table) -> int:
    lines = console.render_lines(table, console.options, pad=False)
    return max(sum(len(seg.text) for seg in line) for line in lines)


def fit(cols: Sequence[Col], cells: list[list[str]], width: int) -> tuple[list[int], list[int]] | None:
    """The columns to show (indexes) and their widths so that nothing is cut; None if even the
    answer columns do not fit in `width` (then print blocks)."""
    natural, least = [], []
    for i, c in enumerate(cols):
        body = [row[i] for row in cells]
        cell_nat = max((_longest_line(x) for x in body), default=1)
        cell_min = max((_longest_word(x) for x in body), default=1) if c.wrap else cell_nat
        natural.append(max(cell_nat, _longest_line(c.header)))
        least.append(max(cell_min, _longest_word(c.header)))
    shown = list(range(len(cols)))

    def need(ix: list[int]) -> int:
        return sum(least[i] for i in ix) + _overhead(len(ix))

    while need(shown) > width:
        droppable = [i for i in shown if cols[i].drop]
        if not droppable:
            return None
        worst = max(droppable, key=lambda i: (cols[i].drop, i))
        shown.remove(worst)
    # put back, most important first, what fits now that a wider column has gone
    for i in sorted(set(range(len(cols))) - set(shown), key=lambda i: (cols[i].drop, i)):
        if need(sorted([*shown, i])) <= width:
            shown = sorted([*shown, i])
    widths = {i: natural[i] for i in shown}
    excess = sum(widths.values()) + _overhead(len(shown)) - width
    # give way where there is slack: running text first, then headers that can wrap
    for i in sorted(shown, key=lambda i: (not cols[i].wrap, least[i] - natural[i])):
        if excess <= 0:
            break
        take = min(excess, widths[i] - least[i])
        widths[i] -= take
        excess -= take
    return shown, [widths[i] for i in shown]


def print_table(
    rows: Sequence[dict],
    cols: Sequence[Col],
    *,
    title: str | None = None,
    legend: Iterable[str] = (),
    wide: bool = False,
    console=None,
) -> None:
    import importlib

    from rich.markup import escape

    con = console or importlib.import_module("chipex.interfaces.cli.app").console
    cells = [[cell_text(c, r.get(c.key)) for c in cols] for r in rows]
    width = 10_000 if wide else con.width
    layout = fit(cols, cells, width)
    if layout is None:
        _print_blocks(con, cols, cells, title)
    else:
        shown, widths = layout
        if title:
            con.print(f"[bold]{escape(title)}[/bold]")
        t = _table([])
        for i, w in zip(shown, widths, strict=True):
            c = cols[i]
            t.add_column(escape(c.header), width=w, overflow="fold", justify="right" if c.right else "left")
        for row in cells:
            t.add_row(*(escape(row[i]) for i in shown))
        if wide:
            from rich.console import Console

            con = Console(width=_measure(con, t), no_color=con.no_color, force_terminal=con.is_terminal)
        con.print(t)
        left_out = [cols[i].header for i in range(len(cols)) if i not in shown]
        if left_out:
            con.print(
                f"[dim]not shown at {width} columns: {', '.join(left_out)} (--wide, or --format csv)[/dim]"
            )
    for line in legend:
        con.print(f"[dim]{escape(line)}[/dim]")


def _print_blocks(con, cols: Sequence[Col], cells: list[list[str]], title: str | None) -> None:
    """One record per block, `header: value`, wrapped to the terminal (for very narrow terminals)."""
    from rich.markup import escape

    if title:
        con.print(f"[bold]{escape(title)}[/bold]")
    label = max(len(c.header) for c in cols) + 2
    room = max(con.width - label, 20)
    for row in cells:
        for c, text in zip(cols, row, strict=True):
            lines = textwrap.wrap(text.replace("\n", " "), room, break_long_words=False) or ["-"]
            con.print(escape(f"{c.header + ':':<{label}}{lines[0]}"), soft_wrap=True)
            for more in lines[1:]:
                con.print(escape(" " * label + more), soft_wrap=True)
        con.print()
