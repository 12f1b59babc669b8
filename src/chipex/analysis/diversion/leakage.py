"""How much AI compute reached China, by route, in H100-equivalents on chipex's own TPP figures.

Routes: `stockpile` (chips bought licence-free in the lag windows), `licensed` (sales under licence),
`smuggling`, `domestic` (Huawei Ascend). Inputs are flows of one chip in one year
(data/leakage.yaml); where the compute lab's flow presets (compute/data/flows.yaml) hold the
figure, it is used from there. Every input is a distribution given by (low, median, high): a
"split-uniform" draw, uniform on [low, median] with probability 1/2 and on [median, high] with
probability 1/2, so each input's median and bounds are its source's. Draws are independent and
seeded (numpy's PCG64); outputs are the 5th, 50th and 95th percentiles, beside three deterministic
cases (all inputs low, all median, all high).

* H100e per chip = TPP(chip) / TPP(H100 SXM), TPP from the catalog (Technical Note to 3A090).
* The domestic route is capped by HBM: Ascend packages of all years together <= HBM stacks /
  stacks per package; the share of draws where the cap binds is reported.
* Countermeasures (rules/measures.yaml, e.g. added by the location-verification reform) multiply
  a route's flows dated in or after their effective year by (1 - reduction).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from chipex.analysis.compute.figures import Fig, cite
from chipex.analysis.compute.presets import Presets, default_presets
from chipex.catalog import Catalog, default_catalog
from chipex.catalog.model import Chip
from chipex.core.classify import measure
from chipex.datafiles import read_yaml, validate
from chipex.errors import ChipexError
from chipex.rules import active_reforms, load_raw
from chipex.rules.model import RuleConfidence

DATA_FILE = Path(__file__).parent / "data" / "leakage.yaml"
ROUTES = ("stockpile", "licensed", "smuggling", "domestic")
Route = Literal["stockpile", "licensed", "smuggling", "domestic"]
QUANTILES = (5, 50, 95)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Entry(_Strict):
    id: str
    route: Route
    name: str
    flow: str | None = Field(None, description="a flow preset of compute/data/flows.yaml")
    chip: str | None = None
    year: int | None = Field(None, ge=2000, le=2100)
    units: Fig | None = None

    @model_validator(mode="after")
    def _source(self) -> Entry:
        if (self.flow is None) == (self.units is None):
            raise ValueError(
                "an entry names a flow preset or gives its own units (with chip and year), not both"
            )
        if self.units is not None and (self.chip is None or self.year is None):
            raise ValueError("an entry with its own units needs chip and year")
        return self


class HbmConstraint(_Strict):
    stacks: Fig
    stacks_per_package: Fig


class LeakageData(_Strict):
    sources: dict[str, str] = {}
    reference_chip: str
    entries: list[Entry] = Field(min_length=1)
    hbm_constraint: HbmConstraint


class Measure(_Strict):
    id: str
    effective: dt.date
    route: Route
    reduction: float = Field(ge=0, le=1, description="share of the route the measure stops")
    citation: str
    confidence: RuleConfidence


class Measures(_Strict):
    measures: list[Measure] = []


def measures_in_force() -> list[Measure]:
    """rules/measures.yaml under the active reforms (`--reform`), validated."""
    raw = load_raw()
    if active_reforms():
        from chipex.rules.reform import apply_reforms

        raw = apply_reforms(raw, active_reforms())
    return validate(Measures, raw.get("measures.yaml"), file="measures.yaml").measures


@dataclass(frozen=True)
class Flow:
    entry: Entry
    chip: Chip
    year: int
    units: Fig
    h100e_per_unit: Fraction
    factor: Fraction  # the countermeasures' product of (1 - reduction)


def _resolve(data: LeakageData, presets: Presets, catalog: Catalog, measures: list[Measure]) -> list[Flow]:
    ref_tpp = measure(catalog.get(data.reference_chip)).tpp
    out = []
    for e in data.entries:
        if e.flow is not None:
            p = presets.flow(e.flow)
            chip_id, year, units = p.chip, p.year, p.units
        else:
            chip_id, year, units = e.chip, e.year, e.units
        chip = catalog.get(chip_id)
        tpp = measure(chip).tpp
        if tpp is None or not ref_tpp:
            raise ChipexError(f"no TPP for {chip.name}: cannot count it in H100e", record=e.id)
        factor = Fraction(1)
        for m in measures:
            if m.route == e.route and m.effective.year <= year:
                factor *= 1 - Fraction(str(m.reduction))
        out.append(Flow(e, chip, year, units, tpp / ref_tpp, factor))
    return out


def _bounds(f: Fig) -> tuple[float, float, float]:
    mid = float(f.central)
    return (float(f.low) if f.low is not None else mid, mid, float(f.high) if f.high is not None else mid)


def draw(f: Fig, rng: np.random.Generator, n: int) -> np.ndarray:
    """Split-uniform draws: median and bounds are the figure's."""
    lo, mid, hi = _bounds(f)
    u = rng.random(n)
    return np.where(u < 0.5, lo + (mid - lo) * 2 * u, mid + (hi - mid) * (2 * u - 1))


