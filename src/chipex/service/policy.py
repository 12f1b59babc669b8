"""The policy lab: rule diffs, near-misses, loopholes, exposure windows and the charts' data."""

from __future__ import annotations

import datetime as dt
import threading
from fractions import Fraction
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from chipex.errors import ChipexError
from chipex.service.common import Explained, Regime


def _reform_note() -> list[str]:
    from chipex.rules import active_reforms
    from chipex.rules.reform import load_reform

    return [f"{p} ({load_reform(p).name})" for p in active_reforms()]


def _on(key: str) -> dt.date:
    from chipex.analysis.policy.common import resolve_date
    from chipex.rules import default_rulebook

    return resolve_date(key, default_rulebook())[0]


class DiffRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    a: str = Field(description="date or rule version (baseline rulebook)")
    b: str = Field(description="date or rule version (the active rulebook: with any reform)")


def diff(req: DiffRequest) -> Explained:
    """Every catalog item whose status differs between A and B, and the prong that moved it."""
    from chipex.analysis.policy.common import resolve_date
    from chipex.analysis.policy.diff import diff as run
    from chipex.analysis.policy.diff import summary_line
    from chipex.catalog import default_catalog
    from chipex.rules import default_rulebook, load_rulebook

    base, active = load_rulebook(), default_rulebook()
    d = run(
        resolve_date(req.a, base),
        resolve_date(req.b, active),
        catalog=default_catalog(),
        rulebook_a=base,
        rulebook_b=active,
        reforms=_reform_note(),
    )
    return Explained(kind="diff", explanation=summary_line(d), data=d.to_dict())


class NearMissRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    as_of: str = "today"
    margin: float = Field(0.10, ge=0, le=1, description="flag a chip within this fraction under a line")
    history: bool = Field(False, description="every 3A090 text from each chip's release on")


def near_misses(req: NearMissRequest) -> Explained:
    """Chips designed to the line: the margin under each prong, and what a cut-down variant keeps."""
    from chipex.analysis.policy import nearmiss
    from chipex.catalog import default_catalog
    from chipex.rules import default_rulebook

    cat, rb, m = default_catalog(), default_rulebook(), Fraction(str(req.margin))
    if req.history:
        rows = nearmiss.near_miss_history(catalog=cat, rulebook=rb, margin=m)
    else:
        rows = nearmiss.near_misses(_on(req.as_of), catalog=cat, rulebook=rb, margin=m)
    flagged = sum(1 for n in rows if n.flagged)
    return Explained(
        kind="near-misses",
        explanation=f"{len(rows)} chips under a line, {flagged} within {req.margin:.0%}",
        data={"margin": req.margin, "reforms": _reform_note(), "near_misses": [n.to_dict() for n in rows]},
    )


class LoopholeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    as_of: str = "today"
    objective: Literal["training", "inference", "both"] = "both"
    close: float = Field(0.5, gt=0, le=1, description="a reform closes the leak below this usefulness")
    bounds_as_of: str | None = Field(
        None, description="catalog bounds from chips released by this date; 'all'"
    )
    consumer: bool = False


def loopholes(req: LoopholeRequest) -> Explained:
    """The most useful design the rule lets through, the dimension that leaks, and the reform that closes it."""
    from chipex.analysis.policy import loopholes as lh
    from chipex.catalog import default_catalog
    from chipex.core.classify import parse_date
    from chipex.rules import active_reforms, default_rulebook, load_raw
    from chipex.rules.reform import apply_reforms

    objectives = {"both": ["training", "inference"], "training": ["training"], "inference": ["inference"]}
    on = _on(req.as_of)
    bounds_on = (
        None if req.bounds_as_of == "all" else (parse_date(req.bounds_as_of) if req.bounds_as_of else on)
    )
    raw = apply_reforms(load_raw(), active_reforms()) if active_reforms() else load_raw()
    found = [
        lh.loopholes(
            on,
            raw=raw,
            catalog=default_catalog(),
            rulebook=default_rulebook(),
            objective=o,
            datacenter=not req.consumer,
            close=req.close,
            bounds_on=bounds_on,
        )
        for o in objectives[req.objective]
    ]
    return Explained(
        kind="loopholes",
        explanation=f"MILP search (scipy HiGHS) of the uncontrolled set on {on}, {req.objective}",
        data={"reforms": _reform_note(), "loopholes": [lp.to_dict() for lp in found], "written": []},
    )


class WindowsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    destination: list[str] = Field(default_factory=lambda: ["CN"])
    chip: list[str] | None = None
    until: dt.date | None = None
    regime: Regime = "as-enforced"


def windows(req: WindowsRequest) -> Explained:
    """Dated licence-free windows per chip and destination, with the compute shipped in them (H100e).

    The order checker runs a book of every chip on every rule-change date for this (seconds), so the
    answer is kept per request, per rulebook and catalog (the objects `default_rulebook()` and
    `default_catalog()` return: a reform or a reloaded catalog is a new one) and per shipments file
    (its mtime): computed once, then a copy of it. One computation at a time; a second caller of the
    same request waits for it rather than repeating it."""
    from chipex.analysis.policy import windows as win
    from chipex.catalog import default_catalog
    from chipex.rules import default_rulebook

    rulebook, cat = default_rulebook(), default_catalog()
    until = req.until or dt.date.today()
    key = (
        tuple(req.destination), tuple(req.chip or ()), until, req.regime,
        win.SHIPMENTS_FILE.stat().st_mtime_ns,
    )  # fmt: skip
    with _WINDOWS_LOCK:
        hit = _WINDOWS.get(key)
        if hit is None or hit[0] is not rulebook or hit[1] is not cat:
            hit = (rulebook, cat, _windows(req, until, rulebook, cat))
            _WINDOWS[key] = hit
            while len(_WINDOWS) > _WINDOWS_KEPT:
                _WINDOWS.pop(next(iter(_WINDOWS)))
    return hit[2].model_copy(deep=True)


