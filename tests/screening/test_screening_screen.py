"""Screening behaviour against the shipped 2026-07-31 list, checked against the list's own entries."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chipex.errors import ChipexError
from chipex.screening import THRESHOLD, Screener
from chipex.screening.lists import default_snapshot

SNAPSHOT = "2026-07-31-e32db4d060b6"


@pytest.mark.parametrize("query", ["HUAWEI TECH CO LTD", "华为技术有限公司", "華為技術有限公司"])
def test_huawei_in_any_spelling_finds_the_entity_list_entry(screener: Screener, query: str) -> None:
    hits = screener.screen(query)
    el = [h for h in hits if h.list == "EL" and h.entry_name == "Huawei Technologies Co., Ltd. (Huawei)"]
    assert el, [h.entry_name for h in hits]
    h = el[0]
    # the entry's own text in the 2026-07-31 CSL (Supplement No. 4 to part 744)
    assert (
        h.license_requirement == "For all items subject to the EAR, see §§ 734.9(e)1 and 744.11 of the EAR2"
    )
    assert h.license_policy == "Presumption of denial"
    assert h.license_basis == "entry"
    assert h.citation.startswith("84 FR 22963")
    assert h.snapshot_id == SNAPSHOT
    assert h.score >= THRESHOLD
    assert h.features  # explained


def test_sugon_finds_entity_list_and_cmic(screener: Screener) -> None:
    hits = screener.screen("Sugon", country="CN")
    by_list = {h.list: h for h in hits}
    assert by_list["EL"].entry_name == "Sugon"
    assert by_list["EL"].citation == "84 FR 29373; 87 FR 62202"
    assert by_list["CMIC"].entry_name == "Dawning Information Industry Co., Ltd"  # via its alias "Sugon"
    assert by_list["CMIC"].matched_alias
    assert by_list["CMIC"].license_basis == "list-level"  # CMIC entries carry no licence text of their own
    assert any(f.name == "country" and f.effect == "+0.05" for f in by_list["EL"].features)


def test_han_query_uses_han_names_and_says_so(screener: Screener) -> None:
    h = screener.screen("中科曙光")[0]
    assert h.entry_name in ("Sugon", "Dawning Information Industry Co., Ltd")
    assert h.matched_name == "中科曙光"
    assert [f.name for f in h.features if f.effect == "base"] == ["han"]
    assert any(f.name == "han_source" and "from-memory" in f.detail for f in h.features)


@pytest.mark.parametrize(
    "name", ["Company Limited", "Corp", "Trading Co Ltd", "International Trading Corporation"]
)
def test_names_of_generic_words_only_never_score_high(screener: Screener, name: str) -> None:
    # watchman #483 ("CORP"), yente #865 ("Company Limited")
    assert screener.screen(name) == []


def test_listed_name_of_generic_words_is_still_found(screener: Screener) -> None:
    hits = screener.screen("China Electronics Technology Group Corporation")
    assert "China Electronics Technology Group Corporation" in {h.entry_name for h in hits}


def test_parenthesised_qualifier_counts(screener: Screener) -> None:
    same = screener.match("Bank of China (Hong Kong)", "Bank of China (Hong Kong) Limited")
    other = screener.match("Bank of China (Singapore)", "Bank of China (Hong Kong) Limited")
    assert same.match and same.score == 1.0
    assert not other.match
    assert any(f.name == "qualifier" for f in other.features)


def test_numbers_count(screener: Screener) -> None:
    r = screener.match("Plant No. 55 Machine Works", "Plant No. 56 Machine Works")
    assert not r.match
    assert any(f.name == "numbers" for f in r.features)


def test_country_lowers_a_foreign_subsidiary(home: Path) -> None:
    everything = Screener(home=home, threshold=0.0)
    japan = "Huawei Technologies Japan K.K."
    with_jp = {h.entry_name: h.score for h in everything.screen("Huawei Technologies Japan", "JP")}
    with_cn = {h.entry_name: h.score for h in everything.screen("Huawei Technologies Japan", "CN")}
    # the name matches word for word (1.0); JP is the entry's country: min(1, 1.0 + 0.05); CN is not: 1.0 - 0.10
    assert with_jp[japan] == 1.0
    assert with_cn[japan] == pytest.approx(0.90)


def test_unknown_country_is_a_user_error(screener: Screener) -> None:
    with pytest.raises(ChipexError, match="unknown country 'Atlantis'"):
        screener.screen("Sugon", "Atlantis")


def test_reviewer_decisions_are_stored_and_honoured(home: Path) -> None:
    s = Screener(home=home)
    hits = s.screen("Huawei Technology")
    egypt = next(h for h in hits if h.entry_name == "Huawei Technology")  # the EL entry in Egypt
    s.decide(
        "Huawei Technology", egypt.entry_id, "false_positive", reviewer="ana", note="our customer is in CN"
    )
    later = Screener(home=home)  # a later run, new process state: the decision comes from SQLite
    assert egypt.entry_id not in {h.entry_id for h in later.screen("HUAWEI TECHNOLOGY")}
    shown = [
        h for h in later.screen("Huawei Technology", include_suppressed=True) if h.entry_id == egypt.entry_id
    ]
    assert shown[0].decision == "false_positive"
    # a confirmed link is reported even when the name alone would not reach the threshold
    weak = "Huawei Tech Investment"
    target = next(e for e in default_snapshot().entries if e.name == "Huawei Technologies Co., Ltd. (Huawei)")
    assert target.id not in {h.entry_id for h in later.screen(weak)}
    later.decide(weak, target.id[:12], "confirmed", reviewer="ana")
    confirmed = [h for h in Screener(home=home).screen(weak) if h.entry_id == target.id]
    assert confirmed[0].decision == "confirmed"
    assert (home / "screening" / "screening.db").is_file()


def test_bad_decision_is_refused(screener: Screener) -> None:
    with pytest.raises(ChipexError, match="no entry 'nope'"):
        screener.decide("Sugon", "nope", "confirmed", reviewer="x")
    entry = screener.screen("Sugon")[0].entry_id
    with pytest.raises(ChipexError, match="decision must be one of"):
        screener.decide("Sugon", entry, "maybe", reviewer="x")


def test_batch_screens_each_distinct_party_once(home: Path) -> None:
    calls: list[str] = []

    class Counting(Screener):
        def screen(self, name, country=None, **kw):  # type: ignore[no-untyped-def]
            calls.append(name)
            return super().screen(name, country, **kw)

    s = Counting(home=home)
    parties = [
        ("Sugon", "CN"),
        ("SUGON", "CN"),
        ("Sugon", "China"),
        ("Sugon", None),
        ("ACME Widgets GmbH", "DE"),
    ]
    out = s.screen_many(parties)
    assert calls == ["Sugon", "Sugon", "ACME Widgets GmbH"]  # (name, CN) once, (name, none) once
    assert [len(h) > 0 for h in out] == [True, True, True, True, False]
    assert out[0] is out[1] is out[2]


listed = [e for e in default_snapshot().entries if e.list in ("EL", "MEU") and len(e.name) > 8]


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.sampled_from(listed))
def test_any_listed_name_in_capitals_without_punctuation_finds_its_entry(screener: Screener, entry) -> None:  # type: ignore[no-untyped-def]
    query = re.sub(r"[^\w\s]", " ", entry.name).upper()
    assert entry.id in {h.entry_id for h in screener.screen(query)}
