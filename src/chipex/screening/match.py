"""Stage two: the explainable scorer. Two normalised names in, a score in [0, 1] and its features out.

Features (each reported with its value and what it did to the score):
  name_tokens   IDF-weighted soft overlap of core words, both ways (F1), via rapidfuzz for misspellings
  name_string   rapidfuzz ratio of the core words run together ("BellHuawei" vs "Bel Huawei"), minus 0.05
  han           rapidfuzz ratio of the Han cores, when both names have Han
  pinyin        weak: pinyin of a Han query against a romanised list name, at most PINYIN_CAP
  generic_only  every matched word is generic ("Company", "Trading", "China"): score capped at GENERIC_CAP
  numbers       both names carry numbers and none agree ("Factory 55" vs "56"): score x NUMBER_FACTOR
  qualifier     both carry parenthesised qualifiers and none agree ("(Hong Kong)" vs "(Singapore)")
  country       the party's country against the entry's: +COUNTRY_BONUS on a match, -COUNTRY_PENALTY off
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import jellyfish
from rapidfuzz import fuzz

from chipex.screening.normalize import Name

THRESHOLD = 0.80  # default: report a hit at or above this score (see README: quality at this threshold)
PINYIN_CAP = 0.6
GENERIC_CAP = 0.5
NUMBER_FACTOR = 0.75
QUALIFIER_FACTOR = 0.85
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


@lru_cache(maxsize=65536)
def _metaphone(token: str) -> str:
    return jellyfish.metaphone(token)


def token_sim(a: str, b: str) -> float:
    """1 for the same word, rapidfuzz ratio for a misspelling (>= 0.8), PHONETIC_SIM for the same sound."""
    if a == b:
        return 1.0
    if len(a) < 4 or len(b) < 4 or not (a.isalpha() and b.isalpha()):
        return 0.0
    r = fuzz.ratio(a, b) / 100
    if r >= TOKEN_MIN_SIM:
        return r
    return PHONETIC_SIM if a[0] == b[0] and _metaphone(a) == _metaphone(b) else 0.0


def _coverage(
    a: tuple[str, ...], b: tuple[str, ...], weight: Callable[[str], float]
) -> tuple[float, list[str]]:
    """IDF-weighted share of a's distinct words found in b (best soft match each); matched pairs."""
    total = got = 0.0
    pairs = []
    for t in dict.fromkeys(a):
        w = weight(t)
        total += w
        best, other = max(((token_sim(t, u), u) for u in b), default=(0.0, ""))
        if best:
            got += w * best
            pairs.append(t if other == t else f"{t}~{other}")
    return (got / total if total else 0.0), pairs


def compare(
    q: Name,
    c: Name,
    weight: Callable[[str], float],
    generic: frozenset[str],
    country: str | None = None,
    entry_countries: tuple[str, ...] = (),
) -> tuple[float, list[Feature]]:
    """Score how well list name `c` matches the screened name `q`, with the features that made the score."""
    feats: list[Feature] = []
    score = 0.0
    matched: list[str] = []
    if q.tokens and c.tokens:
        q_cov, matched = _coverage(q.tokens, c.tokens, weight)
        c_cov, _ = _coverage(c.tokens, q.tokens, weight)
        tok = 2 * q_cov * c_cov / (q_cov + c_cov) if q_cov + c_cov else 0.0
        string = fuzz.ratio(q.joined, c.joined) / 100
        score = max(tok, string - 0.05)
        feats.append(
            Feature(
                "name_tokens",
                tok,
                "base" if tok >= string - 0.05 else "none",
                f"words of the party found {q_cov:.0%}, words of the listed name found {c_cov:.0%}"
                f" (IDF-weighted); matched: {', '.join(matched) or 'none'}",
            )
        )
        feats.append(
            Feature(
                "name_string",
                string,
                "base" if string - 0.05 > tok else "none",
                f"'{q.joined}' vs '{c.joined}'",
            )
        )
    if q.han and c.han:
        han = fuzz.ratio(q.han, c.han) / 100
        feats.append(
            Feature("han", han, "base" if han > score else "none", f"'{q.han}' vs '{c.han}' (Han as Han)")
        )
        score = max(score, han)
    elif q.han and c.tokens and not c.han:
        cov, hits = _coverage(c.tokens, q.pinyin, weight)
        py = PINYIN_CAP * cov
        feats.append(
            Feature(
                "pinyin",
                cov,
                f"base, capped {PINYIN_CAP:.2f}" if py > score else "none",
                f"pinyin {' '.join(q.pinyin[: len(q.han)])} covers {cov:.0%} of the listed words"
                f" ({', '.join(hits) or 'none'})",
            )
        )
        score = max(score, py)
    generic_only = matched and all(m.split("~")[-1] in generic for m in matched) and not (q.han and c.han)
    if generic_only and score > GENERIC_CAP:
        feats.append(
            Feature(
                "generic_only",
                1.0,
                f"cap {GENERIC_CAP:.2f}",
                f"only generic words matched ({', '.join(matched)})",
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
