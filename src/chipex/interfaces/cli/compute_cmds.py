"""`chipex compute`: training, serving, chip equivalence, presets and the export-control scenario."""

from __future__ import annotations

import math
import re
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from rich.table import Table

from chipex.analysis.compute import charts, equivalence, serving, training
from chipex.analysis.compute.figures import MARKS, Fig, human, parse_quantity, pct
from chipex.analysis.compute.presets import SCENARIO_DIR, DateFig, Presets, RunPreset, Window, default_presets
from chipex.analysis.compute.reproduce import Reproduction, reproduce
from chipex.analysis.compute.scenario import CHANNELS, load_scenario, run_scenario
from chipex.catalog import Catalog, load_catalog
from chipex.errors import ChipexError
from chipex.interfaces.cli.app import DISCLAIMER, app, console, emit_json

compute = typer.Typer(
    name="compute",
    help="Compute accounting: what a fleet can train and serve, chip equivalence, published runs.",
    no_args_is_help=True,
)
app.add_typer(compute, name="compute")

JsonOpt = Annotated[bool, typer.Option("--json", help="one JSON object on stdout")]
CatalogOpt = Annotated[
    list[Path] | None, typer.Option("--catalog", help="extra catalog file(s) in the catalog schema")
]
ChartOpt = Annotated[Path | None, typer.Option("--chart", help="write a chart to this .png or .svg file")]
Qty = Annotated[str | None, typer.Option(help="number; 37e9, 37B, 14.8T and 2,664K are accepted")]


def _q(value: str | None, name: str) -> Fraction | None:
    return None if value is None else parse_quantity(value, name)


def _need(**given: Any) -> None:
    missing = [f"--{k.replace('_', '-')}" for k, v in given.items() if v is None]
    if missing:
        raise ChipexError(f"missing {', '.join(missing)}")


def _whole(x: Fraction | None, name: str) -> int | None:
    if x is None:
        return None
    if x.denominator != 1 or x <= 0:
        raise ChipexError(f"must be a positive whole number, got {float(x):g}", field=name)
    return int(x)


def _catalog(extra: list[Path] | None) -> Catalog:
    return load_catalog(extra or [])


def _fig_cell(fig: Fig | None) -> str:
    if fig is None:
        return "-"
    val = human(fig.value) if fig.value is not None else f"{human(fig.low)}-{human(fig.high)}"
    if fig.value is not None and fig.low is not None:
        val += f" ({human(fig.low)}-{human(fig.high)})"
    bound = {"upper": "< ", "lower": "> "}.get(fig.bound or "", "")
    return f"{bound}{val} [{fig.confidence}, {fig.kind}]"


# ---------------------------------------------------------------- train


