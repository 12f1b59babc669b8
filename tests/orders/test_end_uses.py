"""15 CFR 744.23 end uses with their item lists, and the January 2026 H200 policy (91 FR 1684)."""

from __future__ import annotations

import pytest

from chipex.orders import check_order


def rules(d):
    return [r["rule"] for r in d["reasons"]]


def order(**kw):
    base = dict(date="2026-03-01", quantity=8, destination="CN", exporter="Acme")
    return check_order(**{**base, **kw})


def test_supercomputer_end_use_reaches_a_sub_threshold_ic():
    # 744.23(a)(1)(i)(A) (88 FR 73449): "an IC ... specified in ECCN 3A001, 3A991, 4A994, ..." for a
    # supercomputer in Macau or D:5. The H20 is below 3A090 (3A991.p): free without the end use.
    assert not order(item="H20")["license_required"]
    d = order(item="H20", end_use="supercomputer")
    assert d["license_required"] and rules(d) == ["supercomputer-2023-11"]
    assert d["reasons"][0]["paragraph"] == "15 CFR 744.23(a)(1)(i)-(ii)"
    assert d["policy"]["policy"] == "presumption of denial" and d["policy"]["paragraph"] == "15 CFR 744.23(d)"
    assert d["exceptions"] == []  # 744.23(c): no licence exception overcomes (a)
    assert any("744.6" in x for x in d["depends_on"])  # US-person support: a stated limit


def test_supercomputer_item_list_leaves_out_3a090_and_non_d5():
    # 3A090 is not in the (a)(1) list: an H100 needs its licence under 742.6, not 744.23
    assert "supercomputer-2023-11" not in rules(order(item="H100", end_use="supercomputer"))
    # a supercomputer in France (not D:5, not Macau) is outside (a)(1)(ii)
    assert not order(item="H20", end_use="supercomputer", destination="FR")["license_required"]
    # before 2023-01-17 the end use reached the PRC only (87 FR 62186); Macau from 88 FR 2821
    assert not order(item="H20", end_use="supercomputer", destination="MO", date="2022-12-01")[
        "license_required"
    ]


def test_advanced_node_fab_reaches_every_item_and_sme_every_ccl_item():
    # 744.23(a)(2)(i): "any items subject to the EAR" for IC production at a Macau/D:5 advanced-node facility
    d = order(item="H20", end_use="advanced-node fab")
    assert rules(d) == ["fab-2023-11"] and d["policy"]["rule"] == "enduse-deny"
    # 744.23(a)(4): CCL items for developing front-end SME in Macau/D:5 (from 2023-11-17)
    assert rules(order(item="H20", end_use="sme production")) == ["sme-2023-11"]
    assert not order(item="H20", end_use="sme production", date="2023-06-01")["license_required"]


@pytest.mark.parametrize(
    ("ship_from", "policy", "rule"),
    [("US", "case-by-case", "h200-case-by-case-2026"), ("SG", "presumption of denial", "d5-deny-2023")],
)
def test_h200_policy_depends_on_where_it_ships_from(ship_from, policy, rule):
    # 91 FR 1684 (effective 2026-01-15): case-by-case for exports from the United States only
    d = order(item="H200", ship_from=ship_from)
    assert d["license_required"] and d["policy"]["policy"] == policy and d["policy"]["rule"] == rule
    if ship_from == "US":
        conditions = " ".join(d["policy"]["conditions"])
        assert "third-party testing" in conditions and "supply" in conditions


def test_h200_without_ship_from_says_the_policy_depends_on_it():
    d = order(item="H200")
    assert d["license_required"] and d["policy"]["rule"] == "h200-ship-from-unknown-2026"
    assert d["policy"]["policy"].startswith("depends on ship_from")
    assert any(x.startswith("ship_from:") for x in d["depends_on"])
    # the B200 (TPP about 36,000 >= 21,000) is outside the eligible range wherever it ships from
    assert order(item="B200")["policy"]["policy"] == "presumption of denial"


def test_ascend_orders_and_classifications_carry_the_gp10_warning():
    # BIS guidance of 2025-05-13 (GP10): Ascend 910B/910C/910D named; a warning, never a decision
    from chipex.core.classify import classify

    for chip in ("huawei-ascend-910b", "huawei-ascend-910c"):
        c = classify(chip, "2026-03-01")
        assert c.warning_ids == ["gp10-ascend"] and "General Prohibition 10" in c.warnings[0]
        d = order(item=chip, destination="MY")
        assert [w["id"] for w in d["warnings"]] == ["gp10-ascend"]
        assert "736.2(b)(10)" in d["warnings"][0]["citation"]
    # the guidance's general presumption: other PRC-developed 3A090 ICs (Ascend 950PR)
    assert classify("huawei-ascend-950pr", "2026-03-01").warning_ids == ["gp10-prc-3a090"]
    # not before the guidance, and not for a US-designed chip
    assert classify("huawei-ascend-910b", "2025-05-12").warning_ids == []
    assert order(item="H100", destination="MY")["warnings"] == []


# The same cases in one book (header is line 1): a compliance officer's hand-written lines.
LAW_C_BOOK = """date,item,quantity,destination,end_use,ship_from,made_in,us_content_pct,exporter_role
2026-03-01,H20,8,CN,supercomputer,US,,,
2026-03-01,H200,8,CN,,,,,
2026-03-01,H200,8,CN,,US,,,
2026-03-01,H200,8,CN,,SG,,,
2026-03-01,Ascend 910C,8,MY,,,,,
2026-03-01,H100,8,CN,,TW,TW,0,
2026-03-01,H20,8,FR,,TW,TW,20,
2027-03-01,RTX PRO 6000,8,SG,,TW,TW,,foundry
"""


def law_c_book(tmp_path):
    p = tmp_path / "law-c.csv"
    p.write_text(LAW_C_BOOK)
    return p


def test_the_cases_in_a_book(tmp_path):
    from chipex.orders import check_book

    rows = {r["line"]: r for r in check_book(law_c_book(tmp_path)).results.to_pylist()}
    assert rows[2]["license_required"] and "supercomputer-2023-11;" in rows[2]["reasons"]
    assert rows[3]["policy_rule"] == "h200-ship-from-unknown-2026" and "ship_from:" in rows[3]["depends_on"]
    assert rows[4]["policy"] == "case-by-case" and rows[5]["policy"] == "presumption of denial"
    assert rows[6]["warnings"] == "gp10-ascend"
    assert "734.9(h)" in rows[7]["jurisdiction"] and rows[7]["license_required"]
    assert rows[8]["jurisdiction"].startswith("not subject") and not rows[8]["license_required"]
    assert "Note 1 to 3A090.a" in rows[9]["advisories"]
