"""`chipex compute ...` end to end: the JSON contract, published-vs-computed output, user errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chipex.analysis.compute.presets import default_presets
from chipex.interfaces.cli import app, main

runner = CliRunner()


def _json(*args: str) -> dict:
    res = runner.invoke(app, ["compute", *args, "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def _error(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    monkeypatch.setattr(sys, "argv", ["chipex", "compute", *args])
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("chipex: error:") and err.count("\n") == 1  # one line, no traceback
    return err


def test_train_json_contract() -> None:
    out = _json(
        "train", "--active-params", "37e9", "--tokens", "14.8e12", "--chip", "H800", "--gpus", "2048",
        "--mfu", "0.3", "--precision", "bf16", "--usd-per-gpu-hour", "2",
    )  # fmt: skip
    assert out["flop"] == 3.2856e24
    # 3.2856e24 / (2048 x 989.4e12 x 0.3) s = 62.557 days; x 2048 x 24 GPU-hours; x $2
    assert out["days"] == pytest.approx(62.5573, abs=1e-4)
    assert out["gpu_hours"] == pytest.approx(out["days"] * 2048 * 24)
    assert out["cost_usd"] == pytest.approx(2 * out["gpu_hours"])
    assert out["peak_flop_per_s_per_chip"]["value"] == 989.4e12
    assert out["peak_flop_per_s_per_chip"]["source"]  # the catalog figure's citation


def test_train_preset_deepseek_v3_json() -> None:
    out = _json("train", "--preset", "deepseek-v3")
    assert (out["flop"], out["gpu_hours"], out["cost_usd"]) == (3.2856e24, 2_788_000, 5_576_000)
    assert out["days"] == pytest.approx(2_788_000 / (2048 * 24))
    pub = out["published"]
    assert pub["total_gpu_hours"]["value"] == 2_788_000 and pub["total_cost_usd"]["value"] == 5_576_000
    assert pub["total_cost_usd"]["confidence"] == "V" and "Table 1" in pub["total_cost_usd"]["source"]
    checks = {c["check"]: c for c in out["checks"]}
    assert checks["total cost"]["gap"] == 0 and checks["total cost"]["computed"] == 5_576_000
    assert round(checks["FLOP per token (6N) vs published"]["gap_pct"], 1) == -11.2
    assert round(out["implied_mfu"]["fp8"]["mfu"], 3) == 0.173
    assert round(out["implied_mfu"]["bf16"]["mfu"], 3) == 0.346


def test_train_preset_with_mfu_and_other_chip() -> None:
    # the V3 run on 2,048 Ascend 910B at 30% of FP16 peak: 3.2856e24 / (2048 x 376e12 x 0.3) s
    out = _json(
        "train", "--preset", "deepseek-v3", "--chip", "Ascend 910B", "--mfu", "0.3", "--precision", "bf16"
    )
    assert out["at_mfu"]["chip"] == "Ascend 910B"
    assert out["at_mfu"]["days"] == pytest.approx(3.2856e24 / (2048 * 376e12 * 0.3) / 86400)
    assert out["at_mfu"]["energy_kwh"] is None  # no TDP in the catalog: no number invented


def test_train_implied_and_capacity_modes() -> None:
    out = _json(
        "train", "--active-params", "405e9", "--tokens", "15.6e12", "--chip", "H100", "--gpu-hours", "30.84M"
    )
    assert round(out["implied_mfu"]["bf16"]["mfu"], 4) == 0.3451
    assert round(out["implied_mfu"]["fp8"]["mfu"], 4) == 0.1725
    cap = _json(
        "train", "--chip", "H800", "--gpus", "2048", "--mfu", "0.35", "--days", "60", "--precision", "bf16"
    )
    assert cap["flop"] == pytest.approx(2048 * 989.4e12 * 0.35 * 60 * 86400)


def test_serve_fit_json() -> None:
    out = _json("serve", "--preset", "deepseek-v3", "--chip", "H100", "--chip", "H200", "--gpus", "8")
    by = {c["chip"]: c for c in out["chips"]}
    assert out["kv_elements_per_token"] * 2 == 70_272
    assert by["H100 SXM"]["fits"] is False and by["H200 SXM"]["fits"] is True
    assert by["H200 SXM"]["decode"]["binding"] == "memory bandwidth"


def test_equiv_json_and_chart(tmp_path: Path) -> None:
    chart = tmp_path / "eq.svg"
    out = _json("equiv", "--from", "2048 H800", "--to", "Ascend 910B", "--chart", str(chart))
    rows = {r["basis"]: r for r in out["rows"]}
    assert rows["decode"]["equivalent_count"] == 4288
    assert rows["training-bf16"]["equivalent_count_ceil"] == 5390
    assert out["assumptions"] and chart.exists()
    fleet = _json("equiv", "--fleet", "deepseek-semianalysis", "--to", "H100")
    assert sum(f["count"] for f in fleet["fleet"]) == 60_000


def test_scenario_and_presets_commands(tmp_path: Path) -> None:
    png = tmp_path / "scenario.png"
    out = _json("scenario", "china-2021-2026", "--chart", str(png))
    assert [y["year"] for y in out["years"]] == list(range(2021, 2027)) and png.exists()
    listing = _json("presets")
    assert "deepseek-v3" in listing["runs"] and "china-2021-2026" in listing["scenarios"]
    res = runner.invoke(app, ["compute", "presets", "deepseek-v3"])
    assert res.exit_code == 0 and "Table 1" in res.stdout


@pytest.mark.parametrize(
    "preset", [*default_presets().runs, *default_presets().fleets, *default_presets().flows]
)
def test_every_preset_prints_with_its_citations(preset: str) -> None:
    res = runner.invoke(app, ["compute", "presets", preset])
    assert res.exit_code == 0, res.output
    assert "[V" in res.stdout or "[S" in res.stdout  # a confidence mark beside the figures


def test_human_output_shows_sources() -> None:
    res = runner.invoke(app, ["compute", "train", "--preset", "deepseek-v3"], env={"COLUMNS": "200"})
    assert res.exit_code == 0
    assert "5,576,000" in res.stdout and "2,788,000" in res.stdout and "Table 1" in res.stdout


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["train", "--active-params", "37e9", "--tokens", "14.8e12", "--chip", "H800", "--gpus", "-2048", "--mfu", "0.3"], "gpus"),
        (["train", "--active-params", "37e9", "--tokens", "14.8e12", "--chip", "H800", "--gpus", "2048", "--mfu", "1.3"], "exceed"),
        (["train", "--active-params", "37e9", "--tokens", "14.8e12", "--chip", "Zorblax 9", "--gpus", "8", "--mfu", "0.3"], "unknown chip"),
        (["train", "--active-params", "37e9", "--chip", "H800", "--gpus", "8", "--mfu", "0.3"], "--tokens"),
        (["train", "--preset", "deepseek-v9"], "unknown run preset"),
        (["serve", "--preset", "deepseek-v3", "--chip", "H100", "--gpus", "-8"], "gpus"),
        (["equiv", "--from", "-5 H800", "--to", "H100"], "COUNT CHIP"),
        (["equiv", "--from", "2048 H800", "--to", "H100", "--chart", "x.pdf"], ".png or .svg"),
        (["scenario", "no-such-file.yaml"], "cannot read"),
    ],
)  # fmt: skip
def test_user_errors_are_one_line(monkeypatch, capsys, args, expect) -> None:  # type: ignore[no-untyped-def]
    assert expect in _error(monkeypatch, capsys, *args)
