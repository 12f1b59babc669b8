"""Every command that prints rows, in a script's formats; exit codes for pipelines (issue 17).

The row facts are independently known: the H100 (TPP 15,832; 3A090.a.1 from 2023-11-17) needs a
licence to China (15 CFR 742.6(a)(6)(iii)); the A800 to China on 2022-12-01 does not (under the 2022
text its 400 GB/s interconnect is below 600 GB/s, 3A090 as of 87 FR 62186); Sugon is on the Entity
List (84 FR 29373).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from tests.chipex_cli import run_chipex

STORY = str(Path(__file__).resolve().parents[1] / "src" / "chipex" / "examples" / "orders-story.csv")
LICENCE = ("--number", "L-1", "--holder", "Exporter Inc.", "--item", "H100", "--to", "IN",
           "--valid-from", "2025-01-01", "--valid-to", "2026-12-31", "--units", "10")  # fmt: skip


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    """A ledger with one licence and one API user."""
    path = str(tmp_path_factory.mktemp("formats") / "ledger.db")
    for args in (("ledger", "licence", "add", *LICENCE), ("users", "add", "alice", "--role", "officer")):
        r = run_chipex(*args, "--db", path)
        assert r.returncode == 0, r.stderr
    return path


# (command line, a key every row has, a value some row holds in that key)
COMMANDS = [
    (("chips",), "tpp", None),
    (("history", "H100"), "eccn", "3A090.a.1"),
    (("check", STORY), "license_required", "true"),
    (("check", "--item", "H100", "--to", "CN", "--date", "2024-01-01"), "eccn", "3A090.a.1"),
    (("screen", "Sugon"), "list", "EL"),
    (("windows", "--until", "2026-07-01"), "chip", None),
    (("diff", "2022-10-07", "2023-11-17"), "change", "newly controlled"),
    (("near-misses", "--as-of", "2024-01-01"), "chip", "L20"),
    (("loopholes", "--as-of", "2024-01-01", "--objective", "training"), "objective", "training"),
    (("flags",), "id", "forwarder-consignee"),
    (("hubs", "--as-of", "2025-01-01"), "country", "SG"),
    (("leakage", "--draws", "200"), "route", "smuggling"),
    (("flows",), "table", "published"),
    (("lists",), "list", "EL"),
    (("ownership", "show", "Huawei", "--date", "2025-10-01"), "rule", "bis-affiliates"),
    (("rules",), "id", "2023-11-17"),
    (("ledger", "licence", "list", "--db"), "number", "L-1"),
    (("ledger", "licence", "show", "L-1", "--db"), None, None),
    (("ledger", "caps", "--country", "IN", "--as-of", "2025-03-01", "--db"), "cap", None),
    (("users", "list", "--db"), "name", None),
    (("demo",), "table", "book"),
    (("compute", "presets"), "id", "deepseek-v3"),
    (("compute", "equiv", "--from", "2048 H800", "--to", "Ascend 910B"), "equivalent_count_ceil", "5390"),
    (("compute", "serve", "--preset", "deepseek-v3", "--chip", "H200", "--gpus", "8"), "fits", "true"),
    (("compute", "scenario", "china-2021-2026"), "table", "flows"),
]


def _args(cmd: tuple[str, ...], db: str) -> list[str]:
    return [*cmd, db] if cmd[-1] == "--db" else list(cmd)


def _values(rows: list[dict], key: str) -> list[str]:
    return [str(r[key]).lower() if isinstance(r[key], bool) else str(r[key]) for r in rows]


@pytest.mark.parametrize(("cmd", "key", "value"), COMMANDS, ids=[" ".join(c[0][:2]) for c in COMMANDS])
def test_rows_as_csv_and_json(cmd, key, value, db):
    r = run_chipex(*_args(cmd, db), "--format", "csv")
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    j = run_chipex(*_args(cmd, db), "--format", "json")
    assert j.returncode == 0, j.stderr
    doc = json.loads(j.stdout)
    assert doc, "an empty JSON answer"
    if key is None:  # no rows to check (a licence with no reservations): the document is there
        return
    assert rows and all(key in row for row in rows), r.stdout[:300]
    if value is not None:
        assert value in _values(rows, key)


def test_piped_output_is_csv_and_json_is_a_synonym():
    piped = run_chipex("flags")
    assert piped.stdout.startswith("id,") and piped.stdout == run_chipex("flags", "--format", "csv").stdout
    assert json.loads(run_chipex("flags", "--json").stdout) == json.loads(
        run_chipex("flags", "--format", "json").stdout
    )
    # a book's --json: one Determination per line, as before
    lines = run_chipex("check", STORY, "--json").stdout.splitlines()
    assert len(lines) == 23 and all(json.loads(x)["line"] for x in lines)


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("check", "--item", "H100", "--to", "CN", "--date", "2024-01-01", "--fail-on-licence"), 3),
        (("check", "--item", "H100", "--to", "CN", "--date", "2024-01-01"), 0),
        (("check", "--item", "A800", "--to", "CN", "--date", "2022-12-01", "--fail-on-licence"), 0),
        (("check", STORY, "--fail-on-licence", "--format", "table"), 3),
        (("check", STORY, "--fail-on-licence", "--format", "csv"), 3),
        (("screen", "Sugon", "--fail-on-hit"), 3),
        (("screen", "Sugon"), 0),
        (("screen", "ACME Widgets GmbH", "--country", "DE", "--fail-on-hit"), 0),
    ],
)
def test_exit_codes_for_pipelines(args, code):
    r = run_chipex(*args)
    assert r.returncode == code, r.stderr
    assert r.stdout, "the answer is printed before the exit"
    if code == 3:
        assert "exit 3" in r.stderr


def test_fail_on_licence_for_a_book_without_licences(tmp_path):
    book = tmp_path / "book.csv"
    book.write_text("date,item,quantity,destination\n2022-12-01,A800,8,CN\n2024-01-01,H100,8,DE\n")
    assert run_chipex("check", str(book), "--fail-on-licence", "--no-screen").returncode == 0
    book.write_text("date,item,quantity,destination\n2022-12-01,A800,8,CN\n2024-01-01,H100,8,CN\n")
    r = run_chipex("check", str(book), "--fail-on-licence", "--no-screen", "--format", "csv")
    assert r.returncode == 3 and "1 line(s) need a licence" in r.stderr


def test_book_progress_only_at_a_terminal():
    from rich.console import Console

    from chipex.interfaces.cli.progress import book_progress

    for terminal in (True, False):
        buf = io.StringIO()
        con = Console(file=buf, force_terminal=terminal, width=80)
        with book_progress(con, Path("orders.csv")) as done:
            done(120_000)
        said = buf.getvalue()
        if terminal:
            assert "checked 120,000 lines in" in said and "lines/s" in said
        else:
            assert said == ""  # a pipe or a log gets no spinner and no rate line


def test_demo_rows_are_the_chip_table_then_the_book_as_check_writes_it():
    rows = list(csv.DictReader(io.StringIO(run_chipex("demo").stdout)))  # piped: CSV
    chips = {r["chip"]: r for r in rows if r["table"] == "chips"}
    assert chips["H100 SXM"]["2023-11-17"] == "3A090.a.1" and chips["A800 SXM 80GB"]["2022-10-07"] == ""
    book = [{k: v for k, v in r.items() if k in BOOK_KEYS} for r in rows if r["table"] == "book"]
    check = list(csv.DictReader(io.StringIO(run_chipex("check", STORY, "--format", "csv").stdout)))
    assert book == [{k: v for k, v in r.items() if k in BOOK_KEYS} for r in check] and len(book) == 23


BOOK_KEYS = ("line", "date", "item", "destination", "eccn", "license_required", "reasons", "policy")


@pytest.mark.parametrize(
    "cmd",
    [("classify", "H100", "--as-of", "2024-01-01"), ("compute", "train", "--preset", "deepseek-v3"),
     ("compute", "presets", "deepseek-v3")],
)  # fmt: skip
def test_one_object_commands_take_format_json_and_refuse_rows(cmd):
    assert json.loads(run_chipex(*cmd, "--format", "json").stdout) == json.loads(
        run_chipex(*cmd, "--json").stdout
    )
    piped = run_chipex(*cmd)  # one object: its text, also when piped (not CSV)
    assert piped.returncode == 0 and not piped.stdout.lstrip().startswith("{")
    bad = run_chipex(*cmd, "--format", "csv")
    assert bad.returncode == 2 and "prints one object" in bad.stderr


SMALL_LIST = (
    '"_id","source","name","addresses"\n'
    '"t-1","Entity List (EL) - Bureau of Industry and Security","Test Entity One","Beijing, CN"\n'
    '"t-2","Entity List (EL) - Bureau of Industry and Security","Test Entity Two","Shanghai, CN"\n'
)


def _load_list(home: Path, book: Path, stderr) -> subprocess.CompletedProcess[str]:
    args = ["lists", "--load", str(book), "--date", "2026-08-15", "--force", "--user", "t", "--no-rescreen"]
    env = {**os.environ, "CHIPEX_HOME": str(home), "COLUMNS": "100"}
    return subprocess.run(
        [sys.executable, "-m", "chipex", *args], stdout=subprocess.PIPE, stderr=stderr, text=True, env=env
    )


def test_list_load_progress_on_a_terminal_stderr_only(tmp_path):
    """`lists --load` at a terminal: a bar (entries done, rate, ETA) on stderr and `loaded N entries in S s (R entries/s)`
    after; stdout (a pipe here) keeps only the answer. Piped stderr gets nothing."""
    pty = pytest.importorskip("pty")  # POSIX terminals
    book = tmp_path / "list.csv"
    book.write_text(SMALL_LIST)
    master, slave = pty.openpty()
    r = _load_list(tmp_path / "a", book, slave)
    os.close(slave)
    said = b""
    with contextlib.suppress(OSError):  # the pty's reader ends with EIO once the child has gone
        while chunk := os.read(master, 65536):
            said += chunk
    os.close(master)
    assert r.returncode == 0
    text = said.decode()
    assert "loading list.csv" in text  # the bar's label
    assert re.search(r"loaded 2 entries in [0-9.]+ s \([0-9,]+ entries/s\)", text), text[-300:]
    assert "entries/s" not in r.stdout and "loaded snapshot" in r.stdout
    piped = _load_list(tmp_path / "b", book, subprocess.PIPE)
    assert piped.returncode == 0 and "entries/s" not in piped.stderr and "loading" not in piped.stderr


def test_count_progress_bar_with_rate_and_eta_only_at_a_terminal():
    from rich.console import Console

    from chipex.interfaces.cli.progress import count_progress

    for terminal in (True, False):
        buf = io.StringIO()
        con = Console(file=buf, force_terminal=terminal, width=100)
        with count_progress(con, "screening parties.csv", 300, "parties", "screened") as advance:
            for _ in range(3):
                advance(100)
        said = buf.getvalue()
        if terminal:
            assert "screening parties.csv" in said and "300/300" in said  # the bar, done/total
            assert re.search(r"screened 300 parties in [0-9.]+ s \([0-9,]+ parties/s\)", said)
        else:
            assert said == ""
