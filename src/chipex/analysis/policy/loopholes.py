"""Loophole search: the most useful chip a rule version still lets through, why, and the smallest
reform that closes it.

Design space: TPP, applicable die area (so performance density = TPP / area), chip-to-chip
bandwidth, memory bandwidth and memory capacity, each bounded by the catalog (the smallest and
largest figure of chips on the market on the date, named in the output). The rule's "uncontrolled"
set is read from the rule data: every paragraph that can apply to a chip must fail (one of its
prongs false) or be removed by a Note. That is a disjunction per paragraph, so the search is a
mixed-integer linear programme: one binary per way out of each paragraph, big-M constraints, and a
roofline usefulness (the smallest of compute and what memory and links can feed) maximised by
scipy's HiGHS MILP solver. "Less than X" is met at X minus a stated resolution; the best design is
then classified by the exact classifier, which must agree that it is uncontrolled.

Why a MILP (scipy) and not an SMT solver: the rule is a handful of linear disjunctions and the
objective is linear, which MILP solves directly and fast (milliseconds) with a dependency chipex
already has; exactness is kept where it matters by re-checking the optimum with the classifier's
exact arithmetic.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from chipex.catalog import Catalog
from chipex.catalog.model import Chip
from chipex.core.classify import classify, eval_prong, measure
from chipex.datafiles import read_yaml
from chipex.errors import ChipexError
from chipex.rules import Rulebook, build_rulebook
from chipex.rules.model import EccnText, Prong
from chipex.rules.reform import Change, Reform, apply_reform

from .common import ECCN, ics, on_market, released

Objective = Literal["training", "inference"]
VARS = ("tpp", "area", "ic", "mbw", "mem", "t")
METRIC_VAR = {"tpp": "tpp", "interconnect_gbps": "ic", "memory_bandwidth_gbps": "mbw"}
VAR_METRIC = {"tpp": "tpp", "ic": "interconnect_gbps", "mbw": "memory_bandwidth_gbps", "mem": "memory_gb"}
# Resolution of "less than X": the design sits this far below X (TPP is a whole number, bandwidths
# whole GB/s, performance density three decimals).
EPS = {
    "tpp": Fraction(1),
    "interconnect_gbps": Fraction(1),
    "memory_bandwidth_gbps": Fraction(1),
    "performance_density": Fraction(1, 1000),
}
USEFULNESS_FILE = Path(__file__).parent / "data" / "usefulness.yaml"


# ---- usefulness -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """t <= sum(coef[v] * v) + const (TFLOP/s at 16 bits, or its decode equivalent)."""

    label: str
    coef: dict[str, float]
    const: float = 0.0


@dataclass(frozen=True)
class Model:
    objective: str
    terms: tuple[Term, ...]
    floors: dict[str, float]  # variable -> minimum (capacity needed by the workload)
    assumptions: tuple[str, ...]
    reference: str

    def rate(self, v: dict[str, float]) -> tuple[float, list[str]]:
        """The usefulness of a spec and the terms that bind it."""
        short = [k for k, f in self.floors.items() if v.get(k, 0.0) < f - 1e-9]
        if short:
            return 0.0, [f"{k} below the workload's floor" for k in short]
        vals = {t.label: sum(c * v[k] for k, c in t.coef.items()) + t.const for t in self.terms}
        low = min(vals.values())
        return low, [k for k, x in vals.items() if x <= low * (1 + 1e-6) + 1e-9]


def spec_of(chip: Chip) -> dict[str, float] | None:
    m = measure(chip)
    if m.tpp is None:
        return None

    def f(fig: Any) -> float:
        return float(fig.value) if fig is not None and fig.value is not None else 0.0

    return {
        "tpp": float(m.tpp),
        "area": f(chip.die_area_mm2),
        "ic": f(chip.interconnect_gbps),
        "mbw": f(chip.memory_bandwidth_gbps),
        "mem": f(chip.memory_gb),
    }


@cache
def _params() -> dict[str, Any]:
    return read_yaml(USEFULNESS_FILE)


def model(objective: Objective, catalog: Catalog) -> Model:
    """The usefulness model, its ratios taken from the catalog figures of the reference chips."""
    p = _params()

    def spec(chip_id: str) -> dict[str, float]:
        s = spec_of(catalog.get(chip_id))
        if s is None:
            raise ChipexError(
                f"reference chip '{chip_id}' has no TPP in the catalog", file=str(USEFULNESS_FILE)
            )
        return s

    compute = Term("compute (TPP/16)", {"tpp": 1 / 16})
    if objective == "training":
        tr = p["training"]
        pcie = float(tr["pcie_gbps"]["value"])
        mem_ref, net_ref = spec(tr["memory_balanced_chip"]), spec(tr["interconnect_balanced_chip"])
        k_mem = mem_ref["tpp"] / 16 / mem_ref["mbw"]
        k_net = net_ref["tpp"] / 16 / (net_ref["ic"] + pcie)
        terms = (
            compute,
            Term("memory bandwidth", {"mbw": k_mem}),
            Term("interconnect", {"ic": k_net}, k_net * pcie),
        )
        notes = (
            tr["description"].strip(),
            f"I_mem = {k_mem * 1000:,.0f} FLOP/byte ({tr['memory_balanced_chip']}: TPP/16 / memory bandwidth)",
            f"I_net = {k_net * 1000:,.0f} FLOP/byte ({tr['interconnect_balanced_chip']}: TPP/16 / (interconnect + "
            f"{pcie:g} GB/s PCIe: {tr['pcie_gbps']['source']}))",
        )
        return Model(objective, terms, {}, notes, p["reference_chip"])
    inf = p["inference"]
    n, bpp = float(inf["params_b"]["value"]) * 1e9, float(inf["bytes_per_param"]["value"])
    kv, ctx, b = (
        float(inf["kv_bytes_per_token"]["value"]),
        float(inf["context_tokens"]["value"]),
        float(inf["batch"]["value"]),
    )
    step_bytes = n * bpp + b * ctx * kv
    i_dec = 2 * n * b / step_bytes  # FLOP per byte read in one decode step
    floor = step_bytes / float(inf["max_tp"]["value"]) / float(inf["usable_memory"]["value"]) / 1e9
    notes = (
        inf["description"].strip(),
        f"I_dec = 2 N b / (N p + b c k) = {i_dec:.2f} FLOP/byte with N = {n / 1e9:g}B ({inf['params_b']['source']}), "
        f"p = {bpp:g} B, b = {b:g} ({inf['batch']['source']}), c = {ctx:,.0f} ({inf['context_tokens']['source']}), "
        f"k = {kv:,.0f} B ({inf['kv_bytes_per_token']['source']})",
        f"capacity floor: {step_bytes / 1e9:,.1f} GB per replica / {inf['max_tp']['value']} chips / "
        f"{inf['usable_memory']['value']} usable = {floor:.1f} GB per chip",
    )
    return Model(
        objective,
        (compute, Term("memory bandwidth", {"mbw": i_dec / 1000})),
        {"mem": floor},
        notes,
        p["reference_chip"],
    )


def usefulness(chip: Chip, mdl: Model, catalog: Catalog) -> float | None:
    """A catalog chip's usefulness in multiples of the reference chip (None without a TPP)."""
    s, ref = spec_of(chip), spec_of(catalog.get(mdl.reference))
    if s is None or ref is None:
        return None
    return mdl.rate(s)[0] / mdl.rate(ref)[0]


