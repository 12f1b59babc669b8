"""The `chipex` command.

Each area's commands live in their own module below and register on `app` when imported. The
modules are imported lazily: the table below names, for every top-level command, its module and
the one-line help `chipex --help` shows, so listing the commands imports none of them and running
one imports only its own module. A new command: add its line here (the startup test checks that
the help matches the command's docstring and that every registered command is in the table).
"""

from __future__ import annotations

import sys
from pathlib import Path

from chipex.errors import ChipexError
from chipex.interfaces.cli.app import COMMANDS, app

COMMANDS.update(
    {
        "classify": ("core_cmds", "The ECCN paragraph of a chip or system on a date, with every threshold compared and cited."),
        "history": ("core_cmds", "A chip's status under every rule version, in date order, marking where it changed."),
        "chips": ("core_cmds", "List the catalog with TPP and performance density computed from its own figures."),
        "rules": ("core_cmds", "The rule versions chipex knows, with dates, citations and confidence."),
        "demo": ("core_cmds", "The main job on bundled data: the story order book checked, and the key chips across the rules."),
        "check": ("orders_cmds", "May this order ship? Licence requirements, exceptions and review policy, cited, as of the order's date."),
        "diff": ("policy_cmds", "Every catalog item whose status differs between A (baseline) and B (with any --reform), and why."),
        "near-misses": ("policy_cmds", "Chips designed to the line: margin under each prong, and what a cut-down variant keeps of its sibling."),
        "loopholes": ("policy_cmds", "The most useful design the rule in force still lets through, which dimension leaks, and the reform that closes it while changing as few consumer chips as possible."),
        "windows": ("policy_cmds", "Dated licence-free windows per chip and destination, with the compute delivered in them (H100e)."),
        "charts": ("policy_cmds", "PNG charts: TPP x performance density with controlled regions, rules vs launches, exposure windows."),
        "screen": ("screen_cmds", "Screen a party (or a CSV of parties) against the US Consolidated Screening List."),
        "match": ("screen_cmds", "Score two names directly, with the feature-by-feature explanation."),
        "lists": ("lists_cmds", "Show the accepted list snapshots and their counts; --load a file, or update from trade.gov."),
        "ownership": ("parties_cmds", "Ownership edges (CSV or FtM Ownership) and the 50% rules: the BIS Affiliates rule, OFAC's 50% rule."),
        "parties": ("parties_cmds", "The customer master: parties re-screened whenever a list changes."),
        "review": ("screen_cmds", "Record a reviewer's decision on a hit; later screens honour it."),
        "compute": ("compute_cmds", "Compute accounting: what a fleet can train and serve, chip equivalence, published runs."),
        "ledger": ("ledger_cmds", "Licences, caps, reservations and shipments, on SQLite (default) or PostgreSQL."),
        "audit": ("audit_cmds", "The tamper-evident audit log: verify, checkpoint, export."),
        "flags": ("diversion_cmds", "The red-flag catalog: each flag's text, the inquiry it calls for, citation, date and inputs."),
        "leakage": ("diversion_cmds", "How much AI compute reached China, by route (stockpiles, licensed, smuggled, domestic), in H100e with ranges."),
        "flows": ("diversion_cmds", "Trade-flow gaps: mirror gaps, hub re-export ratios and jumps around rule dates (HS codes are wider than ECCNs)."),
        "serve": ("service_cmds", "Serve the HTTP API (OpenAPI at /openapi.json, docs at /docs) with uvicorn."),
        "users": ("service_cmds", "Users: add (prints the API key once), list, revoke, passwd (web sign-in)."),
        "report": ("report_cmds", "The report of a recorded determination (inputs, decision, citations, provenance, audit hash) as PDF or HTML."),
        "hubs": ("diversion_cmds", "Transshipment hubs on a date: cited events, country-group moves, billing-versus-shipping figures."),
    }
)  # fmt: skip


def main() -> None:
    """Entry point: user errors print one line on stderr and exit 2 (4 when an output cannot be
    written: chipex.errors.OutputError); never a traceback."""
    try:
        reforms = _take_reforms(sys.argv)
        if reforms:
            from chipex.rules import use_reforms

            use_reforms(reforms)
        app()
    except ChipexError as exc:
        print(f"chipex: error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
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