@compute.command("train")
def train_cmd(
    preset: Annotated[
        str | None, typer.Option(help="a published run: deepseek-v3, llama-3.1-405b, ...")
    ] = None,
    active_params: Qty = None,
    total_params: Qty = None,
    tokens: Qty = None,
    chip: Annotated[str | None, typer.Option(help="catalog chip name, e.g. H800")] = None,
    gpus: Qty = None,
    precision: Annotated[str | None, typer.Option(help="peak basis: bf16, fp8, ... (default bf16)")] = None,
    mfu: Qty = None,
    gpu_hours: Annotated[str | None, typer.Option(help="published GPU-hours: gives the implied MFU")] = None,
    days: Annotated[str | None, typer.Option(help="fleet time: gives the largest run it can train")] = None,
    usd_per_gpu_hour: Qty = None,
    pue: Annotated[str, typer.Option(help="power usage effectiveness (facility / IT power)")] = "1",
    layers: Annotated[int | None, typer.Option(help="attention term: layers")] = None,
    seq_len: Annotated[int | None, typer.Option(help="attention term: context length")] = None,
    d_attn: Annotated[int | None, typer.Option(help="attention term: attention width")] = None,
    recompute: Annotated[
        bool, typer.Option(help="full activation recomputation (hardware FLOP 8ND)")
    ] = False,
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Training FLOP, days, GPU-hours, energy and cost; implied MFU; the largest run a fleet can train."""
    cat = _catalog(catalog)
    price = _q(usd_per_gpu_hour, "usd_per_gpu_hour")
    attn_given = [layers, seq_len, d_attn]
    attention = None
    if any(v is not None for v in attn_given):
        _need(layers=layers, seq_len=seq_len, d_attn=d_attn)
        attention = training.Attention(layers, seq_len, d_attn)  # type: ignore[arg-type]
    pue_q = parse_quantity(pue, "pue")
    mfu_q = _q(mfu, "mfu")
    if preset:
        presets = default_presets()
        run = presets.run(preset)
        rep = reproduce(run, catalog=cat, usd_per_gpu_hour=price)
        out = rep.to_dict(presets)
        forward = None
        if mfu_q is not None:
            forward = _forward(
                run.active_params.central
                if run.active_params and active_params is None
                else _q(active_params, "active_params"),
                run.tokens.central if run.tokens and tokens is None else _q(tokens, "tokens"),
                chip or run.chip,
                _q(gpus, "gpus") or (run.gpus.central if run.gpus else None),
                precision or run.precision or "bf16",
                mfu_q,
                cat,
                attention,
                recompute,
                pue_q,
                rep.usd_per_gpu_hour,
            )
            out["at_mfu"] = forward.to_dict()
        if json_out:
            emit_json(out)
        else:
            _print_reproduction(rep, presets)
            if forward:
                _print_run(forward, title=f"{run.name} at MFU {float(mfu_q):g} (forward calculation)")  # type: ignore[arg-type]
        return

    n, d = _q(active_params, "active_params"), _q(tokens, "tokens")
    fleet_n, prec = _q(gpus, "gpus"), (precision or "bf16")
    if days is not None:
        _need(chip=chip, gpus=gpus, mfu=mfu)
        fleet = training.Fleet(cat.get(chip), fleet_n, prec)  # type: ignore[arg-type]
        day_q = parse_quantity(days, "days")
        budget = training.fleet_budget(fleet, mfu_q, day_q)  # type: ignore[arg-type]
        cap = training.capacity(budget, tokens=d, params=n)
        gh = fleet.count * day_q * 24
        out = {
            "mode": "capacity",
            "chip": fleet.chip.name,
            "gpus": float(fleet.count),
            "precision": prec,
            "peak_flop_per_s_per_chip": fleet.peak.to_dict(),
            "mfu": float(mfu_q),  # type: ignore[arg-type]
            "days": float(day_q),
            "gpu_hours": float(gh),
            "cost_usd": float(gh * price) if price is not None else None,
            **cap.to_dict(),
        }
        if json_out:
            emit_json(out)
        else:
            _print_capacity(out)
        return
    _need(active_params=active_params, tokens=tokens, chip=chip)
    if gpu_hours is not None:
        gh = parse_quantity(gpu_hours, "gpu_hours")
        c = cat.get(chip)  # type: ignore[arg-type]
        flop = training.training_flop(n, d, attention=attention, recompute=recompute)  # type: ignore[arg-type]
        implied = training.implied_mfu(flop.model, gh, c, ("bf16", "fp8"))
        if not implied:
            raise ChipexError(
                f"{c.name} has neither a bf16 nor an fp8 dense figure in the catalog", record=c.id
            )
        out = {
            "mode": "implied-mfu",
            **flop.to_dict(),
            "chip": c.name,
            "gpu_hours": float(gh),
            "gpus": float(fleet_n) if fleet_n else None,
            "days": float(gh / (fleet_n * 24)) if fleet_n else None,
            "cost_usd": float(gh * price) if price is not None else None,
            "achieved_flop_per_s_per_gpu": float(training.achieved_flop_per_s_per_gpu(flop.model, gh)),
            "implied_mfu": {
                b: {"mfu": float(v["mfu"]), "peak_flop_per_s": v["peak"].to_dict()}
                for b, v in implied.items()
            },
        }
        if json_out:
            emit_json(out)
        else:
            _print_implied(out)
        return
    _need(gpus=gpus, mfu=mfu)
    result = _forward(n, d, chip, fleet_n, prec, mfu_q, cat, attention, recompute, pue_q, price)  # type: ignore[arg-type]
    out = {"mode": "forward", **result.to_dict()}
    if total_params is not None:
        out["total_params"] = float(parse_quantity(total_params, "total_params"))
    if json_out:
        emit_json(out)
    else:
        _print_run(result, title="training run")


def _forward(
    n: Fraction | None,
    d: Fraction | None,
    chip: str,
    gpus: Fraction | None,
    precision: str,
    mfu: Fraction,
    cat: Catalog,
    attention: training.Attention | None,
    recompute: bool,
    pue: Fraction,
    price: Fraction | None,
) -> training.Run:
    _need(active_params=n, tokens=d, gpus=gpus)
    flop = training.training_flop(n, d, attention=attention, recompute=recompute)  # type: ignore[arg-type]
    fleet = training.Fleet(cat.get(chip), gpus, precision)  # type: ignore[arg-type]
    return training.train(flop, fleet, mfu, pue=pue, usd_per_gpu_hour=price)


def _print_run(r: training.Run, title: str) -> None:
    d = r.to_dict()
    t = Table("quantity", "value", "how", title=title, show_header=True)
    peak = r.fleet.peak
    t.add_row(
        "training FLOP",
        human(r.flop.model),
        f"6ND = 6 x {human(r.flop.active_params)} x {human(r.flop.tokens)}"
        + (f" + attention {human(r.flop.attention)}" if r.flop.attention else ""),
    )
    if r.flop.recompute:
        t.add_row("hardware FLOP", human(r.flop.hardware), "with full recomputation (+1 forward)")
    t.add_row(
        "fleet",
        f"{human(r.fleet.count)} x {r.fleet.chip.name}",
        f"{r.fleet.precision} dense peak {human(peak.value / 10**12)} TFLOP/s ({peak.confidence})",
    )
    t.add_row("MFU", pct(r.mfu), f"of the dense {r.fleet.precision.upper()} peak")
    t.add_row("wall-clock", f"{float(r.days):,.1f} days", "FLOP / (GPUs x peak x MFU)")
    t.add_row("GPU-hours", human(r.gpu_hours), "GPUs x hours")
    if r.energy_kwh is not None:
        t.add_row(
            "energy",
            f"{float(r.energy_kwh) / 1000:,.0f} MWh",
            f"GPU-hours x TDP x PUE {float(r.pue):g} (chips only)",
        )
    if d["cost_usd"] is not None:
        t.add_row("cost", f"${human(r.cost_usd)}", f"GPU-hours x ${human(r.usd_per_gpu_hour)}")
    console.print(t)
    if peak.substitute:
        console.print(f"[yellow]note:[/yellow] {peak.note}")
    console.print(f"[dim]peak: {peak.source}[/dim]")


def _print_capacity(o: dict[str, Any]) -> None:
    console.print(
        f"[bold]{o['gpus']:,.0f} x {o['chip']}[/bold] for {o['days']:g} days at MFU {pct(o['mfu'])} "
        f"({o['precision']} dense peak):"
    )
    console.print(f"  FLOP budget {human(o['flop'])}  (N x D = {human(o['params_x_tokens'])})")
    if o["max_active_params"] is not None:
        console.print(
            f"  largest model at the given tokens: {human(o['max_active_params'])} active parameters"
        )
    if o["max_tokens"] is not None:
        console.print(f"  most tokens at the given parameters: {human(o['max_tokens'])}")
    console.print(
        f"  Chinchilla-optimal (20 tokens/parameter): {human(o['chinchilla_active_params'])} parameters x "
        f"{human(o['chinchilla_tokens'])} tokens"
    )
    console.print(
        f"  GPU-hours {human(o['gpu_hours'])}" + (f", cost ${human(o['cost_usd'])}" if o["cost_usd"] else "")
    )


def _print_implied(o: dict[str, Any]) -> None:
    console.print(f"training FLOP {human(o['flop'])} over {human(o['gpu_hours'])} {o['chip']} GPU-hours")
    console.print(f"achieved {human(o['achieved_flop_per_s_per_gpu'] / 1e12)} TFLOP/s per GPU on average")
    for basis, v in o["implied_mfu"].items():
        console.print(
            f"  implied MFU on the {basis.upper()} dense peak ({human(v['peak_flop_per_s']['value'] / 1e12)} "
            f"TFLOP/s): [bold]{pct(v['mfu'])}[/bold]"
        )
    if o["days"] is not None:
        console.print(f"wall-clock on {o['gpus']:,.0f} GPUs: {o['days']:,.1f} days")


def _print_reproduction(rep: Reproduction, presets: Presets) -> None:
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
            console.print(f"  {label}: {_fig_cell(fig)}  [dim]{presets.cite(fig.source)}[/dim]")
    if rep.phases:
        t = Table("phase", "GPU-hours", "cost (computed)", "cost (published)", "gap", title="cost table")
        pubs = {p.name: p.cost_usd for p in run.phases}
        for p in rep.phases:
            pub = pubs.get(p.name)
            gap = "-" if p.cost_usd is None or pub is None else human(p.cost_usd - pub.central)
            gh = human(p.gpu_hours) + (" (GPUs x hours)" if p.gpu_hours_derived else "")
            t.add_row(p.name, gh, f"${human(p.cost_usd)}", _fig_cell(pub), gap)
        t.add_row(
            "[bold]total[/bold]",
            human(rep.gpu_hours),
            f"${human(rep.cost_usd)}",
            _fig_cell(run.total_cost_usd),
            "-"
            if rep.cost_usd is None or run.total_cost_usd is None
            else human(rep.cost_usd - run.total_cost_usd.central),
        )
        console.print(t)
    t = Table(
        "check",
        "computed",
        "published [conf, kind]",
        "gap",
        "verdict",
        "formula",
        title="published vs computed",
    )
    for c in rep.checks:
        gap = f"{human(c.gap)} ({pct(c.gap_rel)})" if c.gap_rel is not None else human(c.gap)
        comp = human(c.computed) + (f" ({human(c.low)}-{human(c.high)})" if c.low is not None else "")
        t.add_row(c.key, comp, _fig_cell(c.published), gap, c.verdict, c.formula)
    console.print(t)
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


# ---------------------------------------------------------------- serve


@compute.command("serve")
def serve_cmd(
    preset: Annotated[
        str | None, typer.Option(help="a run preset with an architecture: deepseek-v3, llama-3.1-405b")
    ] = None,
    total_params: Qty = None,
    active_params: Qty = None,
    attention: Annotated[str | None, typer.Option(help="KV-cache layout: mha, gqa or mla")] = None,
    layers: Annotated[int | None, typer.Option()] = None,
    heads: Annotated[int | None, typer.Option(help="MHA heads")] = None,
    kv_heads: Annotated[int | None, typer.Option(help="GQA key/value heads")] = None,
    head_dim: Annotated[int | None, typer.Option()] = None,
    kv_lora_rank: Annotated[int | None, typer.Option(help="MLA latent width")] = None,
    rope_dim: Annotated[int | None, typer.Option(help="MLA decoupled RoPE width")] = None,
    experts: Annotated[int | None, typer.Option(help="MoE routed experts")] = None,
    experts_per_token: Annotated[int | None, typer.Option(help="MoE routed experts per token")] = None,
    chip: Annotated[list[str] | None, typer.Option(help="chip(s) to compare; repeat the option")] = None,
    gpus: Annotated[int | None, typer.Option(help="chips available (default: the minimum that fits)")] = None,
    weights_precision: Annotated[str | None, typer.Option(help="storage precision of the weights")] = None,
    kv_precision: Annotated[str | None, typer.Option(help="precision of the KV cache")] = None,
    compute_precision: Annotated[str | None, typer.Option(help="peak basis for the compute bound")] = None,
    batch: Annotated[int, typer.Option(help="sequences decoded together")] = 1,
    context: Annotated[int, typer.Option(help="tokens of KV cache per sequence")] = 4096,
    prompt: Annotated[int | None, typer.Option(help="prefill tokens per sequence (default: context)")] = None,
    usable: Annotated[str, typer.Option(help="usable fraction of chip memory (vLLM default 0.9)")] = "0.9",
    mfu: Annotated[str, typer.Option(help="fraction of peak compute reached (1 = roofline bound)")] = "1",
    mbu: Annotated[str, typer.Option(help="fraction of peak memory bandwidth reached")] = "1",
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Memory to hold a model, the fewest chips that hold it, and prefill/decode bounds, the binding one named."""
    cat = _catalog(catalog)
    run: RunPreset | None = default_presets().run(preset) if preset else None
    arch = run.architecture if run else None
    if run is not None and arch is None:
        raise ChipexError(f"preset '{preset}' has no architecture for serving", field="preset")
    total = _q(total_params, "total_params") or (
        run.total_params.central if run and run.total_params else None
    )
    active = _q(active_params, "active_params") or (
        run.active_params.central if run and run.active_params else None
    )
    _need(total_params=total, active_params=active, chip=chip or None)
    kind = attention or (arch.attention if arch else None)
    kv = None
    if kind:
        kv = serving.KVLayout(
            kind,  # type: ignore[arg-type]
            layers or (arch.layers if arch else 0),
            heads or (arch.heads if arch else None),
            kv_heads or (arch.kv_heads if arch else None),
            head_dim or (arch.head_dim if arch else None),
            kv_lora_rank or (arch.kv_lora_rank if arch else None),
            rope_dim or (arch.rope_dim if arch else None),
        )
    model = serving.ServedModel(
        run.name if run else "model",
        total,  # type: ignore[arg-type]
        active,  # type: ignore[arg-type]
        kv,
        experts or (arch.routed_experts if arch else None),
        experts_per_token or (arch.experts_per_token if arch else None),
    )
    wp = weights_precision or (arch.weights_precision if arch else "bf16")
    kp = kv_precision or (arch.kv_precision if arch else "bf16")
    cp = compute_precision or wp
    prompt_len = prompt or context
    need = serving.memory(model, weights_precision=wp, kv_precision=kp, batch=batch, context=context)
    results = []
    for name in chip:  # type: ignore[union-attr]
        c = cat.get(name)
        f = serving.fit(c, need, gpus, parse_quantity(usable, "usable"))
        n = gpus or f.min_chips
        roof = serving.roofline(c, n, cp, mfu=parse_quantity(mfu, "mfu"), mbu=parse_quantity(mbu, "mbu"))
        dec = serving.decode(model, need, roof, batch=batch, context=context)
        pre = serving.prefill(model, need, roof, batch=batch, prompt=prompt_len)
        results.append((f, roof, dec, pre, n))
    out = {
        "model": model.name,
        "total_params": float(total),  # type: ignore[arg-type]
        "active_params": float(active),  # type: ignore[arg-type]
        "kv_layout": kv.kind if kv else None,
        "kv_elements_per_token": kv.elements_per_token() if kv else None,
        "kv_formula": kv.formula() if kv else None,
        "architecture_source": default_presets().cite(arch.source) if arch else None,
        "batch": batch,
        "context": context,
        "prompt": prompt_len,
        "compute_precision": cp,
        "chips": [
            {
                **f.to_dict(),
                "gpus_for_throughput": n,
                "peak_flop_per_s_per_chip": roof.peak.to_dict(),
                "memory_bandwidth_per_chip": roof.bandwidth.to_dict(),
                "mfu": float(roof.mfu),
                "mbu": float(roof.mbu),
                "decode": dec.to_dict(),
                "prefill": pre.to_dict(),
            }
            for f, roof, dec, pre, n in results
        ],
    }
    if json_out:
        emit_json(out)
        return
    console.print(
        f"[bold]{model.name}[/bold]: {human(total)} total / {human(active)} active parameters; "
        f"weights {wp} = {human(need.weights / 10**9)} GB; KV cache "
        + (
            f"{human(need.kv_per_token)} B/token ({kv.formula()} x {float(serving.bytes_per_value(kp)):g} B, {kp})"
            if kv
            else "not modelled (no attention layout given)"
        )
    )
    t = Table(
        "chip",
        "GPUs",
        "usable GB",
        "need GB",
        "fits",
        "min GPUs",
        "KV tokens that fit",
        "decode tok/s (bound)",
        "prefill tok/s (bound)",
        title=f"batch {batch}, context {context}, usable {pct(parse_quantity(usable))}",
    )
    for f, _roof, dec, pre, n in results:
        fits = {True: "[green]yes[/green]", False: "[red]no[/red]", None: "-"}[f.fits]
        t.add_row(
            f.chip.name,
            str(n),
            human(n * f.usable_per_chip / 10**9),
            human(need.total / 10**9),
            fits,
            f"{f.min_chips} ({f.min_chips_weights_only} weights only)",
            human(f.kv_token_capacity if gpus else None),
            f"{human(dec.tokens_per_s)} ({dec.binding})",
            f"{human(pre.tokens_per_s)} ({pre.binding})",
        )
    console.print(t)
    for _f, roof, *_ in results:
        if roof.peak.substitute:
            console.print(f"[yellow]note:[/yellow] {roof.peak.note}")
    console.print(
        f"[dim]roofline bounds at MFU {mfu}, MBU {mbu}; memory GB = 1e9 bytes, as on datasheets. "
        f"Attention FLOP not in the compute bound; MoE weights touched assume uniform routing.[/dim]"
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


@compute.command("equiv")
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
) -> None:
    """How many chips of one kind match a fleet: training, prefill (compute) and decode (bandwidth)."""
    cat = _catalog(catalog)
    if case not in ("low", "central", "high"):
        raise ChipexError(f"must be low, central or high, got '{case}'", field="case")
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
    if json_out:
        emit_json(out)
        return
    fleet_txt = " + ".join(f"{human(n)} {c.name}" for c, n in eq.fleet)
    t = Table(
        "basis",
        "fleet total",
        f"per {eq.target.name}",
        f"{eq.target.name} needed",
        "x per fleet chip",
        title=f"{fleet_txt} expressed in {eq.target.name}" + (f" ({title})" if title else ""),
    )
    n_fleet = sum((n for _, n in eq.fleet), Fraction(0))
    for r in eq.rows:
        scale = 10**12 if r.basis.unit == "FLOP/s" else 10**9
        unit = "TFLOP/s" if r.basis.unit == "FLOP/s" else ("GB/s" if r.basis.unit == "B/s" else "GB")
        t.add_row(
            r.basis.label,
            f"{human(r.fleet_total / scale)} {unit}",
            f"{human(r.target.value / scale)} {unit} ({r.target.confidence})",
            f"[bold]{math.ceil(r.count):,}[/bold]",
            f"{float(r.count / n_fleet):.2f}",
        )
    console.print(t)
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


@compute.command("scenario")
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
) -> None:
    """Did the controls bite? A destination's compute stock by channel against named training runs."""
    if basis not in (None, "training", "decode"):
        raise ChipexError(f"must be training or decode, got '{basis}'", field="basis")
    if case not in ("low", "central", "high"):
        raise ChipexError(f"must be low, central or high, got '{case}'", field="case")
    scen, presets = load_scenario(file)
    res = run_scenario(
        scen,
        presets,
        catalog=_catalog(catalog),
        basis=basis,  # type: ignore[arg-type]
        case=case,  # type: ignore[arg-type]
        smuggling_scale=parse_quantity(smuggling_scale, "smuggling_scale"),
        halving_months=_q(halving_months, "halving_months"),
    )
    out = res.to_dict()
    if chart:
        out["chart"] = str(charts.scenario_chart(res, chart))
    if json_out:
        emit_json(out)
        return
    t = Table(
        "year",
        *CHANNELS,
        "total",
        *(f"{r.name}: H100e needed (share)" for r in res.runs),
        title=f"{scen.name} [{out['unit']}]",
    )
    for y in res.years:
        tot = res.total(y)
        t.add_row(
            str(y),
            *(human(res.stock[y][c]) for c in CHANNELS),
            f"[bold]{human(tot)}[/bold]",
            *(f"{human(r.need[y])} ({pct(r.need[y] / tot) if tot else '-'})" for r in res.runs),
        )
    console.print(t)
    ft = Table("flow", "chip", "channel", "year", "units", "H100e/unit", "window", "source", title="flows")
    for f in res.flows:
        w = f.flow.window
        win = f"{w.start} to {w.end or 'open'}" if w else "-"
        ft.add_row(
            f.flow.name,
            f.chip.name,
            f.flow.channel,
            str(f.flow.year),
            _fig_cell(f.flow.units) + (f" -> {human(f.units)}" if f.units != f.flow.units.central else ""),
            f"{float(f.h100e_per_unit[res.basis]):.3f}",
            win,
            f.flow.units.source,
        )
    console.print(ft)
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


