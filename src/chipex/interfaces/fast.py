"""The `chipex` entry point: answers that need no command framework, then the Typer app.

`chipex --version` prints one line from the installed package's metadata (importlib.metadata);
importing Typer, rich and pydantic for it (what `chipex.interfaces.cli` does) took most of its
start-up time. Every other command line goes to chipex.interfaces.cli.main unchanged.
"""

from __future__ import annotations

import sys


def program_version() -> str:
    """`chipex <version>` of the installed distribution."""
    from importlib import metadata

    try:
        return f"chipex {metadata.version('chipex')}"
    except metadata.PackageNotFoundError:
        return "chipex (not installed: running from a source tree)"


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        print(program_version())
        return
    from chipex.interfaces.cli import main as cli_main

    cli_main()
