"""The `chipex` command. Each area registers its commands from its own module below."""

from __future__ import annotations

import sys

from chipex.errors import ChipexError
from chipex.interfaces.cli import core_cmds
from chipex.interfaces.cli.app import app

_MODULES = (core_cmds,)  # imported for their command registrations


def main() -> None:
    """Entry point: user errors print one line on stderr and exit 2; never a traceback."""
    try:
        app()
    except ChipexError as exc:
        print(f"chipex: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except BrokenPipeError:
        sys.exit(0)