# ---- catalog bounds -------------------------------------------------------------------------------


@dataclass
class Range:
    lo: float
    hi: float
    lo_chip: str
    hi_chip: str


def catalog_bounds(catalog: Catalog, on: dt.date | None) -> dict[str, Range]:
    """The smallest and largest figure of each dimension among chips released by `on` (all if None)."""
    chips = [c for c in ics(catalog) if on is None or (released(c) is not None and on_market(c, on))]
    out: dict[str, Range] = {}
    for c in chips:
        s = spec_of(c)
        if s is None:
            continue
        vals = dict(s)
        vals["pd"] = s["tpp"] / s["area"] if s["area"] else 0.0
        for k, v in vals.items():
            if v <= 0 and k not in ("ic",):
                continue
            r = out.get(k)
            if r is None:
                out[k] = Range(v, v, c.id, c.id)
                continue
            if v < r.lo:
                r.lo, r.lo_chip = v, c.id
            if v > r.hi:
                r.hi, r.hi_chip = v, c.id
    missing = [k for k in ("tpp", "area", "ic", "mbw", "mem", "pd") if k not in out]
    if missing:
        raise ChipexError(f"the catalog has no chip released by {on} with {', '.join(missing)}")
    out["ic"].lo, out["ic"].lo_chip = 0.0, "(a chip may have no links)"
    out["tpp"].lo, out["tpp"].lo_chip = 0.0, "(any compute down to none)"
    return out


