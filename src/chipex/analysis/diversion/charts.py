"""Diversion charts (matplotlib, Agg backend): leakage by route, and trade-flow gaps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chipex.analysis.compute.charts import _check, _pyplot

COLOURS = {"stockpile": "#4c72b0", "licensed": "#55a868", "smuggling": "#c44e52", "domestic": "#dd8452"}


def leakage_chart(d: dict[str, Any], path: Path) -> Path:
    """Left: each route's median with its 5-95% range; right: cumulative central case by year."""
    _check(path)
    plt = _pyplot()
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.2))
    routes = list(d["routes"])
    med = [d["routes"][r]["p50"] for r in routes]
    err = [
        [m - d["routes"][r]["p5"] for r, m in zip(routes, med, strict=True)],
        [d["routes"][r]["p95"] - m for r, m in zip(routes, med, strict=True)],
    ]
    a.barh(
        routes[::-1],
        med[::-1],
        xerr=[e[::-1] for e in err],
        color=[COLOURS[r] for r in routes[::-1]],
        capsize=4,
    )
    a.set_xlabel("H100e (TPP basis): median, whiskers 5-95%")
    a.set_title("Compute that reached China, by route (to end of data)")
    years = sorted(d["cumulative_by_year"])
    bottom = [0.0] * len(years)
    for r in routes:
        vals = [d["cumulative_by_year"][y][r] for y in years]
        b.bar([str(y) for y in years], vals, bottom=bottom, color=COLOURS[r], label=r)
        bottom = [x + v for x, v in zip(bottom, vals, strict=True)]
    b.set_ylabel("cumulative H100e (central case)")
    b.set_title("Cumulative by year")
    b.legend(frameon=False)
    fig.text(0.01, 0.01, "chipex leakage (sources in --json): " + d["method"], fontsize=6)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
