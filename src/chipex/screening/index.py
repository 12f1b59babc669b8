"""Stage one: a cheap candidate index over every listed name and alias.

Four keys find candidates: exact core tokens (weighted by inverse document frequency, so "Huawei"
counts and "Company" barely does), near tokens (single-character deletions, SymSpell-style, and
metaphone keys, for typos and transliteration variants), acronyms both ways (a query word that is the
initials of a run of a listed name's core words, "AI" in "Beijing Academy of AI"; a run of the query's
words whose initials are a listed word, "People's Liberation Army" for "PLA"; stop words and legal
forms have no initial, except that a name's acronym may end with its legal form's, "SMIC") and Han
character bigrams. The index is built
once per snapshot and cached (marshal) in CHIPEX_HOME, keyed by the snapshot's content hash. A cache
file is used only if it is this user's, not writable by others, and carries a valid HMAC-SHA256 under a
0600 key kept in the cache folder; otherwise the index is rebuilt (issue 11).
"""

from __future__ import annotations

import marshal
import math
from collections import defaultdict
from dataclasses import dataclass, fields
from datetime import date
from itertools import pairwise
from pathlib import Path

import jellyfish
from rapidfuzz import fuzz

from chipex.cachefiles import cache_secret, read_authentic, write_authentic
from chipex.screening.lists import Entry, Snapshot, file_hash, read_snapshot
from chipex.screening.match import ACRONYM_SIM, LISTED_ACRONYM_SIM, PHONETIC_SIM, initial_runs
from chipex.screening.normalize import Name, bigrams, normaliser, split_aliases

INDEX_VERSION = 13  # bump when the index layout or the normalisation changes
NEAR_MIN_LEN = 4  # tokens shorter than this match exactly only
NEAR_MIN_SIM = 0.8  # rapidfuzz ratio / 100 for two tokens to count as the same word misspelt
MAX_POSTINGS = 600  # a token on more names than this only re-ranks, it never introduces candidates


@dataclass(frozen=True, slots=True)
class Term:
    """A query token resolved against the vocabulary: the list token it stands for and how well."""

    query: str
    token: str
    sim: float
    how: str  # exact | near | phonetic


def deletes(token: str) -> set[str]:
    return {token[:i] + token[i + 1 :] for i in range(len(token))}


_ENTRY_FIELDS = tuple(f.name for f in fields(Entry))
_NAME_FIELDS = tuple(f.name for f in fields(Name))