# ---- the rule as disjunctions ----------------------------------------------------------------------

Cond = tuple[dict[str, float], str, float]  # (coefficients, "<=" or ">=", right-hand side)


def _cond(metric: str, sense: str, value: Fraction) -> Cond:
    if metric == "performance_density":  # PD = TPP / area: compare TPP with value x area
        return {"tpp": 1.0, "area": -float(value)}, sense, 0.0
    return {METRIC_VAR[metric]: 1.0}, sense, float(value)


def _constant(prong: Prong, datacenter: bool) -> bool | None:
    if prong.metric == "item":
        return prong.is_ == "chip"
    if prong.metric == "datacenter":
        return prong.is_ == datacenter
    return None


def _modelled(prong: Prong, where: str) -> None:
    if prong.metric not in METRIC_VAR and prong.metric != "performance_density":
        raise ChipexError(f"the loophole search does not model metric '{prong.metric}' ({where})")


def _fail_options(prong: Prong) -> list[list[Cond]]:
    e = EPS[prong.metric]
    out = []
    for key, b in prong.bounds().items():
        if key == "at_least":
            out.append([_cond(prong.metric, "<=", b - e)])
        elif key == "more_than":
            out.append([_cond(prong.metric, "<=", b)])
        elif key == "less_than":
            out.append([_cond(prong.metric, ">=", b)])
        else:
            out.append([_cond(prong.metric, ">=", b + e)])
    return out


def _holds(prong: Prong) -> list[Cond]:
    e = EPS[prong.metric]
    conds = []
    for key, b in prong.bounds().items():
        sense, rhs = {
            "at_least": (">=", b),
            "more_than": (">=", b + e),
            "less_than": ("<=", b - e),
            "at_most": ("<=", b),
        }[key]
        conds.append(_cond(prong.metric, sense, rhs))
    return conds


def escape_options(text: EccnText, datacenter: bool) -> list[tuple[str, list[list[Cond]]]]:
    """Per paragraph that can apply to a chip: the alternative ways to stay outside it."""
    out = []
    for para in text.paragraphs:
        consts = [_constant(p, datacenter) for p in para.all]
        if any(c is False for c in consts):
            continue  # cannot apply to this kind of design
        options: list[list[Cond]] = []
        for p, c in zip(para.all, consts, strict=True):
            if c is None:
                _modelled(p, para.id)
                options.extend(_fail_options(p))
        for note in text.notes:
            if not any(para.id.startswith(r) for r in note.removes):
                continue
            nconsts = [_constant(p, datacenter) for p in note.all]
            if any(c is False for c in nconsts):
                continue
            conds = []
            for p, c in zip(note.all, nconsts, strict=True):
                if c is None:
                    _modelled(p, note.id)
                    conds.extend(_holds(p))
            options.append(conds)
        out.append((para.id, options))
    return out