@compute.command("presets")
def presets_cmd(
    name: Annotated[str | None, typer.Argument(help="a preset id: every figure with its source")] = None,
    json_out: JsonOpt = False,
) -> None:
    """The shipped presets (runs, fleets, flows, scenarios), or one preset with every figure's source."""
    p = default_presets()
    if name:
        item = p.runs.get(name) or p.fleets.get(name) or p.flows.get(name)
        if item is None:
            known = ", ".join([*p.runs, *p.fleets, *p.flows])
            raise ChipexError(f"unknown preset '{name}' (known: {known})")
        data = item.model_dump(mode="json", exclude_none=True)
        if json_out:
            emit_json({"preset": name, "record": data, "sources": p.sources})
            return
        _print_figs(item, p, "")
        return
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
    if json_out:
        emit_json(out)
        return
    for kind in ("runs", "fleets", "flows"):
        t = Table("id", "what", title=kind)
        for k, v in out[kind].items():
            desc = v.get("summary") or (
                ", ".join(f"{n:,.0f} {c}" for c, n in v["items"].items())
                if "items" in v
                else f"{v['units']:,.0f} {v['chip']} ({v['channel']}, {v['year']})"
            )
            t.add_row(k, f"{v['name']}: {desc}")
        console.print(t)
    console.print("scenarios: " + ", ".join(out["scenarios"]))
    console.print("confidence: " + "; ".join(f"{k} = {v}" for k, v in MARKS.items()))


def _print_figs(item: Any, p: Presets, indent: str) -> None:
    for key, value in item:
        if isinstance(value, Fig):
            console.print(
                f"{indent}{key}: {_fig_cell(value)} {value.unit}  [dim]{p.cite(value.source)}"
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
