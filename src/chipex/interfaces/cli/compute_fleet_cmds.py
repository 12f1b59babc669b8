"""`chipex compute equiv | scenario | presets`: fleets expressed in another chip, a destination's
compute stock by channel against named runs, and the sourced presets behind both.

The commands are plain functions; compute_cmds.py registers them on the `compute` group (so this
module needs nothing from it). Rows go through the shared renderer (chipex.interfaces.cli.render).
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel

from chipex.analysis.compute import charts, equivalence
from chipex.analysis.compute.figures import MARKS, Fig, human, parse_quantity, pct
from chipex.analysis.compute.presets import SCENARIO_DIR, DateFig, Presets, Window, default_presets
from chipex.analysis.compute.scenario import CHANNELS, load_scenario, run_scenario
from chipex.catalog import Catalog
from chipex.errors import ChipexError
from chipex.interfaces.cli.app import DISCLAIMER, console, emit_json
from chipex.interfaces.cli.compute_view import (
    CatalogOpt,
    ChartOpt,
    JsonOpt,
    catalog_of,
    check_case,
    fig_cell,
    quantity,
)
from chipex.interfaces.cli.render import (
    Col,
    FormatOpt,
    WideOpt,
    emit,
    pick_format,
    pick_object_format,
    print_table,
)

# ---------------------------------------------------------------- equiv

_FLEET_ITEM = re.compile(
    r"^\s*([0-9][0-9.,_eE+]*[KMBT]?)\s*(?:x|×|\*)?\s+(.+?)\s*$|^\s*([0-9][0-9.,_eE+]*[KMBT]?)\s*(?:x|×|\*)\s*(.+?)\s*$"
)


def _parse_fleet_item(text: str, cat: Catalog) -> tuple[Any, Fraction]:
    m = _FLEET_ITEM.match(text)
    if not m:
        raise ChipexError(
            f"expected COUNT CHIP such as '2048 H800' or '2048xH800', got {text!r}", field="from"
        )
    count, name = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    n = parse_quantity(count, "from")
    if n <= 0:
        raise ChipexError(f"a chip count must be positive, got {text!r}", field="from")
    return cat.get(name), n


def _scaled(unit: str) -> tuple[int, str]:
    """A basis unit as shown: FLOP/s in TFLOP/s, bytes/s in GB/s, bytes in GB."""
    if unit == "FLOP/s":
        return 10**12, "TFLOP/s"
    return 10**9, "GB/s" if unit == "B/s" else "GB"


def equiv_cmd(
    to: Annotated[str, typer.Option("--to", help="the chip to express the fleet in, e.g. 'Ascend 910B'")],
    from_: Annotated[
        list[str] | None, typer.Option("--from", help="COUNT CHIP, e.g. '2048 H800'; repeatable")
    ] = None,
    fleet: Annotated[str | None, typer.Option(help="a fleet preset, e.g. deepseek-semianalysis")] = None,
    case: Annotated[str, typer.Option(help="reading of ranged fleet counts: low, central, high")] = "central",
    precision: Annotated[
        list[str] | None, typer.Option(help="training precision(s); default bf16 and fp8")
    ] = None,
    serve_precision: Annotated[str, typer.Option(help="precision of the prefill row")] = "fp8",
    mfu_from: Annotated[str, typer.Option(help="MFU the fleet reaches (only the ratio matters)")] = "1",
    mfu_to: Annotated[str, typer.Option(help="MFU the target chip reaches")] = "1",
    chart: ChartOpt = None,
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
    fmt: FormatOpt = None,
    wide: WideOpt = False,
) -> None:
    """How many chips of one kind match a fleet: training, prefill (compute) and decode (bandwidth)."""
    shown = pick_format(fmt, json_out)
    cat = catalog_of(catalog)
    check_case(case)
    items = [_parse_fleet_item(t, cat) for t in from_ or []]
    title = None
    if fleet:
        fp = default_presets().fleet(fleet)
        items += [(cat.get(i.chip), i.count.pick(case)) for i in fp.items]
        title = fp.name
    if not items:
        raise ChipexError("give --from COUNT CHIP (repeatable) or --fleet PRESET")
    eq = equivalence.equivalence(
        items,
        cat.get(to),
        training_precisions=tuple(precision or ("bf16", "fp8")),
        serve_precision=serve_precision,
        mfu_from=parse_quantity(mfu_from, "mfu_from"),
        mfu_to=parse_quantity(mfu_to, "mfu_to"),
    )
    out = eq.to_dict()
    if title:
        out["fleet_preset"] = {"id": fleet, "name": title, "case": case}
    if chart:
        out["chart"] = str(charts.equivalence_chart(eq, chart))
    if shown != "table":
        rows = [
            {"basis": r["basis"], "label": r["label"], "unit": r["unit"], "fleet_total": r["fleet_total"],
             "target_chip": r["per_target_chip"]["chip"], "per_target_chip": r["per_target_chip"]["value"],
             "target_confidence": r["per_target_chip"]["confidence"], "mfu_ratio_applied": r["mfu_ratio_applied"],
             "equivalent_count": r["equivalent_count"], "equivalent_count_ceil": r["equivalent_count_ceil"],
             "notes": r["notes"]}
            for r in out["rows"]
        ]  # fmt: skip
        emit(rows, [], shown, document=out)
        return
    fleet_txt = " + ".join(f"{human(n)} {c.name}" for c, n in eq.fleet)
    n_fleet = sum((n for _, n in eq.fleet), Fraction(0))
    rows = []
    for r in eq.rows:
        scale, unit = _scaled(r.basis.unit)
        rows.append(
            {
                "basis": r.basis.label,
                "fleet": f"{human(r.fleet_total / scale)} {unit}",
                "per": f"{human(r.target.value / scale)} {unit} ({r.target.confidence})",
                "needed": f"{math.ceil(r.count):,}",
                "ratio": f"{float(r.count / n_fleet):.2f}",
            }
        )
    cols = [
        Col("basis", "basis", wrap=True),
        Col("fleet", "fleet total", wrap=True, drop=2),
        Col("per", f"per {eq.target.name}", wrap=True, drop=1),
        Col("needed", f"{eq.target.name} needed", right=True),
        Col("ratio", "x per fleet chip", right=True),
    ]
    legend = (
        f"needed: {eq.target.name} chips matching the fleet on that basis (rounded up); x: per fleet chip"
    )
    title_txt = f"{fleet_txt} expressed in {eq.target.name}" + (f" ({title})" if title else "")
    print_table(rows, cols, title=title_txt, legend=[legend], wide=wide)
    for r in eq.rows:
        for note in r.to_dict()["notes"]:
            console.print(f"[yellow]note:[/yellow] {note}")
    for s in eq.skipped:
        console.print(f"[yellow]skipped:[/yellow] {s}")
    ic = out["interconnect_gbps"]
    console.print(
        "interconnect (not modelled): "
        + ", ".join(f"{k} {human(v)} GB/s" if v else f"{k} unknown" for k, v in ic.items())
    )
    for a in out["assumptions"]:
        console.print(f"[dim]assumption: {a}[/dim]")
    if chart:
        console.print(f"chart: {chart}")


# ---------------------------------------------------------------- scenario


def _scenario_rows(out: dict) -> list[dict]:
    """csv/jsonl rows: each year's stock by channel (table `stock`), then each flow (table `flows`)."""
    rows = []
    for y in out["years"]:
        runs = {f"{rid}_{k}": v for rid, r in y["runs"].items() for k, v in r.items()}
        rows.append({"table": "stock", **{k: v for k, v in y.items() if k != "runs"}, **runs})
    for f in out["flows"]:
        w = f.get("window") or {}
        rows.append(
            {"table": "flows", "id": f["id"], "name": f["name"], "chip": f["chip"], "channel": f["channel"],
             "year": f["year"], "units": f["units"], "h100e_per_unit": f["h100e_per_unit"][out["basis"]],
             "window_start": w.get("start"), "window_end": w.get("end"), "source": f["units_figure"]["source"]}
        )  # fmt: skip
    return rows


