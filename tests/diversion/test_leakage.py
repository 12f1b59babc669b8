"""`chipex leakage`: the published figures it is built on come back out of the model, the H100e
conversion is chipex's TPP, the HBM cap is explicit, and a reform changes only its route."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import yaml
from tests.chipex_cli import run_chipex

from chipex.analysis.compute.figures import Fig
from chipex.analysis.diversion.leakage import DATA_FILE, Measure, draw, leakage

REFORM = Path(__file__).parents[2] / "src/chipex/rules/reforms/location-verification.yaml"


def _input(d, key):
    return next(i for i in d["inputs"] if i["id"] == key)


def test_published_figures_come_back():
    d = leakage(draws=20_000, seed=7).to_dict()
    # CNAS 2025: 10,000 to several hundred thousand chips smuggled in 2024, median ~140,000
    # (flows.yaml smuggled-2024; "several hundred thousand" read as 300,000).
    s = _input(d, "smuggled-2024")
    assert s["from_flow_preset"] == "smuggled-2024"
    assert abs(s["units_p50"] - 140_000) / 140_000 < 0.01
    # NVIDIA Q1 FY2026: $4.6B of H20 before the licence requirement / ~$12,000 = 383,333 chips.
    assert _input(d, "h20-2025q1")["units_p50"] == 383_333
    # SemiAnalysis: ~13M HBM stacks "enough for 1.6M Ascend 910C packages": 13,000,000 / 8.
    assert d["hbm_constraint"]["cap_packages"] == 1_625_000
    assert d["hbm_constraint"]["binds_in_high_case"] is False  # 805,000 + 600,000 = 1,405,000 < 1,625,000


def test_h100e_is_chipex_tpp_and_central_case_by_hand():
    d = leakage(draws=1000).to_dict()
    # TPP: A800 4,992 (= A100); H100 SXM 15,831.2; H20 2,368; Ascend 910C 12,800 (catalog).
    assert _input(d, "a800-2023")["h100e_per_unit"] == round(4992 / 15831.2, 4)
    assert _input(d, "h20-2024")["h100e_per_unit"] == round(2368 / 15831.2, 4)
    # Smuggling, central: 140,000 H100 (2024) + 14,571 B200 (2025 floor: $510M / $35,000) x 36,000/15,831.2
    assert d["routes"]["smuggling"]["central"] == round(140_000 + 14_571 * 36_000 / 15_831.2, 1)
    # Stockpile, central: 100,000 A800 + 10,000 H800 + 1,000,000 H20 + 383,333 H20.
    by_hand = (100_000 * 4992 + 10_000 * 15831.2 + 1_383_333 * 2368) / 15831.2
    assert abs(d["routes"]["stockpile"]["central"] - by_hand) < 0.1


def test_draws_keep_median_and_bounds_and_are_seeded():
    f = Fig(low=10, value=140, high=300, source="cnas-2025", confidence="S", kind="estimate")
    x = draw(f, np.random.default_rng(1), 100_000)
    assert x.min() >= 10 and x.max() <= 300 and abs(np.median(x) - 140) < 1.5
    assert leakage(draws=500, seed=3).to_dict() == leakage(draws=500, seed=3).to_dict()


def test_hbm_cap_binds_when_output_exceeds_the_stacks(tmp_path):
    data = yaml.safe_load(DATA_FILE.read_text())
    for e in data["entries"]:
        if e["id"] == "ascend-2026":
            e["units"]["value"] = e["units"]["high"] = 2_000_000  # 300k + 2M > 1.625M packages
    path = tmp_path / "leak.yaml"
    path.write_text(yaml.safe_dump(data))
    d = leakage(path=path, draws=2000).to_dict()
    assert d["hbm_constraint"]["binds_in_high_case"] is True
    assert d["routes"]["domestic"]["high"] == round(1_625_000 * 12_800 / 15_831.2, 1)


def test_location_verification_halves_smuggling_only():
    base = leakage(draws=2000, seed=1, measures=[]).to_dict()
    m = Measure(
        id="lv",
        effective="2024-01-01",
        route="smuggling",
        reduction=0.5,
        citation="S.1705",
        confidence="secondary",
    )
    lv = leakage(draws=2000, seed=1, measures=[m]).to_dict()
    assert abs(lv["routes"]["smuggling"]["central"] - base["routes"]["smuggling"]["central"] / 2) <= 0.1
    for r in ("stockpile", "licensed", "domestic"):
        assert lv["routes"][r] == base["routes"][r]
    # From 2025 on, only the 2025 floor is cut: 14,571 B200 x 0.5
    m25 = Measure(**{**m.model_dump(), "effective": "2025-01-01"})
    late = leakage(draws=2000, seed=1, measures=[m25]).to_dict()
    cut = float(Fraction(14_571 * 36_000, 2) / Fraction("15831.2"))
    assert abs(base["routes"]["smuggling"]["central"] - late["routes"]["smuggling"]["central"] - cut) < 0.2


def test_cli_reform_json_and_chart(tmp_path):
    chart = tmp_path / "leak.png"
    r = run_chipex("leakage", "--draws", "500", "--json", "--chart", str(chart), "--reform", str(REFORM))
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["measures"][0]["id"] == "location-verification"
    assert chart.stat().st_size > 10_000
    assert all(i["units"]["source"] for i in d["inputs"])
    r = run_chipex("leakage", "--draws", "5")
    assert r.returncode == 2 and "at least 100 draws" in r.stderr
