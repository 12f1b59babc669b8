"""Training arithmetic against hand calculations and published figures (ai-compute-figures.md)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chipex.analysis.compute import training
from chipex.analysis.compute.figures import parse_quantity
from chipex.catalog import default_catalog
from chipex.errors import ChipexError, UnknownChipError

H800 = default_catalog().get("H800")
H100 = default_catalog().get("H100")


def test_parse_quantity_forms_are_exact() -> None:
    assert parse_quantity("14.8e12") == 14_800_000_000_000
    assert parse_quantity("14.8T") == 14_800_000_000_000
    assert parse_quantity("2,664K") == 2_664_000
    assert parse_quantity("37B") == 37 * 10**9
    assert parse_quantity(0.3) == Fraction(3, 10)  # not 0.299999...
    with pytest.raises(ChipexError, match="not a number"):
        parse_quantity("lots")


def test_deepseek_v3_6nd() -> None:
    # 6 x 37e9 x 14.8e12 = 3.2856e24 exactly
    flop = training.training_flop(Fraction(37 * 10**9), Fraction(148 * 10**11))
    assert flop.model == 32856 * 10**20
    assert flop.hardware == flop.model


def test_attention_and_recompute_terms() -> None:
    # Kaplan et al.: forward 2 n_layer n_ctx d_attn per token, x3 for training.
    attn = training.Attention(layers=61, seq_len=4096, d_attn=7168)
    flop = training.training_flop(Fraction(37 * 10**9), Fraction(10**12), attention=attn, recompute=True)
    assert flop.attention == 6 * 61 * 4096 * 7168 * 10**12
    # Full recomputation: one more forward pass, 8/6 of the model FLOP.
    assert flop.hardware == flop.model * Fraction(8, 6)


def test_forward_run_by_hand() -> None:
    # 2048 H800 at 30% of the 989.4 TFLOP/s BF16 dense peak (catalog figure).
    fleet = training.Fleet(H800, Fraction(2048), "bf16")
    assert fleet.peak.value == Fraction("989.4") * 10**12
    flop = training.training_flop(Fraction(37 * 10**9), Fraction(148 * 10**11))
    run = training.train(flop, fleet, Fraction(3, 10), usd_per_gpu_hour=Fraction(2))
    rate = 2048 * Fraction("989.4e12") * Fraction(3, 10)
    assert run.seconds == Fraction(32856 * 10**20) / rate
    assert run.gpu_hours == 2048 * run.seconds / 3600
    assert float(run.days) == pytest.approx(62.557, abs=1e-3)
    assert run.cost_usd == 2 * run.gpu_hours
    # energy: GPU-hours x 700 W TDP (catalog) / 1000 -> kWh
    assert run.energy_kwh == run.gpu_hours * 700 / 1000


def test_implied_mfu_of_deepseek_v3_on_both_bases() -> None:
    # ai-compute-figures.md sec. 1.1: implied 17.3% (FP8 basis) / 34.6% (BF16 basis)
    flop = Fraction(32856 * 10**20)
    implied = training.implied_mfu(flop, Fraction(2_664_000), H800, ("bf16", "fp8"))
    assert round(float(implied["bf16"]["mfu"]), 3) == 0.346
    assert round(float(implied["fp8"]["mfu"]), 3) == 0.173
    # achieved 342.6 TFLOP/s per GPU = 3.2856e24 / (2.664e6 x 3600)
    per_gpu = training.achieved_flop_per_s_per_gpu(flop, Fraction(2_664_000))
    assert round(float(per_gpu) / 1e12, 1) == 342.6


def test_implied_mfu_of_llama_405b() -> None:
    # 6 x 405e9 x 15.6e12 = 3.7908e25 over 30.84M H100-hours
    flop = 6 * Fraction(405 * 10**9) * Fraction(156 * 10**11)
    implied = training.implied_mfu(flop, Fraction(30_840_000), H100, ("bf16", "fp8"))
    assert float(implied["bf16"]["mfu"]) == pytest.approx(0.3451, abs=1e-4)
    assert float(implied["fp8"]["mfu"]) == pytest.approx(0.1725, abs=1e-4)


def test_capacity_recovers_chinchilla() -> None:
    # Chinchilla: 70B parameters x 1.4T tokens (20 tokens/parameter), C = 6ND = 5.88e23
    cap = training.capacity(Fraction(588 * 10**21))
    assert cap.chinchilla_params == 70 * 10**9
    assert cap.chinchilla_tokens == 1400 * 10**9
    cap = training.capacity(Fraction(588 * 10**21), tokens=Fraction(1400 * 10**9))
    assert cap.max_params == 70 * 10**9


def test_fleet_budget_matches_forward_run() -> None:
    fleet = training.Fleet(H800, Fraction(2048), "fp8")
    budget = training.fleet_budget(fleet, Fraction(1, 5), Fraction(54))
    assert budget == 2048 * Fraction("1978.9e12") * Fraction(1, 5) * 54 * 86400


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 10**12),
    d=st.integers(1, 10**14),
    gpus=st.integers(1, 200_000),
    mfu=st.fractions(min_value=Fraction(1, 100), max_value=1),
)
def test_implied_mfu_inverts_the_forward_run(n: int, d: int, gpus: int, mfu: Fraction) -> None:
    flop = training.training_flop(Fraction(n), Fraction(d))
    run = training.train(flop, training.Fleet(H100, Fraction(gpus), "bf16"), mfu)
    assert training.implied_mfu(flop.model, run.gpu_hours, H100, ("bf16",))["bf16"]["mfu"] == mfu
    assert run.days * gpus * 24 == run.gpu_hours


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"count": Fraction(-8)}, "gpus"),
        ({"count": Fraction(0)}, "gpus"),
        ({"count": Fraction(5, 2)}, "gpus"),
        ({"precision": "fp7"}, "precision"),
    ],
)
def test_bad_fleets(kwargs: dict, field: str) -> None:
    args = {"chip": H800, "count": Fraction(8), "precision": "bf16", **kwargs}
    with pytest.raises(ChipexError) as exc:
        training.Fleet(**args)
    assert exc.value.field == field


def test_mfu_above_one_is_rejected() -> None:
    fleet = training.Fleet(H800, Fraction(8), "bf16")
    with pytest.raises(ChipexError, match="cannot exceed the peak"):
        fleet.rate(Fraction(11, 10))


def test_unknown_chip() -> None:
    with pytest.raises(UnknownChipError):
        default_catalog().get("Zorblax 9000")


def test_chip_without_fp8_trains_at_16_bit_and_says_so() -> None:
    a100 = default_catalog().get("A100")
    fleet = training.Fleet(a100, Fraction(8), "fp8")
    assert fleet.peak.field == "dense_tops.bf16"
    assert "no fp8" in (fleet.peak.note or "")
