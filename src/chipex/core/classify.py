"""Classification of a chip or system under the ECCN text in force on a date.

Implements 15 CFR 774 Supp. 1, ECCN 3A090 (paragraphs .a, .b, .c and Note 2) and 4A090 (systems
containing 3A090 ICs) by interpreting the dated rule data in `chipex/rules/eccn/`; the logic here
knows no threshold. Unknown facts stay unknown: a prong on a missing figure is neither met nor
failed, and an unknown datacenter status is answered both ways.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from typing import Any

from chipex.catalog import Catalog, default_catalog
from chipex.catalog.model import BIT_LENGTH, Chip, Figure
from chipex.core import DISCLAIMER, metrics
from chipex.core.ccl import CclAnswer, ccl_eccn
from chipex.core.dates import parse_date
from chipex.rules import Rulebook, default_rulebook
from chipex.rules.model import EccnText, Letter, Prong

Tri = bool | None  # three-valued: met, not met, unknown


@dataclass(frozen=True)
class Measures:
    """The figures a rule can test, exact, with the confidence of the catalog figures behind them."""

    item: str
    tpp: Fraction | None
    tpp_precision: str | None
    performance_density: Fraction | None
    interconnect_gbps: Fraction | None
    memory_bandwidth_gbps: Fraction | None
    memory_bandwidth_density: Fraction | None
    datacenter: bool | None
    estimates: tuple[str, ...] = ()

    def value(self, metric: str) -> Fraction | bool | str | None:
        return getattr(self, metric)


def _fig(f: Figure | None) -> Fraction | None:
    return None if f is None or f.value is None else Fraction(f.value)


def measure(chip: Chip, bits: dict[str, int] | None = None) -> Measures:
    """Compute TPP (TN 1-3), performance density (TN 4) and the other tested figures of one IC."""
    tops = {p: f.value for p, f in chip.dense_tops.items()}
    best = metrics.tpp(tops, bits or BIT_LENGTH)
    tpp_value, precision = best if best else (None, None)
    area = _fig(chip.die_area_mm2)
    pd = metrics.performance_density(tpp_value, area) if tpp_value is not None and area else None
    bw = _fig(chip.memory_bandwidth_gbps)
    pkg = _fig(chip.memory_package_area_mm2)
    mbd = metrics.memory_bandwidth_density(bw, pkg) if bw is not None and pkg else None
    used: dict[str, Figure | None] = {
        "die_area_mm2": chip.die_area_mm2,
        "interconnect_gbps": chip.interconnect_gbps,
        "memory_bandwidth_gbps": chip.memory_bandwidth_gbps,
    }
    if precision:
        used[f"dense_tops.{precision}"] = chip.dense_tops[precision]
    estimates = tuple(sorted(k for k, f in used.items() if f is not None and f.confidence == "estimate"))
    if chip.datacenter.confidence == "estimate":
        estimates = (*estimates, "datacenter")
    return Measures(
        item="memory" if chip.kind == "memory" else "chip",
        tpp=tpp_value,
        tpp_precision=precision,
        performance_density=pd,
        interconnect_gbps=_fig(chip.interconnect_gbps),
        memory_bandwidth_gbps=bw,
        memory_bandwidth_density=mbd,
        datacenter=chip.datacenter.value,
        estimates=estimates,
    )


def _fmt(v: Any) -> str:
    if isinstance(v, Fraction):
        f = float(v)
        return f"{f:,.2f}".rstrip("0").rstrip(".") if f != int(f) else f"{int(f):,}"
    return str(v).lower() if isinstance(v, bool) else str(v)


def eval_prong(prong: Prong, m: Measures) -> tuple[Tri, str]:
    """One prong against the measures: (met, human-readable comparison)."""
    v = m.value(prong.metric)
    if v is None:
        return None, f"{prong.metric} unknown (not in the catalog): cannot test '{prong.describe()}'"
    if prong.is_ is not None:
        return v == prong.is_, f"{prong.metric} = {_fmt(v)} (needs {_fmt(prong.is_)})"
    ops = {
        "at_least": (lambda a, b: a >= b, ">="),
        "more_than": (lambda a, b: a > b, ">"),
        "less_than": (lambda a, b: a < b, "<"),
        "at_most": (lambda a, b: a <= b, "<="),
    }
    parts, met = [], True
    for key, bound in prong.bounds().items():
        fn, sym = ops[key]
        ok = fn(v, bound)
        met = met and ok
        parts.append(f"{sym} {_fmt(bound)} {'yes' if ok else 'no'}")
    return met, f"{prong.metric} {_fmt(v)}: " + ", ".join(parts)


def all_of(results: list[Tri]) -> Tri:
    """Kleene AND: false if any is false, unknown if any unknown, else true."""
    if any(r is False for r in results):
        return False
    return None if any(r is None for r in results) else True


def any_of(results: list[Tri]) -> Tri:
    if any(r is True for r in results):
        return True
    return None if any(r is None for r in results) else False


@dataclass
class Reason:
    rule: str
    citation: str
    met: Tri
    detail: str


@dataclass
class Requirement:
    """A licence requirement that is not an ECCN threshold (an is-informed letter)."""

    id: str
    informed: str
    legal_basis: str
    citation: str
    confidence: str
    destinations: list[str]
    destinations_except: list[str]
    headquartered_in: list[str]
    why: str


@dataclass
class Classification:
    chip: str
    chip_id: str
    as_of: str
    rule_version: str | None
    rule_version_name: str | None
    eccn_text: str | None
    tpp: float | None
    tpp_precision: str | None
    performance_density: float | None
    interconnect_gbps: float | None
    memory_bandwidth_gbps: float | None
    datacenter: bool | None
    eccn: str | None
    paragraphs_met: list[str]
    reasons: list[Reason]
    other_requirements: list[Requirement] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    depends_on: list[str] = field(default_factory=list)
    outcomes: dict[str, str | None] = field(default_factory=dict)
    contains: list[dict[str, Any]] = field(default_factory=list)
    # The ECCN the item has on the CCL on that date: `eccn` when 3A090/4A090 applies (or its .z
    # paragraph when the item is described elsewhere), else its sub-threshold entry or EAR99.
    ccl_eccn: str | None = None
    ccl_confidence: str | None = None
    ccl_basis: str | None = None
    # rules/warnings.yaml entries that apply (e.g. GP10 for the Ascend 910B/C/D); text in `warnings`
    warning_ids: list[str] = field(default_factory=list)
    disclaimer: str = DISCLAIMER

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _cite(paragraph: str, text: EccnText) -> str:
    return f"15 CFR 774 Supp. 1, ECCN {paragraph}, {text.citation}"


def _evaluate_text(m: Measures, text: EccnText) -> tuple[str | None, list[str], list[Reason], Tri]:
    """Paragraphs in order, then Notes that remove items. Returns (eccn, met, reasons, certain)."""
    reasons: list[Reason] = []
    status: dict[str, Tri] = {}
    for para in text.paragraphs:
        results = []
        for prong in para.all:
            met, detail = eval_prong(prong, m)
            results.append(met)
            if prong.metric == "item" and met is False:
                detail = f"{para.id} covers {prong.is_} items, not {m.item}s"
                reasons.append(Reason(para.id, _cite(para.id, text), False, detail))
                break  # the paragraph does not speak to this kind of item
            if prong.metric != "item":
                reasons.append(Reason(para.id, _cite(para.id, text), met, detail))
        else:
            reasons.append(Reason(para.id, _cite(para.id, text), all_of(results), f"{para.id}: {para.text}"))
        status[para.id] = all_of(results)
    for note in text.notes:
        results = []
        details = []
        for prong in note.all:
            met, detail = eval_prong(prong, m)
            results.append(met)
            details.append(detail)
        applies = all_of(results)
        verb = {True: "applies", False: "does not apply", None: "may apply"}[applies]
        reasons.append(Reason(note.id, note.citation, applies, f"{note.id} {verb}: {'; '.join(details)}"))
        for pid in status:
            if any(pid.startswith(prefix) for prefix in note.removes) and status[pid] is not False:
                if applies is True:
                    status[pid] = False
                elif applies is None:
                    status[pid] = None
    met_ids = [p for p, s in status.items() if s is True]
    for pid, s in status.items():
        if s is not False:  # first paragraph met or possibly met: the conservative reading
            return pid, met_ids, reasons, s
    return None, met_ids, reasons, True


def _letter_applies(letter: Letter, chip: Chip, m: Measures, eccn: str | None) -> tuple[bool, str]:
    if letter.informed.lower() != chip.vendor.lower():
        return False, ""
    if chip.id in letter.chips:
        return True, f"{chip.name} is named in the letter"
    if letter.criteria and not (letter.criteria.outside_eccn and eccn):
        results = [eval_prong(p, m) for p in letter.criteria.all + letter.criteria.any]
        checks = [r[0] for r in results]
        n_all = len(letter.criteria.all)
        ok = all_of(checks[:n_all]) if n_all else any_of(checks)
        if ok:
            return True, f"meets the letter's criteria ({letter.criteria.note}): " + "; ".join(
                r[1] for r in results
            )
    return False, ""


def _base(chip: Chip, on: dt.date, rulebook: Rulebook, m: Measures | None) -> Classification:
    version = rulebook.version_on(on)
    return Classification(
        chip=chip.name,
        chip_id=chip.id,
        as_of=on.isoformat(),
        rule_version=version.id if version else None,
        rule_version_name=version.name if version else None,
        eccn_text=None,
        tpp=metrics.as_float(m.tpp) if m else None,
        tpp_precision=m.tpp_precision if m else None,
        performance_density=metrics.as_float(m.performance_density) if m else None,
        interconnect_gbps=metrics.as_float(m.interconnect_gbps) if m else None,
        memory_bandwidth_gbps=metrics.as_float(m.memory_bandwidth_gbps) if m else None,
        datacenter=chip.datacenter.value,
        eccn=None,
        paragraphs_met=[],
        reasons=[],
    )


# TN 1.c counts "the largest bit-length of the inputs to the multiply operation". TF32 inputs are 19-bit
# values in 32-bit registers: chipex reads 19 (model.BIT_LENGTH); the other reading is 32.
TF32_32 = {**BIT_LENGTH, "tf32": 32}
TF32_LABEL = "tf32 bit length (19 or 32 bits)"


def _readings(chip: Chip) -> list[tuple[str, str, Chip]]:
    """Each other reading of the catalog's figures: (figure, what it assumes, the chip read that way)."""
    out = []
    for name in ("die_area_mm2", "interconnect_gbps", "memory_bandwidth_gbps"):
        fig = getattr(chip, name)
        for r in fig.disputed if fig is not None else []:
            alt = chip.model_copy(update={name: fig.model_copy(update={"value": r.value})})
            out.append((name, f"{name} {r.value} ({r.source}: {r.note})", alt))
    for precision, fig in chip.dense_tops.items():
        for r in fig.disputed:
            tops = {**chip.dense_tops, precision: fig.model_copy(update={"value": r.value})}
            alt = chip.model_copy(update={"dense_tops": tops})
            out.append((f"dense_tops.{precision}", f"{precision} {r.value} ({r.source}: {r.note})", alt))
    return out


