"""How a checked order book is shown: the summary by destination, decision and ECCN, and every line
of a small book, through the shared renderer (chipex.interfaces.cli.render)."""

from __future__ import annotations

import re
from functools import cache

from chipex.interfaces.cli.app import console
from chipex.interfaces.cli.render import Col, print_table
from chipex.orders.explain import split_ids
from chipex.rules import default_rulebook

LINES_SHOWN = 50  # a book up to this many lines is shown line by line

BOOK_LEGEND = (
    "licence: required or no; rules: the paragraph that requires the licence [rule id in "
    "src/chipex/rules]; '?' after it: it binds only if a fact the line lacks holds (e.g. the exporter is "
    "the company an is-informed letter named), so the licence is shown as required; -: none. "
    "exceptions: licence exceptions that could apply; red flags: inquiries to make before shipping "
    "(chipex flags), never a change of the answer"
)


SUMMARY_LEGEND = (
    "ECCN -: no 3A090/4A090 paragraph (a licence can still be required: an is-informed letter, an end "
    "use, a listed party); lines: book lines; units: items ordered (a system is one item)"
)


@cache
def _paragraphs() -> dict[str, str]:
    """Rule id -> the paragraph it implements, read from the rule data (licensing.yaml, is_informed.yaml)."""
    rb = default_rulebook()
    found = {r.id: r.paragraph for r in rb.licensing.requirements}
    found |= {x.id: x.legal_basis for x in rb.letters}
    return found


def rule_label(rid: str) -> str:
    """`§742.6(a)(6)(iii) [d145-2023]`: the first CFR section (or FR page) of the rule's paragraph in
    the rule data, then the rule id in brackets."""
    text = _paragraphs().get(rid.rstrip("?")) or ""
    m = re.search(r"\b(\d{3}\.\d+(?:\([0-9a-zA-Z]+\))*)", text)
    if m:
        return f"§{m.group(1)} [{rid}]"
    m = re.search(r"\d+ FR \d+", text)
    return f"{m.group(0)} [{rid}]" if m else f"[{rid}]"


def policy_text(policy: str | None) -> str:
    """One spelling of each policy: list entries write 'Presumption of denial', licensing.yaml
    'presumption of denial'."""
    return "-" if not policy else policy[:1].lower() + policy[1:]


def print_book(report, label: str, regime: str, *, wide: bool = False) -> None:
    """The summary by destination, decision and ECCN; and every line when the book is small."""
    summary = [
        {
            "destination": s["destination"],
            "license_required": s["license_required"],
            "eccn": s["eccn"],
            "lines": s["lines"],
            "units": s["units"],
        }
        for s in (x if isinstance(x, dict) else x.model_dump() for x in report.summary)
    ]
    print_table(
        summary,
        [
            Col("destination", "to"),
            Col("license_required", "licence", show=lambda v: "required" if v else "no"),
            Col("eccn", "ECCN"),
            Col("lines", "lines", right=True, show=lambda v: f"{v:,}"),
            Col("units", "units (items)", right=True, show=lambda v: f"{v:,}"),
        ],
        title=f"{label}: {report.checked:,} lines checked ({regime})",
        legend=[SUMMARY_LEGEND],
        wide=wide,
    )
    console.print(
        f"red flags: {report.flagged:,} of {report.checked:,} lines raise at least one (inquire before shipping; "
        "a flag never changes the licence answer)"
    )
    if report.results is None or report.checked > LINES_SHOWN:
        return
    rows = [
        {
            "line": r["line"],
            "date": str(r["date"]),
            "item": r["item"],
            "destination": r["destination"],
            "license_required": r["license_required"],
            "eccn": r["eccn"],
            "reasons": [rule_label(x) for x in split_ids(r["reasons"])],
            "exceptions": split_ids(r["exceptions"]),
            "policy": policy_text(r["policy"]),
            "red_flags": split_ids(r["red_flags"]),
            "warnings": split_ids(r["warnings"]),
            "jurisdiction": r["jurisdiction"],
        }
        for r in sorted(report.results.to_pylist(), key=lambda r: r["line"])
    ]
    print_table(rows, LINE_COLUMNS, title="Line by line", legend=[BOOK_LEGEND], wide=wide)


LINE_COLUMNS = [
    Col("line", "line", right=True),
    Col("date", "date"),
    Col("item", "item", wrap=True),
    Col("destination", "to"),
    Col("license_required", "licence", show=lambda v: "required" if v else "no"),
    Col("eccn", "ECCN"),
    Col("policy", "policy", wrap=True),
    Col("reasons", "rules", wrap=True, drop=1, show=lambda v: "\n".join(v) or "-"),
    Col("warnings", "WARNINGS", wrap=True, show=lambda v: "\n".join(v) or "-"),  # never dropped
    Col("red_flags", "red flags", wrap=True, drop=2),
    Col("jurisdiction", "subject to the EAR", wrap=True, drop=4),
    Col("exceptions", "exceptions", wrap=True, drop=3),
]
