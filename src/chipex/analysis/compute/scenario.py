"""'Did the controls bite?': a destination's stock of AI compute over time, by channel, in
H100-equivalents on a stated basis, against the compute of named training runs.

* Stock at the end of year t = sum of flows shipped in years <= t (and younger than the chips'
  lifetime, if one is given), each chip converted to H100e on the scenario's basis:
  training = dense peak at the reference precision / the reference chip's; decode = memory
  bandwidth / the reference chip's (the basis the H20 was designed around).
* A run needs FLOP_R x 2^(-(t - date_R) / halving) in year t for the same capability: the
  algorithmic-efficiency trend (compute for a fixed result halves every `halving_months`).
  Expressed as the H100e that would train it in `train_days` at `mfu`.
* Legal shipments carry their exposure window; these will come from the policy lab (`chipex
  windows`), and are read from the scenario file for now.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from chipex.analysis.compute import hardware, training
from chipex.analysis.compute.figures import Fig, as_float, cite
from chipex.analysis.compute.presets import (
    SCENARIO_DIR,
    FlowPreset,
    Presets,
    _Strict,
    check_sources,
    default_presets,
)
from chipex.analysis.compute.reproduce import reproduce
from chipex.catalog import Catalog, default_catalog
from chipex.catalog.model import Chip, Precision
from chipex.datafiles import read_yaml, validate
from chipex.errors import ChipexError

CHANNELS = ("legal", "smuggled", "domestic")
Basis = Literal["training", "decode"]
Case = Literal["low", "central", "high"]


class FlowRef(_Strict):
    preset: str


class Efficiency(_Strict):
    halving_months: Fig


class Scenario(_Strict):
    name: str
    destination: str
    first_year: int = Field(ge=2000, le=2100)
    last_year: int = Field(ge=2000, le=2100)
    basis: Basis = "training"
    reference_chip: str = "nvidia-h100-sxm"
    reference_precision: Precision = "bf16"
    lifetime_years: int | None = Field(None, gt=0)
    train_days: Fig
    mfu: Fig
    efficiency: Efficiency
    sources: dict[str, str] = Field(default_factory=dict)
    flows: list[FlowRef | FlowPreset] = Field(min_length=1)
    runs: list[str] = Field(default_factory=list)
    assumptions: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _years(self) -> Scenario:
        if self.last_year < self.first_year:
            raise ValueError("last_year is before first_year")
        if not 0 < self.mfu.central <= 1:
            raise ValueError("mfu must be in (0, 1]")
        return self


def load_scenario(path: Path, presets: Presets | None = None) -> tuple[Scenario, Presets]:
    """A scenario file (or the name of a shipped one), validated, with its own sources merged."""
    if not path.exists() and (SCENARIO_DIR / f"{path}.yaml").exists():
        path = SCENARIO_DIR / f"{path}.yaml"
    presets = presets or default_presets()
    scen = validate(Scenario, read_yaml(path), file=path)
    merged = Presets(presets.runs, presets.fleets, presets.flows, {**presets.sources, **scen.sources})
    check_sources(scen, merged.sources, file=path, record="scenario")
    for i, f in enumerate(scen.flows):
        if isinstance(f, FlowRef) and f.preset not in presets.flows:
            raise ChipexError(
                f"unknown flow preset '{f.preset}'", file=str(path), record=f"flows[{i}]", field="preset"
            )
    for i, r in enumerate(scen.runs):
        if r not in presets.runs:
            raise ChipexError(f"unknown run preset '{r}'", file=str(path), record=f"runs[{i}]")
    return scen, merged


@dataclass(frozen=True)
class FlowRow:
    flow: FlowPreset
    chip: Chip
    units: Fraction
    h100e_per_unit: dict[str, Fraction]  # basis -> H100e per chip
    per_unit_source: dict[str, hardware.Sourced]


@dataclass(frozen=True)
class RunNeed:
    id: str
    name: str
    date: dt.date
    flop: Fraction
    flop_from: str
    need: dict[int, Fraction]  # year -> H100e needed for a train_days run at mfu


@dataclass(frozen=True)
class Result:
    scenario: Scenario
    presets: Presets
    basis: Basis
    case: Case
    smuggling_scale: Fraction
    halving_months: Fraction
    flows: tuple[FlowRow, ...]
    stock: dict[int, dict[str, Fraction]]  # year -> channel -> H100e on the basis
    runs: tuple[RunNeed, ...]
    reference: Chip

    @property
    def years(self) -> list[int]:
        return sorted(self.stock)

    def total(self, year: int) -> Fraction:
        return sum(self.stock[year].values(), Fraction(0))

    def assumptions(self) -> list[dict[str, Any]]:
        s, src = self.scenario, self.presets.sources
        out = [
            {
                "what": "H100e basis",
                "value": f"{self.basis}: "
                + (
                    f"dense {s.reference_precision.upper()} peak / {self.reference.name}'s"
                    if self.basis == "training"
                    else f"memory bandwidth / {self.reference.name}'s"
                ),
            },
            {"what": "case for ranged flow figures", "value": self.case},
            {"what": "smuggling scale", "value": float(self.smuggling_scale)},
            {"what": "run duration (days)", **s.train_days.to_dict(src)},
            {"what": "MFU of a hypothetical run", **s.mfu.to_dict(src)},
            {
                "what": "algorithmic efficiency: months for compute to halve",
                "value_used": float(self.halving_months),
                **s.efficiency.halving_months.to_dict(src),
            },
            {"what": "chip lifetime (years)", "value": s.lifetime_years or "none (no retirement)"},
        ]
        out += [{"what": "note", "value": a} for a in s.assumptions]
        return out

    def to_dict(self) -> dict[str, Any]:
        src = self.presets.sources
        last = self.years[-1]
        return {
            "scenario": self.scenario.name,
            "destination": self.scenario.destination,
            "basis": self.basis,
            "unit": f"H100e ({self.reference.name}, {self.basis} basis)",
            "years": [
                {
                    "year": y,
                    **{c: as_float(self.stock[y][c]) for c in CHANNELS},
                    "total": as_float(self.total(y)),
                    "runs": {
                        r.id: {
                            "h100e_needed": as_float(r.need[y]),
                            "share_of_stock": as_float(r.need[y] / self.total(y)) if self.total(y) else None,
                        }
                        for r in self.runs
                    },
                }
                for y in self.years
            ],
            "flows": [
                {
                    "id": f.flow.id,
                    "name": f.flow.name,
                    "chip": f.chip.name,
                    "channel": f.flow.channel,
                    "year": f.flow.year,
                    "units": as_float(f.units),
                    "units_figure": f.flow.units.to_dict(src),
                    "h100e_per_unit": {b: as_float(v) for b, v in f.h100e_per_unit.items()},
                    "h100e_per_unit_sources": {b: v.to_dict() for b, v in f.per_unit_source.items()},
                    "window": None
                    if f.flow.window is None
                    else {
                        "start": f.flow.window.start.isoformat(),
                        "end": f.flow.window.end.isoformat() if f.flow.window.end else None,
                        "source": cite(f.flow.window.source, src),
                        "confidence": f.flow.window.confidence,
                        "note": f.flow.window.note,
                    },
                }
                for f in self.flows
            ],
            "runs": [
                {
                    "id": r.id,
                    "name": r.name,
                    "date": r.date.isoformat(),
                    "flop": as_float(r.flop),
                    "flop_from": r.flop_from,
                }
                for r in self.runs
            ],
            "final_year_share_by_channel": {
                c: as_float(self.stock[last][c] / self.total(last)) if self.total(last) else None
                for c in CHANNELS
            },
            "assumptions": self.assumptions(),
        }


def _year_end(year: int) -> dt.date:
    return dt.date(year, 12, 31)


def run_scenario(
    scen: Scenario,
    presets: Presets,
    *,
    catalog: Catalog | None = None,
    basis: Basis | None = None,
    case: Case = "central",
    smuggling_scale: Fraction = Fraction(1),
    halving_months: Fraction | None = None,
) -> Result:
    cat = catalog or default_catalog()
    if smuggling_scale < 0:
        raise ChipexError("cannot be negative", field="smuggling_scale")
    basis = basis or scen.basis
    ref = cat.get(scen.reference_chip)
    ref_peak = hardware.peak_flops(ref, scen.reference_precision, "train")
    ref_bw = hardware.memory_bandwidth(ref)
    rows: list[FlowRow] = []
    for f in scen.flows:
        flow = presets.flow(f.preset) if isinstance(f, FlowRef) else f
        chip = cat.get(flow.chip)
        units = flow.units.pick(case) * (smuggling_scale if flow.channel == "smuggled" else 1)
        per: dict[str, hardware.Sourced] = {
            "training": hardware.peak_flops(chip, scen.reference_precision, "train")
        }
        per["decode"] = hardware.memory_bandwidth(chip)
        ratios = {
            "training": per["training"].value / ref_peak.value,
            "decode": per["decode"].value / ref_bw.value,
        }
        rows.append(FlowRow(flow, chip, units, ratios, per))
    years = range(scen.first_year, scen.last_year + 1)
    stock: dict[int, dict[str, Fraction]] = {}
    for y in years:
        stock[y] = dict.fromkeys(CHANNELS, Fraction(0))
        for r in rows:
            alive = scen.lifetime_years is None or y - r.flow.year < scen.lifetime_years
            if r.flow.year <= y and alive:
                stock[y][r.flow.channel] += r.units * r.h100e_per_unit[basis]

    # `case` reads the ranged flow figures only; the run assumptions stay at their central values.
    halving = halving_months if halving_months is not None else scen.efficiency.halving_months.central
    if halving <= 0:
        raise ChipexError("must be positive", field="halving_months")
    one_h100_run = ref_peak.value * scen.mfu.central * scen.train_days.central * training.SECONDS_PER_DAY
    needs: list[RunNeed] = []
    for run_id in scen.runs:
        run = presets.run(run_id)
        rep = reproduce(run, catalog=cat)
        flop, flop_from = (run.flop.central, "published") if run.flop else (rep.flop_value, "computed (6ND)")
        if flop is None:
            raise ChipexError(f"run preset '{run_id}' has no FLOP (published or computable)", field="runs")
        need = {}
        for y in years:
            months = Fraction((_year_end(y) - run.date.value).days * 12, 365)
            # 2^(-months/halving) in float64: the exponent is rarely an integer.
            factor = Fraction(2 ** float(-months / halving))
            need[y] = flop * factor / one_h100_run
        needs.append(RunNeed(run.id, run.name, run.date.value, flop, flop_from, need))
    return Result(scen, presets, basis, case, smuggling_scale, halving, tuple(rows), stock, tuple(needs), ref)