def _other_readings(out: Classification, chip: Chip, m: Measures, text: EccnText) -> bool:
    """Disputed figures and the TF32 bit length: say where another reading changes the answer.
    Returns whether any reading changes the ECCN."""
    dc = True if m.datacenter is None else m.datacenter  # the reading the main answer took

    def eccn_of(mm: Measures) -> str | None:
        return _evaluate_text(Measures(**{**mm.__dict__, "datacenter": dc}), text)[0]

    changed = False
    for name, why, alt in _readings(chip):
        alt_eccn = eccn_of(measure(alt))
        if alt_eccn != out.eccn:
            changed = True
            label = f"{name} (disputed)"
            if label not in out.depends_on:
                out.depends_on.append(label)
            out.outcomes[f"{name} as catalogued"] = out.eccn
            out.outcomes[why] = alt_eccn
            out.warnings.append(
                f"{name} is disputed: with {why} the ECCN would be {alt_eccn or 'outside 3A090'}"
            )
        else:
            out.warnings.append(f"{name} is disputed ({why}); the ECCN is the same under that reading")
    wide = measure(chip, TF32_32)
    if m.tpp is not None and wide.tpp is not None and wide.tpp != m.tpp:
        alt_eccn = eccn_of(wide)
        changed = changed or alt_eccn != out.eccn
        out.depends_on.append(TF32_LABEL)
        out.outcomes["tf32 at 19 bits (chipex's reading)"] = (
            f"{out.eccn or 'outside 3A090'}, TPP {_fmt(m.tpp)}"
        )
        out.outcomes["tf32 at 32 bits"] = f"{alt_eccn or 'outside 3A090'}, TPP {_fmt(wide.tpp)}"
        out.warnings.append(
            f"TF32 sets the TPP: at 19 bits (chipex's reading of TN 1.c) TPP {_fmt(m.tpp)}, at 32 bits "
            f"{_fmt(wide.tpp)} ({alt_eccn or 'outside 3A090'}); the vendor's own reading is not known"
        )
    return changed