@dataclass(frozen=True)
class Leakage:
    flows: tuple[Flow, ...]
    units: dict[str, np.ndarray]  # entry id -> draws (after measures and the HBM cap)
    cases: dict[str, dict[str, float]]  # low / central / high -> entry id -> units
    hbm_cap: float
    hbm_binding_share: float
    measures: tuple[Measure, ...]
    sources: dict[str, str]
    draws: int
    seed: int

    def h100e(self, ids: list[str]) -> np.ndarray:
        per = {f.entry.id: float(f.h100e_per_unit) for f in self.flows}
        return sum((self.units[i] * per[i] for i in ids), np.zeros(self.draws))

    def case_h100e(self, case: str, ids: list[str]) -> float:
        per = {f.entry.id: float(f.h100e_per_unit) for f in self.flows}
        return sum(self.cases[case][i] * per[i] for i in ids)

    def _ids(self, route: str | None = None, year: int | None = None) -> list[str]:
        return [
            f.entry.id
            for f in self.flows
            if (route is None or f.entry.route == route) and (year is None or f.year <= year)
        ]

    def summary(self, ids: list[str]) -> dict[str, Any]:
        qs = np.percentile(self.h100e(ids), QUANTILES) if ids else [0.0] * len(QUANTILES)
        return {
            **{f"p{q}": round(float(v), 1) for q, v in zip(QUANTILES, qs, strict=True)},
            **{case: round(float(self.case_h100e(case, ids)), 1) for case in ("low", "central", "high")},
        }

    def years(self) -> list[int]:
        return sorted({f.year for f in self.flows})

    def to_dict(self) -> dict[str, Any]:
        src = self.sources
        return {
            "unit": "H100e (TPP / H100 SXM TPP, chipex's catalog)",
            "method": "split-uniform draws per input (median and bounds from the source), independent, "
            f"seeded; {self.draws:,} draws, seed {self.seed}; p5/p50/p95 beside all-low/central/high cases",
            "routes": {r: self.summary(self._ids(r)) for r in ROUTES},
            "total": self.summary(self._ids()),
            "cumulative_by_year": {
                y: {r: self.summary(self._ids(r, y))["central"] for r in ROUTES} for y in self.years()
            },
            "inputs": [
                {
                    "id": f.entry.id,
                    "route": f.entry.route,
                    "name": f.entry.name,
                    "chip": f.chip.name,
                    "year": f.year,
                    "from_flow_preset": f.entry.flow,
                    "units": f.units.to_dict(src),
                    "h100e_per_unit": round(float(f.h100e_per_unit), 4),
                    "countermeasure_factor": float(f.factor),
                    "units_p50": round(float(np.percentile(self.units[f.entry.id], 50)), 1),
                }
                for f in self.flows
            ],
            "hbm_constraint": {
                "cap_packages": self.hbm_cap,
                "binding_share_of_draws": round(self.hbm_binding_share, 4),
                "binds_in_high_case": bool(
                    sum(self.cases["high"][i] for i in self._ids("domestic")) >= self.hbm_cap - 0.5
                ),
            },
            "measures": [m.model_dump(mode="json") for m in self.measures],
            "sources": {k: cite(k, src) for k in sorted({f.units.source for f in self.flows})},
            "not_counted": [
                "remote access to compute abroad (e.g. Chinese firms renting clusters in South-East Asia)",
                "TSMC-made Ascend dies beyond the packages counted (the die bank is not a separate route)",
                "smuggling in 2023 (CNAS 2023 covers one pathway only and must not be added to 2024's)",
                "chips retired or lost: stocks are cumulative flows",
            ],
        }


def _cap(domestic: dict[str, np.ndarray | float], cap: float) -> tuple[dict, np.ndarray | bool]:
    total = sum(domestic.values())
    scale = np.minimum(1.0, cap / np.maximum(total, 1e-9))
    return {k: v * scale for k, v in domestic.items()}, total > cap


def leakage(
    *,
    catalog: Catalog | None = None,
    presets: Presets | None = None,
    path: Path = DATA_FILE,
    draws: int = 20_000,
    seed: int = 2025,
    measures: list[Measure] | None = None,
) -> Leakage:
    if draws < 100:
        raise ChipexError("at least 100 draws", field="draws")
    cat = catalog or default_catalog()
    pre = presets or default_presets()
    data = validate(LeakageData, read_yaml(path), file=path)
    sources = {**pre.sources, **data.sources}
    ms = measures if measures is not None else measures_in_force()
    flows = _resolve(data, pre, cat, ms)
    rng = np.random.default_rng(seed)
    units = {f.entry.id: draw(f.units, rng, draws) * float(f.factor) for f in flows}
    cases = {
        case: {f.entry.id: _bounds(f.units)[i] * float(f.factor) for f in flows}
        for i, case in enumerate(("low", "central", "high"))
    }
    hbm = data.hbm_constraint
    cap = float(hbm.stacks.central / hbm.stacks_per_package.central)
    dom = [f.entry.id for f in flows if f.entry.route == "domestic"]
    capped, binding = _cap({i: units[i] for i in dom}, cap)
    units.update(capped)
    for case in cases:
        cases[case].update(_cap({i: cases[case][i] for i in dom}, cap)[0])
    share = float(np.mean(binding)) if dom else 0.0
    return Leakage(tuple(flows), units, cases, cap, share, tuple(ms), sources, draws, seed)
