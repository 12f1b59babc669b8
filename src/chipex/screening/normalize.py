"""Name normalisation, applied identically to list names and to the names being screened.

Steps (each backed by a data table in `data/`, none hand-coded in logic):
Unicode NFKC and case folding; BIS `?` artefacts; CSL boilerplate ("and any successor ..."); Traditional
-> Simplified Chinese (OpenCC tw2sp); Han kept as Han, with pinyin (pypinyin) kept apart as a weak signal; other
scripts transliterated to Latin (anyascii); legal forms removed (rigour's org-type table, `org_types.yml`;
a form of several words also with one word one edit off, "Joynt Stock Company");
abbreviations folded (`abbreviations.yml`); English number words written as digits ("Forty-Four" and
"Forty 4" are "44", "First" is "1" as "1st" is); stop words dropped. Numbers and parenthesised qualifiers
are kept: "Bank of China (Hong Kong)" and "(Singapore)" must stay different.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import pairwise

import opencc
import yaml
from anyascii import anyascii
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA, Levenshtein

# CJK Unified Ideographs (+ Extension A, compatibility ideographs, Extensions B-F)
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
# CSL boilerplate that is not part of the name (ISN and BIS wording).
_BOILERPLATE = re.compile(
    r"[;,]?\s*(?:and\s+)?(?:any\s+successors?|its\s+sub-?units?)\b.*$"
    r"|[;,]?\s*and\s+any\s+(?:successor|sub-unit|subsidiary).*$",
    re.IGNORECASE,
)
# a.k.a. / f.k.a. / d.b.a. markers that the CSL sometimes leaves inside a name
_AKA = re.compile(
    r"\b(?:a\.?\s?k\.?\s?a|f\.?\s?k\.?\s?a|d\.?\s?b\.?\s?a|formerly\s+known\s+as|also\s+known\s+as)\b\.?,?:?",
    re.IGNORECASE,
)
_INITIALS = re.compile(r"\b[a-z](?:\.[a-z])+\b\.?")
_ORDINAL = re.compile(r"\b(\d+)(?:st|nd|rd|th)\b")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
# function words dropped before matching; not the ones that are also pinyin syllables ("an", "da", "de",
# "le", "di": "Xi An", "Da Jiang") or single letters (initials)
_STOP = frozenset(
    [
        "and",
        "of",
        "the",
        "for",
        "del",
        "les",
        "des",
        "du",
        "y",
        "et",
        "und",
        "der",
        "die",
        "das",
        "in",
        "on",
        "at",
        "to",
        "dos",
        "van",
        "von",
    ]
)
# Dutch and German surname particles ("Van der Bilt", "von Braun"): joined to the name they lead
_PARTICLE_HEADS = frozenset(["van", "von"])
_PARTICLE_TAILS = frozenset(["der", "den", "de", "dem", "het", "zu"])
_UNITS = [
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
]
_UNITS += ["sixteen", "seventeen", "eighteen", "nineteen"]
_ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"]
_TENS = ["twenty", "thirty", "forty", "fourty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_NUMBER_WORDS = {w: i + 1 for i, w in enumerate(_UNITS)} | {w: i + 1 for i, w in enumerate(_ORDINALS)}
_TENS_VALUE = dict(zip(_TENS, (20, 30, 40, 40, 50, 60, 70, 80, 90), strict=True))  # "fourty": a misspelling
_DATA = resources.files("chipex.screening") / "data"
ACRONYM_MAX = 8  # a name of 2 to this many words has acronyms
_FIX_MIN_LEN = 6  # shorter words are not corrected: too many real words one edit from a table word


@dataclass(frozen=True, slots=True)
class Name:
    """One name in comparable form. `tokens` are the core words (no legal form, no stop words)."""

    raw: str
    tokens: tuple[str, ...]
    legal_form: str  # generic class of the removed legal form (LLC, JSC, ...), "" if none
    han: str  # Simplified Han core (legal form removed), "" if the name has no Han
    pinyin: tuple[str, ...]  # pinyin syllables and syllable pairs of `han`: a weak signal only
    qualifiers: tuple[str, ...]  # core tokens that were inside parentheses
    # what the whole name abbreviates to: initials of its core words ("Beijing Academy of Artificial
    # Intelligence" -> "baai"), and with the first letter of a trailing legal form ("China National
    # Nuclear Corporation" -> "cnnc", "Yangtze Memory Technologies Co., Ltd." -> "ymtc")
    acronyms: tuple[str, ...]
    numbers: frozenset[str]

    @property
    def joined(self) -> str:
        return "".join(self.tokens)

    @property
    def empty(self) -> bool:
        return not self.tokens and not self.han


def split_aliases(name: str) -> list[str]:
    """A listed name with embedded a.k.a./f.k.a. parts -> [main name, alias, ...]."""
    name = _BOILERPLATE.sub("", name).strip()
    # "Al-Qa'ida/Islamic Army": a slash between names of two words or more each separates two names
    # (not "A/S", "1/2", "Sales/Service"); each part is then split on its own
    halves = name.split("/")
    if len(halves) > 1 and all(len(re.findall(r"[^\W\d_]{2,}", h)) >= 2 for h in halves):
        return [p for h in halves for p in split_aliases(h)]
    if not _AKA.search(name):
        return [name]
    # parenthesised or bracketed "(a.k.a. X)" become aliases; the rest is split on the marker
    parts: list[str] = []

    def take(m: re.Match[str]) -> str:
        parts.extend(p for p in _AKA.split(m.group(1)) if p.strip(" ,;"))
        return " "

    main = re.sub(r"[\(\[]\s*((?:" + _AKA.pattern + r").*?)[\)\]]", take, name, flags=re.IGNORECASE)
    pieces = _AKA.split(main)
    out = [p.strip(" ,;.") for p in [*pieces, *parts]]
    return [p for p in out if p]


def bigrams(han: str) -> set[str]:
    """Character bigrams of a Han string (the string itself when it is one character)."""
    return {han[i : i + 2] for i in range(len(han) - 1)} or ({han} if han else set())


class Normaliser:
    """Loads the tables once; `name()` turns any string into a `Name`."""

    def __init__(self) -> None:
        self._t2s = opencc.OpenCC("tw2sp")  # Traditional -> Simplified, with Taiwan phrases (資訊 -> 信息)
        types = yaml.safe_load((_DATA / "org_types.yml").read_text(encoding="utf-8"))["types"]
        abbrev = yaml.safe_load((_DATA / "abbreviations.yml").read_text(encoding="utf-8"))["canonical"]
        self._canon: dict[str, str] = {}
        for key, variants in abbrev.items():
            for v in [key, *variants]:
                toks = self._latin_tokens(v)
                if len(toks) == 1:
                    self._canon[toks[0]] = key
        # legal forms: Latin token sequences (anywhere-safe or edge-only) and Han suffixes
        self._forms: dict[tuple[str, ...], str] = {}
        self._forms_anywhere: set[tuple[str, ...]] = set()
        self._han_forms: dict[str, str] = {}
        for t in types:
            generic = t.get("generic") or t.get("display") or "other"
            for alias in [t.get("display") or "", *t["aliases"]]:
                if not alias:
                    continue
                if _HAN.search(alias):
                    self._han_forms[self._t2s.convert(alias)] = generic
                    continue
                toks = tuple(self._latin_tokens(alias))
                if not toks:
                    continue
                self._forms.setdefault(toks, generic)
                # short forms ("sa", "as", "ag", "pt") are real words inside names: strip only at the edges
                if generic in ("LLC", "JSC") and (len(toks) >= 2 or len(toks[0]) >= 4):
                    self._forms_anywhere.add(toks)
        self._max_form = max(len(k) for k in self._forms)
        self.forms = frozenset(self._forms)  # legal forms as token tuples
        # multi-word forms with one word blanked: "joynt stock company" is one edit from a form
        self._forms_blank: dict[tuple[str, ...], list[str]] = {}
        for k in self._forms:
            if len(k) >= 2:
                for i, w in enumerate(k):
                    if len(w) >= 4:
                        self._forms_blank.setdefault((*k[:i], "", *k[i + 1 :]), []).append(w)
        # words of the two tables, for correcting misspelt ones ("Compaany", "Lumited", "Unitray")
        known = {t for k in self._forms for t in k} | set(self._canon)
        self._known = frozenset(known)
        self._known_near: dict[str, set[str]] = {}
        for w in known:
            if len(w) >= _FIX_MIN_LEN - 1 and w.isalpha():
                for d in {w[:i] + w[i + 1 :] for i in range(len(w))} | {w}:
                    self._known_near.setdefault(d, set()).add(w)
        self._han_form_list = sorted(self._han_forms, key=len, reverse=True)

    @staticmethod
    def _latin_tokens(text: str) -> list[str]:
        """Case-folded ASCII tokens; dotted initials ("S.A.", "L.L.C.") join into one token."""
        s = anyascii(unicodedata.normalize("NFKC", text)).casefold()
        s = re.sub(r"(?<=\w)\?(?=\w)", "", s)  # BIS "?" for a lost apostrophe or accented letter
        s = _INITIALS.sub(lambda m: m.group(0).replace(".", ""), s)
        s = s.replace("&", " and ").replace("'", "").replace("`", "")
        s = _ORDINAL.sub(r"\1", s)
        toks = [t for t in _NON_ALNUM.split(s) if t]
        # runs of single letters are initials written with spaces ("A P Finance", "S A L"): one token
        out: list[str] = []
        run = False  # out[-1] was built from single letters
        for t in toks:
            single = len(t) == 1 and t.isalpha()
            if single and out and (run or (len(out[-1]) == 1 and out[-1].isalpha())):
                out[-1] += t
                run = True
            else:
                out.append(t)
                run = False
        return out

    @staticmethod
    def _digits(toks: list[str]) -> list[str]:
        """Number words as digits: "forty four", "forty 4" -> "44"; "three", "first" -> "3", "1"."""
        out: list[str] = []
        i = 0
        while i < len(toks):
            t = toks[i]
            if t in _TENS_VALUE:
                v, nxt = _TENS_VALUE[t], toks[i + 1] if i + 1 < len(toks) else ""
                unit = _NUMBER_WORDS.get(nxt) or (int(nxt) if nxt.isdigit() and len(nxt) == 1 else 0)
                out.append(str(v + unit) if 0 < unit < 10 else str(v))
                i += 2 if 0 < unit < 10 else 1
                continue
            out.append(str(_NUMBER_WORDS[t]) if t in _NUMBER_WORDS else t)
            i += 1
        return out

    def _fix(self, t: str) -> str:
        """A misspelt table word -> the word; anything else unchanged. One edit (OSA: a letter added,
        dropped, changed, or two neighbours swapped) from a table word of _FIX_MIN_LEN letters or more;
        a shorter word only by a swap ("Gruop" is "Group"). Two edits are not a misspelling: "Nations" is
        two from "actions" (of "société par actions") and must stay "Nations"."""
        if len(t) < _FIX_MIN_LEN - 1 or t in self._known or not t.isalpha():
            return t
        cands: set[str] = set(self._known_near.get(t, ()))
        for i in range(len(t)):
            cands |= self._known_near.get(t[:i] + t[i + 1 :], set())
        ok = [
            w
            for w in cands
            if w != t
            and OSA.distance(t, w) == 1
            # one OSA edit that Levenshtein counts as two is a swap of neighbours
            and (len(t) >= _FIX_MIN_LEN or Levenshtein.distance(t, w) == 2)
        ]
        return max(ok, key=lambda w: (fuzz.ratio(t, w), w), default=t)

    def _form(self, key: tuple[str, ...]) -> str:
        """The generic class of the legal form `key` spells, exactly or with one word one edit off."""
        if form := self._forms.get(key):
            return form
        for i, w in enumerate(key):
            if len(key) >= 2 and len(w) >= 4:
                for real in self._forms_blank.get((*key[:i], "", *key[i + 1 :]), ()):
                    if OSA.distance(w, real) == 1:
                        return self._forms[(*key[:i], real, *key[i + 1 :])]
        return ""

    def _strip_forms(self, toks: list[str]) -> tuple[list[str], str, str]:
        """Core tokens, the legal form's class, and the initial of the legal form that ended the name."""
        found = ""
        tail = ""  # first letter of the form stripped last from the end ("co" of "co ltd")
        changed = True
        while changed and toks:
            changed = False
            for n in range(min(self._max_form, len(toks)), 0, -1):
                if len(toks) > n and (form := self._form(tuple(toks[-n:]))):
                    toks, found, changed, tail = toks[:-n], found or form, True, toks[-n][0]
                    break
                if len(toks) > n and (form := self._form(tuple(toks[:n]))):
                    toks, found, changed = toks[n:], found or form, True
                    break
        # long forms in the middle ("Huawei Technologies Co., Ltd. (Huawei)")
        i = 0
        while i < len(toks):
            for n in range(min(self._max_form, len(toks) - i), 0, -1):
                key = tuple(toks[i : i + n])
                if key in self._forms_anywhere and len(toks) > n:
                    found = found or self._forms[key]
                    toks = toks[:i] + toks[i + n :]
                    break
            else:
                i += 1
        return toks, found, tail

    @staticmethod
    def _particles(toks: list[str]) -> list[str]:
        """A surname particle joins the word it belongs to: "Van der Bilt" is "vanderbilt", as it is
        also written; dropped as stop words it left "bilt", which "Bilt Corp" matched word for word."""
        out: list[str] = []
        i = 0
        while i < len(toks):
            j = i + 1
            if toks[i] in _PARTICLE_HEADS and j < len(toks):
                while j < len(toks) - 1 and toks[j] in _PARTICLE_TAILS:
                    j += 1
                if toks[j].isalpha() and toks[j] not in _STOP:
                    out.append("".join(toks[i : j + 1]))
                    i = j + 1
                    continue
            out.append(toks[i])
            i += 1
        return out

    def _core(self, text: str) -> tuple[list[str], str, str]:
        toks, form, tail = self._strip_forms(self._digits([self._fix(t) for t in self._latin_tokens(text)]))
        toks = self._particles(toks)  # after the legal forms: "Rental Van Co" is not "vanco"
        core = [self._canon.get(t, t) for t in toks if t not in _STOP]
        return (core or [self._canon.get(t, t) for t in toks]), form, tail

    def _han_core(self, han: str) -> tuple[str, str]:
        form = ""
        changed = True
        while changed:
            changed = False
            for f in self._han_form_list:
                if han.endswith(f) and len(han) > len(f):
                    han, form, changed = han[: -len(f)], form or self._han_forms[f], True
                    break
        return han, form

    def name(self, raw: str) -> Name:
        text = _BOILERPLATE.sub("", unicodedata.normalize("NFKC", raw))
        han = ""
        pinyin: tuple[str, ...] = ()
        form = ""
        if _HAN.search(text):
            text = self._t2s.convert(text)
            han, form = self._han_core("".join(_HAN.findall(text)))
            from pypinyin import lazy_pinyin

            syl = lazy_pinyin(han)
            pinyin = (*syl, *(a + b for a, b in pairwise(syl)))
            text = _HAN.sub(" ", text)
        tokens, latin_form, tail = self._core(text)
        quals: list[str] = []
        for inner in re.findall(r"[\(\[（]([^\)\]）]*)[\)\]）]", text):
            quals.extend(self._core(inner)[0])
        acronyms: tuple[str, ...] = ()
        words = [t for t in tokens if t not in quals]  # "(NSCC-GZ)" is not abbreviated again
        if 2 <= len(words) <= ACRONYM_MAX and all(t.isalpha() for t in words):
            initials = "".join(t[0] for t in words)
            acronyms = (initials, initials + tail) if tail else (initials,)
        return Name(
            raw=raw,
            tokens=tuple(tokens),
            legal_form=form or latin_form,
            han=han,
            pinyin=pinyin,
            qualifiers=tuple(q for q in quals if q in tokens),
            acronyms=acronyms,
            numbers=frozenset(t for t in tokens if any(c.isdigit() for c in t)),
        )


@cache
def normaliser() -> Normaliser:
    return Normaliser()