def _set_ccl(out: Classification, answer: CclAnswer) -> None:
    out.ccl_eccn, out.ccl_confidence, out.ccl_basis = answer.eccn, answer.confidence, answer.basis
    out.reasons.append(
        Reason(f"CCL {answer.eccn}", answer.citation, True, f"{answer.basis} [{answer.confidence}]")
    )


def _classify_ic(chip: Chip, on: dt.date, rulebook: Rulebook, datacenter: bool | None) -> Classification:
    m = measure(chip)
    if datacenter is not None:
        m = Measures(**{**m.__dict__, "datacenter": datacenter})
    out = _base(chip, on, rulebook, m)
    out.datacenter = m.datacenter
    certain: Tri = True
    text = rulebook.eccns["3A090"].in_force(on)
    if text is None:
        first = rulebook.eccns["3A090"].texts[0]
        out.reasons.append(
            Reason(
                "3A090",
                _cite("3A090", first),
                False,
                f"no advanced-computing ECCN was in force on {on}; 3A090 took effect {first.effective}",
            )
        )
    else:
        out.eccn_text = text.id
        if m.datacenter is None:
            by = {}
            for assumed in (True, False):
                mm = Measures(**{**m.__dict__, "datacenter": assumed})
                by[assumed] = _evaluate_text(mm, text)
            if by[True][0] != by[False][0]:
                out.depends_on.append("datacenter")
                out.outcomes = {"designed or marketed for datacenters": by[True][0], "not": by[False][0]}
                out.warnings.append(
                    "datacenter design/marketing is unknown: the ECCN shown assumes it is (the stricter "
                    f"reading); if not, it would be {by[False][0] or 'outside 3A090'}"
                )
            eccn, met, reasons, certain = _evaluate_text(m, text)
            eccn = by[True][0] or eccn
        else:
            eccn, met, reasons, certain = _evaluate_text(m, text)
        out.eccn, out.paragraphs_met, out.reasons = eccn, met, reasons
        if certain is None and eccn:
            used = {pr.metric for para in text.paragraphs for pr in para.all}
            used |= {pr.metric for note in text.notes for pr in note.all}
            missing = sorted(x for x in used if m.value(x) is None and x not in out.depends_on)
            if missing:
                out.depends_on.extend(missing)
                out.warnings.append(
                    f"{eccn} is possible but not certain: {', '.join(missing)} unknown in the catalog"
                )
        if _other_readings(out, chip, m, text) or "datacenter" in out.depends_on:
            certain = None
        if text.compliance and on < text.compliance:
            out.warnings.append(
                f"{text.id} effective {text.effective}; compliance required from {text.compliance}"
            )
        for adv in text.advisories:
            out.warnings.append(f"{adv.id} ({adv.applies_to}): {adv.text} [{adv.citation}]")
    for est in m.estimates:
        out.warnings.append(f"figure used is an estimate: {est}")
    for letter in rulebook.letters:
        if letter.in_force(on):
            applies, why = _letter_applies(letter, chip, m, out.eccn)
            if applies:
                out.other_requirements.append(
                    Requirement(
                        letter.id,
                        letter.informed,
                        letter.legal_basis,
                        letter.citation,
                        letter.confidence,
                        letter.destinations,
                        letter.destinations_except,
                        letter.headquartered_in,
                        why,
                    )
                )
                out.reasons.append(
                    Reason(
                        f"is-informed {letter.id}",
                        letter.citation,
                        True,
                        f"licence required by letter: {why}",
                    )
                )
    _set_ccl(out, ccl_eccn(chip, on, out.eccn, certain=certain is not None))
    designer = chip.designer_country.value if chip.designer_country else None
    warning = rulebook.warnings.first(on, [chip.id], designer, out.eccn)
    if warning:  # first, so that it is seen first
        out.warning_ids.append(warning.id)
        out.warnings.insert(0, warning.shown())
    return out


