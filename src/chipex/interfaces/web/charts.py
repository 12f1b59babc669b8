"""SVG geometry for the policy lab's charts, drawn by the templates on the server (no script is
needed to see them; static/lab.js adds the hover and focus tooltips). Rendering only: the data come
from chipex.service.policy and chipex.service.catalog."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

W, H = 900, 540
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 20, 50


@dataclass
class Scale:
    lo: float
    hi: float
    a: float  # pixel of lo
    b: float  # pixel of hi
    log: bool = True

    def __call__(self, v: float) -> float:
        f = (lambda x: math.log10(x)) if self.log else (lambda x: x)
        return round(self.a + (f(v) - f(self.lo)) / (f(self.hi) - f(self.lo)) * (self.b - self.a), 1)

    def ticks(self) -> list[tuple[float, str]]:
        out = []
        for e in range(math.floor(math.log10(self.lo)), math.ceil(math.log10(self.hi)) + 1):
            for m in (1, 2, 5):
                v = m * 10.0**e
                if self.lo <= v <= self.hi:
                    out.append((self(v), f"{v:,.0f}" if v >= 1 else f"{v:g}"))
        return out


def _decades(values: list[float]) -> tuple[float, float]:
    return 10 ** math.floor(math.log10(min(values))), 10 ** math.ceil(math.log10(max(values)))


def status_class(eccn: str | None) -> str:
    if not eccn:
        return "free"
    return "tier-a" if ".a" in eccn else ("tier-b" if ".b" in eccn else "other")


@dataclass
class Chart:
    width: int
    height: int
    x_ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    x_label: str
    y_label: str
    plot: tuple[float, float, float, float]  # x0, y0, x1, y1
    points: list[dict[str, Any]] = field(default_factory=list)
    vlines: list[dict[str, Any]] = field(default_factory=list)
    hlines: list[dict[str, Any]] = field(default_factory=list)
    bars: list[dict[str, Any]] = field(default_factory=list)


def tip(chip: dict[str, Any], sources: dict[str, str]) -> str:
    lines = [
        f"{chip['name']} ({chip['vendor']})",
        f"TPP {chip['tpp']:,.0f} · performance density "
        + (f"{chip['performance_density']:,.2f}" if chip["performance_density"] else "unknown"),
        f"{chip.get('eccn') or 'not 3A090'}{' on ' + chip['as_of'] if chip.get('as_of') else ''}",
        f"released {chip.get('released') or 'unknown'}",
    ]
    lines += [f"source {k}: {v[:90]}" for k, v in sources.items()]
    return "\n".join(lines)


def plane(data: dict[str, Any], sources: dict[str, dict[str, str]], flagged: set[str]) -> Chart:
    chips = [c for c in data["chips"] if c["tpp"] and c["performance_density"]]
    lines = data["lines"]
    xs = Scale(*_decades([c["tpp"] for c in chips] + [ln["value"] for ln in lines if ln["metric"] == "tpp"]),
               LEFT, W - RIGHT)  # fmt: skip
    ys = Scale(*_decades([c["performance_density"] for c in chips]
                         + [ln["value"] for ln in lines if ln["metric"] == "performance_density"]),
               H - BOTTOM, TOP)  # fmt: skip
    chart = Chart(W, H, xs.ticks(), ys.ticks(), "total processing performance (TPP)",
                  "performance density (TPP / mm²)", (LEFT, TOP, W - RIGHT, H - BOTTOM))  # fmt: skip
    for c in sorted(chips, key=lambda c: c["tpp"]):
        chart.points.append({**c, "x": xs(c["tpp"]), "y": ys(c["performance_density"]),
                             "cls": status_class(c["eccn"]), "flagged": c["id"] in flagged,
                             "tip": tip({**c, "as_of": data["as_of"]}, sources.get(c["id"], {}))})  # fmt: skip
    chart.points = stack(chart.points)
    by_value: dict[tuple[str, float], list[str]] = {}
    for ln in lines:
        by_value.setdefault((ln["metric"], ln["value"]), []).append(f"{ln['paragraph']} {ln['bound']}")
    for (metric, value), paras in sorted(by_value.items()):
        label = f"{value:,g}: {', '.join(paras)}"
        if metric == "tpp":
            chart.vlines.append({"x": xs(value), "label": label, "value": value})
        else:
            chart.hlines.append({"y": ys(value), "label": label, "value": value})
    return chart


def stack(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Chips with the same figures and status (H100 SXM and GH200's H100) share one marker whose
    tooltip names each; one of another status at the same spot (H800 SXM before 2023-11-17) is
    drawn 9 px to the right, so none hides another."""
    at: dict[tuple[float, float, str], dict[str, Any]] = {}
    for p in points:
        if (key := (p["x"], p["y"], p["cls"])) in at:
            q = at[key]
            q["tip"] += "\n\n" + p["tip"]
            q["ids"].append(p["id"])
            q["flagged"] = q["flagged"] or p["flagged"]
        else:
            at[key] = {**p, "ids": [p["id"]]}
    seen: dict[tuple[float, float], int] = {}
    for (x, y, _), q in at.items():
        q["x"] = x + 9 * seen.get((x, y), 0)
        seen[(x, y)] = seen.get((x, y), 0) + 1
    return list(at.values())


