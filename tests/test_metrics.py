"""TPP and performance density per the Technical Notes to 3A090, checked by hand."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from chipex.catalog.model import BIT_LENGTH
from chipex.core import metrics


def test_bis_worked_example_600_int8_equals_300_fp16_equals_4800():
    # Technical Note 2 to 3A090: 600 TOPS at INT8 = 2 x 300 MacTOPS x 8 = 4800;
    # 300 TFLOPS at FP16 = 2 x 150 MacTOPS x 16 = 4800.
    assert metrics.tpp({"int8": Decimal(600)}) == (Fraction(4800), "int8")
    assert metrics.tpp({"fp16": Decimal(300)}) == (Fraction(4800), "fp16")


def test_highest_bit_length_product_sets_tpp_and_fp6_can_set_it():
    # FP6 at the FP4 rate (as AMD prints for MI355X): 10 x 6 = 60 beats FP8 at 6 x 8 = 48.
    assert metrics.tpp({"fp8": Decimal(6), "fp6": Decimal(10), "fp4": Decimal(10)}) == (Fraction(60), "fp6")


def test_h100_by_hand():
    # 1978.9 FP8 dense x 8 = 15831.2; / 814 mm2 = 19.4486...
    t, p = metrics.tpp({"fp8": Decimal("1978.9"), "fp16": Decimal("989.4")})
    assert (t, p) == (Fraction("15831.2"), "fp8")
    assert metrics.performance_density(t, 814) == Fraction("15831.2") / 814
    assert round(float(metrics.performance_density(t, 814)), 2) == 19.45


def test_exact_decimal_not_float():
    # 0.1 + 0.2 style errors must not move a chip across a line: 1600 / 270.27027 is not 5.92.
    assert metrics.performance_density(Fraction(5920), Decimal("1000")) == Fraction("5.92")


def test_memory_bandwidth_density():
    # 3A090.c technical note: bandwidth / package area; 819 GB/s over 117 mm2 = 7.0 > 2.
    assert metrics.memory_bandwidth_density(Decimal(819), Decimal(117)) == Fraction(7)


@given(
    st.dictionaries(
        st.sampled_from(sorted(BIT_LENGTH)),
        st.decimals(min_value=0, max_value=100000, places=2, allow_nan=False, allow_infinity=False),
        min_size=1,
    )
)
def test_tpp_is_the_max_over_precisions(tops):
    value, precision = metrics.tpp(tops)
    assert value == max(Fraction(v) * BIT_LENGTH[p] for p, v in tops.items())
    assert value == Fraction(tops[precision]) * BIT_LENGTH[precision]
