"""Diversion commands: the red-flag catalog, transshipment hubs by date, trade-flow gaps, leakage.

They only render: the logic is in chipex.orders.red_flags and chipex.analysis.diversion.
"""

from __future__ import annotations

from pathlib import Path
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


@app.command("leakage")
def leakage_cmd(
    draws: Annotated[int, typer.Option("--draws", help="Monte Carlo draws")] = 20_000,
    seed: Annotated[int, typer.Option("--seed", help="random seed (results are reproducible)")] = 2025,
    chart: Annotated[Path | None, typer.Option("--chart", help="write the chart here (.png or .svg)")] = None,
    json_out: JsonOpt = False,
) -> None:
    """How much AI compute reached China, by route (stockpiles, licensed, smuggled, domestic), in H100e with ranges."""
    from chipex.analysis.diversion.leakage import leakage

    d = leakage(draws=draws, seed=seed).to_dict()
    if chart is not None:
        from chipex.analysis.diversion.charts import leakage_chart

        leakage_chart(d, chart)
    if json_out:
        emit_json(d)
        return
    t = Table(
        "route", "p5", "median", "p95", "low case", "central", "high case", title=f"leakage, {d['unit']}"
    )
    for r, v in [*d["routes"].items(), ("total", d["total"])]:
        t.add_row(r, *(f"{v[k]:,.0f}" for k in ("p5", "p50", "p95", "low", "central", "high")))
    console.print(t)
    h = d["hbm_constraint"]
    console.print(
        f"HBM cap on Ascend packages: {h['cap_packages']:,.0f} (binding in {h['binding_share_of_draws']:.1%} of draws)"
    )
    for m in d["measures"]:
        console.print(
            f"countermeasure: {m['id']} from {m['effective']}: {m['route']} x (1 - {m['reduction']}) ({m['citation']})"
        )
    console.print(f"method: {d['method']}")
    console.print("not counted: " + "; ".join(d["not_counted"]))
    if chart is not None:
        console.print(f"chart: {chart}")
    console.print(f"[dim]{DISCLAIMER}[/dim]")
