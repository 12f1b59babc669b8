"""The `chipex` command. Each area registers its commands from its own module below."""

from __future__ import annotations

import sys
from pathlib import Path

from chipex.errors import ChipexError
from chipex.interfaces.cli import compute_cmds, core_cmds, ledger_cmds, orders_cmds, policy_cmds, screen_cmds
from chipex.interfaces.cli.app import app

_MODULES = (
    core_cmds,
    compute_cmds,
    orders_cmds,
    screen_cmds,
    policy_cmds,
    ledger_cmds,
)  # imported for their command registrations


def main() -> None:
    """Entry point: user errors print one line on stderr and exit 2; never a traceback."""
    try:
        reforms = _take_reforms(sys.argv)
        if reforms:
            from chipex.rules import use_reforms

            use_reforms(reforms)
        app()
    except ChipexError as exc:
        print(f"chipex: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except BrokenPipeError:
        sys.exit(0)


def _take_reforms(argv: list[str]) -> list[Path]:
    """Remove every `--reform FILE` / `--reform=FILE` from argv: any command then runs on the
    reformed rulebook (see chipex.rules.reform)."""
    found, i = [], 1
    while i < len(argv):
        if argv[i] == "--reform":
            if i + 1 >= len(argv):
                raise ChipexError("--reform needs a reform file")
            found.append(Path(argv.pop(i + 1)))
            argv.pop(i)
        elif argv[i].startswith("--reform="):
            found.append(Path(argv.pop(i).split("=", 1)[1]))
        else:
            i += 1
    return found
