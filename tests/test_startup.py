"""Start-up: `chipex --help`, `--version` and `classify` must not import the heavy engines.

The check is on `sys.modules` in a fresh interpreter after the command ran (not on timing, which
moves with load): if someone imports DuckDB or Ibis at the top of a command module again, or
registers a command eagerly, these fail. The timings themselves are in benchmarks/startup_bench.py.
"""

from __future__ import annotations

import importlib
import inspect
import json
import subprocess
import sys
from importlib import metadata

import pytest
from tests.chipex_cli import run_chipex

from chipex.datafiles import read_yaml
from chipex.rules import RULES_DIR

HEAVY = {"ibis", "duckdb", "sqlalchemy", "alembic", "scipy", "matplotlib", "pyarrow", "polars", "pandas",
         "numpy", "pyspark", "fastapi", "uvicorn"}  # fmt: skip

_PROBE = """
import contextlib, io, json, sys
sys.argv = ["chipex", *json.loads(sys.argv[1])]
from chipex.interfaces.cli import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    else:
        code = 0
print(json.dumps({"code": code, "out": out.getvalue(), "modules": sorted(sys.modules)}))
"""


def _probe(*args: str) -> dict:
    p = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(args)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.splitlines()[-1])


@pytest.mark.parametrize(
    "args",
    [("--help",), ("--version",), ("classify", "H100", "--as-of", "2024-01-01"), ("classify", "--help")],
)
def test_light_commands_import_no_heavy_module(args):
    r = _probe(*args)
    assert r["code"] in (0, None), r["out"]
    loaded = {m.split(".")[0] for m in r["modules"]}
    assert not loaded & HEAVY, f"chipex {' '.join(args)} imported {sorted(loaded & HEAVY)}"
    # nor any other area's command module: only the one that was asked for
    cmd_modules = {m for m in r["modules"] if m.startswith("chipex.interfaces.cli.") and m.endswith("_cmds")}
    assert cmd_modules <= {"chipex.interfaces.cli.core_cmds"}, cmd_modules


def test_help_lists_every_command_without_importing_them():
    r = _probe("--help")
    from chipex.interfaces.cli.app import COMMANDS

    for name in COMMANDS:
        assert f" {name} " in r["out"], name
    assert "The ECCN paragraph of a chip" in r["out"]
    assert not any(m.endswith("_cmds") for m in r["modules"])


def test_the_probe_sees_a_heavy_import(tmp_path):
    """The probe can fail: checking a whole book does load DuckDB, and the probe sees it."""
    book = tmp_path / "book.csv"
    book.write_text("date,item,quantity,destination\n2024-01-01,H100,8,CN\n")
    r = _probe("check", str(book), "--no-screen")
    assert r["code"] in (0, None), r["out"]
    assert "duckdb" in {m.split(".")[0] for m in r["modules"]}


def test_command_table_matches_the_registered_commands():
    """Every table line names the module that registers it, with that command's own first help line;
    every command any module registers is in the table (else `chipex --help` would not list it)."""
    from chipex.interfaces.cli.app import COMMANDS, _real, app

    for name, (module, line) in COMMANDS.items():
        cmd = _real(name)
        assert cmd.name == name
        own = inspect.cleandoc(cmd.help or "").split("\n\n")[0].replace("\n", " ")
        assert own == line, f"{name}: table says {line!r}, the command says {own!r}"
        importlib.import_module(f"chipex.interfaces.cli.{module}")
    registered = {i.name or i.callback.__name__ for i in app.registered_commands} | {
        g.name for g in app.registered_groups
    }
    assert registered == set(COMMANDS)


def test_version():
    r = run_chipex("--version")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"chipex {metadata.version('chipex')}"


def test_version_verbose_names_the_rule_data_and_list_snapshot():
    r = run_chipex("--version", "-v")
    assert r.returncode == 0, r.stderr
    latest = read_yaml(RULES_DIR / "timeline.yaml")["versions"][-1]
    lines = r.stdout.splitlines()
    assert lines[1].startswith(f"rule data: latest version {latest['id']} ({latest['name']}")
    assert lines[2].startswith("party lists: ")


def test_no_arguments_prints_help():
    r = run_chipex()
    assert "Usage:" in r.stdout + r.stderr
    assert "classify" in r.stdout + r.stderr


def test_unknown_command_suggests_the_close_one():
    r = run_chipex("clasify", "H100")
    assert r.returncode == 2
    assert "classify" in r.stderr


