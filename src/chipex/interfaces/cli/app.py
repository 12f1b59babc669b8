"""The Typer application and helpers shared by every command module."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer
from rich.console import Console

from chipex.core import DISCLAIMER

app = typer.Typer(
    name="chipex",
    help=f"US export controls on AI compute, written as code. {DISCLAIMER}",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)


def emit_json(obj: Any) -> None:
    """One JSON document on stdout, for scripts."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
