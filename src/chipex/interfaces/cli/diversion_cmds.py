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


@app.command("flows")
def flows_cmd(
    files: Annotated[
        list[Path] | None, typer.Argument(help="UN Comtrade-format CSV file(s) you downloaded")
    ] = None,
    cif_fob: Annotated[
        float, typer.Option("--cif-fob", help="CIF/FOB factor for importer values without FOB")
    ] = 1.10,
    window: Annotated[int, typer.Option("--window", help="months before/after a rule date")] = 3,
    chart: Annotated[Path | None, typer.Option("--chart", help="write the chart here (.png or .svg)")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Trade-flow gaps: mirror gaps, hub re-export ratios and jumps around rule dates (HS codes are wider than ECCNs)."""
    from chipex.analysis.diversion.flows import analyse

    rep = analyse(files or [], default_rulebook(), cif_fob=cif_fob, window=window)
    d = rep.to_dict()
    if chart is not None:
        from chipex.analysis.diversion.charts import flows_chart

        flows_chart(d, rep.series, chart)
    if json_out:
        emit_json(d)
        return
    console.print(f"[bold yellow]{d['caveat']}[/bold yellow]")
    console.print(
        f"files: {', '.join(d['files']) or 'none (published figures only)'}; {d['rows_in_scope']:,} rows in HS {', '.join(d['hs_codes'])}"
    )
    if d["mirror_gaps"]:
        t = Table(
            "period",
            "exporter",
            "importer",
            "HS",
            "exporter FOB",
            "importer FOB",
            "gap",
            "gap %",
            "basis",
            title="mirror gaps",
        )
        for g in d["mirror_gaps"]:
            t.add_row(
                g["period"],
                g["exporter"],
                g["importer"],
                g["hs"],
                f"{g['exporter_reported_fob']:,.0f}",
                f"{g['importer_reported_fob']:,.0f}",
                f"{g['gap']:,.0f}",
                f"{g['gap_pct']:.1f}",
                g["basis"],
            )
        console.print(t)
    if d["reexport_ratios"]:
        t = Table(
            "period",
            "hub",
            "HS",
            "imports",
            "exports+re-exports",
            "ratio",
            "to CN/HK/MO share",
            title="hub re-export ratios",
        )
        for r in d["reexport_ratios"]:
            t.add_row(
                r["period"],
                r["hub"],
                r["hs"],
                f"{r['imports']:,.0f}",
                f"{r['exports_and_reexports']:,.0f}",
                f"{r['reexport_ratio']:.2f}",
                f"{r['to_china_share_of_imports']:.2f}",
            )
        console.print(t)
    t = Table(
        "series",
        "date",
        "rule",
        "run-up (3 mo before / 3 before that)",
        "after / before",
        title="jumps around rule dates",
    )
    for e in d["jumps"] + d["published_jumps"]:
        fmt = lambda v: "-" if v is None else f"{v:.2f}x"  # noqa: E731
        t.add_row(
            f"{e['reporter']}>{e['partner']} {e['flow']} {e['hs']}",
            e["date"],
            e["rule"],
            fmt(e["run_up"]),
            fmt(e["after"]),
        )
    console.print(t)
    t = Table(
        "period", "flow", "what", "USD", "y/y %", "source", "conf.", title="published figures (shipped)"
    )
    for p in d["published"]:
        t.add_row(
            p["period"],
            f"{p['reporter']}>{p['partner']}",
            p["what"],
            "-" if p["value_usd"] is None else f"{p['value_usd']:,.0f}",
            "-" if p["yoy_pct"] is None else f"{p['yoy_pct']:,.0f}",
            p["source"],
            p["confidence"],
        )
    console.print(t)
    if chart is not None:
        console.print(f"chart: {chart}")
    console.print(f"[dim]{DISCLAIMER}[/dim]")
