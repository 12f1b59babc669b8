"""Progress on stderr while a long step runs, only at a terminal (a pipe or a log gets none).

A book check is one call that reports no progress as it goes (the engines check a whole book in one
query: DuckDB, Polars or Spark), so it gets a spinner with the elapsed time, and the count and the rate
are printed when it is over. A list load reports as it parses (`load_list(progress=...)`, the slow
step): a bar with entries done, the rate and the ETA, then `loaded N entries in S s`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def timed_progress(console, label: str, unit: str, verb: str) -> Iterator[Callable[[int], None]]:
    """Yield `done(n)`: call it with the count of `unit` handled once the step is over. At a
    terminal a spinner with `label` and the elapsed time runs meanwhile, and
    `{verb} N {unit} in S s (R {unit}/s)` is printed after (nothing when n is 0)."""
    start, counted = time.monotonic(), [0]

    def done(n: int) -> None:
        counted[0] = n

    if not console.is_terminal:
        yield done
        return
    from rich.markup import escape
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn(escape(label)), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        bar.add_task(label, total=None)
        yield done
    secs = max(time.monotonic() - start, 1e-3)
    if counted[0]:
        rate = f"{verb} {counted[0]:,} {unit} in {secs:.1f} s ({counted[0] / secs:,.0f} {unit}/s)"
        console.print(f"[dim]{rate}[/dim]", highlight=False)


def book_progress(console, book: Path):
    """A book check: `checked N lines in S s (R lines/s)`."""
    return timed_progress(console, f"checking {book.name}", "lines", "checked")


class LoadProgress:
    """What a list load's bar is fed: call it as `load_list`'s `progress(done, total)` hook; `done(n)`
    gives the count for the closing line (0: nothing loaded, no line)."""

    def __init__(self, update: Callable[[int, int], None]) -> None:
        self._update, self.count = update, 0

    def __call__(self, done: int, total: int) -> None:
        self._update(done, total)

    def done(self, n: int) -> None:
        self.count = n


@contextmanager
def list_progress(console, source: str, rescreen: bool) -> Iterator[LoadProgress]:
    """A list load (`lists --load`, `lists update`): at a terminal a bar with entries done/total, the
    rate and the ETA (then the re-screen, in the label); after it, `loaded N entries in S s (R entries/s)`
    (at a terminal only, like the bar)."""
    label = f"loading {source}" + (", then re-screening the known parties" if rescreen else "")
    start = time.monotonic()
    if not console.is_terminal:
        yield LoadProgress(lambda done, total: None)
        return
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn(escape(label)), BarColumn(), MofNCompleteColumn(), _rate("entries"),
               TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(label, total=None)
        prog = LoadProgress(lambda done, total: bar.update(task, completed=done, total=total))
        yield prog
    secs = max(time.monotonic() - start, 1e-3)
    if prog.count:
        rate = f"loaded {prog.count:,} entries in {secs:.1f} s ({prog.count / secs:,.0f} entries/s)"
        console.print(f"[dim]{rate}[/dim]", highlight=False)


def _rate(unit: str):
    from rich.progress import ProgressColumn
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task) -> Text:
            return Text(f"{task.speed:,.0f} {unit}/s" if task.speed else f"- {unit}/s")

    return Rate()


@contextmanager
def count_progress(console, label: str, total: int, unit: str, verb: str) -> Iterator[Callable[[int], None]]:
    """A step that reports as it goes (`Screener.screen_many(progress=...)`): yield `advance(n)`.
    At a terminal a bar with done/total, the rate ({unit}/s) and the ETA; then
    `{verb} N {unit} in S s (R {unit}/s)`. Off when not a terminal."""
    if not console.is_terminal:
        yield lambda n: None
        return
    from rich.markup import escape
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task) -> Text:
            return Text(f"{task.speed:,.0f} {unit}/s" if task.speed else f"- {unit}/s")

    start = time.monotonic()
    columns = (TextColumn(escape(label)), BarColumn(), MofNCompleteColumn(), Rate(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)
    secs = max(time.monotonic() - start, 1e-3)
    console.print(
        f"[dim]{verb} {total:,} {unit} in {secs:.1f} s ({total / secs:,.0f} {unit}/s)[/dim]", highlight=False
    )
