"""The cap rule data against the fact sheet (../shared/reference/us-ai-chip-rules.md 5.3-5.7, 6)."""

from __future__ import annotations

import copy
import datetime as dt
from fractions import Fraction

import pytest

from chipex.errors import ChipexError
from chipex.ledger.caps import build_caps, caps_from_raw, default_caps
from chipex.rules import RULES_DIR, default_rulebook, load_raw
from chipex.rules.reform import Reform, apply_reform

D = dt.date


@pytest.fixture(scope="module")
def caps():
    return default_caps()


def limits(caps, cap_id):
    return {lim.id: lim for lim in caps.get(cap_id).limits}


def test_figures_and_confidence_as_the_fact_sheet_marks_them(caps):
    tier2 = limits(caps, "ai-diffusion-tier2-country")
    # 5.3.2: ~790,000,000 TPP (derived); 5.3.3: doubled, ~1.58e9 TPP (derived) under a g2g agreement
    assert (tier2["standard"].value, tier2["standard"].unit, tier2["standard"].confidence) == (
        790_000_000,
        "tpp",
        "derived",
    )
    assert (tier2["g2g-doubled"].value, tier2["g2g-doubled"].when) == (1_580_000_000, "g2g-agreement")
    assert tier2["g2g-doubled"].confidence == "derived"
    lpp = caps.get("lpp-consignee")  # 5.3.5: 26,900,000 TPP per ultimate consignee per calendar year
    assert (lpp.per, lpp.period.kind, lpp.limits[0].value, lpp.limits[0].confidence) == (
        "consignee",
        "calendar-year",
        26_900_000,
        "secondary",
    )
    nveu = limits(caps, "nveu-installed-base")  # 5.5.3: ~100k / 270k / 320k H100e, secondary
    assert [(lim.start, lim.value, lim.unit, lim.confidence) for lim in nveu.values()] == [
        (D(2025, 1, 13), 100_000, "h100e", "secondary"),
        (D(2026, 1, 1), 270_000, "h100e", "secondary"),
        (D(2027, 1, 1), 320_000, "h100e", "secondary"),
    ]
    aia = caps.get("aia-reporting")  # 5.4.5: 253,000,000 TPP, read in the 740.27 text
    assert (aia.limits[0].value, aia.limits[0].confidence, aia.on_exceed) == (
        253_000_000,
        "verified",
        "report",
    )
    # Dates: the AI Diffusion IFR, effective 2025-01-13, compliance 2025-05-15 (5.1.2, 5.1.3)
    for cap in caps.caps:
        version = default_rulebook().version(cap.rule_version)
        assert (version.effective, version.compliance) == (D(2025, 1, 13), D(2025, 5, 15))
        assert cap.period.start == D(2025, 1, 13)  # 5.3.7: shipments after 2025-01-13 count


def test_h100_equivalents_match_the_fact_sheet_checks(caps):
    # 5.7.3: 790,000,000 / 15,832 = 49,899; 26,900,000 / 15,832 = 1,699.1; 253,000,000 / 15,832 = 15,980
    assert round(float(caps.h100e(Fraction(790_000_000)))) == 49_899
    assert round(float(caps.h100e(Fraction(26_900_000))), 1) == 1_699.1
    assert round(float(caps.h100e(Fraction(253_000_000)))) == 15_980
    # 5.5.4: NVEU steps in TPP at 15,832 per H100: 100,000 x 15,832 = 1,583,200,000 (~1.58e9) etc.
    nveu = caps.get("nveu-installed-base")
    got = [
        caps.limit_tpp(caps.limit_on(nveu, on, None)) for on in (D(2025, 6, 1), D(2026, 6, 1), D(2027, 6, 1))
    ]
    assert got == [1_583_200_000, 4_274_640_000, 5_066_240_000]


def test_the_nveu_schedule_stops_after_2027(caps):
    nveu = caps.get("nveu-installed-base")
    assert caps.limit_on(nveu, D(2025, 12, 31), None).id == "end-2025"
    assert caps.limit_on(nveu, D(2026, 1, 1), None).id == "end-2026"
    assert nveu.period.key(D(2028, 1, 1)) is None
    assert "2028-01-01" in caps.destination_out_of_scope(nveu, "IN", D(2028, 1, 1))


