"""Reproduce a preset's published table by arithmetic, and show every gap.

Published figures are never overwritten: each check holds the computed value, the published figure
(with its source and confidence), the formula, and the gap, or whether a published bound or range
is respected.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from chipex.analysis.compute import hardware, training
from chipex.analysis.compute.figures import Fig, as_float, human
from chipex.analysis.compute.presets import Presets, RunPreset
from chipex.catalog import Catalog, default_catalog
from chipex.catalog.model import Chip

BASES = ("bf16", "fp8")


@dataclass(frozen=True)
class Check:
    key: str
    formula: str
    computed: Fraction
    published: Fig
    low: Fraction | None = None  # computed range when the inputs are ranges
    high: Fraction | None = None

    @property
    def gap(self) -> Fraction:
        return self.computed - self.published.central

    @property
    def gap_rel(self) -> Fraction | None:
        c = self.published.central
        return None if c == 0 else self.gap / c

    @property
    def verdict(self) -> str:
        p = self.published
        if p.bound == "upper":
            return "within bound" if self.computed <= p.central else "exceeds published bound"
        if p.bound == "lower":
            return "within bound" if self.computed >= p.central else "below published bound"
        if p.low is not None and p.high is not None:
            if self.low is not None and self.high is not None:
                overlap = self.low <= p.high and p.low <= self.high
                return "ranges overlap" if overlap else "ranges disjoint"
            return "within published range" if p.low <= self.computed <= p.high else "outside published range"
        return "exact" if self.gap == 0 else "gap"

    def to_dict(self, presets: Presets) -> dict[str, Any]:
        out = {
            "check": self.key,
            "formula": self.formula,
            "computed": as_float(self.computed),
            "published": self.published.to_dict(presets.sources),
            "gap": as_float(self.gap),
            "gap_pct": None if self.gap_rel is None else float(self.gap_rel * 100),
            "verdict": self.verdict,
        }
        if self.low is not None:
            out["computed_low"], out["computed_high"] = as_float(self.low), as_float(self.high)
        return out


@dataclass(frozen=True)
class PhaseRow:
    name: str
    gpu_hours: Fraction
    gpu_hours_derived: bool  # GPUs x hours, not a published GPU-hour figure
    cost_usd: Fraction | None


@dataclass(frozen=True)
class Reproduction:
    run: RunPreset
    chip: Chip
    usd_per_gpu_hour: Fraction | None
    price_from_preset: bool
    flop: training.Flop | None
    fleet_flop: tuple[Fraction, Fraction, Fraction] | None  # central, low, high (GPT-4 style)
    phases: tuple[PhaseRow, ...]
    gpu_hours: Fraction | None
    flop_gpu_hours: Fraction | None
    implied: dict[str, Any]
    checks: tuple[Check, ...]

    @property
    def flop_value(self) -> Fraction | None:
        if self.flop is not None:
            return self.flop.model
        return self.fleet_flop[0] if self.fleet_flop else None

    @property
    def gpus(self) -> Fraction | None:
        return self.run.gpus.central if self.run.gpus else None

    @property
    def days(self) -> Fraction | None:
        if self.gpu_hours is None or self.gpus is None:
            return None
        return self.gpu_hours / (self.gpus * 24)

    @property
    def cost_usd(self) -> Fraction | None:
        if self.gpu_hours is None or self.usd_per_gpu_hour is None:
            return None
        return self.gpu_hours * self.usd_per_gpu_hour

    def to_dict(self, presets: Presets) -> dict[str, Any]:
        r = self.run
        published = {
            name: fig.to_dict(presets.sources)
            for name in (
                "total_params",
                "active_params",
                "tokens",
                "gpus",
                "usd_per_gpu_hour",
                "total_gpu_hours",
                "total_cost_usd",
                "gpu_hours_per_trillion_tokens",
                "flop",
                "flop_per_token",
                "mfu",
                "days",
            )
            if (fig := getattr(r, name)) is not None
        }
        if r.mfu_basis:
            published["mfu_basis"] = r.mfu_basis
        published["phases"] = [
            {
                k: v.to_dict(presets.sources)
                for k in ("gpu_hours", "gpus", "hours", "cost_usd")
                if (v := getattr(p, k))
            }
            | {"name": p.name}
            for p in r.phases
        ]
        return {
            "preset": r.id,
            "name": r.name,
            "date": {
                "value": r.date.value.isoformat(),
                "source": presets.cite(r.date.source),
                "confidence": r.date.confidence,
            },
            "chip": self.chip.name,
            "chip_id": self.chip.id,
            "gpus": as_float(self.gpus),
            "precision": r.precision,
            "flop": as_float(self.flop_value),
            **({"flop_terms": self.flop.to_dict()["flop_terms"]} if self.flop else {}),
            "gpu_hours": as_float(self.gpu_hours),
            "days": as_float(self.days),
            "usd_per_gpu_hour": as_float(self.usd_per_gpu_hour),
            "usd_per_gpu_hour_from": "preset" if self.price_from_preset else "--usd-per-gpu-hour",
            "cost_usd": as_float(self.cost_usd),
            "cost_table": [
                {
                    "phase": p.name,
                    "gpu_hours": as_float(p.gpu_hours),
                    "gpu_hours_derived": p.gpu_hours_derived,
                    "cost_usd": as_float(p.cost_usd),
                }
                for p in self.phases
            ],
            "implied_mfu": {
                basis: {"mfu": as_float(v["mfu"]), "peak_flop_per_s": v["peak"].to_dict()}
                for basis, v in self.implied.items()
                if basis != "achieved_flop_per_s_per_gpu"
            },
            "achieved_flop_per_s_per_gpu": as_float(self.implied.get("achieved_flop_per_s_per_gpu")),
            "implied_mfu_gpu_hours": as_float(self.flop_gpu_hours),
            "published": published,
            "checks": [c.to_dict(presets) for c in self.checks],
            "caveats": list(r.caveats),
        }


def reproduce(
    run: RunPreset, *, catalog: Catalog | None = None, usd_per_gpu_hour: Fraction | None = None
) -> Reproduction:
    chip = (catalog or default_catalog()).get(run.chip)
    from_preset = usd_per_gpu_hour is None
    price = (
        usd_per_gpu_hour
        if usd_per_gpu_hour is not None
        else (run.usd_per_gpu_hour.central if run.usd_per_gpu_hour else None)
    )
    checks: list[Check] = []
    phases: list[PhaseRow] = []
    for ph in run.phases:
        derived = ph.gpu_hours is None
        gh = ph.gpus.central * ph.hours.central if derived else ph.gpu_hours.central  # type: ignore[union-attr]
        cost = gh * price if price is not None else None
        phases.append(PhaseRow(ph.name, gh, derived, cost))
        if cost is not None and ph.cost_usd is not None:
            checks.append(
                Check(f"cost: {ph.name}", f"{human(gh)} GPU-h x ${human(price)}", cost, ph.cost_usd)
            )
    gpu_hours: Fraction | None = sum((p.gpu_hours for p in phases), Fraction(0)) if phases else None
    if phases and run.total_gpu_hours is not None:
        terms = " + ".join(human(p.gpu_hours) for p in phases)
        checks.append(Check("total GPU-hours", f"{terms}", gpu_hours, run.total_gpu_hours))  # type: ignore[arg-type]
    if gpu_hours is None and run.total_gpu_hours is not None:
        gpu_hours = run.total_gpu_hours.central

    tokens = run.tokens.central if run.tokens else None
    flop_gpu_hours = next((p.gpu_hours for p in phases if p.name == run.flop_phase), None) or gpu_hours
    if run.gpu_hours_per_trillion_tokens is not None and tokens is not None:
        per_t = run.gpu_hours_per_trillion_tokens.central * tokens / 10**12
        target = next((ph.gpu_hours for ph in run.phases if ph.name == run.flop_phase), None)
        if target is not None:
            formula = f"{human(run.gpu_hours_per_trillion_tokens.central)} GPU-h/T x {human(tokens / 10**12)}T tokens"
            checks.append(
                Check(f"GPU-hours per trillion tokens x tokens vs {run.flop_phase}", formula, per_t, target)
            )
        if gpu_hours is None:
            gpu_hours = flop_gpu_hours = per_t

    fleet_flop = None
    if run.gpus and run.days and run.mfu and run.mfu_basis and tokens is None:
        peak = hardware.peak_flops(chip, run.mfu_basis, "basis").value
        fleet_flop = tuple(
            run.gpus.pick(case) * peak * run.mfu.pick(case) * run.days.pick(case) * training.SECONDS_PER_DAY
            for case in ("central", "low", "high")
        )
        if gpu_hours is None:
            gpu_hours = run.gpus.central * run.days.central * 24
        if run.flop is not None:
            formula = f"GPUs x {run.mfu_basis.upper()} peak x MFU x days x 86400"
            checks.append(
                Check(
                    "FLOP from fleet x time x MFU",
                    formula,
                    fleet_flop[0],
                    run.flop,
                    fleet_flop[1],
                    fleet_flop[2],
                )
            )

    if price is not None and gpu_hours is not None and run.total_cost_usd is not None:
        checks.append(
            Check(
                "total cost",
                f"{human(gpu_hours)} GPU-h x ${human(price)}",
                gpu_hours * price,
                run.total_cost_usd,
            )
        )

    flop = None
    if run.active_params is not None and tokens is not None:
        flop = training.training_flop(run.active_params.central, tokens)
        n, d = human(run.active_params.central), human(tokens)
        if run.flop is not None:
            checks.append(Check("FLOP (6ND) vs published FLOP", f"6 x {n} x {d}", flop.model, run.flop))
        if run.flop_per_token is not None:
            pub = run.flop_per_token
            checks.append(
                Check("FLOP per token (6N) vs published", f"6 x {n}", 6 * run.active_params.central, pub)
            )

    implied: dict[str, Any] = {}
    if flop is not None and flop_gpu_hours:
        implied = training.implied_mfu(flop.model, flop_gpu_hours, chip, BASES)
        implied["achieved_flop_per_s_per_gpu"] = training.achieved_flop_per_s_per_gpu(
            flop.model, flop_gpu_hours
        )
        if run.mfu is not None and run.mfu_basis in implied:
            formula = f"6ND / ({human(flop_gpu_hours)} GPU-h x 3600) / {run.mfu_basis.upper()} peak"
            checks.append(
                Check(f"implied MFU ({run.mfu_basis} basis)", formula, implied[run.mfu_basis]["mfu"], run.mfu)
            )

    if run.days is not None and run.gpus is not None and flop_gpu_hours is not None and fleet_flop is None:
        days = flop_gpu_hours / (run.gpus.central * 24)
        what = run.flop_phase or "training"
        checks.append(
            Check(
                f"{what} wall-clock days",
                f"{human(flop_gpu_hours)} GPU-h / ({human(run.gpus.central)} x 24)",
                days,
                run.days,
            )
        )

    return Reproduction(
        run,
        chip,
        price,
        from_preset,
        flop,
        fleet_flop,
        tuple(phases),
        gpu_hours,
        flop_gpu_hours,
        implied,
        tuple(checks),
    )