class Index:
    """Names of a snapshot (primary names, aliases and Han names) with their lookup tables.

    Holds plain data only (str, int, float, tuple, dict), so the cache loads with `marshal` fast.
    """

    def __init__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.entries = tuple(Entry(*row) for row in self.entry_rows)
        self.generic = frozenset(self.generic)

    def state(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in ("entries", "generic")} | {
            "generic": tuple(self.generic)
        }

    @classmethod
    def build(cls, snapshot: Snapshot) -> Index:
        norm = normaliser()
        names: list[Name] = []
        name_entry: list[int] = []
        name_is_alias: list[bool] = []
        seen: set[tuple[int, str]] = set()
        for ei, e in enumerate(snapshot.entries):
            main, *embedded = split_aliases(e.name)
            whole = [e.name] if embedded else []  # the name as written, a.k.a. and all, matches too
            for k, raw in enumerate([main, *embedded, *whole, *e.alt_names, *e.han_names]):
                n = norm.name(raw)
                key = (ei, " ".join(n.tokens) + "|" + n.han)
                if n.empty or key in seen:
                    continue
                seen.add(key)
                names.append(n)
                name_entry.append(ei)
                name_is_alias.append(k > 0)
        postings: dict[str, set[int]] = defaultdict(set)
        grams: dict[str, set[int]] = defaultdict(set)
        for nid, n in enumerate(names):
            for t in n.tokens:
                postings[t].add(nid)
            for g in bigrams(n.han):
                grams[g].add(nid)
        exact: dict[str, list[int]] = defaultdict(list)
        for nid, n in enumerate(names):
            if n.tokens:
                exact[" ".join(sorted(set(n.tokens)))].append(nid)
        total = len(names)
        idf = {t: math.log(total / len(ids)) + 0.1 for t, ids in postings.items()}
        # acronym -> names with a run of core words of those initials (or the whole name, legal form's
        # initial and all), with the run's weight: the most a query word that is the acronym can match
        acro: dict[str, dict[int, float]] = defaultdict(dict)
        for nid, n in enumerate(names):
            whole = sum(idf[t] for t in set(n.tokens))
            for key, run in initial_runs(n.tokens):
                w = sum(idf[t] for t in set(run))
                acro[key][nid] = max(acro[key].get(nid, 0.0), w)
            for key in n.acronyms:
                acro[key][nid] = whole
        near: dict[str, set[str]] = defaultdict(set)
        phon: dict[str, set[str]] = defaultdict(set)
        for t in postings:
            if len(t) >= NEAR_MIN_LEN and t.isalpha():
                for d in deletes(t):
                    near[d].add(t)
                phon[jellyfish.metaphone(t)].add(t)
        return cls(
            {
                "snapshot_id": snapshot.id,
                "source_date": snapshot.source_date.isoformat(),
                "source": snapshot.source,
                "counts": snapshot.counts,
                "entry_rows": tuple(tuple(getattr(e, f) for f in _ENTRY_FIELDS) for e in snapshot.entries),
                "name_rows": tuple(
                    tuple(
                        tuple(sorted(v)) if isinstance(v, frozenset) else v
                        for v in (getattr(n, f) for f in _NAME_FIELDS)
                    )
                    for n in names
                ),
                "name_entry": tuple(name_entry),
                "name_is_alias": tuple(name_is_alias),
                "postings": {t: tuple(sorted(ids)) for t, ids in postings.items()},
                "grams": {g: tuple(sorted(ids)) for g, ids in grams.items()},
                "exact": {k: tuple(v) for k, v in exact.items()},
                "idf": idf,
                "idf_max": math.log(total) + 0.1,
                "han_names": sum(1 for n in names if n.han),
                # generic words: on more than 0.5% of names ("co", "tech", "china", "trdg", "grp" ...)
                "generic": tuple(t for t, ids in postings.items() if len(ids) > total * 0.005),
                "name_weight": tuple(sum(idf[t] for t in set(n.tokens)) for n in names),
                # space-joined rather than tuples: a quarter of the objects, so the cache loads faster
                "near": {k: " ".join(v) for k, v in near.items()},
                "phon": {k: " ".join(v) for k, v in phon.items()},
                "acro": {k: (tuple(v), tuple(v.values())) for k, v in acro.items()},
            }
        )

    def name(self, nid: int) -> Name:
        row = self.name_rows[nid]
        return Name(*row[:-1], numbers=frozenset(row[-1]))

    def weight(self, token: str) -> float:
        return self.idf.get(token, self.idf_max)

    def names_with(self, token: str) -> int:
        """How many listed names carry `token` (0 for a word the list does not have)."""
        return len(self.postings.get(token, ()))

    def han_weight(self, gram: str) -> float:
        n = len(self.grams.get(gram, ()))
        return math.log((self.han_names + 1) / (n + 1)) + 1.0

    def resolve(self, token: str) -> list[Term]:
        """The list tokens a query token may stand for: itself, near spellings, same-sounding words."""
        out = {token: Term(token, token, 1.0, "exact")} if token in self.postings else {}
        if len(token) >= NEAR_MIN_LEN and token.isalpha():
            cands = set(self.near.get(token, "").split())  # the query lost a character
            for d in deletes(token):
                if d in self.postings:
                    cands.add(d)  # the query has an extra character
                cands.update(self.near.get(d, "").split())  # one character changed or two swapped
            for c in cands:
                if c not in out and (sim := fuzz.ratio(token, c) / 100) >= NEAR_MIN_SIM:
                    out[c] = Term(token, c, sim, "near")
            for c in self.phon.get(jellyfish.metaphone(token), "").split():
                if c not in out and c[0] == token[0]:
                    out[c] = Term(token, c, PHONETIC_SIM, "phonetic")
        return sorted(out.values(), key=lambda t: -t.sim)[:6]

    def candidates(self, q: Name, limit: int, floor: float) -> list[int]:
        """Name ids worth scoring, best first, pre-scored by IDF-weighted token (or Han bigram) overlap;
        those pre-scoring under `floor` are not worth the scorer's time."""
        pre = self.prescore(q, floor)
        best = sorted(pre, key=pre.__getitem__, reverse=True)[:limit]
        return [nid for nid in best if pre[nid] >= floor or q.pinyin]

    def prescore(self, q: Name, floor: float) -> dict[int, float]:
        """Pre-scores of the names a query reaches (those with too little matched weight left out)."""
        acc: dict[int, float] = {}
        terms = [t for tok in dict.fromkeys(q.tokens) for t in self.resolve(tok)]
        terms += [
            Term(x + y, x + y, 1.0, "compound") for x, y in pairwise(q.tokens) if x + y in self.postings
        ]
        q_total = sum(self.weight(tok) for tok in set(q.tokens)) or 1.0
        # (names, weight each adds): the query's words and spellings of them, then acronyms both ways
        # (an acronym's weight: half its own, half the words it stands for, at ACRONYM_SIM)
        looks: list[tuple[tuple[int, ...], float | tuple[float, ...]]] = [
            (self.postings[t.token], self.idf[t.token] * t.sim) for t in terms
        ]
        forms = normaliser().forms
        for tok in dict.fromkeys(q.tokens):  # a query word that abbreviates listed words
            if (hit := self.acro.get(tok)) is not None and (tok,) not in forms:
                w = self.weight(tok)
                looks.append((hit[0], tuple(ACRONYM_SIM * (w + r) / 2 for r in hit[1])))
        runs = [*initial_runs(q.tokens), *((a, q.tokens) for a in q.acronyms)]
        for key, run in dict(
            (k, r) for k, r in reversed(runs)
        ).items():  # query words a listed word abbreviates
            if key in self.postings and key not in q.tokens and (key,) not in forms:
                w = sum(self.weight(t) for t in set(run))
                looks.append((self.postings[key], LISTED_ACRONYM_SIM * (w + self.idf[key]) / 2))
        rare = any(len(ids) <= MAX_POSTINGS for ids, _ in looks)
        for ids, w in sorted(looks, key=lambda x: len(x[0])):
            each = w if isinstance(w, tuple) else None
            if len(ids) <= MAX_POSTINGS:
                for k, nid in enumerate(ids):
                    acc[nid] = acc.get(nid, 0.0) + (each[k] if each else w)
            elif rare:  # common words only re-rank names a rarer word already found
                for k, nid in enumerate(ids):
                    if nid in acc:
                        acc[nid] += each[k] if each else w
        for tok in q.pinyin:  # weak: pinyin of a Han query against romanised list names
            ids = self.postings.get(tok)
            if ids is not None and len(ids) <= MAX_POSTINGS:
                for nid in ids:
                    acc[nid] = acc.get(nid, 0.0) + 0.5 * self.idf[tok]
        weight = self.name_weight
        bar = floor * q_total / 2  # pre >= floor needs at least this much matched weight
        pre = {nid: 2 * a / (q_total + weight[nid]) for nid, a in acc.items() if a >= bar}
        for nid in self.exact.get(" ".join(sorted(set(q.tokens))), ()):  # the same words, common or not
            pre[nid] = 1.0
        if q.han:
            grams = bigrams(q.han)
            hit: dict[int, int] = {}
            for g in grams:
                for nid in self.grams.get(g, ()):
                    hit[nid] = hit.get(nid, 0) + 1
            for nid, k in hit.items():
                pre[nid] = max(pre.get(nid, 0.0), 2 * k / (len(grams) + len(bigrams(self.name_rows[nid][3]))))
        return pre