_WINDOWS: dict[tuple, tuple[object, object, Explained]] = {}  # oldest first
_WINDOWS_KEPT = 8
_WINDOWS_LOCK = threading.Lock()


def _windows(req: WindowsRequest, until: dt.date, rulebook, cat) -> Explained:
    from chipex.analysis.policy import windows as win
    from chipex.rules import active_reforms, load_rulebook

    kw = {
        "catalog": cat,
        "destinations": req.destination,
        "shipments": win.load_shipments(win.SHIPMENTS_FILE, cat),
        "regime": req.regime,
        "until": until,
        "chips": req.chip,
    }
    rows = win.exposure_windows(rulebook=rulebook, **kw)
    baseline = win.exposure_windows(rulebook=load_rulebook(), **kw) if active_reforms() else None
    total = sum(e.h100e for e in rows)
    return Explained(
        kind="windows",
        explanation=f"compute delivered inside windows: {total:,.0f} H100e (TPP basis; shipments are estimates)",
        data={
            "reforms": _reform_note(),
            "exposures": [e.to_dict() for e in rows],
            "baseline": [e.to_dict() for e in baseline] if baseline is not None else None,
        },
    )


def warm_windows(stop: threading.Event | None = None) -> None:
    """Compute today's default windows (the policy lab's) now, and again after each midnight until
    `stop` is set: a server runs this in a background thread so no page waits for it."""
    import logging

    while True:
        today = dt.date.today()
        try:
            windows(WindowsRequest(until=today))
        except Exception:  # the page that asks later shows the error; the server carries on
            logging.getLogger(__name__).exception("warming the policy lab's exposure windows failed")
        midnight = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(0, 0, 5))
        if stop is None or stop.wait(max(1.0, (midnight - dt.datetime.now()).total_seconds())):
            return


class PlaneRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    as_of: str = "today"


def plane(req: PlaneRequest) -> Explained:
    """The data behind the TPP x performance-density chart: every chip's figures and status, and the
    rule's lines (each prong's bound) on the date."""
    from chipex.rules import default_rulebook

    on = _on(req.as_of)
    data = _plane(on, default_rulebook())
    return Explained(
        kind="plane",
        explanation=f"{len(data['chips'])} chips classified on {on} under {data['text'] or 'no 3A090 text'}",
        data=data,
    )


def _plane(on: dt.date, rulebook) -> dict:
    from chipex.catalog import default_catalog
    from chipex.core.classify import classify

    cat = default_catalog()
    chips = []
    for c in cat:
        if c.kind == "system":
            continue
        r = classify(c, on, catalog=cat, rulebook=rulebook)
        chips.append(
            {
                "id": c.id,
                "name": c.name,
                "vendor": c.vendor,
                "tpp": r.tpp,
                "performance_density": r.performance_density,
                "datacenter": r.datacenter,
                "eccn": r.eccn,
                "released": c.released.value.isoformat() if c.released else None,
            }
        )
    text = rulebook.eccns["3A090"].in_force(on)
    lines = []
    for para in text.paragraphs if text else []:
        for prong in para.all:
            if prong.metric in ("tpp", "performance_density"):
                lines += [
                    {"paragraph": para.id, "metric": prong.metric, "bound": k, "value": float(v)}
                    for k, v in prong.bounds().items()
                ]
    return {"as_of": on.isoformat(), "text": text.id if text else None, "chips": chips, "lines": lines}


class ReformRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    as_of: str = "today"
    reform: str = Field(max_length=200_000, description="a reform file's YAML text (chipex --reform)")
    name: str = Field("reform.yaml", max_length=200, description="the file's name, for messages")


def reform(req: ReformRequest) -> Explained:
    """The plane on a date under the rule data as shipped and with one reform applied, side by side,
    and every catalog item whose status the reform changes (the reform is applied to this request
    only, never to the process's rulebook)."""
    import tempfile
    from pathlib import Path

    from chipex.analysis.policy.common import resolve_date
    from chipex.analysis.policy.diff import diff as run
    from chipex.analysis.policy.diff import summary_line
    from chipex.catalog import default_catalog
    from chipex.rules import build_rulebook, load_raw, load_rulebook
    from chipex.rules.reform import apply_reforms, load_reform

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / (Path(req.name).name or "reform.yaml")
        path.write_text(req.reform, encoding="utf-8")
        try:
            meta = load_reform(path)
            reformed = build_rulebook(apply_reforms(load_raw(), [path]))
        except ChipexError as exc:
            exc.file = req.name  # not the temporary copy's path
            raise
    base = load_rulebook()
    on, label = resolve_date(req.as_of, base)
    d = run((on, label), (on, label), catalog=default_catalog(), rulebook_a=base, rulebook_b=reformed,
            reforms=[meta.name])  # fmt: skip
    return Explained(
        kind="reform",
        explanation=summary_line(d),
        data={
            "reform": meta.model_dump(mode="json", exclude={"changes"}),
            "baseline": _plane(on, base),
            "reformed": _plane(on, reformed),
            "diff": d.to_dict(),
        },
    )


def shipped_reforms() -> dict[str, str]:
    """The reform files shipped with chipex (rules/reforms/), by file name: their YAML text."""
    from chipex.rules import RULES_DIR

    return {p.name: p.read_text(encoding="utf-8") for p in sorted((RULES_DIR / "reforms").glob("*.yaml"))}