def scenario_cmd(
    file: Annotated[
        Path,
        typer.Argument(
            help=f"scenario YAML, or a shipped one: {', '.join(p.stem for p in sorted(SCENARIO_DIR.glob('*.yaml')))}"
        ),
    ],
    basis: Annotated[
        str | None, typer.Option(help="H100e basis: training (FLOP/s) or decode (memory bandwidth)")
    ] = None,
    case: Annotated[str, typer.Option(help="reading of ranged flow figures: low, central, high")] = "central",
    smuggling_scale: Annotated[str, typer.Option(help="multiply every smuggled flow by this")] = "1",
    halving_months: Annotated[
        str | None, typer.Option(help="override the algorithmic-efficiency halving time")
    ] = None,
    chart: ChartOpt = None,
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
    fmt: FormatOpt = None,
    wide: WideOpt = False,
) -> None:
    """Did the controls bite? A destination's compute stock by channel against named training runs."""
    shown = pick_format(fmt, json_out)
    if basis not in (None, "training", "decode"):
        raise ChipexError(f"must be training or decode, got '{basis}'", field="basis")
    check_case(case)
    scen, presets = load_scenario(file)
    res = run_scenario(
        scen,
        presets,
        catalog=catalog_of(catalog),
        basis=basis,  # type: ignore[arg-type]
        case=case,  # type: ignore[arg-type]
        smuggling_scale=parse_quantity(smuggling_scale, "smuggling_scale"),
        halving_months=quantity(halving_months, "halving_months"),
    )
    out = res.to_dict()
    if chart:
        out["chart"] = str(charts.scenario_chart(res, chart))
    if shown != "table":
        emit(_scenario_rows(out), [], shown, document=out)
        return
    stock = []
    for y in res.years:
        tot = res.total(y)
        row = {"year": str(y), **{c: human(res.stock[y][c]) for c in CHANNELS}, "total": human(tot)}
        row |= {r.name: f"{human(r.need[y])} ({pct(r.need[y] / tot) if tot else '-'})" for r in res.runs}
        stock.append(row)
    cols = [
        Col("year", "year"),
        *(Col(c, c, right=True) for c in CHANNELS),
        Col("total", "total", right=True),
        *(Col(r.name, f"{r.name}: H100e needed (share)", wrap=True, drop=1) for r in res.runs),
    ]
    legend = "H100e needed (share): the run's compute in H100e, and as a share of that year's stock"
    print_table(stock, cols, title=f"{scen.name} [{out['unit']}]", legend=[legend], wide=wide)
    flows = []
    for f in res.flows:
        w = f.flow.window
        units = fig_cell(f.flow.units) + (f" -> {human(f.units)}" if f.units != f.flow.units.central else "")
        flows.append(
            {"flow": f.flow.name, "chip": f.chip.name, "channel": f.flow.channel, "year": str(f.flow.year),
             "units": units, "per": f"{float(f.h100e_per_unit[res.basis]):.3f}",
             "window": f"{w.start} to {w.end or 'open'}" if w else "-", "source": f.flow.units.source}
        )  # fmt: skip
    fcols = [
        Col("flow", "flow", wrap=True),
        Col("chip", "chip", wrap=True),
        Col("channel", "channel"),
        Col("year", "year"),
        Col("units", "units", wrap=True),
        Col("per", "H100e/unit", right=True),
        Col("window", "window", wrap=True, drop=1),
        Col("source", "source", wrap=True, drop=2),
    ]
    print_table(
        flows,
        fcols,
        title="flows",
        legend=["units: [confidence mark, kind] as in chipex compute presets"],
        wide=wide,
    )
    for key in sorted({f.flow.units.source for f in res.flows}):
        console.print(f"[dim]{key}: {presets.cite(key)}[/dim]")
    for r in res.runs:
        console.print(f"run {r.name} ({r.date}): {human(r.flop)} FLOP ({r.flop_from})")
    last = res.years[-1]
    shares = out["final_year_share_by_channel"]
    console.print(f"{last} stock by channel: " + ", ".join(f"{c} {pct(shares[c])}" for c in CHANNELS))
    for a in res.assumptions():
        val = a.get("value_used", a.get("value"))
        src = f"  [dim]{a['source']} [{a['confidence']}, {a['kind']}][/dim]" if "source" in a else ""
        console.print(f"assumption: {a['what']}: {val}{src}")
    console.print(
        "[dim]legal-shipment windows are read from the scenario's flows; the policy lab (`chipex windows`) "
        f"will supply them. {DISCLAIMER}[/dim]"
    )
    if chart:
        console.print(f"chart: {chart}")


