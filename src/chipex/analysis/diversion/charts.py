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


def flows_chart(d: dict[str, Any], series: dict[Any, dict[Any, float]], path: Path) -> Path:
    """Mirror gaps, re-export ratios, and monthly series with the rule dates marked."""
    _check(path)
    plt = _pyplot()
    fig, (a, b, c) = plt.subplots(1, 3, figsize=(16, 4.4))
    gaps = d["mirror_gaps"][:12]
    labels = [f"{g['exporter']}>{g['importer']} {g['hs']} {g['period']}" for g in gaps]
    x = range(len(gaps))
    a.bar(
        [i - 0.2 for i in x],
        [g["exporter_reported_fob"] / 1e6 for g in gaps],
        0.4,
        label="exporter-reported (FOB)",
    )
    a.bar(
        [i + 0.2 for i in x],
        [g["importer_reported_fob"] / 1e6 for g in gaps],
        0.4,
        label="importer-reported (to FOB)",
    )
    a.set_xticks(list(x), labels, rotation=30, ha="right", fontsize=7)
    a.set_ylabel("USD million")
    a.set_title("Mirror gaps")
    a.legend(frameon=False, fontsize=7)
    rx = d["reexport_ratios"][:12]
    b.bar(
        [f"{r['hub']} {r['hs']} {r['period']}" for r in rx],
        [r["reexport_ratio"] for r in rx],
        color="#4c72b0",
        label="all partners",
    )
    b.bar(
        [f"{r['hub']} {r['hs']} {r['period']}" for r in rx],
        [r["to_china_share_of_imports"] for r in rx],
        color="#c44e52",
        label="to CN/HK/MO",
    )
    b.set_title("Hub exports + re-exports / imports")
    b.tick_params(axis="x", rotation=30, labelsize=7)
    b.legend(frameon=False, fontsize=7)
    for name, s in list(series.items())[:5]:
        months = sorted(s)
        c.plot(months, [s[m] / 1e6 for m in months], marker="o", label=name)
    import datetime as dt

    dates = sorted({dt.date.fromisoformat(e["date"]) for e in d["jumps"] + d["published_jumps"]})
    for day in dates:
        c.axvline(day, color="grey", lw=0.6, ls="--")
    c.set_title("Monthly series; dashed: rule dates")
    c.set_ylabel("USD million")
    c.tick_params(axis="x", rotation=30, labelsize=7)
    c.legend(frameon=False, fontsize=6)
    fig.text(0.01, 0.01, d["caveat"], fontsize=6)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
