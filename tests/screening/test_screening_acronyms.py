"""Acronyms against spelled-out names, both ways, through the candidate index (real 2026-07-31 entries)."""

from __future__ import annotations

from chipex.screening import Screener
from chipex.screening.index import Index
from chipex.screening.normalize import normaliser
from chipex.screening.screener import CANDIDATES, PREFILTER


def names_reached(ix: Index, query: str) -> list[str]:
    q = normaliser().name(query)
    return [ix.name_rows[nid][0] for nid in ix.candidates(q, CANDIDATES, PREFILTER * 0.8)]


def test_a_query_word_that_abbreviates_listed_words_finds_the_entry(screener: Screener) -> None:
    # EL (90 FR 14046): "Beijing Academy of Artificial Intelligence"; "AI" stands for its last two words
    assert "Beijing Academy of Artificial Intelligence" in names_reached(
        screener.index, "Beijing Academy of AI"
    )
    h = screener.screen("Beijing Academy of AI")[0]
    assert h.entry_name == "Beijing Academy of Artificial Intelligence" and h.list == "EL"
    assert "ai~artificial intel" in next(f.detail for f in h.features if f.name == "name_tokens")


def test_a_query_that_is_a_listed_names_acronym_finds_it(screener: Screener) -> None:
    # EL entries listed without these acronyms: "Harbin Institute of Technology" (HIT, "of" has no
    # initial), "Chinese Academy of Engineering Physics" (CAEP)
    for acronym, listed in (
        ("HIT", "Harbin Institute of Technology"),
        ("CAEP", "Chinese Academy of Engineering Physics"),
    ):
        assert listed in names_reached(screener.index, acronym), acronym
        assert any(h.matched_name == listed and h.score >= 0.8 for h in screener.screen(acronym)), acronym


def test_an_acronym_may_end_with_the_legal_forms_initial() -> None:
    n = normaliser()
    assert "cnnc" in n.name("CHINA NATIONAL NUCLEAR CORPORATION").acronyms
    assert n.name("Yangtze Memory Technologies Co., Ltd.").acronyms == ("ymt", "ymtc")
    assert n.name("Huawei").acronyms == ()  # one word: no acronym


def test_spelled_out_query_reaches_a_listed_acronym_but_only_resembles_it(screener: Screener) -> None:
    # EL: "Center for High Pressure Science and Technology Advanced Research", a.k.a. "HPSTAR"
    query = "High Pressure Science and Technology Advanced Research"
    assert "HPSTAR" in names_reached(screener.index, query)
    m = screener.match(query, "HPSTAR")
    assert 0.6 <= m.score < 0.8  # a listed acronym vouches for the initials only (LISTED_ACRONYM_SIM)
    # the entry is still found, by its spelled-out name
    assert (
        screener.screen(query)[0].entry_name
        == "Center for High Pressure Science and Technology Advanced Research"
    )


def test_acronym_collisions_are_not_hits(screener: Screener) -> None:
    # unrelated companies whose initials are listed acronyms (SDN "SE", "SMC"; "JT TRADING LIMITED")
    assert not screener.screen("Samsung Electronics Co Ltd")
    assert not screener.screen("Super Micro Computer Inc")
    # a word matched as a word is not also part of an acronym: "Juniper Trading" is not "JT Trading"
    assert not screener.match("Juniper Trading LLC", "JT TRADING LIMITED").match
    # a legal form is no acronym: "OOO" is not "OPK Oboronprom OAO"
    assert not screener.screen("OOO")
    # but a word left over may be: "U.S." for "United States" beside "State"
    assert screener.match("U.S. Department of State", "United States Department of State").match
