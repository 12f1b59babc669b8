"""Stage two: the explainable scorer. Two normalised names in, a score in [0, 1] and its features out.

Features (each reported with its value and what it did to the score):
  name_tokens   IDF-weighted soft overlap of core words, both ways (F1): rapidfuzz for misspellings,
                metaphone for same-sounding words, compounds ("BellHuawei" vs "Bel Huawei"), acronyms
                ("PLA" for "People's Liberation Army", "US" for "United States") at ACRONYM_SIM; a listed
                acronym for the party's words ("SMC" for "Super Micro Computer") at LISTED_ACRONYM_SIM
  han           IDF-weighted overlap of Han character bigrams, both ways (F1), when both names have Han
  pinyin        weak: pinyin of a Han query against a romanised list name, at most PINYIN_CAP
  contained     every word of one name is in the other, they are the larger part of it (IDF-weighted) and
                one is distinctive (on at most DISTINCTIVE_NAMES listed names): score at least
                CONTAINED_SCORE ("Shenzhen Intellifusion Technologies Co Ltd" finds "Intellifusion", and
                "Faberlic" finds "Faberlic Europe")
  generic_only  the party's words are all generic ("Company", "Trading", "China"), and it is not a
                listed name word for word: score capped at GENERIC_CAP
  numbers       both names carry numbers and none agree ("Factory 55" vs "56"): score x NUMBER_FACTOR
  series        one name carries a number or Roman numeral and the other none ("Bowne Global Solutions II"
                vs "Bowne Global Solutions", a sibling or the parent): score x SERIES_FACTOR
  territory     the listed name names a country the party's does not ("Banco Santander Mexico" listed,
                "Banco Santander" screened: a national subsidiary is its own legal entity): x TERRITORY_FACTOR.
                Not the other way: "Intellifusion Japan" may be owned by the listed "Intellifusion"; there
                the party's country words weigh only TERRITORY_WEIGHT in name_tokens
  legal_form    both carry legal forms of different classes ("AG" a JSC, "GmbH" an LLC): x LEGAL_FORM_FACTOR
  qualifier     both carry parenthesised qualifiers and none agree ("(Hong Kong)" vs "(Singapore)")
  country       the party's country against the entry's: +COUNTRY_BONUS on a match, -COUNTRY_PENALTY off
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import Protocol

import jellyfish
import pycountry
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from chipex.screening.normalize import Name, bigrams, normaliser

THRESHOLD = 0.80  # default: report a hit at or above this score (see README: quality at this threshold)
PINYIN_CAP = 0.6
GENERIC_CAP = 0.5
NUMBER_FACTOR = 0.75
SERIES_FACTOR = 0.85
TERRITORY_FACTOR = 0.9
TERRITORY_WEIGHT = 0.25  # a country word only the party's name has weighs this much of its IDF
ACRONYM_SIM = 0.9
LISTED_ACRONYM_SIM = 0.7  # a listed acronym ("SMC") for the party's words: a resemblance, not a match
ACRONYM_RUN = 6  # an acronym of 2 to this many letters may stand for as many consecutive words
QUALIFIER_FACTOR = 0.85
LEGAL_FORM_FACTOR = 0.75
CONTAINED_SCORE = 0.85
DISTINCTIVE_NAMES = 10  # a word on at most this many listed names is distinctive ("intellifusion")
COUNTRY_BONUS = 0.05
COUNTRY_PENALTY = 0.10
TOKEN_MIN_SIM = 0.8
PHONETIC_SIM = 0.7  # same metaphone key, too different to spell alike ("Mohammed" / "Muhammad")


@dataclass(frozen=True, slots=True)
class Feature:
    name: str
    value: float  # the feature's own measure in [0, 1]
    effect: str  # what it did: "base", "x0.75", "+0.05", "cap 0.50", "none"
    detail: str

    def to_dict(self) -> dict:
        return {
            "feature": self.name,
            "value": round(self.value, 4),
            "effect": self.effect,
            "detail": self.detail,
        }


# Roman numerals to 39 ("ii", "xiv"); not "xi", a pinyin syllable ("Xi An"); "i", "v", "x" only after
# the first word (otherwise initials)
_ROMAN = re.compile(r"x{0,3}(?:ix|iv|v?i{0,3})")


def series(tokens: tuple[str, ...]) -> set[str]:
    """The name's numbers and Roman numerals: what tells one of a series of entities from another."""
    return {
        t
        for k, t in enumerate(tokens)
        if any(c.isdigit() for c in t) or (t and t != "xi" and _ROMAN.fullmatch(t) and (len(t) > 1 or k > 0))
    }


