"""Presets: published training runs, fleets and chip flows, each figure sourced (data/*.yaml).

The schema lives here; the figures live in the YAML files. Loading validates every record and
names the file, record and field of a bad one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chipex.analysis.compute.figures import Fig, Mark, cite
from chipex.catalog.model import Precision
from chipex.datafiles import read_yaml, validate
from chipex.errors import ChipexError

DATA_DIR = Path(__file__).parent / "data"
SCENARIO_DIR = DATA_DIR / "scenarios"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DateFig(_Strict):
    value: dt.date
    source: str = Field(min_length=2)
    confidence: Mark
    note: str | None = None


class Phase(_Strict):
    """One row of a published cost table: GPU-hours, or GPUs x hours; and its published cost."""

    name: str
    gpu_hours: Fig | None = None
    gpus: Fig | None = None
    hours: Fig | None = None
    cost_usd: Fig | None = None

    @model_validator(mode="after")
    def _hours(self) -> Phase:
        if self.gpu_hours is None and (self.gpus is None or self.hours is None):
            raise ValueError("a phase needs gpu_hours, or gpus and hours")
        return self


class Architecture(_Strict):
    """What serving needs beyond parameter counts: the KV-cache layout and the expert routing."""

    source: str
    confidence: Mark
    attention: Literal["mha", "gqa", "mla"]
    layers: int = Field(gt=0)
    heads: int | None = Field(None, gt=0)
    kv_heads: int | None = Field(None, gt=0)
    head_dim: int | None = Field(None, gt=0)
    kv_lora_rank: int | None = Field(None, gt=0)
    rope_dim: int | None = Field(None, gt=0)
    routed_experts: int | None = Field(None, gt=0)
    experts_per_token: int | None = Field(None, gt=0)
    weights_precision: Precision
    weights_precision_source: str | None = None
    kv_precision: Precision


class RunPreset(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]*$")
    name: str
    date: DateFig
    summary: str
    architecture_kind: Literal["dense", "moe", "unknown"]
    total_params: Fig | None = None
    active_params: Fig | None = None
    tokens: Fig | None = None
    chip: str = Field(description="catalog id of the training chip")
    gpus: Fig | None = None
    precision: Precision | None = Field(None, description="the precision the run trained in")
    usd_per_gpu_hour: Fig | None = None
    flop_phase: str | None = Field(None, description="the phase whose GPU-hours the 6ND FLOP belong to")
    phases: list[Phase] = []
    total_gpu_hours: Fig | None = None
    total_cost_usd: Fig | None = None
    gpu_hours_per_trillion_tokens: Fig | None = None
    flop: Fig | None = None
    flop_per_token: Fig | None = None
    mfu: Fig | None = None
    mfu_basis: Precision | None = None
    days: Fig | None = None
    architecture: Architecture | None = None
    caveats: list[str] = []

    @model_validator(mode="after")
    def _consistent(self) -> RunPreset:
        if self.flop_phase is not None and self.flop_phase not in {p.name for p in self.phases}:
            raise ValueError(f"flop_phase '{self.flop_phase}' is not one of the phases")
        if self.mfu is not None and self.mfu_basis is None:
            raise ValueError("a published MFU needs its peak basis (mfu_basis)")
        return self


class FleetItem(_Strict):
    chip: str
    count: Fig


class FleetPreset(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]*$")
    name: str
    date: DateFig
    note: str | None = None
    items: list[FleetItem] = Field(min_length=1)


class Window(_Strict):
    """When a chip could be exported without a licence (later supplied by the policy lab)."""

    start: dt.date
    end: dt.date | None = None
    source: str
    confidence: Mark
    note: str | None = None


class FlowPreset(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]*$")
    name: str
    chip: str
    channel: Literal["legal", "smuggled", "domestic"]
    year: int = Field(ge=2000, le=2100)
    units: Fig
    window: Window | None = None

    @model_validator(mode="after")
    def _window(self) -> FlowPreset:
        if self.channel == "legal" and self.window is None:
            raise ValueError("a legal flow needs its exposure window")
        return self


@dataclass(frozen=True)
class Presets:
    runs: dict[str, RunPreset]
    fleets: dict[str, FleetPreset]
    flows: dict[str, FlowPreset]
    sources: dict[str, str]

    def cite(self, key: str) -> str:
        return cite(key, self.sources)

    def run(self, key: str) -> RunPreset:
        return _pick(self.runs, key, "run")

    def fleet(self, key: str) -> FleetPreset:
        return _pick(self.fleets, key, "fleet")

    def flow(self, key: str) -> FlowPreset:
        return _pick(self.flows, key, "flow")


def _pick(table: dict[str, Any], key: str, what: str) -> Any:
    if key in table:
        return table[key]
    raise ChipexError(f"unknown {what} preset '{key}' (known: {', '.join(table)})", field=what)


_KINDS = {"runs": RunPreset, "fleets": FleetPreset, "flows": FlowPreset}
SOURCES_FILE = DATA_DIR / "sources.yaml"


def read_sources(path: Path) -> dict[str, str]:
    data = read_yaml(path)
    sources = data.get("sources") if isinstance(data, dict) else None
    if not isinstance(sources, dict):
        raise ChipexError("expected 'sources:' mapping keys to citations", file=str(path), field="sources")
    return {str(k): str(v) for k, v in sources.items()}


def check_sources(item: BaseModel, sources: dict[str, str], *, file: Path, record: str) -> None:
    """Every `source` is a key of the sources file or a citation in words (catches typo'd keys)."""
    for name, value in item:
        if isinstance(value, BaseModel):
            check_sources(value, sources, file=file, record=record)
        elif isinstance(value, list):
            for v in value:
                if isinstance(v, BaseModel):
                    check_sources(v, sources, file=file, record=record)
        elif name.endswith("source") and isinstance(value, str) and value not in sources and " " not in value:
            raise ChipexError(f"unknown source key '{value}'", file=str(file), record=record, field=name)


def read_preset_file(path: Path, sources: dict[str, str]) -> dict[str, dict[str, Any]]:
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ChipexError("expected a mapping with 'runs', 'fleets' or 'flows'", file=str(path))
    unknown = set(data) - set(_KINDS)
    if unknown:
        raise ChipexError(f"unknown top-level keys: {', '.join(sorted(unknown))}", file=str(path))
    out: dict[str, dict[str, Any]] = {k: {} for k in _KINDS}
    for kind, model in _KINDS.items():
        for i, rec in enumerate(data.get(kind) or []):
            label = rec.get("id", i + 1) if isinstance(rec, dict) else i + 1
            item = validate(model, rec, file=path, record=label)
            check_sources(item, sources, file=path, record=item.id)
            out[kind][item.id] = item
    return out


def load_presets(paths: list[Path] | None = None, sources_file: Path = SOURCES_FILE) -> Presets:
    """The shipped presets (data/*.yaml besides sources.yaml), or the files given."""
    sources = read_sources(sources_file)
    files = paths if paths is not None else sorted(p for p in DATA_DIR.glob("*.yaml") if p != sources_file)
    merged: dict[str, dict[str, Any]] = {k: {} for k in _KINDS}
    for path in files:
        for kind, table in read_preset_file(path, sources).items():
            for key in table:
                if key in merged[kind]:
                    raise ChipexError(f"duplicate {kind[:-1]} id", file=str(path), record=key)
            merged[kind].update(table)
    return Presets(merged["runs"], merged["fleets"], merged["flows"], sources)


@cache
def default_presets() -> Presets:
    return load_presets()
