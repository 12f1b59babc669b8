"""Part 746 embargoes (rules/embargoes.yaml) on chips below 3A090: one order and a book on DuckDB.

The RTX 4090D is below the 3A090 lines (TPP < 4,800) but far above 3A991.p's 8 TOPS (15 CFR 774
Supp. 1, eCFR 2026-07-23), so it is on the CCL; the embargoes reach it where 3A090 rules do not.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from chipex.orders import check_book, check_order, make_engine
from chipex.rules import build_rulebook, load_raw

SUB = "RTX 4090D"


def one(destination: str, date: str = "2024-06-01", item: str = SUB, **kw) -> dict:
    return check_order(date=date, item=item, quantity=10, destination=destination, screen=False, **kw)


def rules(d: dict) -> list[str]:
    return [r["rule"] for r in d["reasons"] if r["met"]]


def test_a_sub_threshold_chip_has_its_ccl_entry_not_none():
    d = one("US")
    # 3A991.p (8 TOPS or more, 15 CFR 774 Supp. 1) in force from 2023-11-17; no licence to the US
    assert d["eccn"] == "3A991.p" and d["eccn_confidence"] == "derived"
    assert not d["license_required"]
    assert "3A991.p" in d["reasons"][0]["detail"]  # the explanation names the ECCN and its confidence
    # the 3A090 paragraph stays where one applies (H100: 3A090.a.1, 88 FR 73458 text)
    assert one("US", item="H100")["eccn"] == "3A090.a.1"


def test_eccn_prefix_rules_see_sub_threshold_entries_and_3A090_rules_do_not_fire_for_them():
    raw = copy.deepcopy(load_raw())
    probe = {
        "id": "probe-3a991",
        "paragraph": "test",
        "text": "test: 3A991 items to France",
        "citation": "test",
        "source": "test",
        "confidence": "secondary",
        "effective": "2020-01-01",
        "when": {"item": ["3A991"], "destination": {"any_of": ["FR"]}},
    }
    raw["embargoes.yaml"]["requirements"].append(probe)
    eng = make_engine(rulebook=build_rulebook(raw))
    assert rules(one("FR", engine=eng)) == ["probe-3a991"]
    assert not one("FR", item="H100", engine=eng)["license_required"]  # 3A090.a.1 is not 3A991
    # to China in 2024 the 4090D meets no 3A090 rule (its TPP is below 4,800): only part 746 could apply
    assert not one("CN", engine=eng)["license_required"]


@pytest.mark.parametrize(
    ("destination", "rule", "paragraph", "policy"),
    [
        ("RU", "ru-746.8", "15 CFR 746.8(a)(1)", "policy of denial"),  # 746.8(b)
        ("Russia", "ru-746.8", "15 CFR 746.8(a)(1)", "policy of denial"),
        ("BY", "by-746.8", "15 CFR 746.8(a)(1)", "policy of denial"),
        ("IR", "ir-746.7", "15 CFR 746.7(a)(1); 742.8 (anti-terrorism)", "policy of denial"),
        ("CU", "cu-746.2", "15 CFR 746.2(a)(1)", "general policy of denial"),  # 746.1(a)(1)
        ("KP", "kp-746.4", "15 CFR 746.4(a)", None),  # 746.4(b): case-by-case with denial categories
        ("SY", "sy-746.9", "15 CFR 746.9(a)", "general policy of denial"),  # before 90 FR 42315
        ("Crimea", "crimea-746.6", "15 CFR 746.6(a)(1)", "policy of denial"),  # 746.6(b)
        ("Donetsk", "dnr-lnr-746.6", "15 CFR 746.6(a)(2)", "policy of denial"),
        ("Luhansk", "dnr-lnr-746.6", "15 CFR 746.6(a)(2)", "policy of denial"),
    ],
)
def test_embargoed_destinations_need_a_licence_for_a_sub_threshold_chip(destination, rule, paragraph, policy):
    d = one(destination)
    assert d["license_required"] and rules(d) == [rule], rules(d)
    assert d["reasons"][0]["paragraph"] == paragraph
    assert d["exceptions"] == []  # part 746 leaves only narrow exceptions (GOV, TMP, ...), none offered
    assert d["policy"]["paragraph"].startswith(paragraph.split("(")[0])
    if policy:
        assert d["policy"]["policy"] == policy
    else:
        assert d["policy"]["policy"].startswith("case-by-case")


def test_region_codes_are_their_own_destinations():
    d = one("Crimea")
    assert d["destination"] == "UA-43"  # ISO 3166-2:UA-43 Avtonomna Respublika Krym
    assert "UA-43 (Crimea region of Ukraine)" in d["reasons"][0]["detail"]
    assert one("Sevastopol")["destination"] == "UA-43"  # part of the Crimea region
    assert one("UA-14")["destination"] == "UA-14" and one("Luhansk")["destination"] == "UA-09"
    # the rest of Ukraine has no part 746 requirement for this chip
    assert not one("Ukraine")["license_required"] and not one("UA")["license_required"]


def test_the_dates_of_the_part_746_rules():
    # Russia from 2022-02-24 (87 FR 12226), Belarus from 2022-03-02 (87 FR 13048), as 88 FR 33422 restates
    assert not one("RU", "2022-02-23")["license_required"] and one("RU", "2022-02-24")["license_required"]
    assert not one("BY", "2022-03-01")["license_required"] and one("BY", "2022-03-02")["license_required"]
    # Crimea from 2015-01-29 with a presumption of denial (80 FR 4776); DNR/LNR from 2022-02-24
    assert not one("Crimea", "2015-01-28")["license_required"]
    assert one("Crimea", "2016-01-01")["policy"]["policy"] == "presumption of denial"
    assert (
        not one("Donetsk", "2022-02-23")["license_required"]
        and one("Donetsk", "2022-02-24")["license_required"]
    )
    # Syria after 90 FR 42315 (effective 2025-09-02): a CCL item still needs a licence, case-by-case
    d = one("SY", "2026-01-01")
    assert rules(d) == ["sy-746.9"] and d["policy"]["policy"] == "case-by-case"


def test_a_us_origin_chip_reexported_from_a_partner_country_still_needs_the_russia_licence():
    # Supp. 3 to part 746 excludes partner countries from the FDP and de minimis reach over foreign-made
    # items, not from 746.8(a)(1) for a US-origin item (Akin Gump, 2022-03-08)
    assert rules(one("RU", ship_from="DE")) == ["ru-746.8"]


def test_an_embargo_policy_comes_before_the_advanced_computing_policies():
    # H100 (3A090.a.1) to Russia in 2024: 742.6(a)(6)(iii) (D:1/D:5) and 746.8(a)(1) both apply; the
    # embargo's policy of denial is the one given (embargoes.yaml is tried first)
    d = one("RU", item="H100")
    assert {"ru-746.8", "d145-2023"} <= set(rules(d))
    assert d["policy"]["rule"] == "ru-by-denial" and d["exceptions"] == []


BOOK = """date,item,quantity,destination
2024-06-01,RTX 4090D,10,RU
2024-06-01,RTX 4090D,10,Belarus
2024-06-01,RTX 4090D,10,Iran
2024-06-01,RTX 4090D,10,Cuba
2024-06-01,RTX 4090D,10,North Korea
2024-06-01,RTX 4090D,10,Syria
2024-06-01,RTX 4090D,10,Crimea
2024-06-01,RTX 4090D,10,Donetsk
2024-06-01,RTX 4090D,10,US
"""


def test_a_book_gives_the_same_answers_as_one_order(tmp_path: Path):
    path = tmp_path / "book.csv"
    path.write_text(BOOK)
    rows = check_book(path, screen=False).results.to_pylist()
    want = [
        "ru-746.8",
        "by-746.8",
        "ir-746.7",
        "cu-746.2",
        "kp-746.4",
        "sy-746.9",
        "crimea-746.6",
        "dnr-lnr-746.6",
    ]
    assert [[x for x in r["reasons"].split(";") if x] for r in rows] == [[w] for w in want] + [[]]
    assert [r["destination"] for r in rows][-3:] == ["UA-43", "UA-14", "US"]
    assert {r["eccn"] for r in rows} == {"3A991.p"} and {r["eccn_confidence"] for r in rows} == {"derived"}
    for r, dest in zip(rows, ("RU", "BY", "IR", "CU", "KP", "SY", "Crimea", "Donetsk", "US"), strict=True):
        d = one(dest)
        assert (r["license_required"], r["policy"]) == (
            d["license_required"],
            d["policy"] and d["policy"]["policy"],
        )


def test_the_scope_names_part_746_as_checked_and_its_exceptions_as_not_checked():
    # rules/scope.yaml: what an answer evaluated (part 746 for every CCL item) and what it left out
    d = one("RU")
    assert "ru-746.8" in rules(d)
    assert any("746.8(a)(1)" in c for c in d["checked"])
    assert not any(c.startswith("part 746 embargoes") for c in d["not_checked"])
    assert any("746.8 Supp. 2" in c for c in d["not_checked"])
    assert any("subject to the EAR" in c for c in d["checked"])
