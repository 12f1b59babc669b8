"""`chipex compute`: the group, and what a fleet can train and serve (`train`, `serve`).

Chip equivalence, the export-control scenario and the presets are in compute_fleet_cmds.py and are
registered on the group here; the options and figure formatting both share are in compute_view.py.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Annotated, Any

import typer

from chipex.analysis.compute import serving, training
from chipex.analysis.compute.figures import human, parse_quantity, pct
from chipex.analysis.compute.presets import RunPreset, default_presets
from chipex.analysis.compute.reproduce import reproduce
from chipex.catalog import Catalog
from chipex.errors import ChipexError
from chipex.interfaces.cli import compute_fleet_cmds
from chipex.interfaces.cli.app import app, console, emit_json
from chipex.interfaces.cli.compute_view import (
    CatalogOpt,
    JsonOpt,
    Qty,
    catalog_of,
    print_reproduction,
    quantity,
    require,
)
from chipex.interfaces.cli.render import (
    Col,
    FormatOpt,
    ObjectFormatOpt,
    WideOpt,
    emit,
    pick_format,
    pick_object_format,
    print_table,
)

compute = typer.Typer(
    name="compute",
    help="Compute accounting: what a fleet can train and serve, chip equivalence, published runs.",
    no_args_is_help=True,
)
app.add_typer(compute, name="compute")
compute.command("equiv")(compute_fleet_cmds.equiv_cmd)
compute.command("scenario")(compute_fleet_cmds.scenario_cmd)
compute.command("presets")(compute_fleet_cmds.presets_cmd)


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
    fmt: ObjectFormatOpt = None,
) -> None:
    """Training FLOP, days, GPU-hours, energy and cost; implied MFU; the largest run a fleet can train."""
    as_json = pick_object_format(fmt, json_out) == "json"
    cat = catalog_of(catalog)
    price = quantity(usd_per_gpu_hour, "usd_per_gpu_hour")
    attn_given = [layers, seq_len, d_attn]
    attention = None
    if any(v is not None for v in attn_given):
        require(layers=layers, seq_len=seq_len, d_attn=d_attn)
        attention = training.Attention(layers, seq_len, d_attn)  # type: ignore[arg-type]
    pue_q = parse_quantity(pue, "pue")
    mfu_q = quantity(mfu, "mfu")
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
                else quantity(active_params, "active_params"),
                run.tokens.central if run.tokens and tokens is None else quantity(tokens, "tokens"),
                chip or run.chip,
                quantity(gpus, "gpus") or (run.gpus.central if run.gpus else None),
                precision or run.precision or "bf16",
                mfu_q,
                cat,
                attention,
                recompute,
                pue_q,
                rep.usd_per_gpu_hour,
            )
            out["at_mfu"] = forward.to_dict()
        if as_json:
            emit_json(out)
        else:
            print_reproduction(rep, presets)
            if forward:
                _print_run(forward, title=f"{run.name} at MFU {float(mfu_q):g} (forward calculation)")  # type: ignore[arg-type]
        return

    n, d = quantity(active_params, "active_params"), quantity(tokens, "tokens")
    fleet_n, prec = quantity(gpus, "gpus"), (precision or "bf16")
    if days is not None:
        require(chip=chip, gpus=gpus, mfu=mfu)
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
        if as_json:
            emit_json(out)
        else:
            _print_capacity(out)
        return
    require(active_params=active_params, tokens=tokens, chip=chip)
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
        if as_json:
            emit_json(out)
        else:
            _print_implied(out)
        return
    require(gpus=gpus, mfu=mfu)
    result = _forward(n, d, chip, fleet_n, prec, mfu_q, cat, attention, recompute, pue_q, price)  # type: ignore[arg-type]
    out = {"mode": "forward", **result.to_dict()}
    if total_params is not None:
        out["total_params"] = float(parse_quantity(total_params, "total_params"))
    if as_json:
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
    require(active_params=n, tokens=d, gpus=gpus)
    flop = training.training_flop(n, d, attention=attention, recompute=recompute)  # type: ignore[arg-type]
    fleet = training.Fleet(cat.get(chip), gpus, precision)  # type: ignore[arg-type]
    return training.train(flop, fleet, mfu, pue=pue, usd_per_gpu_hour=price)


def _print_run(r: training.Run, title: str) -> None:
    d = r.to_dict()
    peak = r.fleet.peak
    rows = [
        (
            "training FLOP",
            human(r.flop.model),
            f"6ND = 6 x {human(r.flop.active_params)} x {human(r.flop.tokens)}"
            + (f" + attention {human(r.flop.attention)}" if r.flop.attention else ""),
        )
    ]
    if r.flop.recompute:
        rows.append(("hardware FLOP", human(r.flop.hardware), "with full recomputation (+1 forward)"))
    rows += [
        (
            "fleet",
            f"{human(r.fleet.count)} x {r.fleet.chip.name}",
            f"{r.fleet.precision} dense peak {human(peak.value / 10**12)} TFLOP/s ({peak.confidence})",
        ),
        ("MFU", pct(r.mfu), f"of the dense {r.fleet.precision.upper()} peak"),
        ("wall-clock", f"{float(r.days):,.1f} days", "FLOP / (GPUs x peak x MFU)"),
        ("GPU-hours", human(r.gpu_hours), "GPUs x hours"),
    ]
    if r.energy_kwh is not None:
        rows.append(
            (
                "energy",
                f"{float(r.energy_kwh) / 1000:,.0f} MWh",
                f"GPU-hours x TDP x PUE {float(r.pue):g} (chips only)",
            )
        )
    if d["cost_usd"] is not None:
        rows.append(("cost", f"${human(r.cost_usd)}", f"GPU-hours x ${human(r.usd_per_gpu_hour)}"))
    cols = [
        Col("quantity", "quantity", wrap=True),
        Col("value", "value", wrap=True),
        Col("how", "how", wrap=True),
    ]
    print_table([dict(zip(("quantity", "value", "how"), x, strict=True)) for x in rows], cols, title=title)
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
    fmt: FormatOpt = None,
    wide: WideOpt = False,
) -> None:
    """Memory to hold a model, the fewest chips that hold it, and prefill/decode bounds, the binding one named."""
    shown = pick_format(fmt, json_out)
    cat = catalog_of(catalog)
    run: RunPreset | None = default_presets().run(preset) if preset else None
    arch = run.architecture if run else None
    if run is not None and arch is None:
        raise ChipexError(f"preset '{preset}' has no architecture for serving", field="preset")
    total = quantity(total_params, "total_params") or (
        run.total_params.central if run and run.total_params else None
    )
    active = quantity(active_params, "active_params") or (
        run.active_params.central if run and run.active_params else None
    )
    require(total_params=total, active_params=active, chip=chip or None)
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
    rows = [
        {"chip": f.chip.name, "chip_id": f.chip.id, "gpus": n, "usable_gb": float(n * f.usable_per_chip / 10**9),
         "need_gb": float(need.total / 10**9), "fits": f.fits, "min_gpus": f.min_chips,
         "min_gpus_weights_only": f.min_chips_weights_only,
         "kv_token_capacity": f.kv_token_capacity if gpus else None,
         "decode_tokens_per_s": float(dec.tokens_per_s), "decode_binding": dec.binding,
         "prefill_tokens_per_s": float(pre.tokens_per_s), "prefill_binding": pre.binding}
        for f, _roof, dec, pre, n in results
    ]  # fmt: skip
    if shown != "table":
        emit(rows, [], shown, document=out)
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
    for r in rows:
        r["min_text"] = f"{r['min_gpus']} ({r['min_gpus_weights_only']} weights only)"
        r["decode_text"] = f"{human(r['decode_tokens_per_s'])} ({r['decode_binding']})"
        r["prefill_text"] = f"{human(r['prefill_tokens_per_s'])} ({r['prefill_binding']})"
    cols = [
        Col("chip", "chip", wrap=True),
        Col("gpus", "GPUs", right=True),
        Col("usable_gb", "usable GB", right=True, drop=2, show=human),
        Col("need_gb", "need GB", right=True, drop=2, show=human),
        Col("fits", "fits", show=lambda v: {True: "yes", False: "no"}.get(v, "-")),
        Col("min_text", "min GPUs", wrap=True),
        Col("kv_token_capacity", "KV tokens that fit", right=True, drop=3, show=human),
        Col("decode_text", "decode tok/s (bound)", wrap=True),
        Col("prefill_text", "prefill tok/s (bound)", wrap=True, drop=1),
    ]
    legend = (
        "fits: weights and KV cache within the usable memory of GPUs; bound: the roofline limit that binds"
    )
    title = f"batch {batch}, context {context}, usable {pct(parse_quantity(usable))}"
    print_table(rows, cols, title=title, legend=[legend], wide=wide)
    for _f, roof, *_ in results:
        if roof.peak.substitute:
            console.print(f"[yellow]note:[/yellow] {roof.peak.note}")
    console.print(
        f"[dim]roofline bounds at MFU {mfu}, MBU {mbu}; memory GB = 1e9 bytes, as on datasheets. "
        f"Attention FLOP not in the compute bound; MoE weights touched assume uniform routing.[/dim]"
    )
