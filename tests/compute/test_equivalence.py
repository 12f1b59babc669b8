"""Chip equivalence by basis, from catalog figures (hand calculations in each test)."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from chipex.analysis.compute.equivalence import equivalence
from chipex.catalog import default_catalog
from chipex.errors import ChipexError

CAT = default_catalog()


def _rows(eq):  # type: ignore[no-untyped-def]
    return {r.basis.key: r for r in eq.rows}


def test_ascend_910b_against_2048_h800() -> None:
    eq = equivalence([(CAT.get("H800"), Fraction(2048))], CAT.get("Ascend 910B"))
    rows = _rows(eq)
    # BF16 training: 2048 x 989.4 / 376 (910B FP16) = 5,389.06
    assert rows["training-bf16"].count == 2048 * Fraction("989.4") / 376
    assert math.ceil(rows["training-bf16"].count) == 5390
    # FP8 training: the 910B has no FP8 and trains at FP16: 2048 x 1978.9 / 376 = 10,778.4
    assert rows["training-fp8"].count == 2048 * Fraction("1978.9") / 376
    assert "no fp8" in (rows["training-fp8"].target.note or "")
    # decode (memory-bound): 2048 x 3,350 / 1,600 GB/s = 4,288
    assert rows["decode"].count == 4288
    # holding the same memory: 2048 x 80 / 64 GB = 2,560
    assert rows["capacity"].count == 2560


def test_h20_narrows_the_gap_for_decode() -> None:
    eq = equivalence([(CAT.get("H100"), Fraction(1))], CAT.get("H20"))
    rows = _rows(eq)
    # training: 989.4 / 148 = 6.69 H20 per H100; decode: 3,350 / 4,000 = 0.84
    assert rows["training-bf16"].count == Fraction("989.4") / 148
    assert rows["decode"].count == Fraction(3350, 4000)
    assert rows["decode"].count < 1 < rows["training-bf16"].count


def test_mixed_fleet_and_mfu_ratio() -> None:
    fleet = [(CAT.get("H800"), Fraction(10_000)), (CAT.get("H20"), Fraction(30_000))]
    eq = equivalence(fleet, CAT.get("H100"), mfu_from=Fraction(4, 10), mfu_to=Fraction(2, 10))
    bf16 = _rows(eq)["training-bf16"]
    # (10,000 x 989.4 + 30,000 x 148) / 989.4, doubled because the target reaches half the MFU
    assert bf16.count == (10_000 * Fraction("989.4") + 30_000 * 148) / Fraction("989.4") * 2
    # the MFU ratio does not touch the bandwidth row
    assert _rows(eq)["decode"].count == (10_000 * 3350 + 30_000 * 4000) / Fraction(3350)


def test_missing_figures_skip_a_basis_and_empty_fleet_errors() -> None:
    # the 910B has no TDP, but every basis here has its figures; an unknown precision has none
    eq = equivalence([(CAT.get("H800"), Fraction(8))], CAT.get("H100"), training_precisions=("fp64",))
    assert "training-fp64" in _rows(eq)
    eq = equivalence([(CAT.get("H800"), Fraction(8))], CAT.get("Ascend 910B"), training_precisions=("fp64",))
    assert "training-fp64" not in _rows(eq) and any("fp64" in s for s in eq.skipped)
    with pytest.raises(ChipexError):
        equivalence([], CAT.get("H100"))
    with pytest.raises(ChipexError):
        equivalence([(CAT.get("H800"), Fraction(-1))], CAT.get("H100"))
