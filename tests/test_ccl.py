"""The item's ECCN on the CCL below and beside 3A090 (15 CFR 774 Supp. 1, eCFR 2026-07-23 text)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from tests.chipex_cli import run_chipex

from chipex.catalog.model import Chip
from chipex.core.ccl import ccl_data
from chipex.core.classify import classify


def _chip(fp16: str, area: str = "800", dc: bool = True, **extra) -> Chip:
    fig = {"source": "hand calculation", "confidence": "estimate"}
    return Chip.model_validate(
        {
            "id": "t",
            "name": "T",
            "vendor": "test",
            "family": "T",
            "datacenter": {"value": dc, **fig},
            "die_area_mm2": {"value": area, **fig},
            "dense_tops": {"fp16": {"value": fp16, **fig}},
            **extra,
        }
    )


def test_a_controlled_item_keeps_its_advanced_computing_paragraph(catalog):
    c = classify("H100", "2024-06-01", catalog=catalog)
    assert c.eccn == c.ccl_eccn == "3A090.a.1" and c.ccl_confidence == "derived"


def test_h20_below_3a090_is_3a991p_not_none(catalog):
    # 3A991.p.1: "a processing performance of 8 TOPS or more" (TOPS = 2 x MacTOPS, Note 3); the H20's
    # dense FP8 296 TFLOPS (Tom's Hardware spec table) is far above 8; and p.2 150 GB/s < its 900 GB/s.
    c = classify("H20", "2024-06-01", catalog=catalog)
    assert c.eccn is None and c.ccl_eccn == "3A991.p"
    assert "tops 296 yes" in c.ccl_basis and "interconnect_gbps 900 yes" in c.ccl_basis
    assert any(r.rule == "CCL 3A991.p" and "3A991.p" in r.citation for r in c.reasons)


def test_before_3a991p_existed_the_microprocessor_paragraph_is_an_estimate(catalog):
    # 3A991.a.1: 5 GFLOPS or more with a 32-bit ALU; the H20's FP32 44 TFLOPS = 44,000 GFLOPS.
    c = classify("H20", "2023-06-01", catalog=catalog)
    assert c.ccl_eccn == "3A991.a.1" and c.ccl_confidence == "estimate"


def test_systems_take_4a994l_through_their_ics(catalog):
    # 4A994.l: computers containing ICs any of which meets or exceeds 3A991.p.
    c = classify("HGX H20 8-GPU", "2024-06-01", catalog=catalog)
    assert c.eccn is None and c.ccl_eccn == "4A994.l"
    assert classify("DGX H100", "2024-06-01", catalog=catalog).ccl_eccn == "4A090.a"


def test_a_mass_market_encryption_item_meeting_3a090a_is_5a992z1():
    # 5A992.z.1: "Commodities that are described in 5A992.c and that also meet or exceed the performance
    # parameters in 3A090.a or 4A090.a"; the .z paragraphs exist from 88 FR 73458 (2023-11-17).
    sub = {"value": "5A992.c", "source": "vendor classification (test)", "confidence": "published"}
    chip = _chip("400", sub_threshold_eccn=sub)  # TPP 6,400
    c = classify(chip, "2024-06-01")
    assert c.eccn == "3A090.a.1" and c.ccl_eccn == "5A992.z.1" and c.ccl_confidence == "published"
    b = classify(_chip("200", "800", sub_threshold_eccn=sub), "2024-06-01")  # TPP 3,200, PD 4: b.1
    assert b.eccn == "3A090.b.1" and b.ccl_eccn == "5A992.z.2"
    # below the lines the vendor's own entry stands
    low = classify(_chip("50", sub_threshold_eccn=sub), "2024-06-01")
    assert low.eccn is None and low.ccl_eccn == "5A992.c"


def test_note_2_exclusion_is_not_a_z_item():
    # Note 3 to 3A090: ICs excluded by Note 2 are "also not applicable for" the .z classifications.
    sub = {"value": "5A992.c", "source": "vendor classification (test)", "confidence": "published"}
    c = classify(_chip("200", dc=False, sub_threshold_eccn=sub), "2024-06-01")  # TPP 3,200, not datacenter
    assert c.eccn is None and c.ccl_eccn == "5A992.c"


def test_a_tiny_part_is_ear99_and_an_untested_one_is_an_estimate():
    fig = {"source": "hand calculation", "confidence": "estimate"}
    io = {"interconnect_gbps": {"value": "10", **fig}}
    # 4 GFLOPS FP16 and FP32 (< 8 TOPS, < 5 GFLOPS), 10 GB/s I/O (< 150): no entry of ccl.yaml
    tiny = _chip(
        "0.004", dense_tops={"fp16": {"value": "0.004", **fig}, "fp32": {"value": "0.004", **fig}}, **io
    )
    assert classify(tiny, "2024-06-01").ccl_eccn == "EAR99"
    # no interconnect figure: 3A991.p.2 cannot be ruled out, so the answer is 3A991.p, marked estimate
    c = classify(_chip("0.004"), "2024-06-01")
    assert (c.ccl_eccn, c.ccl_confidence) == ("3A991.p", "estimate") and "unknown" in c.ccl_basis


@pytest.mark.parametrize("on", ["2021-01-01", "2023-06-01", "2024-06-01", "2026-07-23"])
def test_every_catalog_item_has_a_ccl_answer(catalog, on):
    for chip in catalog:
        c = classify(chip, on, catalog=catalog)
        assert c.ccl_eccn and c.ccl_confidence and c.ccl_basis, chip.id
        if c.eccn:
            assert c.ccl_eccn == c.eccn or ".z" in c.ccl_eccn, chip.id


# ---- the rule data against the regulation's text (eCFR 2026-07-23 snapshot in ../shared) ----

ECFR = Path(__file__).resolve().parents[1] / ".." / ".." / "shared" / "data" / "ecfr-2026-07-23" / "ccl.json"
if not ECFR.exists():  # a worktree sits at /work/wt/NAME, the main clone at /work/main
    ECFR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "ecfr-2026-07-23" / "ccl.json"


def _fold(text: str) -> str:
    """Compare wording, not typography: curly quotes and spacing as in the eCFR XML."""
    for a, b in (("\u201c", "'"), ("\u201d", "'"), ("\u2018", "'"), ("\u2019", "'"), ('"', "'")):
        text = text.replace(a, b)
    return re.sub(r"[\s;.,]+", " ", text).strip().lower()


@pytest.fixture(scope="module")
def ecfr() -> dict[str, dict[str, list[str]]]:
    """{ECCN: {paragraph: [texts]}} from the snapshot. A letter can occur more than once in one entry
    (4A994's preamble has its own a. and b.; 3A991.p's Technical Notes reuse a.), so each paragraph
    keeps every text in order; unnumbered lines like 'z.2 ...' are keyed by their lead."""
    if not ECFR.exists():
        pytest.skip("the eCFR snapshot ../shared/data/ecfr-2026-07-23/ is not beside this clone")
    out: dict[str, dict[str, list[str]]] = {}
    for e in json.loads(ECFR.read_text())["entries"]:
        paras = out.setdefault(e["eccn"], {"": [e["heading"]]})
        for item in e.get("items", []):
            text, para = item["text"], item["paragraph"]
            lead = re.match(r"^(z(?:\.\d+)+(?:\.[ab])?) (.*)$", text)
            if para is None and lead:
                para, text = lead.groups()
            if para:
                paras.setdefault(para, []).append(text)
    return out


def test_every_ccl_entry_quotes_the_ecfr_text(ecfr):
    # ccl.yaml marks the entries' wording `verified` against this snapshot: hold it to that.
    for entry in ccl_data().entries:
        eccn, para = entry.id.split(".", 1)
        texts = ecfr[eccn][para]
        if para == "p":  # 3A991.p: the heading line, then p.1 and p.2
            texts = [" ".join([t, "p.1", ecfr[eccn]["p.1"][0], "p.2", ecfr[eccn]["p.2"][0]]) for t in texts]
        if para == "a.1":  # 3A991.a.1 reads with its heading 3A991.a
            head = ecfr[eccn]["a"][0].removesuffix("having any of the following:")
            texts = [head + "having " + t for t in texts]
        assert _fold(entry.text) in {_fold(t) for t in texts}, entry.id
        assert entry.confidence == "verified"


def test_the_entries_numbers_are_the_texts_numbers(ecfr):
    # 3A991.p.1 "8 TOPS or more", p.2 "150 Gbyte/s or more", 3A991.a.1 "5 GFLOPS or more", 4A994.l
    # "meets or exceeds the limit of ECCN 3A991.p": the thresholds are read from the same text.
    by_id = {e.id: e for e in ccl_data().entries}
    assert "8 TOPS or more" in ecfr["3A991"]["p.1"][0]
    assert "150 Gbyte/s or more" in ecfr["3A991"]["p.2"][0]
    assert "5 GFLOPS or more" in ecfr["3A991"]["a.1"][0]
    assert "meets or exceeds the limit of ECCN 3A991.p" in ecfr["4A994"]["l"][0]
    assert [str(c.at_least) for c in by_id["3A991.p"].any] == ["8", "150"]
    assert [str(c.at_least) for c in by_id["3A991.a.1"].any] == ["5"]
    assert by_id["4A994.l"].contains == "3A991.p"


def test_every_z_paragraph_is_in_the_text_and_keyed_to_its_letter(ecfr):
    # e.g. 5A992.z.1 "Commodities that are described in 5A992.c and that also meet or exceed the
    # performance parameters in 3A090.a or 4A090.a"; the .a/.b of the target matches the letter met.
    for described_in, paras in ccl_data().z_paragraphs.map.items():
        eccn = described_in.split(".")[0]
        for letter, target in paras.items():
            t_eccn, t_para = target.split(".", 1)
            assert t_eccn == eccn, target
            text = ecfr[eccn][t_para][0]
            assert re.search(rf"(3A090|4A090)\.?{letter}\b", text), (target, text)
            if "." in described_in:  # "described in 5A992.c", "specified in 4A003.b or .c"
                assert described_in in text or described_in.removeprefix(eccn) in text, (target, text)
            else:  # the whole ECCN: "described in 4A004", "All other commodities specified in this ECCN"
                assert eccn in text or "this ECCN" in text, (target, text)


def test_the_most_specific_described_in_paragraph_wins():
    # 3A001.z.1.a: MMIC amplifiers "described in 3A001.b.2 ... that also meet or exceed ... 3A090.a";
    # 3A001.z.4.a: "All other commodities specified in this ECCN".
    sub = {"value": "3A001.b.2", "source": "vendor classification (test)", "confidence": "published"}
    assert classify(_chip("400", sub_threshold_eccn=sub), "2024-06-01").ccl_eccn == "3A001.z.1.a"
    other = {**sub, "value": "3A001.a.7"}
    assert classify(_chip("400", sub_threshold_eccn=other), "2024-06-01").ccl_eccn == "3A001.z.4.a"


def test_chipex_classify_prints_the_ccl_entry_and_json_carries_it():
    r = run_chipex("classify", "H20", "--as-of", "2024-06-01")
    assert r.returncode == 0, r.stderr
    assert "on the CCL: 3A991.p (derived)" in r.stdout
    j = json.loads(run_chipex("classify", "H20", "--as-of", "2024-06-01", "--json").stdout)
    assert (j["ccl_eccn"], j["ccl_confidence"]) == ("3A991.p", "derived")
