"""Diversion commands: the red-flag catalog, transshipment hubs by date, trade-flow gaps, leakage.

They only render: the logic is in chipex.orders.red_flags and chipex.analysis.diversion.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from chipex.core.classify import parse_date
from chipex.interfaces.cli.app import DISCLAIMER, app, console, emit_json
from chipex.interfaces.cli.core_cmds import JsonOpt
from chipex.rules import default_rulebook

AsOf = Annotated[str, typer.Option("--as-of", help="date YYYY-MM-DD (default today)")]


@app.command("flags")
def flags_cmd(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="only the flags in force on this date (default: all)")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """The red-flag catalog: each flag's text, the inquiry it calls for, citation, date and inputs."""
    from chipex.orders.red_flags import catalog_rows

    on = parse_date(as_of) if as_of else None
    rows = catalog_rows(default_rulebook(), on)
    if json_out:
        emit_json({"as_of": on.isoformat() if on else None, "flags": rows})
        return
    t = Table(
        "id",
        "added",
        "evaluated on",
        "inquiry",
        "citation",
        "confidence",
        title="red flags (inquire; never a licence decision)",
    )
    for r in rows:
        reads = ", ".join(r["reads"]) if r["evaluated"] else f"not evaluated: needs {r['needs']}"
        t.add_row(r["id"], r["added"], reads, r["inquiry"], r["citation"], r["confidence"])
    console.print(t)
    n = sum(r["evaluated"] for r in rows)
    console.print(
        f"{n} of {len(rows)} flags are evaluated on order lines; an unknown field never raises one."
    )
    console.print(f"[dim]{DISCLAIMER}[/dim]")


@app.command("hubs")
def hubs_cmd(as_of: AsOf = "today", json_out: JsonOpt = False) -> None:
    """Transshipment hubs on a date: cited events, country-group moves, billing-versus-shipping figures."""
    from chipex.analysis.diversion.hubs import hubs_as_of

    out = hubs_as_of(default_rulebook(), parse_date(as_of))
    if json_out:
        emit_json(out)
        return
    console.print(f"known transshipment hubs on {out['as_of']}: {', '.join(out['hubs']) or 'none'}")
    t = Table("country", "hub", "date", "kind", "event", "source", "conf.")
    for c in out["countries"]:
        label = f"yes (since {c['hub_since']})" if c["hub"] else "no"
        for i, e in enumerate(
            c["events"]
            or [
                {
                    "date": "-",
                    "kind": "-",
                    "event": "no event yet",
                    "source": "-",
                    "confidence": "-",
                    "figure": None,
                }
            ]
        ):
            event = e["event"] + (f" [{e['figure']}]" if e.get("figure") else "")
            t.add_row(
                c["country"] if i == 0 else "",
                label if i == 0 else "",
                e["date"],
                e["kind"],
                event,
                e["source"],
                e["confidence"],
            )
    console.print(t)
    console.print(out["note"])
    console.print(f"[dim]{DISCLAIMER}[/dim]")
