"""Static charts (matplotlib, Agg backend: no display needed), PNG or SVG by the file's suffix."""

from __future__ import annotations

import textwrap
from pathlib import Path

from chipex.analysis.compute.equivalence import Equivalence
from chipex.analysis.compute.scenario import CHANNELS, Result
from chipex.errors import ChipexError

_FORMATS = {".png", ".svg"}
_COLOURS = {"legal": "#4c72b0", "smuggled": "#c44e52", "domestic": "#dd8452"}


def _pyplot():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _check(path: Path) -> None:
    if path.suffix.lower() not in _FORMATS:
        raise ChipexError(f"chart file must end in .png or .svg, got '{path.name}'", field="chart")
    if not path.parent.exists():
        raise ChipexError(f"folder does not exist: {path.parent}", field="chart")


def equivalence_chart(eq: Equivalence, path: Path) -> Path:
    """Horizontal bars: target chips needed on each basis."""
    _check(path)
    plt = _pyplot()
    fleet = " + ".join(f"{float(n):,.0f} {c.name}" for c, n in eq.fleet)
    labels = [r.basis.label for r in eq.rows][::-1]
    counts = [float(r.count) for r in eq.rows][::-1]
    fig, ax = plt.subplots(figsize=(9, 1.2 + 0.6 * len(labels)))
    bars = ax.barh(labels, counts, color="#4c72b0")
    ax.bar_label(bars, labels=[f"{c:,.0f}" for c in counts], padding=3)
    total = float(sum(n for _, n in eq.fleet))
    ax.axvline(total, color="grey", linestyle="--", linewidth=1)
    ax.annotate(f"fleet: {total:,.0f} chips", (total, len(labels) - 0.5), color="grey", fontsize=8, ha="left")
    ax.set_xlabel(f"{eq.target.name} chips needed")
    ax.set_title(textwrap.fill(f"{eq.target.name} matching {fleet}", 90), fontsize=10)
    ax.margins(x=0.15)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def scenario_chart(res: Result, path: Path) -> Path:
    """Left: stock by channel (stacked bars). Right: total stock vs H100e each run needs (log)."""
    _check(path)
    plt = _pyplot()
    years = res.years
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    bottom = [0.0] * len(years)
    for ch in CHANNELS:
        vals = [float(res.stock[y][ch]) for y in years]
        left.bar(years, vals, bottom=bottom, label=ch, color=_COLOURS[ch])
        bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
    left.set_title(f"{res.scenario.destination} stock by channel ({res.basis} basis)", fontsize=10)
    left.set_ylabel(f"H100e ({res.reference.name})")
    left.legend()
    right.plot(years, [float(res.total(y)) for y in years], "k-o", label="total stock")
    for r, marker in zip(res.runs, "svd^<>p*", strict=False):
        right.plot(
            years,
            [float(r.need[y]) for y in years],
            "--",
            marker=marker,
            label=f"{r.name}: H100e to train in {float(res.scenario.train_days.central):g} days",
        )
    right.set_yscale("log")
    right.set_title(f"stock vs runs (compute halves every {float(res.halving_months):g} months)", fontsize=10)
    right.legend(fontsize=7)
    for ax in (left, right):
        ax.set_xticks(years)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
