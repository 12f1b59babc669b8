"""Company-name pairs of nomenklatura's name_bench: chipex's scorer beside OpenSanctions' logic-v2.

    .venv/bin/python benchmarks/name_bench.py [--errors [--errors-split tune|held-out]]

Data: tests/screening/data/name_bench/ (cases.csv and logic-v2's frozen run, MIT, source commit in its
README). Pairs: the organisation schemas (Company, Organization, LegalEntity). Split by the pair's own
id (nomenklatura's blake2b case id, even = tune, odd = held-out). chipex scores each pair with
`Screener.match` (list-name side = name2, word weights from the shipped 2026-07-31 list); the threshold
is the F1-best on the tune split only, then applied unchanged to the held-out split. logic-v2's figures
are its frozen run at its harness's threshold 0.7, on all its organisation pairs and on the same
held-out pairs (those of them it has). Also printed: precision and recall of `Screener.screen` on the CSL evaluation sets
(tests/screening/eval_cases*.csv) at the screening threshold.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
from pathlib import Path

from chipex.screening import Screener
from chipex.screening.match import THRESHOLD
from chipex.screening.quality import (
    ORG_SCHEMAS,
    Quality,
    best_threshold,
    evaluate,
    pair_quality,
    read_cases,
    read_pairs,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests/screening/data/name_bench"
LOGICV2_THRESHOLD = 0.7  # name_bench run.py DEFAULT_THRESHOLD


def row(label: str, n: int, q: Quality) -> str:
    return f"{label:<44}{n:>6}{q.precision:>8.3f}{q.recall:>8.3f}{q.f1:>8.3f}"


def logicv2(keys: set[tuple[str, str, str]] | None) -> tuple[int, Quality]:
    """logic-v2's frozen verdicts (its TP/FP/FN/TN column) on its organisation pairs, or on those whose
    (schema, name1, name2) is in `keys` (not by case id: the frozen run predates a renamed case group)."""
    q = Quality()
    n = 0
    with (DATA / "logicv2-frozen.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            if r["schema"] in ORG_SCHEMAS and (keys is None or (r["schema"], r["name1"], r["name2"]) in keys):
                n += 1
                setattr(q, r["outcome"].lower(), getattr(q, r["outcome"].lower()) + 1)
    return n, q


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--errors", action="store_true", help="list the pairs chipex gets wrong (see --errors-split)"
    )
    ap.add_argument("--errors-split", choices=("held-out", "tune"), default="held-out",
                    help="which split's errors --errors lists (tune on the tune split's only)")  # fmt: skip
    args = ap.parse_args()
    pairs = read_pairs(DATA / "cases.csv")
    with tempfile.TemporaryDirectory() as home:
        s = Screener(home=Path(home))
        scored = [(p, s.match(p.a, p.b).score) for p in pairs]
        tune = [x for x in scored if x[0].split == "tune"]
        held = [x for x in scored if x[0].split == "held-out"]
        t = best_threshold(tune)
        csl = [(f, evaluate(s, read_cases(ROOT / "tests/screening" / f)))
               for f in ("eval_cases.csv", "eval_cases_heldout.csv")]  # fmt: skip
    held_keys = {(p.schema, p.a, p.b) for p, _ in held}
    print(f"name_bench organisation pairs: {len(pairs)} ({len(tune)} tune, {len(held)} held-out)")
    print(f"threshold chosen on the tune split: {t:.2f} (screening default {THRESHOLD:.2f})")
    print()
    print(f"{'':<44}{'pairs':>6}{'P':>8}{'R':>8}{'F1':>8}")
    print(row(f"chipex, tune split, at {t:.2f}", len(tune), pair_quality(tune, t)))
    print(row(f"chipex, held-out split, at {t:.2f}", len(held), pair_quality(held, t)))
    print(row(f"chipex, held-out split, at {THRESHOLD:.2f}", len(held), pair_quality(held, THRESHOLD)))
    n, q = logicv2(held_keys)
    print(row(f"logic-v2 (frozen run), held-out split, {LOGICV2_THRESHOLD}", n, q))
    n, q = logicv2(None)
    print(row(f"logic-v2 (frozen run), all its pairs, {LOGICV2_THRESHOLD}", n, q))
    print()
    print(f"CSL evaluation (Screener.screen at {THRESHOLD:.2f}):")
    for f, q in csl:
        print(f"  {f:<24} P {q.precision:.3f}  R {q.recall:.3f}  F1 {q.f1:.3f}")
    if args.errors:
        print()
        for p, score in sorted(held if args.errors_split == "held-out" else tune, key=lambda x: x[1]):
            if (score >= t) != p.match:
                print(f"{score:.2f} {'match' if p.match else 'no-match':<9} {p.a!r} | {p.b!r} [{p.category}]")


if __name__ == "__main__":
    main()
