"""The Typer application and helpers shared by every command module.

Commands are registered lazily: `chipex --help` lists them from the command table in
`chipex.interfaces.cli` (name, module, one-line help) without importing any command module; the
module of a command is imported only when that command runs (or its own --help is asked for), and
its Typer registration is then turned into the Click command. So `chipex --help`, `--version` and
`classify` never import DuckDB, Ibis, SQLAlchemy, scipy or matplotlib.
"""

from __future__ import annotations

import importlib
import json
import sys
from functools import cache
from typing import Any

from chipex.interfaces.cli.deferred import defer_rich_modules

defer_rich_modules()  # before Typer: its help renderer imports two rich modules chipex seldom needs

import typer  # noqa: E402
from typer.core import TyperCommand, TyperGroup  # noqa: E402
from typer.main import get_command_from_info, get_group_from_info  # noqa: E402

from chipex.core import DISCLAIMER  # noqa: E402

# name -> (module under chipex.interfaces.cli, one-line help shown by `chipex --help`); filled by
# chipex.interfaces.cli (tests/test_startup.py checks each line against the command's own help).
COMMANDS: dict[str, tuple[str, str]] = {}


class _Lazy(TyperCommand):
    """Stands in for a command in listings; parsing and running go to the real command."""

    def __init__(self, name: str, help: str) -> None:
        super().__init__(name, help=help, short_help=help)

    def make_context(self, info_name, args, parent=None, **extra):  # type: ignore[override]
        return _real(self.name).make_context(info_name, args, parent=parent, **extra)

    def shell_complete(self, ctx, incomplete):  # type: ignore[override]
        return _real(self.name).shell_complete(ctx, incomplete)


@cache
def _real(name: str):
    """Import the command's module (it registers on `app`) and build its Click command."""
    importlib.import_module(f"chipex.interfaces.cli.{COMMANDS[name][0]}")
    opts = {"pretty_exceptions_short": app.pretty_exceptions_short, "rich_markup_mode": app.rich_markup_mode}
    for info in app.registered_commands:
        if (info.name or info.callback.__name__) == name:
            return _conventions(get_command_from_info(info, **opts))
    for group in app.registered_groups:
        if group.name == name:
            return _conventions(get_group_from_info(group, suggest_commands=app.suggest_commands, **opts))
    raise LookupError(f"module {COMMANDS[name][0]} registers no command '{name}'")


# metavars by value type when a command gives none (help shows `--as-of DATE`, not `<str>`)
_METAVARS = {"Path": "FILE", "int": "N", "float": "NUMBER"}  # by the annotation's text
_DATE_OPTIONS = {"as_of", "date", "until", "since", "list_date", "bounds_as_of", "end_user_established"}


def _conventions(cmd):
    """Help conventions for every command: a flag shows no placeholder, a value a plain metavar
    (FILE, DATE, N, NUMBER, TEXT), a choice its choices. Applied to the params Click adds late
    (--help, completion) too, through get_params."""
    get_params = cmd.get_params

    def fixed(ctx):
        params = get_params(ctx)
        for p in params:
            _metavar(p)
        return params

    cmd.get_params = fixed
    for sub in getattr(cmd, "commands", {}).values():
        _conventions(sub)
    return cmd


def _metavar(p) -> None:
    kind = getattr(p, "param_type_name", "")
    if kind not in ("option", "argument") or p.metavar is not None:
        return
    desc = getattr(p, "type_descriptor", None)
    if kind == "argument":
        p.metavar = p.name.upper()
        shown = next((v for k, v in _METAVARS.items() if k in str(getattr(desc, "annotation", ""))), None)
        p.display_type_rich = lambda ctx: shown  # the type column: FILE, N ... or nothing for text
    elif p.is_flag or p.count:
        p.metavar = ""
    elif desc is not None and desc.is_choice:
        p.metavar = "|".join(map(str, desc.choices))
    elif p.name in _DATE_OPTIONS:
        p.metavar = "DATE"
    else:
        annotation = str(getattr(desc, "annotation", ""))
        p.metavar = next((v for k, v in _METAVARS.items() if k in annotation), "TEXT")


class LazyGroup(TyperGroup):
    """The root group: every table command as a stub (eagerly registered ones stay as they are)."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name, (_, help) in COMMANDS.items():
            self.commands.setdefault(name, _Lazy(name, help))
        _conventions(self)


EPILOG = (
    "Rows: every command that prints rows takes --format table|csv|json|jsonl (a table at a terminal, "
    "CSV when piped) and --wide; one that prints one object, --format table|json. Exit codes: 0 done; 1 a ledger refusal or a failed audit verification; 2 bad input or usage (one line on stderr); "
    "3 check --fail-on-licence found a line needing a licence, or screen --fail-on-hit found a hit; "
    "4 an output could not be written. Shell completion: chipex --install-completion."
)

app = typer.Typer(
    name="chipex",
    cls=LazyGroup,
    help=f"US export controls on AI compute, written as code. {DISCLAIMER}",
    epilog=EPILOG,
    no_args_is_help=True,
    invoke_without_command=True,
    pretty_exceptions_enable=False,
    add_completion=True,
)


@app.callback()
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(False, "--version", help="print chipex's version and exit"),
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="with --version: the rule-data version and the party-list snapshot"
    ),
    reform: list[str] | None = typer.Option(  # taken off the command line by chipex.interfaces.cli.main
        None,
        "--reform",
        metavar="FILE",
        help="any command, anywhere on the line: run on the rulebook as changed by this reform file "
        "(repeatable; see src/chipex/rules/reforms/)",
    ),
) -> None:
    if version:
        from chipex.interfaces.cli.version import version_lines

        for line in version_lines(verbose):
            print(line)
        raise typer.Exit()
    if ctx.invoked_subcommand is None:
        print(ctx.get_help())
        raise typer.Exit()


def __getattr__(name: str) -> Any:
    # The rich consoles are made on first use (importing rich.console costs start-up time).
    if name in ("console", "err_console"):
        from rich.console import Console

        globals()["console"], globals()["err_console"] = Console(), Console(stderr=True)
        return globals()[name]
    raise AttributeError(name)


def emit_json(obj: Any) -> None:
    """One JSON document on stdout, for scripts."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
