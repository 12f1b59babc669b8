"""Charts (matplotlib, offline): the catalog on the TPP x performance-density plane with each
tier's controlled region shaded from the rule data, rule versions against chip launches, and
exposure windows with the compute delivered in them. Each chart's data is written beside its PNG
as CSV (same name, .csv)."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap

from chipex.catalog import Catalog
from chipex.core.classify import measure
from chipex.rules import Rulebook
from chipex.rules.model import EccnText

from .common import ECCN, ics, released, strictness
from .nearmiss import NearMiss
from .windows import Exposure

PLANE = ("tpp", "performance_density")
PLANE_COLUMNS = ("chip_id", "chip", "vendor", "datacenter", "tpp", "performance_density", "near_miss")
TIMELINE_COLUMNS = ("kind", "id", "name", "vendor", "date", "tpp")
WINDOWS_COLUMNS = ("chip_id", "chip", "destination", "start", "end", "rule_close", "units", "h100e")
# label offsets tried in turn (points from the dot), nearest first
OFFSETS = [(5, 4), (-5, 4), (5, -11), (-5, -11), (5, 14), (5, -21), (-5, 14), (-5, -21), (5, 24), (5, -31)]


def write_csv(path: Path, columns: tuple[str, ...], rows: list[dict]) -> Path:
    """A chart's data beside it: `path` with .csv, one row per plotted point or bar."""
    out = path.with_suffix(".csv")
    with out.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return out


def place_labels(ax, points: list[tuple[str, float, float]], fontsize: float = 8) -> list:
    """Annotate each (text, x, y) at the first offset whose box overlaps no label placed before
    (nor any other dot's label), measured in display space; the last offset when none is free."""
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    placed, texts = [], []
    for text, x, y in sorted(points, key=lambda p: (-p[2], p[1])):
        for i, (dx, dy) in enumerate(OFFSETS):
            t = ax.annotate(text, (x, y), textcoords="offset points", xytext=(dx, dy), fontsize=fontsize,
                            ha="left" if dx > 0 else "right", zorder=4)  # fmt: skip
            box = t.get_window_extent(renderer).expanded(1.05, 1.1)
            if not any(box.overlaps(b) for b in placed) or i == len(OFFSETS) - 1:
                placed.append(box)
                texts.append(t)
                break
            t.remove()
    return texts


def _prong_mask(prong, grid: dict[str, np.ndarray]) -> np.ndarray | None:
    if prong.metric not in PLANE:
        return None
    x = grid[prong.metric]
    mask = np.ones_like(x, dtype=bool)
    for key, b in prong.bounds().items():
        b = float(b)
        mask &= {"at_least": x >= b, "more_than": x > b, "less_than": x < b, "at_most": x <= b}[key]
    return mask


def tier_map(text: EccnText, tpp: np.ndarray, pd: np.ndarray) -> np.ndarray:
    """Strictness (0 none, higher = stricter tier) of a datacenter IC at each (TPP, PD) point; prongs on
    other metrics (interconnect, memory bandwidth) are taken as met, so the map is an upper bound."""
    grid = {"tpp": tpp, "performance_density": pd}
    order = [p.id for p in text.paragraphs]
    out = np.zeros_like(tpp, dtype=int)
    for para in text.paragraphs:
        if any(p.metric == "item" and p.is_ != "chip" for p in para.all):
            continue
        mask = np.ones_like(tpp, dtype=bool)
        for prong in para.all:
            m = _prong_mask(prong, grid)
            if m is not None:
                mask &= m
        out = np.where(mask & (out == 0), strictness(para.id, order), out)
    return out


def plane_chart(catalog: Catalog, rulebook: Rulebook, on: dt.date, near: list[NearMiss], path: Path) -> Path:
    text = rulebook.eccns[ECCN].in_force(on)
    assert text is not None
    tpp = np.logspace(np.log10(300), np.log10(80000), 500)
    pd = np.logspace(np.log10(0.5), np.log10(60), 400)
    tt, pp = np.meshgrid(tpp, pd)
    tiers = tier_map(text, tt, pp)
    fig, ax = plt.subplots(figsize=(10, 6.5))
    ax.pcolormesh(
        tt,
        pp,
        tiers,
        cmap=ListedColormap(["white", "#fde0b5", "#f4a3a3"]),
        vmin=0,
        vmax=2,
        shading="auto",
        alpha=0.8,
    )
    flagged = {n.chip_id for n in near if n.flagged}
    labels, data = [], []
    for chip in ics(catalog):
        m = measure(chip)
        if m.tpp is None or m.performance_density is None:
            continue
        x, y = float(m.tpp), float(m.performance_density)
        hit = chip.id in flagged
        data.append({"chip_id": chip.id, "chip": chip.name, "vendor": chip.vendor,
                     "datacenter": chip.datacenter.value, "tpp": round(x, 1),
                     "performance_density": round(y, 3), "near_miss": hit})  # fmt: skip
        ax.scatter(
            x,
            y,
            s=36 if hit else 14,
            c="#c0392b" if hit else ("#555" if chip.datacenter.value else "#2e86c1"),
            zorder=3,
            edgecolors="black" if hit else "none",
        )
        if hit:
            labels.append((chip.name, x, y))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("total processing performance (TPP)")
    ax.set_ylabel("performance density (TPP / mm² of logic die)")
    ax.set_title(
        f"{text.id} ({on}): shaded where a datacenter IC is controlled\n"
        "red = 3A090.a, orange = 3A090.b; labelled: within 10% under a line"
    )
    ax.scatter([], [], c="#555", s=14, label="datacenter IC")
    ax.scatter([], [], c="#2e86c1", s=14, label="consumer IC (Note 2 applies below TPP 4,800)")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(True, which="both", alpha=0.2)
    fig.tight_layout()
    place_labels(ax, labels)  # after the layout: the boxes are measured where they are drawn
    fig.savefig(path, dpi=110)
    plt.close(fig)
    write_csv(path, PLANE_COLUMNS, data)
    return path