def classify(
    chip: str | Chip,
    as_of: dt.date | str,
    *,
    catalog: Catalog | None = None,
    rulebook: Rulebook | None = None,
    datacenter: bool | None = None,
) -> Classification:
    """Classify a catalog chip (by name), a Chip record, or a system, as of a date.

    `datacenter` overrides the catalog's 'designed or marketed for datacenters' value.
    """
    catalog = catalog or default_catalog()
    rulebook = rulebook or default_rulebook()
    on = parse_date(as_of)
    record = catalog.get(chip) if isinstance(chip, str) else chip
    if record.kind != "system":
        return _classify_ic(record, on, rulebook, datacenter)
    parts = [(catalog.get(p.chip), p.count) for p in record.contains]
    inner = [(_classify_ic(c, on, rulebook, datacenter), n) for c, n in parts]
    out = _base(record, on, rulebook, None)
    total = sum((Fraction(str(c.tpp)) * n for c, n in inner if c.tpp is not None), Fraction(0))
    out.tpp = metrics.as_float(total)
    out.tpp_precision = "aggregate of contained ICs (shown for information; 4A090 tests each IC)"
    out.contains = [{"chip": c.chip, "count": n, "eccn": c.eccn} for c, n in inner]
    text4 = rulebook.eccns["4A090"].in_force(on)
    out.eccn_text = text4.id if text4 else None
    for c, n in inner:
        out.warnings.extend(w for w in c.warnings if w not in out.warnings)
        out.warning_ids.extend(w for w in c.warning_ids if w not in out.warning_ids)
        out.other_requirements.extend(r for r in c.other_requirements if r not in out.other_requirements)
        out.depends_on.extend(d for d in c.depends_on if d not in out.depends_on)
        if text4 is None or c.eccn is None:
            continue
        for chip_para, sys_eccn in text4.derive.items():
            if c.eccn.startswith(chip_para):
                out.reasons.append(
                    Reason(
                        sys_eccn, _cite(sys_eccn, text4), True, f"contains {n} x {c.chip} classified {c.eccn}"
                    )
                )
                if out.eccn is None or sys_eccn < out.eccn:
                    out.eccn = sys_eccn
                    out.paragraphs_met.append(sys_eccn)
    if out.eccn is None:
        detail = (
            f"no advanced-computing ECCN was in force on {on}"
            if text4 is None
            else "no contained IC meets 3A090.a or 3A090.b"
        )
        out.reasons.append(Reason("4A090", _cite("4A090", text4) if text4 else "-", False, detail))
    inside = [CclAnswer(c.ccl_eccn or "", c.ccl_confidence or "", "", "") for c, _ in inner]
    sure = all(c.ccl_confidence != "estimate" for c, _ in inner if c.eccn)
    _set_ccl(out, ccl_eccn(record, on, out.eccn, inside, certain=sure))
    return out


def history(
    chip: str | Chip,
    *,
    catalog: Catalog | None = None,
    rulebook: Rulebook | None = None,
    datacenter: bool | None = None,
) -> list[Classification]:
    """The chip's classification at every rule version's effective date, in date order."""
    rulebook = rulebook or default_rulebook()
    return [
        classify(chip, v.effective, catalog=catalog, rulebook=rulebook, datacenter=datacenter)
        for v in rulebook.versions
    ]