# ---- the MILP -------------------------------------------------------------------------------------


@dataclass
class Solution:
    spec: dict[str, float]
    rate: float


def _solve(text: EccnText, mdl: Model, bounds: dict[str, Range], datacenter: bool) -> Solution | None:
    idx = {v: i for i, v in enumerate(VARS)}
    lo = [
        bounds["tpp"].lo,
        bounds["area"].lo,
        bounds["ic"].lo,
        bounds["mbw"].lo,
        max(bounds["mem"].lo, mdl.floors.get("mem", 0.0)),
        0.0,
    ]
    hi = [bounds["tpp"].hi, bounds["area"].hi, bounds["ic"].hi, bounds["mbw"].hi, bounds["mem"].hi, np.inf]
    if lo[4] > hi[4]:
        return None
    rows: list[tuple[dict[int, float], float, float]] = []
    # performance density within the catalog's range
    rows.append(({idx["tpp"]: 1.0, idx["area"]: -bounds["pd"].lo}, 0.0, np.inf))
    rows.append(({idx["tpp"]: 1.0, idx["area"]: -bounds["pd"].hi}, -np.inf, 0.0))
    for term in mdl.terms:  # t <= term
        rows.append(({idx["t"]: 1.0, **{idx[k]: -c for k, c in term.coef.items()}}, -np.inf, term.const))
    nvar = len(VARS)

    def span(coef: dict[str, float]) -> tuple[float, float]:
        mn = sum(c * (lo[idx[k]] if c > 0 else hi[idx[k]]) for k, c in coef.items())
        mx = sum(c * (hi[idx[k]] if c > 0 else lo[idx[k]]) for k, c in coef.items())
        return mn, mx

    for _para, options in escape_options(text, datacenter):
        if not options:
            return None  # every design meets this paragraph
        pick: dict[int, float] = {}
        for conds in options:
            z = nvar
            nvar += 1
            lo.append(0.0)
            hi.append(1.0)
            pick[z] = 1.0
            for coef, sense, rhs in conds:
                mn, mx = span(coef)
                row = {idx[k]: c for k, c in coef.items()}
                if sense == "<=":
                    big = max(mx - rhs, 0.0)
                    rows.append(({**row, z: big}, -np.inf, rhs + big))
                else:
                    big = max(rhs - mn, 0.0)
                    rows.append(({**row, z: -big}, rhs - big, np.inf))
        rows.append((pick, 1.0, np.inf))
    a = np.zeros((len(rows), nvar))
    for r, (coef, _, _) in enumerate(rows):
        for j, c in coef.items():
            a[r, j] = c
    lb = np.array([r[1] for r in rows])
    ub = np.array([r[2] for r in rows])
    integrality = np.array([0] * len(VARS) + [1] * (nvar - len(VARS)))
    var_bounds = Bounds(np.array(lo), np.array(hi))
    c = np.zeros(nvar)
    c[idx["t"]] = -1.0
    res = milp(c, constraints=LinearConstraint(a, lb, ub), integrality=integrality, bounds=var_bounds)
    if res.status != 0:
        return None
    best = float(res.x[idx["t"]])
    # Second stage: among the best designs, the most capable one (untested figures go to the catalog
    # maximum), so the answer shows what the rule leaves open.
    c2 = np.zeros(nvar)
    for k in ("tpp", "ic", "mbw", "mem"):
        c2[idx[k]] = -1.0 / max(hi[idx[k]], 1.0)
    keep = np.zeros((1, nvar))
    keep[0, idx["t"]] = 1.0
    res2 = milp(
        c2,
        constraints=[LinearConstraint(a, lb, ub), LinearConstraint(keep, best * (1 - 1e-7), np.inf)],
        integrality=integrality,
        bounds=var_bounds,
    )
    x = res2.x if res2.status == 0 else res.x
    spec = {k: float(x[idx[k]]) for k in VARS[:-1]}
    return Solution(spec, mdl.rate(spec)[0])


