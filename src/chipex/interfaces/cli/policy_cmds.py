"""Policy lab commands: diff, near-misses, loopholes, windows, charts.

Every command also takes `--reform FILE` (stripped from the command line by `main`, see
chipex.rules.reform): `diff` then compares the baseline (side A) with the reformed rulebook (side B).
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from pathlib import Path
from typing import Annotated

import typer
import yaml

from chipex.analysis.policy import nearmiss, windows
from chipex.analysis.policy.common import fmt, resolve_date
from chipex.analysis.policy.diff import diff, summary_line
from chipex.core.classify import parse_date
from chipex.errors import ChipexError, OutputError
from chipex.interfaces.cli.app import DISCLAIMER, app, console
from chipex.interfaces.cli.core_cmds import CatalogOpt, JsonOpt, _catalog
from chipex.interfaces.cli.render import Col, FormatOpt, WideOpt, emit, pick_format, print_table
from chipex.rules import active_reforms, default_rulebook, load_raw, load_rulebook
from chipex.rules.reform import apply_reforms, load_reform

AsOf = Annotated[
    str, typer.Option("--as-of", help="date YYYY-MM-DD or a rule version id/name (default today)")
]


def _reform_note() -> list[str]:
    return [f"{p} ({load_reform(p).name})" for p in active_reforms()]


def _on(key: str) -> dt.date:
    return resolve_date(key, default_rulebook())[0]


DIFF_COLUMNS = [
    Col("chip", "item", wrap=True),
    Col("before", "before", wrap=True),
    Col("after", "after", wrap=True),
    Col("change", "change", wrap=True),
    Col("moved_by", "moved by", wrap=True, drop=1),
]
DIFF_LEGEND = (
    "before/after: the 3A090/4A090 paragraph (-: none); +id: an is-informed letter requires a licence "
    "(src/chipex/rules/is_informed.yaml); moved by: the paragraph and figures that moved the item"
)
NEAR_COLUMNS = [
    Col("chip", "chip", wrap=True),
    Col("text", "text", drop=3),
    Col("eccn", "status"),
    Col("lines", "lines under (value vs line, ratio)", wrap=True),
    Col("flag", "flag"),
    Col("sibling", "sibling", wrap=True, drop=1),
    Col("kept", "kept of sibling", wrap=True, drop=2),
]


@app.command("diff")
def diff_cmd(
    a: Annotated[str, typer.Argument(help="date or rule version (read under the baseline rulebook)")],
    b: Annotated[
        str | None, typer.Argument(help="date or rule version (under --reform if given); default: A")
    ] = None,
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
    out_format: FormatOpt = None,
    wide: WideOpt = False,
) -> None:
    """Every catalog item whose status differs between A (baseline) and B (with any --reform), and why."""
    base, active = load_rulebook(), default_rulebook()
    if b is None and not active_reforms():
        raise ChipexError("give two dates or versions, or one with --reform FILE (baseline vs reformed)")
    cat = _catalog(catalog)
    d = diff(
        resolve_date(a, base),
        resolve_date(b or a, active),
        catalog=cat,
        rulebook_a=base,
        rulebook_b=active,
        reforms=_reform_note(),
    )
    out = pick_format(out_format, json_out)
    if out != "table":
        emit([c.__dict__ for c in d.changes], [], out, document=d.to_dict())
        return
    side_b = f"{d.b}{' under ' + ', '.join(d.reforms) if d.reforms else ''}"
    rows = [
        {
            "chip": c.chip,
            "before": (c.before or "-") + "".join(f" +{x}" for x in c.letters_before),
            "after": (c.after or "-") + "".join(f" +{x}" for x in c.letters_after),
            "change": c.change,
            "moved_by": "\n".join(c.moved_by),
        }
        for c in d.changes
        if c.change != "renumbered"
    ]
    print_table(rows, DIFF_COLUMNS, title=f"{d.a} ({d.text_a or '-'}) -> {side_b} ({d.text_b or '-'})",
                legend=[DIFF_LEGEND], wide=wide)  # fmt: skip
    renumbered = [c.chip for c in d.changes if c.change == "renumbered"]
    if renumbered:
        console.print(f"same tier, new paragraph number ({len(renumbered)}): {', '.join(renumbered)}")
    console.print(summary_line(d))
    console.print(f"[dim]{DISCLAIMER}[/dim]")


@app.command("near-misses")
def near_misses_cmd(
    as_of: AsOf = "today",
    margin: Annotated[float, typer.Option(help="flag a chip within this fraction under a line")] = 0.10,
    history: Annotated[
        bool, typer.Option("--history", help="every 3A090 text from each chip's release on")
    ] = False,
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
    out_format: FormatOpt = None,
    wide: WideOpt = False,
) -> None:
    """Chips designed to the line: margin under each prong, and what a cut-down variant keeps of its sibling."""
    cat, rb = _catalog(catalog), default_rulebook()
    m = Fraction(str(margin))
    if history:
        rows = nearmiss.near_miss_history(catalog=cat, rulebook=rb, margin=m)
    else:
        rows = nearmiss.near_misses(_on(as_of), catalog=cat, rulebook=rb, margin=m)
    out = pick_format(out_format, json_out)
    if out != "table":
        doc = {"margin": margin, "reforms": _reform_note(), "near_misses": [n.to_dict() for n in rows]}
        emit([_near_row(n) for n in rows], [], out, document=doc)
        return
    table = []
    for n in rows:
        lines = "\n".join(
            f"{ln.metric} {fmt(ln.value)} vs {fmt(ln.bound)} ({ln.ratio:.1%}) -> {ln.would_be}"
            for ln in n.lines[:3]
        )
        kept = ", ".join(f"{k.replace('_gbps', '')} {v:.0%}" for k, v in n.kept.items() if v is not None)
        sib = f"{n.sibling} ({n.sibling_eccn or '-'})" if n.sibling else "-"
        table.append({"chip": n.chip, "text": n.text, "eccn": n.eccn or "-", "lines": lines,
                      "flag": "*" if n.flagged else "", "sibling": sib, "kept": kept or "-"})  # fmt: skip
    legend = (
        f"*: within {margin:.0%} under a line; lines: the figure vs the line it stays under, and the "
        "paragraph it would be in over it; status: -: no 3A090 paragraph; kept: the share of its sibling's "
        "figures (tpp, interconnect, memory bandwidth) a cut-down variant keeps"
    )
    print_table(table, NEAR_COLUMNS, title=f"Designed to the line (flag: within {margin:.0%})",
                legend=[legend], wide=wide)  # fmt: skip
    console.print(f"[dim]{DISCLAIMER}[/dim]")


def _near_row(n) -> dict:
    """A near miss as one flat row (CSV/JSONL): its closest line first."""
    first = n.lines[0] if n.lines else None
    return {"chip": n.chip, "chip_id": n.chip_id, "as_of": n.as_of, "text": n.text, "eccn": n.eccn,
            "flagged": n.flagged, "closest_metric": first.metric if first else None,
            "closest_value": float(first.value) if first else None,
            "closest_line": float(first.bound) if first else None,
            "closest_ratio": float(first.ratio) if first else None, "would_be": first.would_be if first else None,
            "sibling": n.sibling, "sibling_eccn": n.sibling_eccn}  # fmt: skip


def _print_loophole(lp) -> None:  # a loopholes.Loophole
    s = lp.spec
    console.print(
        f"[bold]{lp.objective}[/bold] under {lp.text} ({lp.as_of}): best uncontrolled "
        f"{'datacenter' if lp.datacenter else 'consumer'} design = {lp.usefulness_h100e:.2f} H100e "
        f"(bound by {', '.join(lp.binding)})"
    )
    console.print(
        f"  TPP {s['tpp']:,.0f}, PD {lp.performance_density:.3f}, interconnect {s['ic']:,.0f} GB/s, "
        f"memory {s['mbw']:,.0f} GB/s / {s['mem']:,.0f} GB; classified: {lp.classified_as or 'not 3A090'}"
    )
    for e in lp.escapes:
        console.print(f"  escapes {e.paragraph}: {'; '.join(e.fails)}")
    for leak in lp.leaks:
        console.print(f"  [yellow]leak:[/yellow] {leak}")
    if lp.reform:
        eff = lp.reform_effect
        console.print(
            f"  [green]proposed reform[/green] ({lp.reform_candidates} candidates tried): {lp.reform['name']}"
        )
        console.print(f"    {lp.reform['description']}")
        console.print(
            f"    best remaining design {eff['after_h100e']:.2f} H100e; consumer chips changed: "
            f"{', '.join(eff['consumer_changed']) or 'none'}; datacenter chips newly controlled: "
            f"{', '.join(eff['newly_controlled']) or 'none'}"
        )
    elif lp.leak_metrics:
        console.print("  no single-change reform closes it within the candidates tried")


LOOPHOLE_COLUMNS = [
    Col("objective", "objective"),
    Col("text", "text", drop=2),
    Col("usefulness_h100e", "best design (H100e)", right=True, show=lambda v: f"{v:.2f}"),
    Col("binding", "bound by", wrap=True, drop=1),
    Col("reform", "proposed reform", wrap=True),
    Col("after_h100e", "after reform (H100e)", right=True, show=lambda v: "-" if v is None else f"{v:.2f}"),
]
LOOPHOLE_LEGEND = (
    "H100e: usefulness of the best uncontrolled design in H100 equivalents for the objective; bound by: "
    "the limits it sits at; proposed reform: the single change that closes it (-: none found)"
)


def _loophole_row(lp) -> dict:
    return {"objective": lp.objective, "as_of": str(lp.as_of), "text": lp.text, "datacenter": lp.datacenter,
            "usefulness_h100e": lp.usefulness_h100e, "binding": list(lp.binding),
            "classified_as": lp.classified_as, "reform": lp.reform["name"] if lp.reform else None,
            "after_h100e": lp.reform_effect.get("after_h100e") if lp.reform else None}  # fmt: skip


@app.command("loopholes")
def loopholes_cmd(
    as_of: AsOf = "today",
    objective: Annotated[str, typer.Option(help="training | inference | both")] = "both",
    close: Annotated[
        float,
        typer.Option(
            help="a reform closes the leak if the best remaining design is at most this fraction as useful"
        ),
    ] = 0.5,
    bounds_as_of: Annotated[
        str | None,
        typer.Option(
            help="catalog bounds from chips released by this date "
            "(default: --as-of; 'all' for the whole catalog)"
        ),
    ] = None,
    consumer: Annotated[
        bool, typer.Option("--consumer", help="search consumer (non-datacenter) designs")
    ] = False,
    write_reform: Annotated[
        Path | None, typer.Option(help="write the proposed reform(s) as YAML here")
    ] = None,
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
    out_format: FormatOpt = None,
    wide: WideOpt = False,
) -> None:
    """The most useful design the rule in force still lets through, which dimension leaks, and the reform
    that closes it while changing as few consumer chips as possible."""
    from chipex.analysis.policy import loopholes  # scipy / matplotlib load only for this command

    objectives = {"both": ["training", "inference"], "training": ["training"], "inference": ["inference"]}
    if objective not in objectives:
        raise ChipexError(f"unknown objective '{objective}' (training, inference or both)")
    cat, rb = _catalog(catalog), default_rulebook()
    on = _on(as_of)
    bounds_on = None if bounds_as_of == "all" else (parse_date(bounds_as_of) if bounds_as_of else on)
    raw = apply_reforms(load_raw(), active_reforms()) if active_reforms() else load_raw()
    found = [
        loopholes.loopholes(
            on,
            raw=raw,
            catalog=cat,
            rulebook=rb,
            objective=o,
            datacenter=not consumer,
            close=close,
            bounds_on=bounds_on,
        )
        for o in objectives[objective]
    ]
    written = []
    if write_reform:
        for lp in found:
            if lp.reform:
                path = (
                    write_reform
                    if len(found) == 1
                    else write_reform.with_name(
                        f"{write_reform.stem}-{lp.objective}{write_reform.suffix or '.yaml'}"
                    )
                )
                path.write_text(yaml.safe_dump(lp.reform, sort_keys=False, allow_unicode=True, width=100))
                written.append(str(path))
    out = pick_format(out_format, json_out)
    if out != "table":
        doc = {"reforms": _reform_note(), "loopholes": [lp.to_dict() for lp in found], "written": written}
        emit([_loophole_row(lp) for lp in found], [], out, document=doc)
        return
    print_table([_loophole_row(lp) for lp in found], LOOPHOLE_COLUMNS, title="Loopholes", wide=wide,
                legend=[LOOPHOLE_LEGEND])  # fmt: skip
    for lp in found:
        _print_loophole(lp)
    lp0 = found[0]
    console.print(
        "bounds (catalog, chips released by "
        + (str(bounds_on) if bounds_on else "any date")
        + "): "
        + "; ".join(f"{k} {fmt(r['lo'])}-{fmt(r['hi'])} ({r['hi_chip']})" for k, r in lp0.bounds.items())
    )
    for lp in found:
        console.print(f"[dim]{lp.objective} model: " + " | ".join(lp.assumptions[1:]) + "[/dim]")
    for w in written:
        console.print(f"wrote {w}: try `chipex diff {on} --reform {w}`")
    console.print(f"[dim]{DISCLAIMER}[/dim]")


def _rule_labels(ids: list[str]) -> str:
    from chipex.interfaces.cli.book_view import rule_label

    return "\n".join(rule_label(i) for i in ids) or "-"


@app.command("windows")
def windows_cmd(
    destination: Annotated[
        list[str] | None, typer.Option(help="ISO country (repeatable; default CN)")
    ] = None,
    chip: Annotated[list[str] | None, typer.Option(help="only these chips (repeatable)")] = None,
    until: Annotated[str, typer.Option(help="end of the analysis (default today)")] = "today",
    shipments: Annotated[
        Path | None, typer.Option(help="shipment estimates file (default: the shipped one)")
    ] = None,
    regime: Annotated[str, typer.Option(help="as-enforced | as-printed")] = "as-enforced",
    all_chips: Annotated[bool, typer.Option("--all", help="also chips whose window never closed")] = False,
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
    fmt: FormatOpt = None,
    wide: WideOpt = False,
) -> None:
    """Dated licence-free windows per chip and destination, with the compute delivered in them (H100e)."""
    cat = _catalog(catalog)
    ships = windows.load_shipments(shipments or windows.SHIPMENTS_FILE, cat)
    kw = {
        "catalog": cat,
        "destinations": destination or ["CN"],
        "shipments": ships,
        "regime": regime,
        "until": parse_date(until),
        "chips": chip,
    }
    rows = windows.exposure_windows(rulebook=default_rulebook(), **kw)
    baseline = windows.exposure_windows(rulebook=load_rulebook(), **kw) if active_reforms() else None
    excluded = windows.excluded(cat, parse_date(until), chip)
    document = {
        "counts": windows.COUNTS,
        "excluded": excluded,
        "reforms": _reform_note(),
        "exposures": [e.to_dict() for e in rows],
        "baseline": [e.to_dict() for e in baseline] if baseline is not None else None,
    }
    show = [e for e in rows if all_chips or chip or e.h100e or any(w.end for w in e.windows)]
    flat = []
    for e in show:
        for w in e.windows or [None]:
            flat.append(
                {
                    "chip": e.chip,
                    "destination": e.destination,
                    "start": w.start if w else None,
                    "end": (w.end or "open") if w else "never licence-free",
                    "closed_by": w.closed_by if w else [],
                    "rule_close": w.rule_close if w else None,
                    "units": w.units if w else None,
                    "units_low": w.units_low if w else None,
                    "units_high": w.units_high if w else None,
                    "h100e": w.h100e if w else None,
                }
            )
    out = pick_format(fmt, json_out)
    if out != "table":
        emit(flat, [], out, document=document)
        return

    def units(r: dict) -> str:
        if not r["units"]:
            return "-"
        rng = f" ({r['units_low']:,.0f}-{r['units_high']:,.0f})" if r["units_low"] else ""
        return f"{r['units']:,.0f}{rng}"

    for r in flat:
        r["units_text"] = units(r)
    cols = [
        Col("chip", "chip", wrap=True),
        Col("destination", "to"),
        Col("start", "licence-free from"),
        Col("end", "until", wrap=True),
        Col("closed_by", "closed by", wrap=True, drop=2, show=_rule_labels),
        Col("rule_close", "rule's own date", drop=3),
        Col("units_text", "units (est., range)", wrap=True, drop=1),
        Col("h100e", "H100e", right=True, show=lambda v: f"{v:,.0f}" if v else "-"),
    ]
    title = "Exposure windows" + (f" under {', '.join(_reform_note())}" if active_reforms() else "")
    legend = (
        "H100e: compute delivered in the window, in H100 equivalents by TPP (one H100 SXM = 1); units: "
        "estimated shipments (low-high); until 'open': the window has not closed; rule's own date: when the "
        "closing rule took effect for everyone (a letter can close a window earlier); closed by: the paragraph (or FR page) [rule id]; '?' after an id: an is-informed letter, binding "
        "only the company it named"
    )
    print_table(flat, cols, title=title, legend=[legend], wide=wide)
    total = sum(e.h100e for e in rows)
    console.print(
        f"compute delivered inside windows: {total:,.0f} H100e (TPP basis; shipments are estimates, see "
        f"{shipments or windows.SHIPMENTS_FILE.name})"
    )
    if baseline is not None:
        console.print(f"baseline (no reform): {sum(e.h100e for e in baseline):,.0f} H100e")
    console.print(f"counts: {windows.COUNTS}")
    if excluded:
        console.print(
            f"no window ({len(excluded)}, not subject to the EAR): {', '.join(x['chip'] for x in excluded)}: "
            f"{excluded[0]['reason'].split(' (')[0]}"
        )
    console.print(f"[dim]{DISCLAIMER}[/dim]")


@app.command("charts")
def charts_cmd(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="FOLDER",
            help="folder for the PNGs and their CSVs (default: charts/ in CHIPEX_HOME)",
        ),
    ] = None,
    as_of: AsOf = "2024-06-01",
    until: Annotated[str, typer.Option(help="end of the windows chart")] = "today",
    catalog: CatalogOpt = None,
) -> None:
    """PNG charts: TPP x performance density with controlled regions, rules vs launches, exposure windows."""
    from chipex.analysis.policy import charts  # scipy / matplotlib load only for this command
    from chipex.home import chipex_home

    cat, rb = _catalog(catalog), default_rulebook()
    on, end = _on(as_of), parse_date(until)
    folder = out if out is not None else chipex_home() / "charts"  # never a checkout's tracked files
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the chart folder: {exc.strerror}", file=str(folder)) from None
    near = nearmiss.near_misses(on, catalog=cat, rulebook=rb)
    exp = windows.exposure_windows(
        catalog=cat,
        rulebook=rb,
        destinations=["CN"],
        shipments=windows.load_shipments(catalog=cat),
        until=end,
    )
    console.print(f"charts in {folder.resolve()} (each with its data as CSV beside it):")
    for p in (
        charts.plane_chart(cat, rb, on, near, folder / "policy-tpp-pd.png"),
        charts.timeline_chart(cat, rb, folder / "policy-timeline.png"),
        charts.windows_chart(exp, end, folder / "policy-windows.png"),
    ):
        console.print(f"  {p.name}, {p.with_suffix('.csv').name}")
