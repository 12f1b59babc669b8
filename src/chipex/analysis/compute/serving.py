"""Serving: memory to hold a model, and roofline bounds on prefill and decode throughput.

* Weights = total parameters x bytes per parameter (bit length / 8 of the storage precision).
* KV cache per token, in elements (x bytes of the cache precision):
  MHA 2 x layers x heads x head_dim (Vaswani et al. 2017); GQA 2 x layers x kv_heads x head_dim
  (Ainslie et al. 2023, arXiv 2305.13245; MQA is kv_heads = 1); MLA layers x (kv_lora_rank +
  rope_dim), the compressed latent plus the decoupled RoPE key (DeepSeek-V2 report, arXiv
  2405.04434, sec. 2.1.4).
* Usable memory per chip = capacity x `usable` (default 0.9, vLLM's default gpu_memory_utilization:
  the rest goes to activations, CUDA context and fragmentation).
* Decode step (one token for each of `batch` sequences): bytes read = weights touched + the KV cache
  of every sequence; FLOP = 2 x active params x batch (attention FLOP not counted, so the compute
  time is a lower bound). Prefill of batch x prompt tokens: FLOP = 2 x active x tokens, bytes = the
  weights touched once + the KV written. Time = max(bytes / bandwidth, FLOP / peak): the larger one
  is the bound that binds, and it is named.
* MoE weights touched by T tokens, uniform independent routing of k of E routed experts: shared +
  routed x (1 - (1 - k/E)^T), with routed = (total - active) / (1 - k/E) so that one token touches
  exactly the active parameters. Dense models touch all weights every step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

from chipex.analysis.compute import hardware
from chipex.analysis.compute.figures import as_float, fraction_of_one, positive
from chipex.catalog.model import BIT_LENGTH, Chip
from chipex.errors import ChipexError

DEFAULT_USABLE = Fraction(9, 10)


def bytes_per_value(precision: str) -> Fraction:
    p = precision.lower()
    if p not in BIT_LENGTH:
        raise ChipexError(
            f"unknown precision '{precision}' (one of {', '.join(BIT_LENGTH)})", field="precision"
        )
    return Fraction(BIT_LENGTH[p], 8)


@dataclass(frozen=True)
class KVLayout:
    kind: Literal["mha", "gqa", "mla"]
    layers: int
    heads: int | None = None  # MHA query = key/value heads
    kv_heads: int | None = None  # GQA
    head_dim: int | None = None
    kv_lora_rank: int | None = None  # MLA compressed latent width
    rope_dim: int | None = None  # MLA decoupled RoPE key width

    def __post_init__(self) -> None:
        need = {
            "mha": ("heads", "head_dim"),
            "gqa": ("kv_heads", "head_dim"),
            "mla": ("kv_lora_rank", "rope_dim"),
        }
        if self.kind not in need:
            raise ChipexError(f"unknown attention kind '{self.kind}' (mha, gqa or mla)", field="attention")
        for name in ("layers", *need[self.kind]):
            v = getattr(self, name)
            if v is None or v <= 0:
                raise ChipexError(f"{self.kind.upper()} KV cache needs a positive {name}", field=name)

    def elements_per_token(self) -> int:
        if self.kind == "mla":
            return self.layers * (self.kv_lora_rank + self.rope_dim)  # type: ignore[operator]
        heads = self.heads if self.kind == "mha" else self.kv_heads
        return 2 * self.layers * heads * self.head_dim  # type: ignore[operator]

    def formula(self) -> str:
        if self.kind == "mla":
            return f"{self.layers} layers x ({self.kv_lora_rank} + {self.rope_dim})"
        heads = self.heads if self.kind == "mha" else self.kv_heads
        return (
            f"2 x {self.layers} layers x {heads} {'kv_' if self.kind == 'gqa' else ''}heads x {self.head_dim}"
        )


@dataclass(frozen=True)
class ServedModel:
    name: str
    total_params: Fraction
    active_params: Fraction
    kv: KVLayout | None
    routed_experts: int | None = None
    experts_per_token: int | None = None

    def __post_init__(self) -> None:
        positive(self.total_params, "total_params")
        positive(self.active_params, "active_params")
        if self.active_params > self.total_params:
            raise ChipexError("active parameters exceed total parameters", field="active_params")
        if (self.routed_experts is None) != (self.experts_per_token is None):
            raise ChipexError(
                "give both routed_experts and experts_per_token, or neither", field="routed_experts"
            )
        if self.routed_experts is not None and not 0 < self.experts_per_token < self.routed_experts:  # type: ignore[operator]
            raise ChipexError(
                "experts_per_token must be between 1 and routed_experts - 1", field="experts_per_token"
            )

    def touched_params(self, tokens: int) -> Fraction:
        """Expected parameters read by a step over `tokens` tokens (see module doc)."""
        if self.total_params == self.active_params:
            return self.total_params
        if self.routed_experts is None:
            # Without the expert layout, only the bounds are known; the optimistic one (each token's
            # active weights, shared by the batch) keeps the decode figure an upper bound.
            return self.active_params
        share = Fraction(self.experts_per_token, self.routed_experts)  # type: ignore[arg-type]
        routed = (self.total_params - self.active_params) / (1 - share)
        shared = self.total_params - routed
        # float64 for the power: (1 - k/E)^T with T in the millions has no useful exact form.
        touched = Fraction(-math.expm1(tokens * math.log1p(-float(share))))
        return shared + routed * touched


@dataclass(frozen=True)
class Memory:
    weights: Fraction
    kv_per_token: Fraction
    kv_tokens: int
    weights_precision: str
    kv_precision: str

    @property
    def kv(self) -> Fraction:
        return self.kv_per_token * self.kv_tokens

    @property
    def total(self) -> Fraction:
        return self.weights + self.kv


def memory(
    model: ServedModel, *, weights_precision: str, kv_precision: str, batch: int, context: int
) -> Memory:
    if batch <= 0 or context <= 0:
        raise ChipexError("batch and context must be positive", field="batch" if batch <= 0 else "context")
    kv_tok = (
        Fraction(model.kv.elements_per_token()) * bytes_per_value(kv_precision) if model.kv else Fraction(0)
    )
    return Memory(
        model.total_params * bytes_per_value(weights_precision),
        kv_tok,
        batch * context,
        weights_precision,
        kv_precision,
    )


@dataclass(frozen=True)
class Fit:
    chip: Chip
    per_chip: hardware.Sourced
    usable: Fraction
    need: Memory
    count: int | None

    @property
    def usable_per_chip(self) -> Fraction:
        return self.per_chip.value * self.usable

    @property
    def min_chips(self) -> int:
        return math.ceil(self.need.total / self.usable_per_chip)

    @property
    def min_chips_weights_only(self) -> int:
        return math.ceil(self.need.weights / self.usable_per_chip)

    @property
    def fits(self) -> bool | None:
        return None if self.count is None else self.count >= self.min_chips

    @property
    def kv_token_capacity(self) -> int | None:
        """Tokens of KV cache that fit beside the weights on `count` chips (None if no count)."""
        if self.count is None or not self.need.kv_per_token:
            return None
        room = self.count * self.usable_per_chip - self.need.weights
        return max(0, math.floor(room / self.need.kv_per_token))

    def to_dict(self) -> dict[str, Any]:
        return {
            "chip": self.chip.name,
            "chip_id": self.chip.id,
            "memory_per_chip_bytes": self.per_chip.to_dict(),
            "usable_fraction": as_float(self.usable),
            "weights_bytes": as_float(self.need.weights),
            "weights_precision": self.need.weights_precision,
            "kv_bytes_per_token": as_float(self.need.kv_per_token),
            "kv_precision": self.need.kv_precision,
            "kv_tokens": self.need.kv_tokens,
            "kv_bytes": as_float(self.need.kv),
            "total_bytes": as_float(self.need.total),
            "gpus": self.count,
            "usable_bytes_on_gpus": as_float(self.count * self.usable_per_chip) if self.count else None,
            "fits": self.fits,
            "min_gpus": self.min_chips,
            "min_gpus_weights_only": self.min_chips_weights_only,
            "kv_token_capacity": self.kv_token_capacity,
        }


def fit(chip: Chip, need: Memory, count: int | None = None, usable: Fraction = DEFAULT_USABLE) -> Fit:
    if count is not None and count <= 0:
        raise ChipexError(f"must be positive, got {count}", field="gpus")
    return Fit(chip, hardware.memory_capacity(chip), fraction_of_one(usable, "usable"), need, count)


@dataclass(frozen=True)
class Bound:
    """Roofline time of one step and the tokens/s it allows, with the bound that binds."""

    phase: Literal["prefill", "decode"]
    tokens: int  # tokens produced (decode) or processed (prefill) per step
    bytes: Fraction
    flop: Fraction
    memory_seconds: Fraction
    compute_seconds: Fraction
    chips: int

    @property
    def binding(self) -> str:
        return "memory bandwidth" if self.memory_seconds >= self.compute_seconds else "compute"

    @property
    def tokens_per_s(self) -> Fraction:
        return self.tokens / max(self.memory_seconds, self.compute_seconds)

    def to_dict(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "tokens_per_step": self.tokens,
            "bytes_per_step": as_float(self.bytes),
            "flop_per_step": as_float(self.flop),
            "memory_seconds": as_float(self.memory_seconds),
            "compute_seconds": as_float(self.compute_seconds),
            "binding": self.binding,
            "tokens_per_s": as_float(self.tokens_per_s),
            "tokens_per_s_per_gpu": as_float(self.tokens_per_s / self.chips),
        }


@dataclass(frozen=True)
class Roofline:
    chip: Chip
    count: int
    peak: hardware.Sourced
    bandwidth: hardware.Sourced
    mfu: Fraction
    mbu: Fraction

    def bound(
        self, phase: Literal["prefill", "decode"], tokens: int, flop: Fraction, nbytes: Fraction
    ) -> Bound:
        mem_s = nbytes / (self.count * self.bandwidth.value * self.mbu)
        comp_s = flop / (self.count * self.peak.value * self.mfu)
        return Bound(phase, tokens, nbytes, flop, mem_s, comp_s, self.count)


def roofline(
    chip: Chip,
    count: int,
    compute_precision: str,
    *,
    mfu: Fraction = Fraction(1),
    mbu: Fraction = Fraction(1),
) -> Roofline:
    if count <= 0:
        raise ChipexError(f"must be positive, got {count}", field="gpus")
    return Roofline(
        chip,
        count,
        hardware.peak_flops(chip, compute_precision),
        hardware.memory_bandwidth(chip),
        fraction_of_one(mfu, "mfu"),
        fraction_of_one(mbu, "mbu"),
    )


def decode(model: ServedModel, need: Memory, roof: Roofline, *, batch: int, context: int) -> Bound:
    wbytes = need.weights / model.total_params
    nbytes = model.touched_params(batch) * wbytes + need.kv_per_token * batch * context
    return roof.bound("decode", batch, 2 * model.active_params * batch, nbytes)


def prefill(model: ServedModel, need: Memory, roof: Roofline, *, batch: int, prompt: int) -> Bound:
    tokens = batch * prompt
    wbytes = need.weights / model.total_params
    nbytes = model.touched_params(tokens) * wbytes + need.kv_per_token * tokens
    return roof.bound("prefill", tokens, 2 * model.active_params * tokens, nbytes)
