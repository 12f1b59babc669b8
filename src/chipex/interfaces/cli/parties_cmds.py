"""Ownership commands: load ownership edges, and show whether a party is covered by the 50% rules."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from chipex.errors import ChipexError
from chipex.interfaces.cli.app import DISCLAIMER, app, console, emit_json
from chipex.interfaces.cli.lists_cmds import parse_date
from chipex.interfaces.cli.render import FormatOpt, emit, pick_format

ownership_app = typer.Typer(
    help="Ownership edges (CSV or FtM Ownership) and the 50% rules: the BIS Affiliates rule, OFAC's 50% rule.",
    no_args_is_help=True,
)
app.add_typer(ownership_app, name="ownership")

JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]


@ownership_app.command("load")
def load_cmd(
    file: Annotated[
        Path, typer.Argument(help="CSV owner,owned,percent,as_of,source or FtM .ftm.json/.jsonl")
    ],
    user: Annotated[str, typer.Option("--user", help="who loads (recorded)")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Validate ownership edges and keep them in the screening store (all or nothing)."""
    from chipex.screening.ownership import load

    n = load(file, user=user)
    emit_json({"file": str(file), "edges": n}) if as_json else console.print(
        f"{n} ownership edge(s) loaded from {file}"
    )


@ownership_app.command("show")
def show_cmd(
    party: Annotated[str, typer.Argument(help="the party's name (or list entry id)")],
    on: Annotated[str, typer.Option("--date", help="as of this date (YYYY-MM-DD)")] = "today",
    regime: Annotated[str, typer.Option("--regime", help="as-enforced or as-printed")] = "as-enforced",
    as_json: JsonOpt = False,
    fmt: FormatOpt = None,
) -> None:
    """Is the party owned 50% or more by listed parties on a date? Paths, percentages, sources, rule."""
    from chipex.screening import Screener
    from chipex.screening.affiliates import Graph, rules_data
    from chipex.screening.ownership import edges_on

    if regime not in ("as-enforced", "as-printed"):
        raise ChipexError(f"unknown regime '{regime}' (use as-enforced or as-printed)", field="regime")
    when = date.today() if on == "today" else parse_date(on, "date")
    s = Screener(as_of=when)
    graph = Graph(s, edges_on(when))
    out = []
    for rule in rules_data().rules:
        cov = graph.coverage(party, rule) if when >= rule.effective else None
        susp = rule.suspended(when)
        out.append({
            "rule": rule.id, "name": rule.name, "citation": rule.citation, "effective": rule.effective,
            "in_force": rule.in_force(when, regime), "suspended": bool(susp),
            "suspension": susp.citation if susp else None, "covered": cov is not None,
            "detail": cov.describe() if cov else None,
            "paths": [[{"owner": e.owner, "owned": e.owned, "percent": str(e.percent), "as_of": e.as_of,
                        "source": e.source} for e in p] for p in cov.paths] if cov else [],
        })  # fmt: skip
    doc = {"party": party, "date": when, "regime": regime, "list_snapshot": s.snapshot_id,
           "list_date": s.source_date, "has_ownership_data": graph.has_owners(party), "rules": out}  # fmt: skip
    shown = pick_format(fmt, as_json)
    if shown != "table":  # rows: one per ownership rule, the paths counted (all of them in json)
        emit([{**r, "paths": len(r["paths"])} for r in out], [], shown, document=doc)
        return
    console.print(
        f"[bold]{party}[/bold] on {when} ({regime}); list {s.snapshot_id} (list of {s.source_date})"
    )
    if not doc["has_ownership_data"]:
        console.print("  no ownership edges known for this party (chipex ownership load)")
    for r in out:
        state = "in force" if r["in_force"] else ("suspended" if r["suspended"] else "not in force")
        verdict = "[bold]covered[/bold]" if r["covered"] else "not covered"
        console.print(f"\n  {r['name']} ({state} on {when}): {verdict}", highlight=False)
        if r["detail"]:
            console.print(f"    {r['detail']}", highlight=False, markup=False)
        if r["suspended"]:
            console.print(f"    suspension: {r['suspension']}", highlight=False, markup=False)
    console.print(f"\n[dim]{DISCLAIMER}[/dim]")


parties_app = typer.Typer(
    help="The customer master: parties re-screened whenever a list changes.", no_args_is_help=True
)
app.add_typer(parties_app, name="parties")


@parties_app.command("load")
def parties_load_cmd(
    file: Annotated[Path, typer.Argument(help="CSV with name, country, id (name required)")],
    as_json: JsonOpt = False,
) -> None:
    """Replace the customer master with this CSV (validated first: nothing changes on an error)."""
    from chipex.interfaces.cli.screen_cmds import _read_parties
    from chipex.screening.store import Store, set_customers

    rows = _read_parties(file)
    set_customers(
        Store(), [(r.get("id") or r["row"], r["name"], r.get("country") or "") for r in rows], str(file)
    )
    emit_json({"file": str(file), "parties": len(rows)}) if as_json else console.print(
        f"{len(rows)} parties loaded from {file}"
    )
