"""Presets reproduce their published tables; every figure is sourced; bad preset files are named."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from pydantic import BaseModel

from chipex.analysis.compute.figures import Fig
from chipex.analysis.compute.presets import DATA_DIR, default_presets, load_presets
from chipex.analysis.compute.reproduce import reproduce
from chipex.catalog import default_catalog
from chipex.errors import ChipexError

P = default_presets()


def _check(rep, key: str):  # type: ignore[no-untyped-def]
    return next(c for c in rep.checks if c.key == key)


def test_deepseek_v3_cost_table_exactly() -> None:
    # DeepSeek-V3 report Table 1: 2,664K + 119K + 5K = 2,788K H800-hours; x $2 = $5.576M
    rep = reproduce(P.run("deepseek-v3"))
    assert [p.gpu_hours for p in rep.phases] == [2_664_000, 119_000, 5_000]
    assert [p.cost_usd for p in rep.phases] == [5_328_000, 238_000, 10_000]
    assert rep.gpu_hours == 2_788_000
    assert rep.cost_usd == 5_576_000
    for c in rep.checks:
        if c.key.startswith(("cost", "total", "GPU-hours per trillion")):
            assert c.verdict == "exact" and c.gap == 0, c.key


def test_deepseek_v3_derived_figures() -> None:
    rep = reproduce(P.run("deepseek-v3"))
    assert rep.flop_value == Fraction(32856 * 10**20)
    # 2,664,000 / (2,048 x 24) = 54.2 days, inside the published 'less than two months'
    days = _check(rep, "pre-training wall-clock days")
    assert float(days.computed) == pytest.approx(54.199, abs=1e-3)
    assert days.verdict == "within bound"
    # 6N = 222 GFLOP/token vs the ~250 published with attention: the gap is shown, not hidden
    per_token = _check(rep, "FLOP per token (6N) vs published")
    assert per_token.computed == 222 * 10**9
    assert per_token.published.value == 250 * 10**9
    assert round(float(per_token.gap_rel) * 100, 1) == -11.2
    assert rep.flop_gpu_hours == 2_664_000  # MFU is implied on the pre-training phase only
    assert round(float(rep.implied["fp8"]["mfu"]), 3) == 0.173
    assert round(float(rep.implied["bf16"]["mfu"]), 3) == 0.346


def test_deepseek_r1_rl_cost() -> None:
    # Nature: R1-Zero ~198 h x 512 H800 (~$202K) + R1 ~80 h x 512 (~$82K) + ~5,000 GPU-h (~$10K) = $294K
    rep = reproduce(P.run("deepseek-r1"))
    assert [p.gpu_hours for p in rep.phases] == [101_376, 40_960, 5_000]
    assert rep.cost_usd == 294_672
    total = _check(rep, "total cost")
    assert total.gap == 672 and total.verdict == "gap"


def test_deepseek_v2_gpu_hours_from_per_trillion_figure() -> None:
    # ai-compute-figures.md 1.3: 172.8K x 8.1 = 1.39968M GPU-h; x $2 = $2.80M
    rep = reproduce(P.run("deepseek-v2"))
    assert rep.gpu_hours == 1_399_680
    assert rep.cost_usd == 2_799_360


def test_llama_405b_flop_and_mfu_gap() -> None:
    rep = reproduce(P.run("llama-3.1-405b"))
    flop = _check(rep, "FLOP (6ND) vs published FLOP")
    assert flop.computed == Fraction(37908 * 10**21)
    assert round(float(flop.gap_rel) * 100, 2) == -0.24
    # 30.84M GPU-hours cover more than the pre-training windows the 38-43% MFU was measured on
    mfu = _check(rep, "implied MFU (bf16 basis)")
    assert mfu.verdict == "outside published range"


def test_llama_2_70b_implied_mfu() -> None:
    # 6 x 70e9 x 2e12 = 8.4e23 over 1,720,320 A100-hours at 312 TFLOP/s BF16 = 43.5%
    rep = reproduce(P.run("llama-2-70b"))
    assert round(float(rep.implied["bf16"]["mfu"]), 3) == 0.435
    assert "fp8" not in rep.implied  # the A100 has no FP8 basis


def test_gpt4_flop_from_fleet_estimates() -> None:
    # 25,000 A100 x 312e12 x 0.34 x 95 days x 86400 s = 2.1768e25 vs the 2.15e25 estimate
    rep = reproduce(P.run("gpt-4"))
    c = _check(rep, "FLOP from fleet x time x MFU")
    assert c.computed == 25000 * Fraction(312 * 10**12) * Fraction(34, 100) * 95 * 86400
    assert c.low == 20000 * Fraction(312 * 10**12) * Fraction(32, 100) * 90 * 86400
    assert c.verdict == "ranges overlap"


def test_every_preset_figure_is_sourced_and_marked() -> None:
    seen = 0

    def walk(item):  # type: ignore[no-untyped-def]
        nonlocal seen
        for _, v in item:
            if isinstance(v, Fig):
                seen += 1
                assert v.source in P.sources or " " in v.source
                assert v.confidence in "VSMD" and v.kind in ("published", "estimate")
            elif isinstance(v, list):
                for x in v:
                    if isinstance(x, BaseModel):
                        walk(x)
            elif isinstance(v, BaseModel):
                walk(v)

    for table in (P.runs, P.fleets, P.flows):
        for item in table.values():
            walk(item)
    assert seen > 60


def test_every_preset_chip_is_in_the_catalog() -> None:
    cat = default_catalog()
    chips = {r.chip for r in P.runs.values()} | {f.chip for f in P.flows.values()}
    chips |= {i.chip for f in P.fleets.values() for i in f.items}
    missing = sorted(c for c in chips if c not in cat.chips)
    assert not missing


def test_reference_figures_agree_with_the_reference_file() -> None:
    # Independent source: the shared reference file the presets were copied from.
    ref = Path(__file__).parents[3] / "shared" / "reference" / "ai-compute-figures.md"
    if not ref.exists():
        pytest.skip("shared reference not present")
    text = ref.read_text(encoding="utf-8")
    for needle in ("2,664K GPU-h", "119K GPU-h", "5K GPU-h", "$5.576M", "30.84M", "1,720,320", "172.8K"):
        assert needle in text


def _write(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "runs.yaml"
    p.write_text(body, encoding="utf-8")
    return p


def test_bad_preset_files_name_file_record_and_field(tmp_path: Path) -> None:
    good = (DATA_DIR / "runs.yaml").read_text(encoding="utf-8")
    bad = good.replace(
        "source: ds-v3-t1, confidence: V, kind: published}",
        "source: ds-v3-tl, confidence: V, kind: published}",
        1,
    )
    with pytest.raises(ChipexError) as exc:
        load_presets([_write(tmp_path, bad)])
    assert exc.value.record == "deepseek-v3" and "unknown source key 'ds-v3-tl'" in str(exc.value)

    bad = good.replace("total_params: {value: 671e9,", "total_params: {value: -671e9,", 1)
    with pytest.raises(ChipexError) as exc:
        load_presets([_write(tmp_path, bad)])
    assert exc.value.record == "deepseek-v3" and exc.value.field == "total_params"
    assert "runs.yaml" in str(exc.value)

    bad = good.replace(
        'confidence: V, kind: published, note: "Report sec. 4.1"', "confidence: X, kind: published"
    )
    with pytest.raises(ChipexError) as exc:
        load_presets([_write(tmp_path, bad)])
    assert exc.value.field == "tokens.confidence"
