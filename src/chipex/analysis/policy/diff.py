"""Rule diff: every catalog item whose status differs between two dates (or between the baseline and
a reform), with the old and new paragraph and the rule element that moved it. A part released after
the later date is listed as "released later": no rule caught or freed it on those dates.

The explanation compares the prongs themselves: a prong the chip failed under A that B dropped or
moved, a prong B added that the chip meets, a Note that stopped (or started) removing it, or a
letter that came into or out of force.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from chipex.catalog import Catalog
from chipex.catalog.model import Chip
from chipex.core.classify import Classification, classify, eval_prong, measure
from chipex.rules import Rulebook
from chipex.rules.model import EccnText, Prong

from .common import ECCN, fmt, strictness


@dataclass
class StatusChange:
    chip: str
    chip_id: str
    kind: str
    datacenter: bool | None
    before: str | None
    after: str | None
    letters_before: list[str]
    letters_after: list[str]
    change: str  # newly controlled | decontrolled | stricter | looser | renumbered (same tier) | letters
    moved_by: list[str] = field(default_factory=list)
    released: str | None = None  # the part's release date, when the catalog has one


@dataclass
class Diff:
    a: str
    b: str
    date_a: str
    date_b: str
    text_a: str | None
    text_b: str | None
    reforms: list[str]
    changes: list[StatusChange]
    unchanged: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def newly_controlled(self) -> list[str]:
        return [c.chip_id for c in self.changes if c.change == "newly controlled"]


def _status(c: Classification) -> tuple[str | None, list[str]]:
    return c.eccn, sorted(r.id for r in c.other_requirements)


def _kind(before: str | None, after: str | None, order: list[str]) -> str:
    if before is None and after is not None:
        return "newly controlled"
    if before is not None and after is None:
        return "decontrolled"
    if before == after:
        return "letters"
    sa, sb = strictness(before, order), strictness(after, order)
    return "stricter" if sb > sa else "looser" if sb < sa else "renumbered"


def _moved_by(
    chip: Chip, ta: EccnText | None, tb: EccnText | None, ea: str | None, eb: str | None
) -> list[str]:
    """Why the chip's paragraph differs: the prongs and notes of the two texts, tested on its figures."""
    if ta is None or tb is None:
        missing, present = ("A", tb) if ta is None else ("B", ta)
        return [f"no {ECCN} text in force on side {missing}; {present.id if present else '-'} on the other"]
    m = measure(chip)
    # The side that controls it (or controls it more strictly) and the side that does not.
    b_stricter = strictness(eb, [p.id for p in tb.paragraphs]) >= strictness(
        ea, [p.id for p in ta.paragraphs]
    )
    hi, hi_e, lo = (tb, eb, ta) if b_stricter else (ta, ea, tb)
    out: list[str] = []
    para = next((p for p in hi.paragraphs if p.id == hi_e), None)
    if para is None:
        return out
    related = [lp for lp in lo.paragraphs if para.id.startswith(lp.id) or lp.id.startswith(para.id)]
    if not related:
        met = "; ".join(f"{short(q)} (here {fmt(m.value(q.metric))})" for q in para.all if q.metric != "item")
        out.append(f"new paragraph {para.id} in {hi.id}: {met}")
    lo_metrics = {pr.metric for p in related for pr in p.all}
    for lp in related:
        for pr in lp.all:
            if pr.metric == "item" or eval_prong(pr, m)[0] is not False:
                continue
            same = [q for q in para.all if q.metric == pr.metric]
            here = f"here {fmt(m.value(pr.metric))}"
            if not same:
                out.append(f"{pr.metric} prong dropped ({lp.id} {lo.id}: {short(pr)}; {here})")
            elif same[0].bounds() != pr.bounds():
                out.append(
                    f"{pr.metric} line moved: {short(pr)} ({lp.id}) -> {short(same[0])} ({para.id}); {here}"
                )
    for q in para.all if related else []:
        if q.metric not in lo_metrics:
            out.append(f"new prong {short(q)} ({para.id} {hi.id}); here {fmt(m.value(q.metric))}")
    for note in lo.notes:
        if all(eval_prong(p, m)[0] is True for p in note.all) and not any(
            n.id == note.id and all(eval_prong(p, m)[0] is True for p in n.all) for n in hi.notes
        ):
            out.append(f"{note.id} removes it under {lo.id}, not under {hi.id}")
    return list(dict.fromkeys(out))


def short(prong: Prong) -> str:
    if prong.is_ is not None:
        return f"{prong.metric} is {fmt(prong.is_)}"
    words = {"at_least": ">=", "more_than": ">", "less_than": "<", "at_most": "<="}
    return " and ".join(f"{prong.metric} {words[k]} {fmt(v)}" for k, v in prong.bounds().items())


def _text(rb: Rulebook, on: dt.date) -> EccnText | None:
    return rb.eccns[ECCN].in_force(on)


def diff(
    a: tuple[dt.date, str],
    b: tuple[dt.date, str],
    *,
    catalog: Catalog,
    rulebook_a: Rulebook,
    rulebook_b: Rulebook,
    reforms: list[str] = (),  # type: ignore[assignment]
) -> Diff:
    """Status of every catalog item on date A under `rulebook_a` versus date B under `rulebook_b`."""
    (da, la), (db, lb) = a, b
    ta, tb = _text(rulebook_a, da), _text(rulebook_b, db)
    order = [p.id for t in (ta, tb) if t for p in t.paragraphs]
    changes, same = [], 0
    for chip in catalog:
        ca = classify(chip, da, catalog=catalog, rulebook=rulebook_a)
        cb = classify(chip, db, catalog=catalog, rulebook=rulebook_b)
        (ea, la_), (eb, lb_) = _status(ca), _status(cb)
        if (ea, la_) == (eb, lb_):
            same += 1
            continue
        released = chip.released.value if chip.released else None
        kind = "released later" if released and released > max(da, db) else _kind(ea, eb, order)
        ch = StatusChange(chip.name, chip.id, chip.kind, chip.datacenter.value, ea, eb, la_, lb_, kind)
        ch.released = released.isoformat() if released else None
        if ea != eb:
            if chip.kind == "system":
                ch.moved_by = [
                    f"contains {p['count']} x {p['chip']} ({p['eccn'] or 'not 3A090'} on B)"
                    for p in cb.contains
                ]
            else:
                ch.moved_by = _moved_by(chip, ta, tb, ea, eb)
        for lid in sorted(set(la_) ^ set(lb_)):
            ch.moved_by.append(
                f"is-informed letter {lid} {'in force' if lid in lb_ else 'not in force'} on B"
            )
        changes.append(ch)
    rank = {
        "newly controlled": 0,
        "stricter": 1,
        "letters": 2,
        "looser": 3,
        "decontrolled": 4,
        "renumbered": 5,
        "released later": 6,
    }
    changes.sort(key=lambda c: (rank[c.change], c.kind != "chip", c.chip_id))
    return Diff(
        la,
        lb,
        da.isoformat(),
        db.isoformat(),
        ta.id if ta else None,
        tb.id if tb else None,
        list(reforms),
        changes,
        same,
    )


def summary_line(d: Diff) -> str:
    counts: dict[str, int] = {}
    for c in d.changes:
        counts[c.change] = counts.get(c.change, 0) + 1
    parts = ", ".join(f"{n} {k}" for k, n in counts.items()) or "no change"
    return f"{d.a} -> {d.b}: {parts}; {d.unchanged} unchanged ({fmt(len(d.changes) + d.unchanged)} items)"
