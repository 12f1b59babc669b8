"""Classification against published facts (Nvidia's filings, BIS's own examples, the fact sheet)."""

from __future__ import annotations

import json

import pytest

from chipex.core.classify import classify, history
from chipex_cli import run_chipex


def eccn(name, on, catalog):
    return classify(name, on, catalog=catalog).eccn


def test_nothing_before_the_first_rule_but_the_august_2022_letter(catalog):
    # NVIDIA 8-K (2022-08-31): on 2022-08-26 a licence became required for A100 and H100 to China
    # and Russia by is-informed letter; no ECCN existed until 2022-10-07.
    for name in ("A100", "H100"):
        c = classify(name, "2022-09-01", catalog=catalog)
        assert c.eccn is None
        assert [r.id for r in c.other_requirements] == ["nvidia-2022-08-26"]
        assert "no advanced-computing ECCN was in force" in c.reasons[0].detail
    assert classify("A100", "2021-06-01", catalog=catalog).rule_version is None
    assert classify("A800", "2022-09-01", catalog=catalog).other_requirements == []


def test_2022_rule_interconnect_line(catalog):
    # 87 FR 62186: 600 GB/s AND 4800. A100 (600 GB/s) and H100 (900) are in; A800 and H800 at
    # 400 GB/s, and Gaudi 2's China variant, are out though their TPP is above 4800.
    on = "2023-06-01"
    assert eccn("A100", on, catalog) == "3A090.a"
    assert eccn("H100", on, catalog) == "3A090.a"
    for name in ("A800", "H800", "HL-225B"):
        c = classify(name, on, catalog=catalog)
        assert c.eccn is None and c.tpp >= 4800, name
        assert any(
            r.rule == "3A090.a" and r.met is False and "interconnect_gbps" in r.detail for r in c.reasons
        )


def test_october_2023_8k_list_controlled_under_the_2023_rule(catalog):
    # NVIDIA 8-K of 2023-10-17: the new rule covers A100, A800, H100, H800, L40, L40S and RTX 4090.
    on = "2023-11-17"
    expected = {
        "A100": "3A090.a.1",
        "A800": "3A090.a.1",
        "H100": "3A090.a.1",
        "H800": "3A090.a.1",
        "L40S": "3A090.a.1",
        "RTX 4090": "3A090.a.1",
        "L40": "3A090.b.1",
    }
    assert {n: eccn(n, on, catalog) for n in expected} == expected


def test_chips_designed_under_the_2023_lines(catalog):
    on = "2024-06-01"
    # H20: TPP 2,368 < 2,400 (b.1) and PD 2.91 < 3.2 (b.2), and < 4,800 / < 5.92 for .a
    h20 = classify("H20", on, catalog=catalog)
    assert h20.eccn is None and h20.tpp == 2368.0 and round(h20.performance_density, 2) == 2.91
    # RTX 4090D: TPP just under 4,800 and not a datacenter part: Note 2 takes it out
    d = classify("RTX 4090D", on, catalog=catalog)
    assert d.eccn is None and 4600 < d.tpp < 4800
    assert any(r.rule == "Note 2 to 3A090" and r.met for r in d.reasons)
    assert eccn("L20", on, catalog) is None and eccn("L2", on, catalog) is None


def test_l4_is_the_a2_case(catalog):
    # TPP ~1,940 < 4,800 but PD ~6.6 >= 5.92: 3A090.a.2 (SemiAnalysis, Wafer Wars, 2023)
    c = classify("L4", "2024-01-01", catalog=catalog)
    assert c.eccn == "3A090.a.2" and c.tpp < 4800 and c.performance_density >= 5.92


def test_boundaries_are_inclusive_below_and_exclusive_above(catalog):
    from chipex.catalog.model import Chip

    def chip(fp16, area, dc=True):
        return Chip.model_validate(
            {
                "id": "edge",
                "name": "edge",
                "vendor": "test",
                "family": "edge",
                "datacenter": {"value": dc, "source": "hand calculation", "confidence": "estimate"},
                "dense_tops": {
                    "fp16": {"value": str(fp16), "source": "hand calculation", "confidence": "estimate"}
                },
                "die_area_mm2": {"value": str(area), "source": "hand calculation", "confidence": "estimate"},
            }
        )

    on = "2024-01-01"
    assert classify(chip(300, 10000), on, catalog=catalog).eccn == "3A090.a.1"  # TPP exactly 4800
    # TPP 4799.84, PD 0.48: under every line
    assert classify(chip("299.99", 10000), on, catalog=catalog).eccn is None
    # PD exactly 5.92 (TPP 1600 / 270.27... is not exact; 2368 / 400 = 5.92 is): a.2
    assert classify(chip(148, 400), on, catalog=catalog).eccn == "3A090.a.2"
    # PD exactly 3.2 with TPP 2368 < 2400: b.2 ("3.2 or more")
    assert classify(chip(148, 740), on, catalog=catalog).eccn == "3A090.b.2"
    # non-datacenter at TPP 4800 exactly: Note 2 does not apply ("do not have ... 4800 or more")
    assert classify(chip(300, 10000, dc=False), on, catalog=catalog).eccn == "3A090.a.1"