def design_chip(spec: dict[str, float], datacenter: bool, name: str = "best uncontrolled design") -> Chip:
    """The optimiser's design as a catalog record, so the exact classifier can check it."""

    def fig(v: float, digits: int = 3) -> dict[str, Any]:
        return {"value": str(round(v, digits)), "source": "chipex loophole search", "confidence": "estimate"}

    return Chip.model_validate(
        {
            "id": "loophole-design",
            "name": name,
            "vendor": "hypothetical",
            "family": "hypothetical",
            "datacenter": {"value": datacenter, "source": "design choice", "confidence": "estimate"},
            "dense_tops": {"fp16": fig(spec["tpp"] / 16, 6)},
            "die_area_mm2": fig(spec["area"]),
            "interconnect_gbps": fig(spec["ic"]),
            "memory_bandwidth_gbps": fig(spec["mbw"]),
            "memory_gb": fig(spec["mem"]),
        }
    )


# ---- explanation ----------------------------------------------------------------------------------


@dataclass
class Escape:
    paragraph: str
    fails: list[str]
    meets: list[str]


@dataclass
class Loophole:
    as_of: str
    rule_version: str | None
    text: str
    objective: str
    datacenter: bool
    spec: dict[str, float]
    performance_density: float
    usefulness_h100e: float
    binding: list[str]
    escapes: list[Escape]
    at_catalog_max: list[str]
    untested: list[str]
    leaks: list[str]
    leak_metrics: list[str]
    bounds: dict[str, dict[str, Any]]
    assumptions: list[str]
    classified_as: str | None
    reform: dict[str, Any] | None = None
    reform_candidates: int = 0
    reform_effect: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _explain(
    chip: Chip, text: EccnText, spec: dict[str, float], bounds: dict[str, Range], binding: list[str]
) -> tuple[list[Escape], list[str], list[str], list[str], list[str]]:
    m = measure(chip)
    escapes = []
    for para in text.paragraphs:
        if para.all and para.all[0].metric == "item" and para.all[0].is_ != "chip":
            continue
        res = [(p, *eval_prong(p, m)) for p in para.all if p.metric != "item"]
        escapes.append(Escape(para.id, [d for _, ok, d in res if ok is False], [d for _, ok, d in res if ok]))
    at_max = [VAR_METRIC[k] for k in ("tpp", "ic", "mbw", "mem") if spec[k] >= bounds[k].hi * 0.995]
    tested = {p.metric for para in text.paragraphs for p in para.all}
    untested = [
        mt
        for mt in ("tpp", "performance_density", "interconnect_gbps", "memory_bandwidth_gbps")
        if mt not in tested
    ]
    leaks, leak_metrics = [], []
    term_metric = {
        "memory bandwidth": "memory_bandwidth_gbps",
        "interconnect": "interconnect_gbps",
        "compute (TPP/16)": "tpp",
    }
    for label in binding:
        mt = term_metric.get(label)
        if mt in untested:
            leak_metrics.append(mt)
            leaks.append(
                f"{mt} is tested by no prong of {text.id}: the design takes it to the catalog maximum "
                f"({spec[METRIC_VAR[mt]]:,.0f}, {bounds[METRIC_VAR[mt]].hi_chip}) and its {label} sets the usefulness"
            )
    if "tpp" in at_max and "tpp" in tested:
        ways = sorted({d.split(":")[0] for e in escapes for d in e.fails})
        leak_metrics.extend(["tpp", *(w.split(" ")[0] for w in ways)])
        leaks.append(
            f"TPP at the catalog maximum ({spec['tpp']:,.0f}, {bounds['tpp'].hi_chip}) although {text.id} "
            f"tests TPP: every paragraph is escaped through {', '.join(ways)}"
        )
    if not leaks:
        leaks.append(
            f"no leak beyond the compute lines: the best design is held by {', '.join(binding)} at TPP "
            f"{spec['tpp']:,.0f}"
        )
    return escapes, at_max, untested, leaks, sorted(set(leak_metrics))


