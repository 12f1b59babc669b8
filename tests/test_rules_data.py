"""The rule data: every value cited, dated in order, and the published country-group facts."""

from __future__ import annotations

import datetime as dt

import pytest

from chipex.errors import ChipexError
from chipex.rules import build_rulebook, load_raw

D = dt.date.fromisoformat


def test_every_version_and_text_has_a_citation_and_confidence(rulebook):
    for v in rulebook.versions:
        assert "FR" in v.citation or "8-K" in v.citation or "BIS" in v.citation or "CFR" in v.citation, v.id
        assert v.confidence in ("verified", "secondary", "from-memory")
    for eccn in rulebook.eccns.values():
        for text in eccn.texts:
            assert "FR" in text.citation and text.confidence
            for note in text.notes:
                assert note.citation and note.confidence
    for r in [*rulebook.licensing.requirements, *rulebook.licensing.exceptions, *rulebook.licensing.policies]:
        assert r.citation and r.paragraph and r.confidence and r.source, r.id
    for letter in rulebook.letters:
        assert letter.citation and letter.legal_basis


def test_a_change_is_a_new_dated_text_not_an_overwrite(rulebook):
    texts = rulebook.eccns["3A090"].texts
    assert [t.effective for t in texts] == sorted(t.effective for t in texts)
    assert texts[0].effective == D("2022-10-07") and texts[1].effective == D("2023-11-17")
    assert rulebook.eccns["3A090"].in_force(D("2022-10-06")) is None  # nothing extrapolated backwards


def test_thresholds_are_the_printed_numbers(rulebook):
    # 88 FR 73458: a.1 TPP >= 4800; a.2 TPP >= 1600 and PD >= 5.92; b.1 2400 <= TPP < 4800 and
    # 1.6 <= PD < 5.92; b.2 TPP >= 1600 and 3.2 <= PD < 5.92.
    paras = {p.id: p for p in rulebook.eccns["3A090"].in_force(D("2024-01-01")).paragraphs}
    b1 = {pr.metric: pr.bounds() for pr in paras["3A090.b.1"].all if pr.metric != "item"}
    assert b1["tpp"] == {"at_least": 2400, "less_than": 4800}
    assert {k: float(v) for k, v in b1["performance_density"].items()} == {"at_least": 1.6, "less_than": 5.92}


def test_country_groups_match_the_ecfr_snapshot_and_the_dated_changes(rulebook):
    c = rulebook.countries
    snap = D("2026-07-23")
    assert len(c.members("D:5", snap)) == 22 and "MO" not in c.members("D:5", snap)
    assert len(c.members("A:5", snap)) == 38 and len(c.members("A:6", snap)) == 8
    # Nicaragua to D:1 and D:5 on 2024-03-15 (89 FR 18780)
    assert not c.in_group("NI", "D:5", D("2024-03-14")) and c.in_group("NI", "D:5", D("2024-03-15"))
    # Cambodia out of D:5 on 2026-02-03; 23 D:5 countries in between (SemiAnalysis' count for Tier 3)
    assert c.in_group("KH", "D:5", D("2026-02-02")) and not c.in_group("KH", "D:5", D("2026-02-03"))
    assert len(c.members("D:5", D("2025-01-15"))) == 23
    # UAE: D:4 before its 2026 move to A:5
    assert c.in_group("AE", "D:4", D("2025-01-01")) and c.in_group("AE", "A:5", D("2026-08-01"))
    assert c.groups_of("HK", D("2024-01-01")) == c.groups_of("CN", D("2024-01-01"))  # Hong Kong as China
    assert c.groups_of("MO", snap) == ["D:1", "D:4"]  # Macau named beside D:5, not in it


def test_ai_diffusion_tiers_as_printed_and_as_enforced(rulebook):
    c = rulebook.countries
    on = D("2025-06-01")
    assert (c.tier("US", on), c.tier("IN", on), c.tier("CN", on), c.tier("MO", on)) == (1, 2, 3, 3)
    assert c.tier("IN", on, "as-enforced") is None
    assert c.tier("IN", D("2025-01-01")) is None


def test_a_bad_rule_file_fails_before_anything_is_answered():
    raw = load_raw()
    raw["eccn/3A090.yaml"]["texts"][1]["paragraphs"][0]["all"][1]["at_least"] = "lots"
    with pytest.raises(ChipexError, match=r"eccn/3A090\.yaml"):
        build_rulebook(raw)


def test_licence_rules_from_several_files_merge_and_errors_name_the_file():
    raw = {k: v for k, v in load_raw().items() if k != "embargoes.yaml"}  # replaced by `extra` below
    base = build_rulebook(raw).licensing
    extra = {
        "policies": [
            {
                "id": "test-first",
                "policy": "policy of denial",
                "paragraph": "15 CFR 746.8(b)",
                "citation": "test",
                "source": "test",
                "confidence": "secondary",
                "effective": "2022-02-24",
                "when": {"destination": {"any_of": ["RU"]}},
            }
        ]
    }
    merged = build_rulebook({**raw, "embargoes.yaml": extra}).licensing
    # embargoes.yaml comes first, so its policies are tried before the advanced-computing ones
    assert [p.id for p in merged.policies] == ["test-first", *[p.id for p in base.policies]]
    assert merged.requirements == base.requirements
    bad = {"policies": [{**extra["policies"][0], "effective": "soon"}]}
    with pytest.raises(ChipexError, match=r"embargoes\.yaml.*policies\.0\.effective"):
        build_rulebook({**raw, "embargoes.yaml": bad})
    dup = {"policies": [{**extra["policies"][0], "id": base.policies[0].id}]}
    with pytest.raises(ChipexError, match="unique across the licensing files"):
        build_rulebook({**raw, "embargoes.yaml": dup})