def timeline_chart(catalog: Catalog, rulebook: Rulebook, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(11, 6))
    start = dt.date(2020, 1, 1)
    vendors = sorted({c.vendor for c in ics(catalog)})
    palette = plt.cm.tab20.colors  # 14 vendors in the catalog since the 2026 additions; cycle past 20
    colors = {v: palette[i % len(palette)] for i, v in enumerate(vendors)}
    data = [
        {"kind": "rule version", "id": v.id, "name": v.name, "date": v.effective} for v in rulebook.versions
    ]
    for chip in ics(catalog):
        r, m = released(chip), measure(chip)
        if r is None or r < start or m.tpp is None:
            continue
        data.append({"kind": "chip", "id": chip.id, "name": chip.name, "vendor": chip.vendor, "date": r,
                     "tpp": round(float(m.tpp), 1)})  # fmt: skip
        ax.scatter(r, float(m.tpp), color=colors[chip.vendor], s=18, zorder=3)
        if chip.sibling or chip.name in ("H20", "H100 SXM", "A100 SXM 80GB"):
            ax.annotate(chip.name, (r, float(m.tpp)), textcoords="offset points", xytext=(4, 3), fontsize=7)
    for v in rulebook.versions:
        style = "--" if "is-informed" in v.id else "-"
        ax.axvline(v.effective, color="#888", ls=style, lw=0.8)
        ax.text(
            v.effective,
            1.01,
            v.id.replace("-is-informed", " letter"),
            rotation=90,
            fontsize=6,
            transform=ax.get_xaxis_transform(),
            va="bottom",
        )
    for vendor, c in colors.items():
        ax.scatter([], [], color=c, s=18, label=vendor)
    ax.set_yscale("log")
    ax.set_ylabel("TPP")
    ax.legend(fontsize=7, ncol=2, loc="upper left")
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.set_title("Rule versions (solid: rules; dashed: is-informed letters) against chip launches", pad=60)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    write_csv(path, TIMELINE_COLUMNS, data)
    return path


def windows_chart(exposures: list[Exposure], until: dt.date, path: Path) -> Path:
    rows = [e for e in exposures if any(w.end for w in e.windows) or e.h100e]
    rows.sort(key=lambda e: (e.windows[0].start if e.windows else "", e.chip_id))
    fig, ax = plt.subplots(figsize=(11, 0.35 * len(rows) + 1.8))
    data = [{"chip_id": e.chip_id, "chip": e.chip, "destination": e.destination, "start": w.start, "end": w.end,
             "rule_close": w.rule_close, "units": w.units, "h100e": w.h100e}
            for e in rows for w in e.windows]  # fmt: skip
    for i, e in enumerate(rows):
        for w in e.windows:
            s = dt.date.fromisoformat(w.start)
            end = dt.date.fromisoformat(w.end) if w.end else until
            ax.barh(i, (end - s).days, left=s, color="#e67e22" if w.h100e else "#aab7b8", height=0.6)
            if w.rule_close:
                rc = dt.date.fromisoformat(w.rule_close)
                ax.barh(
                    i, (rc - end).days, left=end, color="none", edgecolor="#c0392b", hatch="///", height=0.6
                )
            if w.h100e:
                ax.text(
                    end, i, f"  {w.h100e:,.0f} H100e ({w.units:,.0f} units, est.)", va="center", fontsize=7
                )
    last = max(
        (dt.date.fromisoformat(w.end) if w.end else until for e in rows for w in e.windows), default=until
    )
    ax.set_xlim(right=last + dt.timedelta(days=330))  # room for the delivered-compute labels
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([f"{e.chip} → {e.destination}" for e in rows], fontsize=7)
    ax.invert_yaxis()
    ax.xaxis_date()
    ax.set_title(
        "Licence-free windows (orange: compute delivered, estimated; hatched: closed early by an "
        "is-informed letter, up to the rule's own date)",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    write_csv(path, WINDOWS_COLUMNS, data)
    return path