ONE_ORDER = (
    "check",
    "--item",
    "H100",
    "--quantity",
    "8",
    "--to",
    "CN",
    "--date",
    "2024-01-01",
    "--no-screen",
)
NOT_FOR_ONE_ORDER = {"sqlalchemy", "alembic", "scipy", "matplotlib", "polars", "pyspark", "fastapi", "uvicorn", "openpyxl"}  # fmt: skip


def test_one_order_check_imports_no_ledger_chart_or_other_engine():
    """A one-order check needs the rule engine (today DuckDB/Ibis) but no database layer, chart,
    spreadsheet, other engine or web server: those are imported only by the commands using them."""
    r = _probe(*ONE_ORDER)
    assert r["code"] in (0, None), r["out"]
    loaded = {m.split(".")[0] for m in r["modules"]}
    assert not loaded & NOT_FOR_ONE_ORDER, sorted(loaded & NOT_FOR_ONE_ORDER)
    assert not any(m.startswith(("chipex.ledger", "chipex.analysis")) for m in r["modules"])
    cmd_modules = {m for m in r["modules"] if m.startswith("chipex.interfaces.cli.") and m.endswith("_cmds")}
    assert cmd_modules == {"chipex.interfaces.cli.orders_cmds"}, cmd_modules


@pytest.mark.parametrize("args", [("classify", "H100"), ("chips",), ("rules",)])
def test_catalog_commands_import_no_order_screening_or_ledger_module(args):
    r = _probe(*args)
    assert r["code"] in (0, None), r["out"]
    areas = ("chipex.orders", "chipex.screening", "chipex.ledger", "chipex.analysis")
    assert not [m for m in r["modules"] if m.startswith(areas)]


_PROBE_ENTRY = _PROBE.replace(
    "from chipex.interfaces.cli import main", "from chipex.interfaces.fast import main"
)


def _probe_entry(*args: str) -> dict:
    """As _probe, through the real entry point (`python -m chipex`, the `chipex` script)."""
    p = subprocess.run([sys.executable, "-c", _PROBE_ENTRY, json.dumps(args)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.splitlines()[-1])


def test_version_through_the_entry_point_imports_no_command_framework():
    r = _probe_entry("--version")
    assert r["out"].strip() == f"chipex {metadata.version('chipex')}"
    loaded = {m.split(".")[0] for m in r["modules"]}
    assert not loaded & {"typer", "rich", "pydantic", "yaml", *HEAVY}, sorted(
        loaded & {"typer", "rich", "pydantic"}
    )
    assert "chipex.interfaces.cli" not in r["modules"]


def test_one_order_without_screening_imports_no_engine_nor_screening():
    """One order is checked in pure Python (chipex.orders.single): no DuckDB, Ibis, Arrow or
    SQLAlchemy, and with --no-screen no screening code or fuzzy matcher either."""
    r = _probe_entry(*ONE_ORDER)
    assert r["code"] in (0, None), r["out"]
    assert "3A090.a.1" in r["out"]  # it did check the order (H100 to CN on 2024-01-01)
    loaded = {m.split(".")[0] for m in r["modules"]}
    assert not loaded & (HEAVY | {"rapidfuzz"}), sorted(loaded & (HEAVY | {"rapidfuzz"}))
    assert not [m for m in r["modules"] if m.startswith("chipex.screening")]


def test_help_screen_leaves_rich_markdown_and_traceback_unloaded_but_usable():
    r = _probe("--help")
    assert "rich.markdown" not in r["modules"] or "markdown_it" not in r["modules"]
    assert "markdown_it" not in r["modules"] and "rich.pretty" not in r["modules"]
    # after the stand-ins, the real modules still work for whoever uses them
    code = (
        "import chipex.interfaces.cli, io\n"
        "from rich.console import Console\nfrom rich.markdown import Markdown\nfrom rich.traceback import Traceback\n"
        "c = Console(file=io.StringIO(), width=40); c.print(Markdown('# Title\\n\\n*some* text'))\n"
        "import sys, rich.markdown as m\n"
        "assert type(m).__name__ == 'module' and sys.modules['rich.markdown'] is m, type(m)\n"
        "assert isinstance(Markdown('x'), m.Markdown)\n"
        "print(c.file.getvalue())\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "Title" in p.stdout and "some text" in p.stdout and "#" not in p.stdout  # rendered, not raw
