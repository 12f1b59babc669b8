"""Rule diff and near-misses against published facts (fact sheet 9.x, catalog datasheet figures)."""

import datetime as dt
from fractions import Fraction

from chipex.analysis.policy.common import resolve_date
from chipex.analysis.policy.diff import diff
from chipex.analysis.policy.nearmiss import near_miss_history, near_misses


def test_2022_to_2023_newly_controls_the_designed_down_chips(catalog, rulebook):
    d = diff(
        resolve_date("2022-10-07", rulebook),
        resolve_date("2023-11-17", rulebook),
        catalog=catalog,
        rulebook_a=rulebook,
        rulebook_b=rulebook,
    )
    new = d.newly_controlled()
    assert {"nvidia-a800-sxm", "nvidia-h800-sxm", "nvidia-rtx-4090"} <= set(new)
    a800 = next(c for c in d.changes if c.chip_id == "nvidia-a800-sxm")
    assert (a800.before, a800.after) == (None, "3A090.a.1")
    # the A800 failed only the 2022 interconnect prong (400 < 600 GB/s), which the 2023 text dropped
    assert any("interconnect_gbps prong dropped" in m and "600" in m and "400" in m for m in a800.moved_by)
    assert "nvidia-h100-sxm" not in new  # controlled under both texts
    assert d.text_a == "3A090-2022" and d.text_b == "3A090-2023"
    # B200 (announced 2024-03-18, NVIDIA GTC 2024) did not exist on either date: no rule caught it
    b200 = next(c for c in d.changes if c.chip_id == "nvidia-b200")
    assert (b200.change, b200.released) == ("released later", "2024-03-18")
    assert "nvidia-b200" not in new


def test_versions_resolve_by_id_or_name(rulebook):
    assert resolve_date("2023-10-23-is-informed", rulebook)[0] == dt.date(2023, 10, 23)
    assert resolve_date("Foundry", rulebook)[0] == dt.date(2025, 1, 16)


def _by_id(rows):
    return {n.chip_id: n for n in rows}


def test_2023_lines_h20_l20_l2_4090d(catalog, rulebook):
    found = _by_id(near_misses(dt.date(2024, 6, 1), catalog=catalog, rulebook=rulebook))
    for chip in ("nvidia-h20", "nvidia-l20", "nvidia-l2", "nvidia-rtx-4090d"):
        assert found[chip].flagged and found[chip].eccn is None, chip
    h20 = {(ln.metric, ln.bound): ln for ln in found["nvidia-h20"].lines}
    # H20: 148 TFLOPS x 16 = 2,368 < 2,400 (3A090.b.1); 2,368 / 814 mm2 = 2.909 < 3.2 (3A090.b.2)
    assert h20[("tpp", 2400)].value == 2368 and h20[("tpp", 2400)].would_be == "3A090.b.1"
    assert h20[("tpp", 2400)].gap == 32
    assert abs(h20[("performance_density", 3.2)].value - 2368 / 814) < 1e-9
    assert h20[("performance_density", 3.2)].would_be == "3A090.b.2"
    # RTX 4090 D: a consumer part just under the 4,800 TPP line of 3A090.a.1 / Note 2
    line = found["nvidia-rtx-4090d"].lines[0]
    assert (line.metric, line.bound, line.would_be) == ("tpp", 4800, "3A090.a.1") and line.value < 4800


def test_2022_line_a800_h800_keep_all_of_their_siblings_compute(catalog, rulebook):
    found = _by_id(near_misses(dt.date(2023, 6, 1), catalog=catalog, rulebook=rulebook))
    for chip, sib in (("nvidia-a800-sxm", "nvidia-a100-sxm"), ("nvidia-h800-sxm", "nvidia-h100-sxm")):
        n = found[chip]
        assert n.sibling == sib and n.sibling_eccn == "3A090.a" and n.eccn is None
        [line] = [ln for ln in n.lines if ln.metric == "interconnect_gbps"]
        assert (line.value, line.bound) == (
            400,
            600,
        ) and not line.within_margin  # 33% under: designed, not near
    assert found["nvidia-h800-sxm"].kept["tpp"] == 1.0  # same GH100 silicon, same dense FP8 rate
    assert abs(found["nvidia-h800-sxm"].kept["interconnect_gbps"] - 400 / 900) < 1e-4


def test_margin_is_configurable(catalog, rulebook):
    tight = _by_id(
        near_misses(dt.date(2024, 6, 1), catalog=catalog, rulebook=rulebook, margin=Fraction(1, 50))
    )
    assert tight["nvidia-h20"].flagged  # 2,368 is 1.3% under 2,400
    assert not any(ln.within_margin for ln in tight["nvidia-h20"].lines if ln.metric == "performance_density")


def test_history_covers_each_text_from_release(catalog, rulebook):
    rows = near_miss_history(catalog=catalog, rulebook=rulebook)
    h800 = {n.text for n in rows if n.chip_id == "nvidia-h800-sxm"}
    assert h800 == {"3A090-2022"}  # controlled (not a near-miss) under every later text
    assert "3A090-2025-01" in {n.text for n in rows if n.chip_id == "nvidia-h20"}
