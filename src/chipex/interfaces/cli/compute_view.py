"""What the `chipex compute` commands share: their options, quantity parsing, how a sourced figure
is shown, and a published run's reproduction (the commands are in compute_cmds.py and
compute_fleet_cmds.py)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any

import typer

from chipex.analysis.compute.figures import MARKS, Fig, human, parse_quantity, pct
from chipex.analysis.compute.presets import Presets
from chipex.analysis.compute.reproduce import Reproduction
from chipex.catalog import Catalog, load_catalog
from chipex.errors import ChipexError
from chipex.interfaces.cli.app import console
from chipex.interfaces.cli.render import Col, print_table

JsonOpt = Annotated[bool, typer.Option("--json", help="the same as --format json")]
CatalogOpt = Annotated[
    list[Path] | None, typer.Option("--catalog", help="extra catalog file(s) in the catalog schema")
]
ChartOpt = Annotated[Path | None, typer.Option("--chart", help="write a chart to this .png or .svg file")]
Qty = Annotated[str | None, typer.Option(help="number; 37e9, 37B, 14.8T and 2,664K are accepted")]


def quantity(value: str | None, name: str) -> Fraction | None:
    return None if value is None else parse_quantity(value, name)


def require(**given: Any) -> None:
    missing = [f"--{k.replace('_', '-')}" for k, v in given.items() if v is None]
    if missing:
        raise ChipexError(f"missing {', '.join(missing)}")


def catalog_of(extra: list[Path] | None) -> Catalog:
    return load_catalog(extra or [])


def fig_cell(fig: Fig | None) -> str:
    """A sourced figure as `value (low-high) [confidence, kind]`, `< `/`> ` for a bound."""
    if fig is None:
        return "-"
    val = human(fig.value) if fig.value is not None else f"{human(fig.low)}-{human(fig.high)}"
    if fig.value is not None and fig.low is not None:
        val += f" ({human(fig.low)}-{human(fig.high)})"
    bound = {"upper": "< ", "lower": "> "}.get(fig.bound or "", "")
    return f"{bound}{val} [{fig.confidence}, {fig.kind}]"


def check_case(case: str) -> None:
    if case not in ("low", "central", "high"):
        raise ChipexError(f"must be low, central or high, got '{case}'", field="case")


def print_reproduction(rep: Reproduction, presets: Presets) -> None:
    """A published run reproduced: its sourced figures, the cost table and published vs computed."""
    run = rep.run
    console.print(f"[bold]{run.name}[/bold] ({run.date.value}, {run.date.confidence}): {run.summary}")
    rows = [
        ("total parameters", run.total_params),
        ("active parameters", run.active_params),
        ("tokens", run.tokens),
        ("GPUs", run.gpus),
        ("$/GPU-hour", run.usd_per_gpu_hour),
    ]
    for label, fig in rows:
        if fig is not None:
            console.print(f"  {label}: {fig_cell(fig)}  [dim]{presets.cite(fig.source)}[/dim]")
    if rep.phases:
        pubs = {p.name: p.cost_usd for p in run.phases}
        costs = []
        for p in rep.phases:
            pub = pubs.get(p.name)
            gap = "-" if p.cost_usd is None or pub is None else human(p.cost_usd - pub.central)
            gh = human(p.gpu_hours) + (" (GPUs x hours)" if p.gpu_hours_derived else "")
            costs.append(
                {"phase": p.name, "gh": gh, "cost": f"${human(p.cost_usd)}", "pub": fig_cell(pub), "gap": gap}
            )
        total_gap = (
            "-"
            if rep.cost_usd is None or run.total_cost_usd is None
            else human(rep.cost_usd - run.total_cost_usd.central)
        )
        costs.append({"phase": "total", "gh": human(rep.gpu_hours), "cost": f"${human(rep.cost_usd)}",
                      "pub": fig_cell(run.total_cost_usd), "gap": total_gap})  # fmt: skip
        cols = [Col("phase", "phase", wrap=True), Col("gh", "GPU-hours", wrap=True),
                Col("cost", "cost (computed)", wrap=True), Col("pub", "cost (published)", wrap=True),
                Col("gap", "gap", wrap=True)]  # fmt: skip
        print_table(costs, cols, title="cost table")
    checks = []
    for c in rep.checks:
        gap = f"{human(c.gap)} ({pct(c.gap_rel)})" if c.gap_rel is not None else human(c.gap)
        comp = human(c.computed) + (f" ({human(c.low)}-{human(c.high)})" if c.low is not None else "")
        checks.append({"check": c.key, "computed": comp, "published": fig_cell(c.published), "gap": gap,
                       "verdict": c.verdict, "formula": c.formula})  # fmt: skip
    cols = [Col("check", "check", wrap=True), Col("computed", "computed", wrap=True),
            Col("published", "published [conf, kind]", wrap=True), Col("gap", "gap", wrap=True),
            Col("verdict", "verdict", wrap=True), Col("formula", "formula", wrap=True, drop=1)]  # fmt: skip
    legend = (
        "[conf, kind]: " + "; ".join(f"{k} {v}" for k, v in MARKS.items()) + "; kind: published or estimate"
    )
    print_table(checks, cols, title="published vs computed", legend=[legend])
    flop = rep.flop_value
    if flop is not None:
        how = "6ND" if rep.flop else "GPUs x peak x MFU x days"
        console.print(f"training FLOP ({how}): {human(flop)}")
    if rep.implied:
        per = rep.implied["achieved_flop_per_s_per_gpu"]
        console.print(
            f"achieved {human(per / 10**12)} TFLOP/s per {rep.chip.name} over {human(rep.flop_gpu_hours)} GPU-hours; "
            "implied MFU "
            + ", ".join(
                f"[bold]{pct(v['mfu'])}[/bold] on the {b.upper()} peak ({human(v['peak'].value / 10**12)})"
                for b, v in rep.implied.items()
                if b != "achieved_flop_per_s_per_gpu"
            )
        )
    if rep.days is not None:
        console.print(
            f"wall-clock for {human(rep.gpu_hours)} GPU-hours on {human(rep.gpus)} GPUs: {float(rep.days):,.1f} days"
        )
    for c in run.caveats:
        console.print(f"[yellow]caveat:[/yellow] {c}")
    keys = sorted({c.published.source for c in rep.checks})
    for k in keys:
        console.print(f"[dim]{k}: {presets.cite(k)}[/dim]")