def find_loophole(
    on: dt.date,
    *,
    catalog: Catalog,
    rulebook: Rulebook,
    objective: Objective = "training",
    datacenter: bool = True,
    bounds_on: dt.date | None = None,
) -> Loophole:
    text = rulebook.eccns[ECCN].in_force(on)
    if text is None:
        raise ChipexError(f"no {ECCN} text in force on {on}: every design is uncontrolled")
    mdl = model(objective, catalog)
    bounds = catalog_bounds(catalog, bounds_on)
    sol = _solve(text, mdl, bounds, datacenter)
    if sol is None:
        raise ChipexError(f"no uncontrolled design within the catalog bounds under {text.id}")
    chip = design_chip(sol.spec, datacenter)
    cls = classify(chip, on, catalog=catalog, rulebook=rulebook)
    if cls.eccn is not None:
        raise ChipexError(
            f"internal check failed: the optimiser's design classifies as {cls.eccn} under {text.id}"
        )
    ref = mdl.rate(spec_of(catalog.get(mdl.reference)) or {})[0]
    rate, binding = mdl.rate(sol.spec)
    escapes, at_max, untested, leaks, leak_metrics = _explain(chip, text, sol.spec, bounds, binding)
    version = rulebook.version_on(on)
    return Loophole(
        as_of=on.isoformat(),
        rule_version=version.id if version else None,
        text=text.id,
        objective=objective,
        datacenter=datacenter,
        spec={k: round(v, 3) for k, v in sol.spec.items()},
        performance_density=round(sol.spec["tpp"] / sol.spec["area"], 3),
        usefulness_h100e=round(rate / ref, 4),
        binding=binding,
        escapes=escapes,
        at_catalog_max=at_max,
        untested=untested,
        leaks=leaks,
        leak_metrics=leak_metrics,
        bounds={k: asdict(r) for k, r in bounds.items()},
        assumptions=list(mdl.assumptions),
        classified_as=cls.eccn,
    )


# ---- reform search --------------------------------------------------------------------------------


@dataclass
class Candidate:
    reform: Reform
    family: str
    targets_leak: bool
    after_h100e: float
    consumer_changed: list[str]
    newly_controlled: list[str]


def _grid(values: list[float], below: float, limit: int = 12) -> list[float]:
    vals = sorted({v for v in values if 0 < v <= below}, reverse=True)
    if len(vals) <= limit:
        return vals
    step = len(vals) / limit
    return [vals[int(i * step)] for i in range(limit)]


