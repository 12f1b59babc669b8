"""Ownership and the 50% rules, on fixtures in the style of OFAC FAQ 398/401 (tests/screening/data/
ownership-faq.csv; listed owners are real Entity List entries of the shipped list: Sugon, Huawei).

Hand calculations: direct 50% -> covered; 25% + 25% by two listed owners -> 50% -> covered; 60% x 90%:
Harrier is 60% owned by Sugon, so covered, and its 90% in Merlin counts whole (FAQ 401) -> covered,
look-through 0.6 x 0.9 = 54%; 49.9% -> not covered; FAQ 401 example 1: 50% of Buzzard, Buzzard 50% of
Gannet -> covered, look-through 25%; a cycle of unlisted entities covers nothing.
Dates (rules/affiliates.yaml): Affiliates rule from 2025-09-29, suspended 2025-11-10 to 2026-11-09.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from tests.screening.conftest import SAMPLES

from chipex.errors import ChipexError
from chipex.orders import check_book, check_order
from chipex.screening import Screener
from chipex.screening.affiliates import Graph, rules_data
from chipex.screening.ownership import edges_on, load, read_edges

FAQ = SAMPLES / "ownership-faq.csv"
BIS, OFAC = (next(r for r in rules_data().rules if r.id == i) for i in ("bis-affiliates", "ofac-50"))


@pytest.fixture
def graph(home: Path) -> Graph:
    load(FAQ, home=home)
    return Graph(Screener(home=home), edges_on(date(2025, 10, 1), home=home))


@pytest.mark.parametrize(
    ("party", "covered", "direct", "look_through", "owners"),
    [
        ("Kestrel Direct Computing Ltd", True, "50", "50", ["Sugon"]),
        ("Osprey Partners Ltd", True, "50", "50", ["Huawei Technologies Co., Ltd.", "Sugon"]),
        ("Merlin Systems Ltd", True, "90", "54", ["Sugon"]),
        ("Falcon Minority Ltd", False, None, None, None),
        ("Gannet Trading Ltd", True, "50", "25", ["Sugon"]),
        ("Kite Beta Ltd", False, None, None, None),
    ],
)
def test_faq_style_fixtures(graph: Graph, party, covered, direct, look_through, owners) -> None:
    cov = graph.coverage(party, BIS)
    assert (cov is not None) == covered
    if cov:
        assert cov.direct == Decimal(direct) and cov.look_through == Decimal(look_through)
        assert sorted(r.entry.name for r in cov.roots) == owners
        assert cov.governing.entry.list == "EL"
    assert graph.coverage(party, OFAC) is None  # the owners are on the Entity List, not the SDN list


def test_paths_print_percentages_and_sources(graph: Graph) -> None:
    cov = graph.coverage("Merlin Systems Ltd", BIS)
    assert [[(e.owner, str(e.percent)) for e in p] for p in cov.paths] == [
        [("Sugon", "60"), ("Harrier Holdings Ltd", "90")]
    ]
    text = cov.describe()
    assert (
        "'Sugon' -> 60% [fixture: indirect 60% x 90%, as of 2024-01-01] 'Harrier Holdings Ltd' -> 90%" in text
    )
    assert "90 FR 47201" in text and "EL 'Sugon' (84 FR 29373; 87 FR 62202)" in text


def test_ofac_50_for_an_sdn_owner(home: Path, tmp_path: Path) -> None:
    f = tmp_path / "sdn.csv"
    f.write_text("owner,owned,percent,as_of,source\n"
                 "LIMITED LIABILITY COMPANY CONDOR TRADING,Plover Holdings Ltd,30,2024-01-01,registry A\n"
                 "LIMITED LIABILITY COMPANY CONDOR TRADING,Plover Holdings Ltd,51,2025-01-01,registry B\n")  # fmt: skip
    load(f, home=home)
    s = Screener(home=home)
    assert (
        Graph(s, edges_on(date(2024, 6, 1), home=home)).coverage("Plover Holdings Ltd", OFAC) is None
    )  # 30%
    cov = Graph(s, edges_on(date(2025, 6, 1), home=home)).coverage(
        "Plover Holdings Ltd", OFAC
    )  # 51%: latest edge
    assert cov is not None and cov.governing.entry.list == "SDN" and cov.paths[0][0].source == "registry B"


def _order(on: str, party: str, regime: str = "as-enforced") -> dict:
    # H100 to Germany needs no licence by itself: any requirement comes from the party
    return check_order(date=on, item="H100", quantity=8, destination="DE", end_user=party, regime=regime)


@pytest.mark.parametrize(
    ("on", "regime", "required"),
    [
        ("2025-09-01", "as-enforced", False),  # before the Affiliates rule
        ("2025-10-01", "as-enforced", True),  # in force
        ("2026-01-15", "as-enforced", False),  # suspended as enforced
        ("2026-01-15", "as-printed", True),  # ... not as printed
        ("2026-11-20", "as-enforced", True),  # reimposed on 2026-11-10
    ],
)
def test_one_order_on_dates_inside_and_outside_the_rule(
    home: Path, on: str, regime: str, required: bool
) -> None:
    load(FAQ, home=home)
    d = _order(on, "Merlin Systems Ltd", regime)
    assert d["license_required"] is required
    if required:
        r = next(r for r in d["reasons"] if r["rule"] == "affiliate-of-listed-party")
        assert "look-through 54%" in r["detail"] and "EL 'Sugon'" in r["citation"]
        assert d["policy"]["rule"] == "affiliate-of-listed-party"
        assert d["policy"]["policy"] == "Presumption of denial"  # Sugon's entry
    if on == "2026-01-15" and regime == "as-enforced":
        assert "as printed, end_user 'Merlin Systems Ltd' is 90% owned" in d["parties"]
        assert "suspended 2025-11-10 to 2026-11-09" in d["parties"]
    assert d["list_snapshot"].startswith("2026-07-31-e32db4d060b6 (list of 2026-07-31)")


def test_below_the_threshold_needs_no_licence(home: Path) -> None:
    load(FAQ, home=home)
    assert _order("2025-10-01", "Falcon Minority Ltd")["license_required"] is False


def test_weak_match_with_unknown_ownership_depends_on_the_owners(home: Path) -> None:
    d = _order("2025-10-01", "Sugon Cloud Trading Ltd")  # resembles EL 'Sugon' at 0.64, no owners known
    assert d["license_required"] is False
    assert any(x.startswith("ownership not known: end_user 'Sugon Cloud Trading Ltd' resembles EL 'Sugon'")
               for x in d["depends_on"])  # fmt: skip
    # suspended as enforced, and OFAC's rule does not count Entity List owners: nothing to ask
    later = _order("2026-01-15", "Sugon Cloud Trading Ltd")
    assert not any(x.startswith("ownership not known") for x in later["depends_on"])


def test_a_book_gives_the_same_answers(home: Path, tmp_path: Path) -> None:
    load(FAQ, home=home)
    book = tmp_path / "book.csv"
    rows = [("2025-09-01", "Kestrel Direct Computing Ltd", False), ("2025-10-01", "Kestrel Direct Computing Ltd", True),
            ("2025-10-01", "Osprey Partners Ltd", True), ("2025-10-01", "Merlin Systems Ltd", True),
            ("2025-10-01", "Falcon Minority Ltd", False), ("2025-10-01", "Gannet Trading Ltd", True),
            ("2026-01-15", "Osprey Partners Ltd", False), ("2026-11-20", "Osprey Partners Ltd", True)]  # fmt: skip
    book.write_text("date,item,quantity,destination,end_user\n"
                    + "".join(f"{d},H100,8,DE,{p}\n" for d, p, _ in rows))  # fmt: skip
    out = check_book(book).results.to_pylist()
    assert [r["license_required"] for r in out] == [x for _, _, x in rows]
    assert all("affiliate-of-listed-party" in r["reasons"] for r in out if r["license_required"])
    for (d, p, _), r in zip(rows, out, strict=True):
        assert _order(d, p)["license_required"] is r["license_required"]  # one order == the book's line


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("owner,owned,percent,as_of\nA,B,50,2024-01-01\n", "missing column(s) source"),
        ("owner,owned,percent,as_of,source\nA,B,150,2024-01-01,x\n", "record 2, field 'percent'"),
        ("owner,owned,percent,as_of,source\nA,B,-5,2024-01-01,x\n", "over 0 and at most 100"),
        ("owner,owned,percent,as_of,source\nA,B,half,2024-01-01,x\n", "not a number: 'half'"),
        ("owner,owned,percent,as_of,source\nA,B,50,2024-13-01,x\n", "field 'as_of': not a date"),
        ("owner,owned,percent,as_of,source\nA,A,50,2024-01-01,x\n", "cannot own itself"),
        ("owner,owned,percent,as_of,source\nA,B,50,2024-01-01,\n", "needs a source"),
        ("owner,owned,percent,as_of,source,extra\nA,B,50,2024-01-01,x,y\n", "unknown column 'extra'"),
        ("owner,owned,percent,as_of,source\n", "holds no ownership edges"),
    ],
)
def test_bad_ownership_files_name_line_and_field(home: Path, tmp_path: Path, text: str, expect: str) -> None:
    f = tmp_path / "own.csv"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ChipexError, match=expect.replace("(", r"\(").replace(")", r"\)")):
        load(f, home=home)
    assert edges_on(date(2030, 1, 1), home=home) == []  # all or nothing


def test_ftm_ownership_entities(home: Path) -> None:
    (e,) = read_edges(SAMPLES / "opensanctions-sample.ftm.json")
    assert (e.owner, e.owned, e.percent, e.as_of) == ("Alpha Listed Holdings Ltd", "Alpha Subsidiary Technology Co",
                                                      Decimal(60), date(2024, 1, 1))  # fmt: skip
    assert e.source == "https://example.org/registry/alpha-sub"
