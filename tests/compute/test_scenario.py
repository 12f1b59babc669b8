"""The 'did the controls bite?' scenario: stock arithmetic by hand, trend, cases, bad files, chart."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from chipex.analysis.compute.charts import scenario_chart
from chipex.analysis.compute.scenario import load_scenario, run_scenario
from chipex.errors import ChipexError

SMALL = """
name: test
destination: CN
first_year: 2023
last_year: 2025
train_days: {value: 100, unit: days, source: "a test assumption", confidence: D, kind: estimate}
mfu: {value: 0.5, unit: fraction, source: "a test assumption", confidence: D, kind: estimate}
efficiency:
  halving_months: {value: 12, unit: months, source: "a test assumption", confidence: D, kind: estimate}
lifetime_years: 2
flows:
  - id: h100-2023
    name: test H100
    chip: nvidia-h100-sxm
    channel: smuggled
    year: 2023
    units: {value: 1000, low: 500, high: 2000, unit: chips, source: "a test figure", confidence: D, kind: estimate}
  - id: h20-2024
    name: test H20
    chip: nvidia-h20
    channel: legal
    year: 2024
    units: {value: 2000, unit: chips, source: "a test figure", confidence: D, kind: estimate}
    window: {start: 2024-02-01, end: 2025-04-09, source: "a test figure", confidence: D}
runs: [gpt-4]
"""


def _scenario(tmp_path: Path, text: str = SMALL):  # type: ignore[no-untyped-def]
    p = tmp_path / "s.yaml"
    p.write_text(text, encoding="utf-8")
    return load_scenario(p)


def test_stock_by_hand(tmp_path: Path) -> None:
    scen, presets = _scenario(tmp_path)
    res = run_scenario(scen, presets)
    # training basis: H20 = 148 / 989.4 H100e
    assert res.stock[2023] == {"legal": 0, "smuggled": 1000, "domestic": 0}
    assert res.stock[2024]["legal"] == 2000 * Fraction(148) / Fraction("989.4")
    # lifetime 2 years: the 2023 chips are retired in 2025
    assert res.stock[2025]["smuggled"] == 0
    dec = run_scenario(scen, presets, basis="decode")
    # decode basis: H20 = 4,000 / 3,350 GB/s H100e
    assert dec.stock[2024]["legal"] == 2000 * Fraction(4000, 3350)


def test_run_need_and_efficiency_trend(tmp_path: Path) -> None:
    scen, presets = _scenario(tmp_path)
    res = run_scenario(scen, presets)
    need = res.runs[0].need
    # GPT-4 2.15e25 FLOP (published estimate), 2023-03-14 -> 2023-12-31 is 292 days
    one_h100 = Fraction("989.4e12") * Fraction(1, 2) * 100 * 86400
    expected_2023 = Fraction(215 * 10**23) * 2 ** (-(292 * 12 / 365) / 12) / one_h100
    assert float(need[2023]) == pytest.approx(float(expected_2023), rel=1e-12)
    # compute halves every 12 months: next year's need is half
    assert float(need[2024] / need[2023]) == pytest.approx(2 ** (-366 / 365), rel=1e-12)
    assert res.runs[0].flop_from == "published"


def test_cases_and_smuggling_scale(tmp_path: Path) -> None:
    scen, presets = _scenario(tmp_path)
    low, high = run_scenario(scen, presets, case="low"), run_scenario(scen, presets, case="high")
    assert low.stock[2023]["smuggled"] == 500 and high.stock[2023]["smuggled"] == 2000
    none = run_scenario(scen, presets, smuggling_scale=Fraction(0))
    assert none.stock[2024]["smuggled"] == 0 and none.stock[2024]["legal"] > 0


def test_shipped_example_runs_and_charts(tmp_path: Path) -> None:
    scen, presets = load_scenario(Path("china-2021-2026"))
    res = run_scenario(scen, presets)
    assert res.years == list(range(2021, 2027))
    totals = [res.total(y) for y in res.years]
    assert totals == sorted(totals)  # no retirement in the example: the stock only grows
    out = res.to_dict()
    legal_flows = [f for f in out["flows"] if f["channel"] == "legal"]
    assert legal_flows and all(f["window"] and f["window"]["source"] for f in legal_flows)
    assert {a["what"] for a in out["assumptions"]} >= {"H100e basis", "MFU of a hypothetical run"}
    png = scenario_chart(res, tmp_path / "s.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = scenario_chart(res, tmp_path / "s.svg")
    assert b"<svg" in svg.read_bytes()[:500]


def test_bad_scenarios_are_named(tmp_path: Path) -> None:
    with pytest.raises(ChipexError) as exc:
        _scenario(tmp_path, SMALL.replace("runs: [gpt-4]", "runs: [gpt-5]"))
    assert "unknown run preset 'gpt-5'" in str(exc.value) and "s.yaml" in str(exc.value)
    with pytest.raises(ChipexError) as exc:
        _scenario(
            tmp_path, SMALL.replace("    window: {start: 2024-02-01", "    nowindow: {start: 2024-02-01")
        )
    assert exc.value.file and exc.value.file.endswith("s.yaml")
    with pytest.raises(ChipexError) as exc:
        _scenario(tmp_path, SMALL.replace("mfu: {value: 0.5", "mfu: {value: 1.5"))
    assert "mfu" in str(exc.value)
    with pytest.raises(ChipexError) as exc:
        _scenario(tmp_path, SMALL.replace("flows:\n", "flows:\n  - preset: no-such-flow\n"))
    assert exc.value.record == "flows[0]" and exc.value.field == "preset"
    with pytest.raises(ChipexError, match="Extra inputs"):
        _scenario(tmp_path, SMALL + "smugglers: 3\n")
    with pytest.raises(ChipexError, match=r"\.png or \.svg"):
        scen, presets = _scenario(tmp_path)
        scenario_chart(run_scenario(scen, presets), tmp_path / "s.pdf")