# ---------------------------------------------------------------- presets


def presets_cmd(
    name: Annotated[str | None, typer.Argument(help="a preset id: every figure with its source")] = None,
    json_out: JsonOpt = False,
    fmt: FormatOpt = None,
    wide: WideOpt = False,
) -> None:
    """The shipped presets (runs, fleets, flows, scenarios), or one preset with every figure's source."""
    p = default_presets()
    if name:
        shown = pick_object_format(fmt, json_out)
        item = p.runs.get(name) or p.fleets.get(name) or p.flows.get(name)
        if item is None:
            known = ", ".join([*p.runs, *p.fleets, *p.flows])
            raise ChipexError(f"unknown preset '{name}' (known: {known})")
        data = item.model_dump(mode="json", exclude_none=True)
        if shown == "json":
            emit_json({"preset": name, "record": data, "sources": p.sources})
            return
        _print_figs(item, p, "")
        return
    shown = pick_format(fmt, json_out)
    out = {
        "runs": {
            k: {"name": r.name, "date": r.date.value.isoformat(), "summary": r.summary}
            for k, r in p.runs.items()
        },
        "fleets": {
            k: {"name": f.name, "items": {i.chip: float(i.count.central) for i in f.items}}
            for k, f in p.fleets.items()
        },
        "flows": {
            k: {
                "name": f.name,
                "chip": f.chip,
                "channel": f.channel,
                "year": f.year,
                "units": float(f.units.central),
            }
            for k, f in p.flows.items()
        },
        "scenarios": [s.stem for s in sorted(SCENARIO_DIR.glob("*.yaml"))],
        "confidence_marks": MARKS,
    }
    rows = []
    for kind in ("runs", "fleets", "flows"):
        for k, v in out[kind].items():
            detail = v.get("summary") or (
                ", ".join(f"{n:,.0f} {c}" for c, n in v["items"].items())
                if "items" in v
                else f"{v['units']:,.0f} {v['chip']} ({v['channel']}, {v['year']})"
            )
            rows.append({"kind": kind.rstrip("s"), "id": k, "name": v["name"], "detail": detail})
    if shown != "table":
        emit(rows, [], shown, document=out)
        return
    cols = [Col("id", "id"), Col("name", "name", wrap=True), Col("detail", "what", wrap=True, drop=1)]
    for kind in ("run", "fleet", "flow"):
        print_table([r for r in rows if r["kind"] == kind], cols, title=f"{kind}s", wide=wide)
    console.print("scenarios: " + ", ".join(out["scenarios"]))
    console.print("confidence: " + "; ".join(f"{k} = {v}" for k, v in MARKS.items()))
    console.print("[dim]chipex compute presets ID: every figure of one preset with its source[/dim]")


def _print_figs(item: Any, p: Presets, indent: str) -> None:
    for key, value in item:
        if isinstance(value, Fig):
            console.print(
                f"{indent}{key}: {fig_cell(value)} {value.unit}  [dim]{p.cite(value.source)}"
                + (f"; {value.note}" if value.note else "")
                + (f"; {value.range_note}" if value.range_note else "")
                + "[/dim]"
            )
        elif isinstance(value, DateFig | Window):
            what = value.value if isinstance(value, DateFig) else f"{value.start} to {value.end or 'open'}"
            note = f"; {value.note}" if value.note else ""
            console.print(
                f"{indent}{key}: {what} [{value.confidence}]  [dim]{p.cite(value.source)}{note}[/dim]"
            )
        elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
            console.print(f"{indent}{key}:")
            for v in value:
                _print_figs(v, p, indent + "  ")
                console.print("")
        elif isinstance(value, BaseModel):
            console.print(f"{indent}{key}:")
            _print_figs(value, p, indent + "  ")
        elif isinstance(value, str) and key.endswith("source"):
            console.print(f"{indent}{key}: {p.cite(value)}")
        elif value not in (None, [], {}):
            console.print(f"{indent}{key}: {value}")
