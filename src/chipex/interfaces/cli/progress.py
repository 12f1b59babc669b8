"""Progress on stderr while a book is checked, only at a terminal (a pipe or a log gets none).

The engines check a whole book in one query (DuckDB, Polars or Spark) and report no progress, so a
bar with an ETA would be a guess: a spinner shows the elapsed time, and the rate is printed at the end.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def book_progress(console, book: Path) -> Iterator[Callable[[int], None]]:
    """Yield `done(lines)`: call it with the lines read once the check is over; at a terminal a
    spinner runs meanwhile and `checked N lines in S s (R lines/s)` is printed after."""
    start, counted = time.monotonic(), [0]

    def done(lines: int) -> None:
        counted[0] = lines

    if not console.is_terminal:
        yield done
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn(f"checking {book.name}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        bar.add_task("check", total=None)
        yield done
    secs = max(time.monotonic() - start, 1e-3)
    if counted[0]:
        rate = f"checked {counted[0]:,} lines in {secs:.1f} s ({counted[0] / secs:,.0f} lines/s)"
        console.print(f"[dim]{rate}[/dim]", highlight=False)