def _candidates(text: EccnText, lp: Loophole, catalog: Catalog, on: dt.date) -> list[tuple[str, str, Reform]]:
    specs = [s for c in ics(catalog) if on_market(c, on) and (s := spec_of(c))]
    values = {
        "tpp": [s["tpp"] for s in specs],
        "interconnect_gbps": [s["ic"] for s in specs],
        "memory_bandwidth_gbps": [s["mbw"] for s in specs],
        "performance_density": [s["tpp"] / s["area"] for s in specs if s["area"]],
    }
    design = {
        **{mt: lp.spec[v] for mt, v in METRIC_VAR.items()},
        "performance_density": lp.performance_density,
    }
    path = ["texts", text.id, "paragraphs"]
    out: list[tuple[str, str, Reform]] = []

    def reform(name: str, desc: str, *changes: Change) -> Reform:
        return Reform(name=name, description=desc, changes=list(changes))

    for esc in lp.escapes:
        para = next(p for p in text.paragraphs if p.id == esc.paragraph)
        for prong in para.all:
            if prong.metric not in design or not any(d.startswith(prong.metric) for d in esc.fails):
                continue
            at = [*path, para.id, "all", prong.metric]
            out.append(
                (
                    f"remove {prong.metric} from {para.id}",
                    prong.metric,
                    reform(
                        f"Drop the {prong.metric} prong of {para.id}",
                        f"{para.id} of {text.id} without its '{prong.describe()}' prong.",
                        Change(file=f"eccn/{ECCN}.yaml", path=at, remove=True),
                    ),
                )
            )
            out.append(
                (
                    f"{prong.metric} -> datacenter in {para.id}",
                    prong.metric,
                    reform(
                        f"{para.id}: datacenter design instead of {prong.metric}",
                        f"{para.id} of {text.id} with '{prong.describe()}' replaced by 'designed or marketed for use in "
                        "datacenters', so consumer parts are untouched.",
                        Change(
                            file=f"eccn/{ECCN}.yaml",
                            path=at,
                            set={
                                "metric": "datacenter",
                                "is": True,
                                "at_least": None,
                                "more_than": None,
                                "less_than": None,
                                "at_most": None,
                                "text": "designed or marketed for use in datacenters (proposed)",
                            },
                        ),
                    ),
                )
            )
            lower = prong.bounds().get("at_least")
            if lower is None:
                continue
            for v in _grid(values[prong.metric], min(float(lower), design[prong.metric])):
                if v >= float(lower):
                    continue
                out.append(
                    (
                        f"lower {prong.metric} in {para.id}",
                        prong.metric,
                        reform(
                            f"{para.id}: {prong.metric} line at {v:g}",
                            f"{para.id} of {text.id} with the {prong.metric} line moved from {float(lower):g} to {v:g} "
                            "(a catalog chip's figure).",
                            Change(file=f"eccn/{ECCN}.yaml", path=at, set={"at_least": f"{v:.6g}"}),
                        ),
                    )
                )
    letter = text.paragraphs[0].id.split(".")[1] if "." in text.paragraphs[0].id else "a"
    n_a = sum(1 for p in text.paragraphs if p.id.startswith(f"{ECCN}.{letter}"))
    new_id = f"{ECCN}.{letter}.{n_a + 1}"
    for metric in ("memory_bandwidth_gbps", "interconnect_gbps", "tpp"):
        for v in _grid(values[metric], design[metric]):
            bound = f"{v:.6g}"
            out.append(
                (
                    f"new paragraph on {metric}",
                    metric,
                    reform(
                        f"New {new_id}: datacenter ICs with {metric} of {v:g} or more",
                        f"A paragraph added to {text.id}: integrated circuits designed or marketed for use in datacenters "
                        f"with {metric} of {v:g} or more (a catalog chip's figure).",
                        Change(
                            file=f"eccn/{ECCN}.yaml",
                            path=[*path],
                            after=text.paragraphs[-1].id,
                            add={
                                "id": new_id,
                                "text": f"(proposed) datacenter ICs with {metric} of {v:g} or more",
                                "all": [
                                    {"metric": "item", "is": "chip"},
                                    {"metric": "datacenter", "is": True},
                                    {"metric": metric, "at_least": bound},
                                ],
                            },
                        ),
                    ),
                )
            )
    return out