def test_h800_history_changes_with_the_2023_rule(catalog):
    rows = history("H800", catalog=catalog)
    by_date = {r.as_of: r for r in rows}
    assert by_date["2022-10-07"].eccn is None
    assert [x.id for x in by_date["2023-10-23"].other_requirements] == ["nvidia-2023-10-23"]
    assert by_date["2023-11-17"].eccn == "3A090.a.1"
    assert [r.as_of for r in rows] == sorted(r.as_of for r in rows)


def test_h20_is_informed_april_2025(catalog):
    c = classify("H20", "2025-04-10", catalog=catalog)
    assert c.eccn is None and [r.id for r in c.other_requirements] == ["nvidia-2025-04-09"]


def test_systems_classify_under_4a090_through_their_chips(catalog):
    assert eccn("DGX H100", "2024-01-01", catalog) == "4A090.a"
    assert eccn("DGX H100", "2023-01-01", catalog) == "4A090.a"
    assert eccn("HGX H20 8-GPU", "2024-01-01", catalog) is None


def test_unknown_datacenter_status_shows_both_outcomes(catalog):
    from chipex.catalog.model import Chip

    c = Chip.model_validate(
        {
            "id": "mystery",
            "name": "mystery",
            "vendor": "test",
            "family": "mystery",
            "datacenter": {"value": None, "source": "unknown", "confidence": "estimate", "note": "not known"},
            "dense_tops": {"fp16": {"value": "200", "source": "hand", "confidence": "estimate"}},
            "die_area_mm2": {"value": "800", "source": "hand", "confidence": "estimate"},
        }
    )
    # TPP 3200, PD 4.0: .b.1 if designed for datacenters, outside 3A090 (Note 2) if not
    r = classify(c, "2024-01-01", catalog=catalog)
    assert r.depends_on == ["datacenter"]
    assert r.outcomes == {"designed or marketed for datacenters": "3A090.b.1", "not": None}


def test_cli_json_contract():
    p = run_chipex("classify", "H800", "--as-of", "2024-01-01", "--json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    for key in ("chip", "as_of", "rule_version", "tpp", "performance_density", "eccn", "reasons"):
        assert key in d
    assert d["eccn"] == "3A090.a.1" and d["rule_version"] == "2023-11-17"
    assert {"rule", "citation", "met", "detail"} <= set(d["reasons"][0])
    h = json.loads(run_chipex("history", "H800", "--json").stdout)
    assert [x["as_of"] for x in h] == sorted(x["as_of"] for x in h)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("classify", "Z9000"), "unknown chip 'Z9000'"),
        (("classify", "H100", "--as-of", "yesterday-ish"), "is not a date"),
    ],
)
def test_cli_errors_are_one_line(args, message):
    p = run_chipex(*args)
    assert p.returncode == 2 and message in p.stderr and "Traceback" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1


def test_cli_malformed_spec_file(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "id: x1\nname: X1\nvendor: Acme\nfamily: X1\ndatacenter: {value: true, source: mine, confidence: sure}\n"
    )
    p = run_chipex("classify", "--spec", str(spec))
    assert p.returncode == 2 and str(spec) in p.stderr and "datacenter.confidence" in p.stderr


def test_every_catalog_chip_answers_on_every_rule_date(catalog, rulebook):
    dates = ["2021-01-01", *[v.effective.isoformat() for v in rulebook.versions], "2026-11-29"]
    for chip in catalog:
        for on in dates:
            c = classify(chip, on, catalog=catalog, rulebook=rulebook)
            assert c.reasons, (chip.id, on)
            if on < "2022-10-07":
                assert c.eccn is None
            for r in c.reasons:
                assert r.citation, (chip.id, on, r.rule)
