"""Measuring screening quality on a labelled set (tests/screening/eval_cases.csv).

A "match" case is found (true positive) when one of its acceptable entries is among the hits; otherwise it
is a false negative, and any other hit it raised counts as a false positive too (the wrong party flagged).
A "no-match" case with any hit is a false positive; without hits, a true negative.
"""

from __future__ import annotations

import csv
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from chipex.errors import ChipexError
from chipex.screening.screener import Screener


@dataclass(frozen=True)
class Case:
    case: str
    query: str
    country: str | None
    expected: frozenset[str]
    category: str


@dataclass
class Quality:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    by_category: dict[str, list[int]] = field(
        default_factory=lambda: defaultdict(lambda: [0, 0])
    )  # right, total
    errors: list[tuple[Case | Pair, list[str]]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def read_cases(path: Path) -> list[Case]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for i, r in enumerate(rows, start=2):
        if r.get("label") not in ("match", "no-match"):
            raise ChipexError("label must be match or no-match", file=str(path), record=i, field="label")
        ids = frozenset(x for x in r["expected_ids"].split(";") if x)
        if (r["label"] == "match") != bool(ids):
            raise ChipexError(
                "a match needs expected_ids, a no-match none", file=str(path), record=i, field="expected_ids"
            )
        out.append(Case(r["case"], r["query"], r["country"] or None, ids, r["category"]))
    return out


def evaluate(screener: Screener, cases: list[Case]) -> Quality:
    q = Quality()
    for c in cases:
        hits = screener.screen(c.query, c.country)
        got = {h.entry_id for h in hits}
        if c.expected:
            ok = bool(got & c.expected)
            q.tp += ok
            q.fn += not ok
            q.fp += bool(got) and not ok
        else:
            ok = not got
            q.tn += ok
            q.fp += not ok
        q.by_category[c.category][0] += ok
        q.by_category[c.category][1] += 1
        if not ok:
            q.errors.append((c, [f"{h.score:.2f} {h.list} {h.matched_name}" for h in hits[:3]]))
    return q


# --- name pairs: nomenklatura's name_bench (tests/screening/data/name_bench/README.md) ----------------
ORG_SCHEMAS = frozenset({"Company", "Organization", "LegalEntity"})  # the benchmark's company-name pairs


@dataclass(frozen=True)
class Pair:
    case_id: str  # nomenklatura's: blake2b (8 hex) of case_group|schema|name1|name2
    group: str
    schema: str
    a: str
    b: str
    match: bool
    quality: str
    category: str

    @property
    def split(self) -> str:
        """'tune' or 'held-out', fixed by the pair's own id: no case moves between splits."""
        return "tune" if int(self.case_id, 16) % 2 == 0 else "held-out"


def read_pairs(path: Path, schemas: frozenset[str] = ORG_SCHEMAS) -> list[Pair]:
    """The labelled pairs of `cases.csv` whose FtM schema is in `schemas` (default: organisations)."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for i, r in enumerate(rows, start=2):
        if r.get("is_match") not in ("true", "false"):
            raise ChipexError("is_match must be true or false", file=str(path), record=i, field="is_match")
        if r["schema"] not in schemas:
            continue
        key = "|".join((r["case_group"], r["schema"], r["name1"], r["name2"]))
        cid = hashlib.blake2b(key.encode("utf-8"), digest_size=4).hexdigest()
        match = r["is_match"] == "true"
        out.append(
            Pair(
                cid,
                r["case_group"],
                r["schema"],
                r["name1"],
                r["name2"],
                match,
                r["quality"] or "MEDIUM",
                r["category"],
            )
        )
    return out


def pair_quality(scored: list[tuple[Pair, float]], threshold: float) -> Quality:
    """Confusion counts of pairs scored at `threshold` (a pair matches at or above it)."""
    q = Quality()
    for p, score in scored:
        said = score >= threshold
        q.tp += said and p.match
        q.fp += said and not p.match
        q.fn += not said and p.match
        q.tn += not said and not p.match
        q.by_category[p.category or p.group][0] += said == p.match
        q.by_category[p.category or p.group][1] += 1
        if said != p.match:
            q.errors.append((p, [f"{score:.2f}"]))
    return q


def best_threshold(scored: list[tuple[Pair, float]]) -> float:
    """The threshold (0.01 steps) with the highest F1 on `scored`; on ties the highest (more precise)."""
    steps = [t / 100 for t in range(1, 101)]
    return max(steps, key=lambda t: (round(pair_quality(scored, t).f1, 6), t))