_LOADED: dict[tuple[str, date], Index] = {}  # indexes are read-only: one per list file and process


def _read_cache(cache: Path, secret: bytes) -> dict | None:
    """The index state in `cache` if the file is authentic (chipex.cachefiles), else None (rebuild):
    marshal is only ever given bytes this user wrote."""
    body = read_authentic(cache, secret)
    if body is None:
        return None
    try:
        state = marshal.loads(body)
    except (EOFError, ValueError, TypeError):
        return None
    return state if isinstance(state, dict) else None


def load_index(path: Path, source_date: date, source: str, cache_dir: Path | None) -> Index:
    """The index of the list file at `path`: from the cache in `cache_dir` when the file's content hash
    matches and the cache file is authentic (no parsing at all), else parsed, built and cached. A stale,
    broken, foreign or tampered cache is rebuilt."""
    digest = file_hash(path)
    key = (digest, source_date)
    if key in _LOADED:
        return _LOADED[key]
    cache = (
        cache_dir / f"index-v{INDEX_VERSION}-{digest[:16]}-{source_date.isoformat()}.marshal"
        if cache_dir
        else None
    )
    secret = None
    if cache is not None:
        try:
            secret = cache_secret(cache_dir)
        except OSError:
            secret = None  # a read-only or shared home only costs speed: no cache
    if cache is not None and secret is not None:
        state = _read_cache(cache, secret)
        if state is not None and str(state.get("snapshot_id", "")).endswith(digest[:12]):
            return _LOADED.setdefault(key, Index(state))
    index = Index.build(read_snapshot(path, source_date, source=source))
    if cache is not None and secret is not None:
        write_authentic(cache, secret, marshal.dumps(index.state()))
    return _LOADED.setdefault(key, index)