@lru_cache(maxsize=1 << 16)
def initial_runs(tokens: tuple[str, ...]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(initials, words) of every run of 2 to ACRONYM_RUN consecutive alphabetic words: the acronyms a
    name may be written as in part ("ai": "artificial intel" in "Beijing Academy of AI")."""
    out = []
    for n in range(2, ACRONYM_RUN + 1):
        for i in range(len(tokens) - n + 1):
            run = tokens[i : i + n]
            if all(w.isalpha() for w in run):
                out.append(("".join(w[0] for w in run), run))
    return tuple(out)


@lru_cache(maxsize=1 << 16)
def _runs(tokens: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    return {key: run for key, run in reversed(initial_runs(tokens))}  # the shortest, leftmost run wins


def _initials(
    a: tuple[str, ...],
    b: tuple[str, ...],
    a_acr: tuple[str, ...] = (),
    b_acr: tuple[str, ...] = (),
    a_listed: bool = False,
) -> dict[str, tuple[float, str]]:
    """Words of `a` that are the initials of a run of words of `b` ("pla": "peoples liberation army") or
    an acronym of the whole of `b` (`b_acr`, "smic": "semicon mfg intl corp"), and runs of words of `a`
    (or all of `a`, `a_acr`) whose initials are a word of `b`: each with the words it stands for.
    A run never holds a word the other name has as a word ("JT Trading" is not "Juniper Trading"), a legal
    form is no acronym ("OOO"), and an acronym the listed name gives counts LISTED_ACRONYM_SIM."""
    runs_a, runs_b = _runs(a), _runs(b)
    sa, sb = set(a), set(b)
    fwd = [t for t in sa if t in runs_b or t in b_acr]
    back = [k for k in sb if k in runs_a or k in a_acr]
    if not fwd and not back:
        return {}
    out: dict[str, tuple[float, str]] = {}
    ca, cb = Counter(a), Counter(b)
    forms = normaliser().forms

    def spare(run: tuple[str, ...], mine: Counter[str], other: Counter[str]) -> bool:
        """No word of the run is one the other name has (as often): it is not also matched as a word."""
        return all(mine[w] > other[w] for w in run)

    # the party's acronym for listed words: the list vouches for the words; a listed acronym for the
    # party's words vouches for their initials only
    own, listed = (LISTED_ACRONYM_SIM, ACRONYM_SIM) if a_listed else (ACRONYM_SIM, LISTED_ACRONYM_SIM)
    for t in fwd:
        if (t,) in forms:
            continue
        if (run := runs_b.get(t)) is not None and spare(run, cb, ca):
            out[t] = (own, " ".join(run))
        elif t in b_acr and spare(b, cb, ca):
            out[t] = (own, " ".join(b))
    for key in back:
        if (key,) in forms:
            continue
        if (run := runs_a.get(key)) is not None and spare(run, ca, cb):
            out.update({w: (listed, key) for w in run})
        elif key in a_acr and spare(a, ca, cb):
            out.update({w: (listed, key) for w in a})
    return out


@lru_cache(maxsize=1)
def _countries() -> dict[tuple[str, ...], str]:
    """Country names (pycountry's short and common names, and UK, US, USA) as normalised words -> code."""
    out: dict[tuple[str, ...], str] = {}
    for c in pycountry.countries:
        for n in (c.name, getattr(c, "common_name", "")):
            if n and "," not in n and (toks := normaliser().name(n).tokens):
                out[toks] = c.alpha_2
    return out | {("uk",): "GB", ("us",): "US", ("usa",): "US"}


@lru_cache(maxsize=1 << 16)
def territories(tokens: tuple[str, ...]) -> dict[str, frozenset[str]]:
    """The countries a name names (ISO code -> its words): "Banco Santander Mexico" -> {MX: mexico}."""
    names = _countries()
    return {
        code: frozenset(tokens[i : i + n])
        for n in range(1, 5)
        for i in range(len(tokens) - n + 1)
        if (code := names.get(tokens[i : i + n]))
    }


@lru_cache(maxsize=65536)
def _metaphone(token: str) -> str:
    return jellyfish.metaphone(token)


@lru_cache(maxsize=1 << 18)  # word pairs repeat across candidates and queries
def token_sim(a: str, b: str) -> float:
    """1 for the same word, rapidfuzz ratio for a misspelling (>= 0.8, or one edit away: "cvc"/"cvs" 0.67),
    PHONETIC_SIM for the same sound."""
    if a == b:
        return 1.0
    if len(a) < 3 or len(b) < 3 or not (a.isalpha() and b.isalpha()):
        return 0.0
    r = fuzz.ratio(a, b) / 100
    if r >= TOKEN_MIN_SIM or OSA.distance(a, b) == 1:  # one edit away: partial credit even when short
        return r
    if len(a) < 4 or len(b) < 4:
        return 0.0
    return PHONETIC_SIM if a[0] == b[0] and _metaphone(a) == _metaphone(b) else 0.0


def _coverage(
    a: tuple[str, ...],
    b: tuple[str, ...],
    weight: Callable[[str], float],
    a_acr: tuple[str, ...] = (),
    b_acr: tuple[str, ...] = (),
    a_listed: bool = False,
) -> tuple[float, list[str]]:
    """IDF-weighted share of a's distinct words found in b (best soft match each), and the matches.
    Compounds count: "bel huawei" finds "bellhuawei", and "hikvision" finds "hik vision"."""
    words, a = a, tuple(dict.fromkeys(a))
    sims: dict[str, tuple[float, str]] = {}
    for t in a:
        if t in b:
            sims[t] = (1.0, t)
            continue
        best = (0.0, "")
        for u in b:
            if (sim := token_sim(t, u)) > best[0]:
                best = (sim, u)
        sims[t] = best
    weak = [t for t in a if sims[t][0] < 1.0]
    if not weak:
        return 1.0, list(a)
    for t, (sim, u) in _initials(words, b, a_acr, b_acr, a_listed).items():
        if sim > sims[t][0]:
            sims[t] = (sim, u)
    for x, y in pairwise(b):  # one word of a written as two in b
        xy = x + y
        for t in weak:
            if len(t) >= len(xy) - 1 and (sim := token_sim(t, xy)) >= 0.9:
                sims[t] = max(sims[t], (sim, f"{x} {y}"))
    for x, y in pairwise(a):  # two words of a written as one in b
        if sims[x][0] == 1.0 and sims[y][0] == 1.0:
            continue
        xy = x + y
        for u in b:
            if len(u) >= len(xy) - 1 and (sim := token_sim(xy, u)) >= 0.9:
                for t in (x, y):
                    sims[t] = max(sims[t], (sim, u))
    total = sum(weight(t) for t in a)
    got = sum(weight(t) * sims[t][0] for t in a)
    pairs = [t if u == t else f"{t}~{u}" for t, (sim, u) in sims.items() if sim]
    return (got / total if total else 0.0), pairs


def _han_coverage(a: str, b: str, weight: Callable[[str], float]) -> float:
    """IDF-weighted share of a's character bigrams found in b: Han matched as Han."""
    ga, gb = bigrams(a), bigrams(b)
    total = sum(weight(g) for g in ga)
    return sum(weight(g) for g in ga & gb) / total if total else 0.0


class Vocabulary(Protocol):
    """What the scorer needs from an index: word and bigram weights, and the generic words."""

    generic: frozenset[str]

    def weight(self, token: str) -> float: ...

    def han_weight(self, gram: str) -> float: ...

    def names_with(self, token: str) -> int: ...


def compare(
    q: Name,
    c: Name,
    vocab: Vocabulary,
    country: str | None = None,
    entry_countries: tuple[str, ...] = (),
) -> tuple[float, list[Feature]]:
    """Score how well list name `c` matches the screened name `q`, with the features that made the score."""
    feats: list[Feature] = []
    score = 0.0
    matched: list[str] = []
    complete = False
    q_cov = c_cov = 0.0
    qt, ct = territories(q.tokens), territories(c.tokens)
    # a country only the party names is a qualifier of it, not a word of the name ("PLA China")
    extra = frozenset().union(*(w for k, w in qt.items() if k not in ct)) - set(c.tokens)
    if q.tokens and c.tokens:
        q_weight = (
            vocab.weight if not extra else lambda t: vocab.weight(t) * (TERRITORY_WEIGHT if t in extra else 1)
        )
        q_cov, matched = _coverage(q.tokens, c.tokens, q_weight, q.acronyms, c.acronyms)
        c_cov, _ = _coverage(c.tokens, q.tokens, vocab.weight, c.acronyms, q.acronyms, a_listed=True)
        score = 2 * q_cov * c_cov / (q_cov + c_cov) if q_cov + c_cov else 0.0
        complete = q_cov == c_cov == 1.0 and len(set(c.tokens)) >= 3
        feats.append(
            Feature(
                "name_tokens",
                score,
                "base",
                f"words of the party found {q_cov:.0%}, words of the listed name found {c_cov:.0%}"
                f" (IDF-weighted); matched: {', '.join(matched) or 'none'}"
                + (
                    f"; the party's country words {', '.join(sorted(extra))} weigh x{TERRITORY_WEIGHT}"
                    if extra
                    else ""
                ),
            )
        )
    if q.han and c.han:
        qc, cc = _han_coverage(q.han, c.han, vocab.han_weight), _han_coverage(c.han, q.han, vocab.han_weight)
        han = 2 * qc * cc / (qc + cc) if qc + cc else 0.0
        feats.append(
            Feature(
                "han",
                han,
                "base" if han > score else "none",
                f"'{q.han}' vs '{c.han}': bigrams of the party found {qc:.0%}, of the listed name {cc:.0%}",
            )
        )
        score = max(score, han)
    # one name's words all in the other's, the larger part of it, one of them distinctive
    countries = set().union(*qt.values(), *ct.values())  # "Sweden" does not tell one company from another
    inner = c if c_cov == 1.0 and q_cov >= 0.5 else q if q_cov == 1.0 and c_cov >= 0.5 else None
    if matched and inner is not None and score < CONTAINED_SCORE:
        rare = [
            t
            for t in dict.fromkeys(inner.tokens)
            if vocab.names_with(t) <= DISTINCTIVE_NAMES and t not in vocab.generic and t not in countries
        ]
        if rare:
            score = CONTAINED_SCORE
            which = ("listed name", "party's name") if inner is c else ("party's name", "listed name")
            feats.append(
                Feature(
                    "contained",
                    1.0,
                    f"floor {CONTAINED_SCORE:.2f}",
                    f"every word of the {which[0]} is in the {which[1]}, distinctive: {', '.join(rare)}"
                    f" (on at most {DISTINCTIVE_NAMES} listed names)",
                )
            )
    # a party named only with generic words ("Trading Co Ltd", "Corp") never scores high, unless it is
    # the listed name word for word ("China Electronics Technology Group Corporation")
    generic_only = q.tokens and all(t in vocab.generic for t in q.tokens) and not complete and not q.han
    if generic_only and score > GENERIC_CAP:
        feats.append(
            Feature(
                "generic_only",
                1.0,
                f"cap {GENERIC_CAP:.2f}",
                f"the party's words are all generic ({', '.join(dict.fromkeys(q.tokens))})",
            )
        )
        score = GENERIC_CAP
    if q.numbers and c.numbers and not (q.numbers & c.numbers):
        score *= NUMBER_FACTOR
        feats.append(
            Feature(
                "numbers",
                0.0,
                f"x{NUMBER_FACTOR}",
                f"numbers differ: {' '.join(sorted(q.numbers))} vs {' '.join(sorted(c.numbers))}",
            )
        )
    qs, cs = series(q.tokens), series(c.tokens)
    if bool(qs) != bool(cs):
        score *= SERIES_FACTOR
        feats.append(
            Feature(
                "series",
                0.0,
                f"x{SERIES_FACTOR}",
                f"only one name carries a number: {' '.join(sorted(qs | cs))}",
            )
        )
    if not ct.keys() <= qt.keys():
        score *= TERRITORY_FACTOR
        feats.append(
            Feature(
                "territory",
                0.0,
                f"x{TERRITORY_FACTOR}",
                f"the listed name names {' '.join(sorted(ct.keys() - qt.keys()))}, the party's name does not",
            )
        )
    if q.legal_form and c.legal_form and q.legal_form != c.legal_form:
        score *= LEGAL_FORM_FACTOR
        feats.append(
            Feature(
                "legal_form",
                0.0,
                f"x{LEGAL_FORM_FACTOR}",
                f"legal forms differ: {q.legal_form} vs {c.legal_form}",
            )
        )
    if q.qualifiers and c.qualifiers and not (set(q.qualifiers) & set(c.qualifiers)):
        score *= QUALIFIER_FACTOR
        feats.append(
            Feature(
                "qualifier",
                0.0,
                f"x{QUALIFIER_FACTOR}",
                f"({' '.join(q.qualifiers)}) vs ({' '.join(c.qualifiers)})",
            )
        )
    if country and entry_countries:
        if country in entry_countries:
            score = min(1.0, score + COUNTRY_BONUS)
            feats.append(Feature("country", 1.0, f"+{COUNTRY_BONUS:.2f}", f"{country} is an entry country"))
        else:
            score = max(0.0, score - COUNTRY_PENALTY)
            feats.append(
                Feature(
                    "country",
                    0.0,
                    f"-{COUNTRY_PENALTY:.2f}",
                    f"{country} not among the entry's countries ({', '.join(entry_countries)})",
                )
            )
    return score, feats