def _date_scale(lo: dt.date, hi: dt.date, a: float, b: float):
    span = (hi - lo).days

    def f(d: dt.date) -> float:
        return round(a + (d - lo).days / span * (b - a), 1)

    ticks = [(f(dt.date(y, 1, 1)), str(y)) for y in range(lo.year, hi.year + 1) if dt.date(y, 1, 1) >= lo]
    return f, ticks


def timeline(versions: list[Any], chips: list[dict[str, Any]], sources, on: dt.date) -> Chart:
    lo = dt.date(2020, 1, 1)
    last = max([v.effective for v in versions] + [on])
    hi = dt.date(last.year + 1, 1, 1)
    fx, xticks = _date_scale(lo, hi, LEFT, W - RIGHT)
    dated = [c for c in chips if c["released"] and c["tpp"] and dt.date.fromisoformat(c["released"]) >= lo]
    ys = Scale(*_decades([c["tpp"] for c in dated]), H - BOTTOM, TOP + 90)
    chart = Chart(W, H, xticks, ys.ticks(), "release date", "TPP", (LEFT, TOP + 90, W - RIGHT, H - BOTTOM))
    for c in dated:
        chart.points.append({**c, "x": fx(dt.date.fromisoformat(c["released"])), "y": ys(c["tpp"]),
                             "cls": status_class(c["eccn"]), "flagged": False,
                             "tip": tip(c, sources.get(c["id"], {}))})  # fmt: skip
    chart.points = stack(chart.points)
    for v in versions:
        chart.vlines.append({"x": fx(v.effective), "label": f"{v.effective} {v.id}", "id": v.id,
                             "letter": "is-informed" in v.id, "name": v.name})  # fmt: skip
    chart.vlines.append({"x": fx(on), "label": f"as of {on}", "id": None, "letter": False, "asof": True})
    return chart


def windows(exposures: list[dict[str, Any]], until: dt.date) -> Chart:
    rows = [e for e in exposures if any(w["end"] or w["h100e"] for w in e["windows"])]
    rows.sort(key=lambda e: (e["windows"][0]["start"], e["chip_id"]))
    starts = [dt.date.fromisoformat(w["start"]) for e in rows for w in e["windows"]]
    lo = dt.date(min(starts, default=until).year, 1, 1)
    hi = dt.date(until.year + 1, 1, 1)
    left = 230
    height = 28 * len(rows) + 60
    fx, xticks = _date_scale(lo, hi, left, W - RIGHT)
    chart = Chart(W, height, xticks, [], "date", "", (left, 10, W - RIGHT, height - 40))
    for i, e in enumerate(rows):
        for w in e["windows"]:
            s = dt.date.fromisoformat(w["start"])
            end = dt.date.fromisoformat(w["end"]) if w["end"] else until
            x0, x1 = fx(s), fx(end)
            chart.bars.append({**w, "chip": e["chip"], "chip_id": e["chip_id"], "destination": e["destination"],
                               "y": 14 + 28 * i, "x": x0, "w": max(x1 - x0, 2),
                               "tip": f"{e['chip']} → {e['destination']}: licence-free {w['start']} to "
                                      f"{w['end'] or 'open'} ({w['days']} days); {w['h100e']:,.0f} H100e "
                                      f"delivered (estimated); closed by {', '.join(w['closed_by']) or '—'}"})  # fmt: skip
    return chart