def search_reform(
    lp: Loophole,
    on: dt.date,
    *,
    raw: dict[str, Any],
    catalog: Catalog,
    rulebook: Rulebook,
    close: float = 0.5,
    bounds_on: dt.date | None = None,
) -> tuple[Candidate | None, int]:
    """The reform that brings the loophole design under control and cuts the best remaining design's
    usefulness to at most `close` times the loophole's, changing as few consumer chips (not designed
    or marketed for datacenters, on the market on `on`) as possible. Within a family of candidates
    (the same prong or paragraph, different thresholds) the least restrictive one that closes is kept;
    across families: fewest consumer chips changed, then one that acts on a leaking dimension, then
    fewest edits, then the lowest remaining usefulness. Datacenter chips it newly controls are listed,
    not minimised: catching the chips that use the leak is the point. A candidate that leaves a
    paragraph without any threshold (controlling every datacenter chip) is not considered."""
    text = rulebook.eccns[ECCN].in_force(on)
    assert text is not None
    design = design_chip(lp.spec, lp.datacenter)
    mdl = model(lp.objective, catalog)  # type: ignore[arg-type]
    bounds = catalog_bounds(catalog, bounds_on)
    ref = mdl.rate(spec_of(catalog.get(mdl.reference)) or {})[0]
    market = [c for c in ics(catalog) if on_market(c, on)]
    base = {c.id: classify(c, on, catalog=catalog, rulebook=rulebook).eccn for c in market}
    cands = _candidates(text, lp, catalog, on)
    best_by_family: dict[str, Candidate] = {}
    for family, metric, ref_form in cands:
        try:
            rb = build_rulebook(apply_reform(raw, ref_form, source="candidate"))
        except ChipexError:
            continue
        if classify(design, on, catalog=catalog, rulebook=rb).eccn is None:
            continue
        new_text = rb.eccns[ECCN].in_force(on)
        assert new_text is not None
        if any(all(_constant(p, True) is not None for p in para.all) for para in new_text.paragraphs):
            continue  # a paragraph with no threshold left would control every datacenter chip
        sol = _solve(new_text, mdl, bounds, lp.datacenter)
        after = (sol.rate / ref) if sol else 0.0
        closes = after <= close * lp.usefulness_h100e
        if not closes:
            continue
        now = {c.id: classify(c, on, catalog=catalog, rulebook=rb).eccn for c in market}
        consumer = [c.id for c in market if c.datacenter.value is False and now[c.id] != base[c.id]]
        newly = [c.id for c in market if c.datacenter.value is not False and base[c.id] is None and now[c.id]]
        cand = Candidate(ref_form, family, metric in lp.leak_metrics, round(after, 4), consumer, newly)
        kept = best_by_family.get(family)
        if kept is None or cand.after_h100e > kept.after_h100e:
            best_by_family[family] = cand
    ranked = sorted(
        best_by_family.values(),
        key=lambda c: (len(c.consumer_changed), not c.targets_leak, len(c.reform.changes), c.after_h100e),
    )
    return (ranked[0] if ranked else None), len(cands)


def loopholes(
    on: dt.date,
    *,
    raw: dict[str, Any],
    catalog: Catalog,
    rulebook: Rulebook,
    objective: Objective = "training",
    datacenter: bool = True,
    close: float = 0.5,
    bounds_on: dt.date | None = None,
    reform: bool = True,
) -> Loophole:
    """The best uncontrolled design under the rule in force on `on`, explained, with a proposed reform."""
    lp = find_loophole(
        on,
        catalog=catalog,
        rulebook=rulebook,
        objective=objective,
        datacenter=datacenter,
        bounds_on=bounds_on,
    )
    if not reform or not lp.leak_metrics:
        return lp
    best, n = search_reform(
        lp, on, raw=raw, catalog=catalog, rulebook=rulebook, close=close, bounds_on=bounds_on
    )
    lp.reform_candidates = n
    if best is not None:
        r = best.reform
        r.rationale = (
            f"Closes the {objective} loophole of {lp.text} found by `chipex loopholes --as-of {on}`: the best "
            f"uncontrolled design ({lp.usefulness_h100e:.2f} H100e) becomes controlled and the best remaining one "
            f"reaches {best.after_h100e:.2f} H100e (target: at most {close:g} x). Consumer chips changed: "
            f"{', '.join(best.consumer_changed) or 'none'}; datacenter chips newly controlled: "
            f"{', '.join(best.newly_controlled) or 'none'}."
        )
        r.citation = "chipex loophole search (hypothetical reform, not a rule)"
        lp.reform = r.model_dump(mode="json", exclude_none=True)
        lp.reform_effect = {
            "after_h100e": best.after_h100e,
            "consumer_changed": best.consumer_changed,
            "newly_controlled": best.newly_controlled,
            "family": best.family,
        }
    return lp
