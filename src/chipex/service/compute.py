"""Compute accounting: chip equivalence and scenarios (train and serve stay with the CLI for now)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from chipex.errors import ChipexError
from chipex.service.common import Explained

_FLEET_ITEM = re.compile(r"^\s*(?:(\S+)\s*[x×]\s*(.+)|(\S+)\s+(.+))\s*$")
Case = Literal["low", "central", "high"]


class EquivRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: str = Field(description="the chip to express the fleet in, e.g. 'Ascend 910B'")
    from_: list[str] = Field(default_factory=list, alias="from", description="COUNT CHIP, e.g. '2048 H800'")
    fleet: str | None = Field(None, description="a fleet preset, e.g. deepseek-semianalysis")
    case: Case = "central"
    precision: list[str] | None = None
    serve_precision: str = "fp8"
    mfu_from: str = "1"
    mfu_to: str = "1"


def equiv(req: EquivRequest) -> Explained:
    """How many chips of one kind match a fleet: training, prefill (compute) and decode (bandwidth)."""
    from chipex.analysis.compute import equivalence
    from chipex.analysis.compute.figures import parse_quantity
    from chipex.analysis.compute.presets import default_presets
    from chipex.catalog import default_catalog

    cat = default_catalog()
    items = []
    for text in req.from_:
        m = _FLEET_ITEM.match(text)
        if not m:
            raise ChipexError(f"expected COUNT CHIP such as '2048 H800', got {text!r}", field="from")
        count, name = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        n = parse_quantity(count, "from")
        if n <= 0:
            raise ChipexError(f"a chip count must be positive, got {text!r}", field="from")
        items.append((cat.get(name), n))
    if req.fleet:
        fp = default_presets().fleet(req.fleet)
        items += [(cat.get(i.chip), i.count.pick(req.case)) for i in fp.items]
    if not items:
        raise ChipexError("give from: [COUNT CHIP, ...] or a fleet preset", field="from")
    eq = equivalence.equivalence(
        items,
        cat.get(req.to),
        training_precisions=tuple(req.precision or ("bf16", "fp8")),
        serve_precision=req.serve_precision,
        mfu_from=parse_quantity(req.mfu_from, "mfu_from"),
        mfu_to=parse_quantity(req.mfu_to, "mfu_to"),
    )
    return Explained(
        kind="equiv", explanation=f"fleet expressed in {req.to} on every basis", data=eq.to_dict()
    )


class ScenarioRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scenario: str = Field(description="a shipped scenario, e.g. china-2021-2026")
    basis: Literal["training", "decode"] | None = None
    case: Case = "central"
    smuggling_scale: str = "1"
    halving_months: str | None = None


def scenario(req: ScenarioRequest) -> Explained:
    """A destination's compute stock by channel against named training runs."""
    from chipex.analysis.compute.figures import parse_quantity
    from chipex.analysis.compute.presets import SCENARIO_DIR
    from chipex.analysis.compute.scenario import load_scenario, run_scenario
    from chipex.catalog import default_catalog

    shipped = {p.stem: p for p in SCENARIO_DIR.glob("*.yaml")}
    if req.scenario not in shipped:  # the API reads shipped scenarios only, never a server path
        raise ChipexError(
            f"unknown scenario '{req.scenario}' (shipped: {', '.join(sorted(shipped))})", field="scenario"
        )
    scen, presets = load_scenario(shipped[req.scenario])
    res = run_scenario(
        scen,
        presets,
        catalog=default_catalog(),
        basis=req.basis,
        case=req.case,
        smuggling_scale=parse_quantity(req.smuggling_scale, "smuggling_scale"),
        halving_months=parse_quantity(req.halving_months, "halving_months") if req.halving_months else None,
    )
    return Explained(
        kind="scenario", explanation=f"scenario {req.scenario}, case {req.case}", data=res.to_dict()
    )