def test_regimes_as_printed_binds_as_enforced_never_for_ai_diffusion(caps):
    cap = caps.get("ai-diffusion-tier2-country")
    assert caps.binds(cap, D(2025, 3, 1), "as-printed")[0]
    before, why_before = caps.binds(cap, D(2025, 3, 1), "as-enforced")
    assert not before and "compliance was not required before 2025-05-15" in why_before
    after, why_after = caps.binds(cap, D(2026, 1, 1), "as-enforced")
    assert not after and "2025-05-13" in why_after
    with pytest.raises(ChipexError, match="unknown regime"):
        caps.binds(cap, D(2026, 1, 1), "as-hoped")


@pytest.mark.parametrize(
    ("country", "on", "counted", "why"),
    [
        ("IN", D(2025, 3, 1), True, None),
        ("AE", D(2025, 3, 1), True, None),
        ("FR", D(2025, 3, 1), False, "FR is Tier 1"),
        ("CN", D(2025, 3, 1), False, "CN is Tier 3"),
        ("HK", D(2025, 3, 1), False, "CN is Tier 3"),  # Hong Kong counts as China
        ("MO", D(2025, 3, 1), False, "MO is Tier 3"),
        ("IN", D(2025, 1, 12), False, "not 2025-01-12"),  # before the rule
        ("IN", D(2028, 1, 1), False, "not 2028-01-01"),  # after 2025-2027
    ],
)
def test_tier2_allocation_scope(caps, country, on, counted, why):
    cap = caps.get("ai-diffusion-tier2-country")
    reason = caps.out_of_scope(cap, eccn="3A090.a.1", destination=country, authorization="licence", on=on)
    assert (reason is None) == counted
    if why:
        assert why in reason


def test_only_licensed_3a090a_and_4a090a_shipments_count(caps):
    cap = caps.get("ai-diffusion-tier2-country")
    on = D(2025, 3, 1)
    assert caps.out_of_scope(cap, eccn="4A090.a", destination="IN", authorization="licence", on=on) is None
    assert "not 3A090.b" in caps.out_of_scope(
        cap, eccn="3A090.b", destination="IN", authorization="licence", on=on
    )
    # 5.3.5: LPP shipments do not count against the country allocation
    assert "not LPP" in caps.out_of_scope(cap, eccn="3A090.a.1", destination="IN", authorization="LPP", on=on)


def test_a_g2g_agreement_doubles_the_allocation_through_a_reform():
    reform = Reform.model_validate(
        {
            "name": "India signs a government-to-government agreement",
            "description": "what-if",
            "changes": [
                {
                    "file": "caps.yaml",
                    "path": ["agreements", "g2g-agreement"],
                    "set": {"countries": {"IN": D(2025, 2, 1)}},
                }
            ],
        }
    )
    caps = caps_from_raw(apply_reform(load_raw(), reform, source="test"))
    cap = caps.get("ai-diffusion-tier2-country")
    assert caps.limit_tpp(caps.limit_on(cap, D(2025, 1, 31), "IN")) == 790_000_000
    assert caps.limit_tpp(caps.limit_on(cap, D(2025, 2, 1), "IN")) == 1_580_000_000
    assert caps.limit_tpp(caps.limit_on(cap, D(2025, 2, 1), "AE")) == 790_000_000


@pytest.mark.parametrize(
    ("edit", "message", "field"),
    [
        (
            lambda d: d["caps"][0]["scope"].update(authorizations=["licence", "STA"]),
            "unknown authorization 'STA'",
            "scope.authorizations",
        ),
        (lambda d: d["caps"][0].update(rule_version="2031-01-01"), "unknown rule version", "rule_version"),
        (
            lambda d: d["caps"][0]["limits"][1].update(when="treaty"),
            "unknown agreement 'treaty'",
            "limits.when",
        ),
        (lambda d: d["caps"][1].update(id=d["caps"][0]["id"]), "duplicate", "id"),
        (lambda d: d["caps"][0]["limits"][0].update(value=-5), "greater than 0", "caps.0.limits.0.value"),
        (lambda d: d["caps"][0]["period"].pop("label"), "fixed period needs", "caps.0.period"),
        (lambda d: d["regimes"].pop("as-enforced"), "regimes must be exactly", "regimes"),
    ],
)
def test_bad_cap_data_is_named_by_file_record_and_field(edit, message, field):
    from chipex.datafiles import read_yaml

    data = copy.deepcopy(read_yaml(RULES_DIR / "caps.yaml"))
    edit(data)
    with pytest.raises(ChipexError) as err:
        build_caps(data, default_rulebook())
    assert message in err.value.message
    assert err.value.file == "caps.yaml"
    assert err.value.field == field
