"""The README's screening quality figures hold on the committed labelled sets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chipex.screening import Screener
from chipex.screening.quality import evaluate, read_cases

HERE = Path(__file__).parent
README = HERE.parents[1] / "README.md"


def readme_figures() -> dict[str, tuple[float, float]]:
    """`| <set> | <cases> | <precision> | <recall> | <F1> |` rows of the README's screening section."""
    text = README.read_text(encoding="utf-8")
    section = text.split("<!-- area:screening -->", 1)[1].split("<!-- area:", 1)[0]
    rows = re.findall(r"^\| (tuned|held-out) \| \d+ \| (\d\.\d+) \| (\d\.\d+) \|", section, re.MULTILINE)
    return {name: (float(p), float(r)) for name, p, r in rows}


@pytest.mark.parametrize(
    ("label", "file"), [("tuned", "eval_cases.csv"), ("held-out", "eval_cases_heldout.csv")]
)
def test_quality_at_the_default_threshold_meets_the_readme(screener: Screener, label: str, file: str) -> None:
    cases = read_cases(HERE / file)
    assert len(cases) >= 400
    q = evaluate(screener, cases)
    precision, recall = readme_figures()[label]
    assert round(q.precision, 3) >= precision, q.errors
    assert round(q.recall, 3) >= recall, q.errors
    assert precision >= 0.95 and recall >= 0.95  # the target, as published


def test_every_case_category_is_represented() -> None:
    cats = {c.category for c in read_cases(HERE / "eval_cases.csv")}
    for needed in ("abbreviation", "reorder", "typo", "legal-form", "han", "alias", "subsidiary",
                   "distinctive-word-replaced", "generic", "look-alike"):  # fmt: skip
        assert needed in cats
