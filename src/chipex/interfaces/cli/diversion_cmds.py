"""Diversion commands: the red-flag catalog, transshipment hubs by date, trade-flow gaps, leakage.

They only render: the logic is in chipex.orders.red_flags and chipex.analysis.diversion.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chipex.core.classify import parse_date
from chipex.interfaces.cli.app import DISCLAIMER, app, console
from chipex.interfaces.cli.core_cmds import JsonOpt
from chipex.interfaces.cli.render import Col, FormatOpt, WideOpt, emit, pick_format, print_table
from chipex.rules import default_rulebook

AsOf = Annotated[str, typer.Option("--as-of", help="date YYYY-MM-DD (default today)")]


@app.command("flags")
def flags_cmd(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="only the flags in force on this date (default: all)")
    ] = None,
    json_out: JsonOpt = False,
    fmt: FormatOpt = None,
    wide: WideOpt = False,
) -> None:
    """The red-flag catalog: each flag's text, the inquiry it calls for, citation, date and inputs."""
    from chipex.orders.red_flags import catalog_rows

    on = parse_date(as_of) if as_of else None
    rows = catalog_rows(default_rulebook(), on)
    out = pick_format(fmt, json_out)
    if out != "table":
        emit(rows, [], out, document={"as_of": on.isoformat() if on else None, "flags": rows})
        return
    for r in rows:
        r["reads_text"] = ", ".join(r["reads"]) if r["evaluated"] else f"not evaluated: needs {r['needs']}"
    cols = [
        Col("id", "id"),
        Col("added", "added"),
        Col("reads_text", "evaluated on", wrap=True, drop=2),
        Col("inquiry", "inquiry", wrap=True),
        Col("citation", "citation", wrap=True, drop=1),
        Col("confidence", "confidence", drop=3),
    ]
    legend = (
        "added: in BIS guidance since; evaluated on: the order fields the flag reads; confidence: verified "
        "(read in the text), secondary, from-memory"
    )
    print_table(rows, cols, title="red flags (inquire; never a licence decision)", legend=[legend], wide=wide)
    n = sum(r["evaluated"] for r in rows)
    console.print(
        f"{n} of {len(rows)} flags are evaluated on order lines; an unknown field never raises one."
    )
    console.print(f"[dim]{DISCLAIMER}[/dim]")


@app.command("hubs")
def hubs_cmd(
    as_of: AsOf = "today", json_out: JsonOpt = False, fmt: FormatOpt = None, wide: WideOpt = False
) -> None:
    """Transshipment hubs on a date: cited events, country-group moves, billing-versus-shipping figures."""
    from chipex.analysis.diversion.hubs import hubs_as_of

    out = hubs_as_of(default_rulebook(), parse_date(as_of))
    shown = pick_format(fmt, json_out)
    rows = []
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
            rows.append({"country": c["country"], "hub": c["hub"], "hub_since": c.get("hub_since"),
                         "date": e["date"], "kind": e["kind"], "event": event, "source": e["source"],
                         "confidence": e["confidence"], "label": label, "first": i == 0})  # fmt: skip
    if shown != "table":
        emit(
            [{k: v for k, v in r.items() if k not in ("label", "first")} for r in rows],
            [],
            shown,
            document=out,
        )
        return
    console.print(f"known transshipment hubs on {out['as_of']}: {', '.join(out['hubs']) or 'none'}")
    cols = [
        Col("country", "country", show=lambda v: v),
        Col("label", "hub", wrap=True, show=lambda v: v),
        Col("date", "date"),
        Col("kind", "kind", drop=2),
        Col("event", "event", wrap=True),
        Col("source", "source", wrap=True, drop=1),
        Col("confidence", "conf.", drop=3),
    ]
    for r in rows:  # the country and its hub status on its first row only
        if not r["first"]:
            r["country"] = r["label"] = ""
    legend = "[...]: a billing or shipping figure the source gives; conf.: verified, secondary, from-memory"
    print_table(rows, cols, legend=[legend], wide=wide)
    console.print(out["note"])
    console.print(f"[dim]{DISCLAIMER}[/dim]")


@app.command("leakage")
def leakage_cmd(
    draws: Annotated[int, typer.Option("--draws", help="Monte Carlo draws")] = 20_000,
    seed: Annotated[int, typer.Option("--seed", help="random seed (results are reproducible)")] = 2025,
    chart: Annotated[Path | None, typer.Option("--chart", help="write the chart here (.png or .svg)")] = None,
    json_out: JsonOpt = False,
    fmt: FormatOpt = None,
    wide: WideOpt = False,
) -> None:
    """How much AI compute reached China, by route (stockpiles, licensed, smuggled, domestic), in H100e with ranges."""
    from chipex.analysis.diversion.leakage import leakage

    d = leakage(draws=draws, seed=seed).to_dict()
    if chart is not None:
        from chipex.analysis.diversion.charts import leakage_chart

        leakage_chart(d, chart)
    shown = pick_format(fmt, json_out)
    rows = [{"route": r, **v} for r, v in [*d["routes"].items(), ("total", d["total"])]]
    if shown != "table":
        emit(rows, [], shown, document=d)
        return
    num = lambda v: f"{v:,.0f}"  # noqa: E731
    cols = [Col("route", "route", wrap=True)] + [
        Col(k, h, right=True, show=num)
        for k, h in (("p5", "p5"), ("p50", "median"), ("p95", "p95"), ("low", "low case"),
                     ("central", "central"), ("high", "high case"))
    ]  # fmt: skip
    legend = (
        f"{d['unit']}; p5/median/p95: percentiles of the Monte Carlo draws; low/central/high case: "
        "the scenario inputs at their low, central and high values"
    )
    print_table(rows, cols, title=f"leakage, {d['unit']}", legend=[legend], wide=wide)
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
    fmt: FormatOpt = None,
    wide: WideOpt = False,
) -> None:
    """Trade-flow gaps: mirror gaps, hub re-export ratios and jumps around rule dates (HS codes are wider than ECCNs)."""
    from chipex.analysis.diversion.flows import analyse

    rep = analyse(files or [], default_rulebook(), cif_fob=cif_fob, window=window)
    d = rep.to_dict()
    if chart is not None:
        from chipex.analysis.diversion.charts import flows_chart

        flows_chart(d, rep.series, chart)
    shown = pick_format(fmt, json_out)
    if shown != "table":  # rows: every finding, each with its table's name
        tables = ("mirror_gaps", "reexport_ratios", "jumps", "published_jumps", "published")
        emit([{"table": k, **r} for k in tables for r in d[k]], [], shown, document=d)
        return
    console.print(f"[bold yellow]{d['caveat']}[/bold yellow]")
    console.print(
        f"files: {', '.join(d['files']) or 'none (published figures only)'}; {d['rows_in_scope']:,} rows in HS {', '.join(d['hs_codes'])}"
    )
    from chipex.interfaces.cli.flows_view import print_flows

    print_flows(d, wide)
    if chart is not None:
        console.print(f"chart: {chart}")
    console.print(f"[dim]{DISCLAIMER}[/dim]")
