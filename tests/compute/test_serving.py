"""Serving memory and roofline bounds against hand calculations and reported deployments."""

from __future__ import annotations

from fractions import Fraction

import pytest

from chipex.analysis.compute import serving
from chipex.catalog import default_catalog
from chipex.errors import ChipexError

CAT = default_catalog()
G = 10**9
V3 = serving.ServedModel(
    "DeepSeek-V3",
    Fraction(671 * G),
    Fraction(37 * G),
    serving.KVLayout("mla", layers=61, kv_lora_rank=512, rope_dim=64),
    routed_experts=256,
    experts_per_token=8,
)


def test_kv_cache_per_token_mla_and_gqa() -> None:
    # ai-compute-figures.md 4.2: (512 + 64) x 61 x 2 B = 70,272 B; Llama 3.1 405B 2 x 126 x 8 x 128 x 2 B = 516,096 B
    v3 = serving.memory(V3, weights_precision="fp8", kv_precision="bf16", batch=1, context=1)
    assert v3.kv_per_token == 70_272
    llama = serving.KVLayout("gqa", layers=126, kv_heads=8, head_dim=128)
    assert llama.elements_per_token() * 2 == 516_096
    # MHA of the same shape with 128 query heads would be 16x the GQA cache
    assert (
        serving.KVLayout("mha", layers=126, heads=128, head_dim=128).elements_per_token()
        == 16 * llama.elements_per_token()
    )


def test_weights_fp8_and_bf16() -> None:
    # 671 GB in FP8 (the native release), 1,342 GB in BF16
    for prec, size in (("fp8", 671), ("bf16", 1342)):
        need = serving.memory(V3, weights_precision=prec, kv_precision="bf16", batch=1, context=1)
        assert need.weights == size * G


def test_deepseek_v3_fits_8xh200_not_8xh100() -> None:
    # SGLang: one 8xH200 node runs DeepSeek-V3; H100 needs two 8-GPU nodes (TP16).
    need = serving.memory(V3, weights_precision="fp8", kv_precision="bf16", batch=1, context=4096)
    h100 = serving.fit(CAT.get("H100"), need, 8)
    h200 = serving.fit(CAT.get("H200"), need, 8)
    assert h100.fits is False and h200.fits is True
    assert h100.min_chips == 10 and h100.min_chips <= 16  # 671.3 GB / (80 GB x 0.9) -> 10
    # free for KV on 8 x H200: (8 x 141 GB x 0.9 - 671 GB) / 70,272 B = 4,898,110 tokens
    assert h200.kv_token_capacity == (8 * 141 * G * Fraction(9, 10) - 671 * G) // 70_272
    # the H100 verdict does not hinge on the 0.9 reserve: 8 x 80 GB = 640 GB < 671 GB of weights
    assert serving.fit(CAT.get("H100"), need, 8, usable=Fraction(1)).fits is False


def test_moe_weights_touched() -> None:
    # one token touches exactly the active parameters; a huge batch touches nearly all of them
    assert float(V3.touched_params(1)) == pytest.approx(37e9, rel=1e-12)
    assert V3.touched_params(64) > V3.touched_params(8) > V3.touched_params(1)
    assert float(V3.touched_params(10**6)) == pytest.approx(671e9, rel=1e-9)


def test_dense_decode_is_bandwidth_bound_by_hand() -> None:
    # Llama 2 70B in BF16 on 2 H100, batch 1: 140 GB per token / (2 x 3.35 TB/s) -> 47.86 tokens/s
    m = serving.ServedModel("llama-2-70b", Fraction(70 * G), Fraction(70 * G), None)
    need = serving.memory(m, weights_precision="bf16", kv_precision="bf16", batch=1, context=1)
    roof = serving.roofline(CAT.get("H100"), 2, "bf16")
    dec = serving.decode(m, need, roof, batch=1, context=1)
    assert dec.binding == "memory bandwidth"
    assert dec.tokens_per_s == Fraction(2 * 3350 * G, 140 * G)
    # prefill of 8,192 tokens: 2 x 70e9 x 8192 FLOP / (2 x 989.4e12) -> compute-bound
    pre = serving.prefill(m, need, roof, batch=1, prompt=8192)
    assert pre.binding == "compute"
    assert pre.tokens_per_s == 8192 / (2 * Fraction(70 * G) * 8192 / (2 * Fraction("989.4e12")))


def test_decode_batch_raises_throughput_until_compute_binds() -> None:
    need = serving.memory(V3, weights_precision="fp8", kv_precision="bf16", batch=1, context=1)
    roof = serving.roofline(CAT.get("H800"), 16, "fp8")
    small = serving.decode(V3, need, roof, batch=1, context=1)
    big = serving.decode(V3, need, roof, batch=65536, context=1)
    assert small.binding == "memory bandwidth" and big.binding == "compute"
    assert big.tokens_per_s > small.tokens_per_s


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: serving.KVLayout("gqa", layers=80, head_dim=128), "kv_heads"),
        (lambda: serving.KVLayout("mla", layers=61, kv_lora_rank=512), "rope_dim"),
        (lambda: serving.KVLayout("xyz", layers=61), "attention"),  # type: ignore[arg-type]
        (lambda: serving.ServedModel("m", Fraction(10), Fraction(20), None), "active_params"),
        (lambda: serving.ServedModel("m", Fraction(-1), Fraction(1), None), "total_params"),
    ],
)
def test_bad_models(make, field: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ChipexError) as exc:
        make()
    assert exc.value.field == field


def test_bad_usable_and_counts() -> None:
    need = serving.memory(V3, weights_precision="fp8", kv_precision="bf16", batch=1, context=1)
    with pytest.raises(ChipexError, match="cannot exceed"):
        serving.fit(CAT.get("H100"), need, 8, usable=Fraction(3, 2))
    with pytest.raises(ChipexError):
        serving.fit(CAT.get("H100"), need, -8)
    with pytest.raises(ChipexError):
        serving.memory(V3, weights_precision="fp8", kv_precision="bf16", batch=0, context=1)


def test_roofline_bound_is_above_deepseeks_reported_decode() -> None:
    # DeepSeek Day 6 (2025-03-01): ~14.8k output tokens/s per 8-H800 node, decode on EP144 (18 nodes),
    # average KV length 4,989. A bound must never be below what was achieved.
    need = serving.memory(V3, weights_precision="fp8", kv_precision="bf16", batch=1, context=1)
    roof = serving.roofline(CAT.get("H800"), 144, "fp8")
    dec = serving.decode(V3, need, roof, batch=144 * 256, context=4989)
    # per token and step the KV read is 70,272 B x 4,989 = 350.6 MB: at this length the cache binds,
    # capping a node near 8 x 3.35e12 / 350.6e6 = 76k tokens/s, about 5x what DeepSeek reports
    assert dec.binding == "memory bandwidth"
    assert 14_800 < dec.tokens_per_s / 18 < 8 * 3350 * G / (70_272 * 4989)
