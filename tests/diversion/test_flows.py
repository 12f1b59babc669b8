"""`chipex flows` against hand calculations on a small synthetic Comtrade-format file
(tests/diversion/data/comtrade-synthetic.csv: invented values, real Comtrade column names)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.chipex_cli import run_chipex

from chipex.analysis.diversion.flows import CAVEAT, analyse, load_published
from chipex.errors import ChipexError
from chipex.rules import default_rulebook

SYNTH = Path(__file__).parent / "data" / "comtrade-synthetic.csv"


@pytest.fixture(scope="module")
def rep():
    return analyse([SYNTH], default_rulebook()).to_dict()


def test_mirror_gaps_by_hand(rep):
    gaps = {(g["exporter"], g["importer"], g["hs"]): g for g in rep["mirror_gaps"]}
    # US reports $100M of 8471.50 to Singapore (FOB); Singapore reports $121M CIF from the US and no
    # FOB: 121 / 1.10 = 110 FOB; gap = 100 - 110 = -10 ($M), -10% of the exporter's figure.
    us = gaps[("US", "SG", "847150")]
    assert (us["importer_reported_fob"], us["gap"], us["gap_pct"]) == (110_000_000, -10_000_000, -10.0)
    # Taiwan $200M of 8473.30 to Malaysia; Malaysia reports FOB $150M itself (CIF 165 ignored):
    # gap 50 ($M), 25%.
    tw = gaps[("TW", "MY", "847330")]
    assert (tw["importer_reported_fob"], tw["gap"], tw["gap_pct"], tw["basis"]) == (
        150_000_000,
        50_000_000,
        25.0,
        "importer's FOB value",
    )
    # Germany's 3004.90 (medicines) is outside the four HS codes: dropped.
    assert rep["rows_in_scope"] == 17 and len(gaps) == 2


def test_reexport_ratio_by_hand(rep):
    # Singapore (a hub since 2011 in hubs.yaml), 8471.50, Jan 2025: imports from World $200M (the
    # World row, not also the $121M from the US); exports to CN 50 + re-exports to HK 30 + exports
    # to MY 40 = 120: ratio 0.60; to China, Hong Kong and Macau (50 + 30) / 200 = 0.40.
    [sg] = rep["reexport_ratios"]
    assert (sg["hub"], sg["imports"], sg["exports_and_reexports"]) == ("SG", 200_000_000, 120_000_000)
    assert (sg["reexport_ratio"], sg["to_china_share_of_imports"]) == (0.6, 0.4)


def test_jump_before_the_ai_diffusion_compliance_date(rep):
    # Taiwan's 8542.31 to Malaysia, monthly: Nov-Jan 100 each, Feb 200, Mar 300, Apr 400, May 100,
    # Jun 50, Jul 30 ($M). Around 2025-05-15: before = (200+300+400)/3 = 300; base (Nov-Jan) = 100:
    # run-up 3.0x; after = (100+50+30)/3 = 60: 60/300 = 0.2x.
    e = next(x for x in rep["jumps"] if x["hs"] == "854231" and x["date"] == "2025-05-15")
    assert "compliance date" in e["rule"] and (e["run_up"], e["after"]) == (3.0, 0.2)
    assert e["months_used"] == {"base": 3, "before": 3, "after": 3}


def test_published_figures_and_their_run_up(rep):
    pub = [p for p in load_published() if p["value_usd"] is not None]
    # Taiwan -> Malaysia GPU exports Jan-Apr 2025: 1.12 + 0.627 + 1.96 + 2.74 = $6.447B ("$6.45B").
    assert round(sum(p["value_usd"] for p in pub) / 1e9, 2) == 6.45
    assert all(p["source"] and p["confidence"] == "low" for p in load_published())
    # Before 2025-05-15: (0.627 + 1.96 + 2.74) / 3 against January's 1.12 alone: 1.585x.
    e = next(x for x in rep["published_jumps"] if x["date"] == "2025-05-15")
    assert e["run_up"] == round((0.627 + 1.96 + 2.74) / 3 / 1.12, 3)
    assert e["months_used"]["base"] == 1


def test_caveat_cli_chart_and_bad_input(tmp_path):
    assert "wider than ECCN" in CAVEAT
    chart = tmp_path / "flows.png"
    r = run_chipex("flows", str(SYNTH), "--json", "--chart", str(chart))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["caveat"] == CAVEAT and chart.stat().st_size > 10_000
    r = run_chipex("flows", "--format", "table")
    assert r.returncode == 0 and "wider than ECCN" in r.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "period,reporterISO,partnerISO,flowCode,cmdCode,primaryValue\n2025xx,USA,SGP,X,847150,10\n"
    )
    r = run_chipex("flows", str(bad))
    assert r.returncode == 2 and "field 'period'" in r.stderr and "line 2" in r.stderr
    with pytest.raises(ChipexError, match="missing column"):
        (tmp_path / "x.csv").write_text("a,b\n1,2\n")
        analyse([tmp_path / "x.csv"], default_rulebook())
    with pytest.raises(ChipexError, match="CIF/FOB factor"):
        analyse([SYNTH], default_rulebook(), cif_fob=0.9)
