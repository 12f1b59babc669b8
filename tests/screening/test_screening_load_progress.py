"""A list load reports its progress as it parses: `load_list(progress=...)` and the CLI's bar."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from rich.console import Console
from tests.screening.test_screening_snapshots import shipped_rows, write_list
from typer.testing import CliRunner

from chipex.interfaces.cli import lists_cmds
from chipex.interfaces.cli.progress import list_progress
from chipex.screening import lists, load_list


@pytest.fixture
def small_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(lists, "PROGRESS_EVERY", 7)  # a report every 7 rows, so 60 rows give several
    return write_list(tmp_path / "small.csv", shipped_rows()[:60])


def test_load_list_reports_rising_counts_that_end_at_the_total(home: Path, small_list: Path) -> None:
    calls: list[tuple[int, int]] = []
    rep = load_list(small_list, date(2026, 8, 1), home=home, force=True, user="t", progress=lambda d, t: calls.append((d, t)))  # fmt: skip
    n = sum(rep.counts.values())
    assert n == 60
    dones = [d for d, _ in calls]
    assert len(calls) >= 1 + 60 // 7  # every 7 rows, and the end
    assert dones == sorted(dones) and dones[0] == 7
    assert all(d < t for d, t in calls[:-1])  # not done before the load is over
    assert calls[-1] == (n, n)


def test_an_already_loaded_list_still_ends_its_progress(home: Path, small_list: Path) -> None:
    load_list(small_list, date(2026, 8, 1), home=home, force=True, user="t")
    calls: list[tuple[int, int]] = []
    rep = load_list(small_list, date(2026, 8, 1), home=home, progress=lambda d, t: calls.append((d, t)))
    assert rep.already_loaded and calls[-1] == (60, 60)


def test_the_bar_closes_with_the_loaded_line_at_a_terminal_only() -> None:
    out = io.StringIO()
    with list_progress(Console(file=out, force_terminal=True, width=120), "x.csv", False) as prog:
        prog(30, 61)
        prog(60, 60)
        prog.done(60)
    assert "loaded 60 entries in " in out.getvalue()
    piped = io.StringIO()
    with list_progress(Console(file=piped, force_terminal=False), "x.csv", False) as prog:
        prog(60, 60)
        prog.done(60)
    assert piped.getvalue() == ""


def test_cli_load_prints_the_loaded_line(
    home: Path, small_list: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    err = io.StringIO()
    monkeypatch.setattr(lists_cmds, "err_console", Console(file=err, force_terminal=True, width=120))
    r = CliRunner().invoke(
        lists_cmds.lists_app,
        ["--load", str(small_list), "--date", "2026-08-01", "--force", "--user", "t", "--no-rescreen"],
    )
    assert r.exit_code == 0, r.output
    assert "loaded 60 entries in " in err.getvalue()
