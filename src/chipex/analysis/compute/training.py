"""Training compute: FLOP of a run, and what a fleet of chips makes of it.

Formulas (each one documented where it is used):
* dense term 6 x N_active x D (Kaplan et al. 2020, "Scaling Laws for Neural Language Models",
  arXiv 2001.08361, sec. 2.1: forward 2N per token, backward twice the forward); for an MoE model N
  is the *activated* parameter count;
* optional attention term 6 x n_layer x n_ctx x d_attn per token (same table: forward
  2 n_layer n_ctx d_attn, tripled for training; counted without the causal-mask saving);
* optional full activation recomputation: one more forward pass, 8ND instead of 6ND in hardware
  FLOP (Korthikanti et al. 2022, arXiv 2205.05198). MFU counts model FLOP only (Chowdhery et al.
  2022, PaLM, arXiv 2204.02311, App. B), so recomputation changes hardware FLOP and HFU, not the time
  at a given MFU.
* wall-clock = FLOP / (GPUs x dense peak x MFU); GPU-hours = GPUs x hours; MFU is always stated
  against one precision's dense peak, because FP8 vs BF16 halves or doubles it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from math import isqrt
from typing import Any

from chipex.analysis.compute import hardware
from chipex.analysis.compute.figures import as_float, fraction_of_one, positive
from chipex.catalog.model import Chip
from chipex.errors import ChipexError

SECONDS_PER_HOUR = 3600
SECONDS_PER_DAY = 86400
# Chinchilla compute-optimal ratio D/N ~ 20 tokens per parameter (Hoffmann et al. 2022,
# arXiv 2203.15556, Table 3 reading used by Epoch and others).
CHINCHILLA_TOKENS_PER_PARAM = 20


@dataclass(frozen=True)
class Attention:
    """Shape for the attention FLOP term: layers, context length and attention width (d_attn)."""

    layers: int
    seq_len: int
    d_attn: int

    def __post_init__(self) -> None:
        for name in ("layers", "seq_len", "d_attn"):
            if getattr(self, name) <= 0:
                raise ChipexError(f"must be positive, got {getattr(self, name)}", field=name)


@dataclass(frozen=True)
class Flop:
    """Training FLOP of a run, by term."""

    active_params: Fraction
    tokens: Fraction
    dense: Fraction  # 6 N D
    attention: Fraction  # 6 n_layer n_ctx d_attn D, or 0
    recompute: bool

    @property
    def model(self) -> Fraction:
        return self.dense + self.attention

    @property
    def hardware(self) -> Fraction:
        """Model FLOP plus one recomputed forward pass (2ND + a third of the attention term)."""
        return self.model + (self.model / 3 if self.recompute else 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "flop": as_float(self.model),
            "flop_terms": {"6ND": as_float(self.dense), "attention": as_float(self.attention)},
            "hardware_flop": as_float(self.hardware),
            "recompute": self.recompute,
        }


def training_flop(
    active_params: Fraction,
    tokens: Fraction,
    *,
    attention: Attention | None = None,
    recompute: bool = False,
) -> Flop:
    positive(active_params, "active_params")
    positive(tokens, "tokens")
    attn = 6 * Fraction(attention.layers * attention.seq_len * attention.d_attn) * tokens if attention else 0
    return Flop(active_params, tokens, 6 * active_params * tokens, Fraction(attn), recompute)


@dataclass(frozen=True)
class Fleet:
    """`count` chips of one kind computing at one precision."""

    chip: Chip
    count: Fraction
    precision: str
    peak: hardware.Sourced = field(init=False)  # FLOP/s per chip

    def __post_init__(self) -> None:
        positive(self.count, "gpus")
        if self.count.denominator != 1:
            raise ChipexError(f"a chip count must be whole, got {float(self.count):g}", field="gpus")
        object.__setattr__(self, "peak", hardware.peak_flops(self.chip, self.precision, "train"))

    def rate(self, mfu: Fraction) -> Fraction:
        """Achieved FLOP/s of the whole fleet."""
        return self.count * self.peak.value * fraction_of_one(mfu, "mfu")


@dataclass(frozen=True)
class Run:
    """Wall-clock, GPU-hours, energy and cost of training `flop` on `fleet` at `mfu`."""

    flop: Flop
    fleet: Fleet
    mfu: Fraction
    seconds: Fraction
    gpu_hours: Fraction
    energy_kwh: Fraction | None
    pue: Fraction
    usd_per_gpu_hour: Fraction | None

    @property
    def days(self) -> Fraction:
        return self.seconds / SECONDS_PER_DAY

    @property
    def cost_usd(self) -> Fraction | None:
        return None if self.usd_per_gpu_hour is None else self.gpu_hours * self.usd_per_gpu_hour

    def to_dict(self) -> dict[str, Any]:
        hfu = self.mfu * self.flop.hardware / self.flop.model
        return {
            **self.flop.to_dict(),
            "chip": self.fleet.chip.name,
            "chip_id": self.fleet.chip.id,
            "gpus": as_float(self.fleet.count),
            "precision": self.fleet.precision,
            "peak_flop_per_s_per_chip": self.fleet.peak.to_dict(),
            "mfu": as_float(self.mfu),
            "mfu_basis": f"dense {self.fleet.precision} peak of the {self.fleet.chip.name}",
            "hfu": as_float(hfu),
            "fleet_flop_per_s": as_float(self.fleet.rate(self.mfu)),
            "seconds": as_float(self.seconds),
            "days": as_float(self.days),
            "gpu_hours": as_float(self.gpu_hours),
            "energy_kwh": as_float(self.energy_kwh),
            "pue": as_float(self.pue),
            "usd_per_gpu_hour": as_float(self.usd_per_gpu_hour),
            "cost_usd": as_float(self.cost_usd),
        }


def energy_kwh(gpu_hours: Fraction, chip: Chip, pue: Fraction) -> Fraction | None:
    """Chips at TDP for every GPU-hour, times PUE: an upper bound for the accelerators themselves,
    excluding CPUs, network and storage (which PUE does not cover). None if the TDP is unknown."""
    positive(pue, "pue")
    if pue < 1:
        raise ChipexError(f"a PUE is at least 1 (facility power / IT power), got {float(pue):g}", field="pue")
    try:
        watts = hardware.tdp(chip).value
    except ChipexError:
        return None
    return gpu_hours * watts * pue / 1000


def train(
    flop: Flop,
    fleet: Fleet,
    mfu: Fraction,
    *,
    pue: Fraction = Fraction(1),
    usd_per_gpu_hour: Fraction | None = None,
) -> Run:
    seconds = flop.model / fleet.rate(mfu)
    gpu_hours = fleet.count * seconds / SECONDS_PER_HOUR
    if usd_per_gpu_hour is not None and usd_per_gpu_hour < 0:
        raise ChipexError("a price cannot be negative", field="usd_per_gpu_hour")
    return Run(
        flop, fleet, mfu, seconds, gpu_hours, energy_kwh(gpu_hours, fleet.chip, pue), pue, usd_per_gpu_hour
    )


def achieved_flop_per_s_per_gpu(flop: Fraction, gpu_hours: Fraction) -> Fraction:
    """Average achieved FLOP/s per GPU over the GPU-hours: C / (GPU-hours x 3600)."""
    return flop / (positive(gpu_hours, "gpu_hours") * SECONDS_PER_HOUR)


def implied_mfu(
    flop: Fraction, gpu_hours: Fraction, chip: Chip, precisions: tuple[str, ...]
) -> dict[str, Any]:
    """MFU implied by published GPU-hours, on every precision basis asked for (FP8 vs BF16: 2x)."""
    per_gpu = achieved_flop_per_s_per_gpu(flop, gpu_hours)
    out: dict[str, Any] = {}
    for p in precisions:
        try:
            peak = hardware.peak_flops(chip, p, "basis")
        except ChipexError:
            continue
        out[p] = {"mfu": per_gpu / peak.value, "peak": peak}
    return out


def fleet_budget(fleet: Fleet, mfu: Fraction, days: Fraction) -> Fraction:
    """FLOP a fleet delivers in `days` at `mfu`."""
    return fleet.rate(mfu) * positive(days, "days") * SECONDS_PER_DAY


@dataclass(frozen=True)
class Capacity:
    """The largest run a FLOP budget buys: N x D = C / 6, and the Chinchilla-optimal split."""

    flop: Fraction
    params_tokens: Fraction  # N x D
    max_params: Fraction | None  # given tokens
    max_tokens: Fraction | None  # given params
    chinchilla_params: Fraction
    chinchilla_tokens: Fraction

    def to_dict(self) -> dict[str, Any]:
        return {
            "flop": as_float(self.flop),
            "params_x_tokens": as_float(self.params_tokens),
            "max_active_params": as_float(self.max_params),
            "max_tokens": as_float(self.max_tokens),
            "chinchilla_active_params": as_float(self.chinchilla_params),
            "chinchilla_tokens": as_float(self.chinchilla_tokens),
            "chinchilla_tokens_per_param": CHINCHILLA_TOKENS_PER_PARAM,
        }


def capacity(flop: Fraction, *, tokens: Fraction | None = None, params: Fraction | None = None) -> Capacity:
    nd = flop / 6
    # N = sqrt(C / (6 x 20)), D = 20 N; integer square root is exact to one parameter.
    n_opt = Fraction(isqrt(int(nd / CHINCHILLA_TOKENS_PER_PARAM)))
    return Capacity(
        flop,
        nd,
        nd / positive(tokens, "tokens") if tokens is not None else None,
        nd / positive(params, "active_params") if params is not None else None,
        n_opt,
        n_opt * CHINCHILLA_TOKENS_PER_PARAM,
    )
