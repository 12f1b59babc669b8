"""Trade-flow gaps for diversion analysis, from UN Comtrade-format files and published figures.

HS CODES ARE WIDER THAN ECCNs. 8471.50 (processing units, where GPU servers are usually declared),
8471.80, 8473.30 (parts, incl. GPU boards) and 8542.31 (processors and controllers) hold every
server, CPU and board, controlled or not; and goods declared as something else ("adapters",
Operation Gatekeeper) leave them entirely. A gap or a jump here is a question for an analyst, never
evidence about an order line.

* Mirror gap (exporter A, importer B, code, period): A's reported exports to B (FOB) minus B's
  reported imports from A, converted to FOB: B's `fobvalue` when it reports one, else its CIF value
  / the CIF/FOB factor (default 1.10, the conventional factor of the IMF's Direction of Trade
  Statistics: from memory, set your own with --cif-fob).
* Re-export ratio (hub H, code, period): H's exports and re-exports (flows X, RX) over its imports
  (M); also the share going to China, Hong Kong and Macau. Totals use the World partner row (W00)
  when the file has one, else the sum over partners. Hubs are those of rules/hubs.yaml on the
  period's first day.
* Jumps around rule dates: for each monthly series and each rule date (effective and compliance
  dates of the rulebook, and the hub events that are measures) inside it: the mean of the 3 months
  before the date's month against the 3 before those (run-up) and the 3 from that month on
  (after).

Comtrade columns read (case-insensitive): period (YYYYMM or YYYY), reporterISO, partnerISO (ISO3 or
ISO2), flowCode (X, M, RX, RM), cmdCode, primaryValue, and cifvalue / fobvalue when present.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from chipex.errors import ChipexError
from chipex.rules import Rulebook
from chipex.rules.countries import iso_code

HS_CODES = ("847150", "847180", "847330", "854231")
CAVEAT = (
    "HS 8471.50, 8471.80, 8473.30 and 8542.31 are far wider than ECCN 3A090/4A090: they hold every "
    "server, processor and board, controlled or not, and mislabelled goods leave them entirely. "
    "A gap or a jump is a question, not evidence."
)
PUBLISHED_FILE = Path(__file__).parent / "data" / "published_flows.csv"
CHINA = ("CN", "HK", "MO")
REQUIRED = ("period", "reporteriso", "partneriso", "flowcode", "cmdcode", "primaryvalue")


def _country(code: str | None) -> str | None:
    if code is None or code.upper() in ("W00", "WLD", "WORLD"):
        return "W00" if code else None
    return iso_code(code) or code.upper()


def load_comtrade(paths: list[Path]) -> list[dict[str, Any]]:
    """Rows of the HS codes above, normalised: period (date of the first day), ISO2 countries,
    flow, hs, value (primary), cif, fob. Other codes are dropped (counted in `dropped`)."""
    rows: list[dict[str, Any]] = []
    for path in paths:
        if not path.exists():
            raise ChipexError("no such file", file=str(path))
        try:
            rel = duckdb.sql(
                f"SELECT * FROM read_csv('{str(path).replace(chr(39), chr(39) * 2)}', all_varchar=true, header=true)"
            )
        except duckdb.Error as exc:
            raise ChipexError(f"cannot read as CSV: {str(exc).splitlines()[0]}", file=str(path)) from None
        cols = {c.lower(): c for c in rel.columns}
        missing = [c for c in REQUIRED if c not in cols]
        if missing:
            raise ChipexError(
                f"not a Comtrade-format file: missing column(s) {', '.join(missing)}", file=str(path)
            )
        for i, rec in enumerate(rel.fetchall(), start=2):
            r = dict(zip([c.lower() for c in rel.columns], rec, strict=True))
            hs = (r["cmdcode"] or "").replace(".", "").strip()
            if hs not in HS_CODES:
                continue
            rows.append(_row(r, hs, path, i))
    return rows


def _money(value: str | None, path: Path, line: int, field: str) -> float | None:
    if value is None or not str(value).strip():
        return None
    try:
        out = float(value)
    except ValueError:
        raise ChipexError(
            f"not a number: {value!r}", file=str(path), record=f"line {line}", field=field
        ) from None
    if out < 0:
        raise ChipexError(
            "a trade value cannot be negative", file=str(path), record=f"line {line}", field=field
        )
    return out


def _period(text: str, path: Path, line: int) -> dt.date:
    t = (text or "").strip().replace("-", "")
    try:
        if len(t) == 6:
            return dt.date(int(t[:4]), int(t[4:]), 1)
        if len(t) == 4:
            return dt.date(int(t), 1, 1)
    except ValueError:
        pass
    raise ChipexError(
        f"not a period (YYYYMM or YYYY): {text!r}", file=str(path), record=f"line {line}", field="period"
    )


def _row(r: dict[str, Any], hs: str, path: Path, line: int) -> dict[str, Any]:
    return {
        "period": _period(r["period"], path, line),
        "monthly": len((r["period"] or "").strip().replace("-", "")) == 6,
        "reporter": _country(r["reporteriso"]),
        "partner": _country(r["partneriso"]),
        "flow": (r["flowcode"] or "").strip().upper(),
        "hs": hs,
        "value": _money(r["primaryvalue"], path, line, "primaryValue"),
        "cif": _money(r.get("cifvalue"), path, line, "cifvalue"),
        "fob": _money(r.get("fobvalue"), path, line, "fobvalue"),
    }


def mirror_gaps(rows: list[dict[str, Any]], cif_fob: float = 1.10) -> list[dict[str, Any]]:
    if cif_fob < 1:
        raise ChipexError(
            "the CIF/FOB factor is 1 or more (CIF includes freight and insurance)", field="cif_fob"
        )
    exports = {(r["reporter"], r["partner"], r["hs"], r["period"]): r for r in rows if r["flow"] == "X"}
    out = []
    for r in rows:
        if r["flow"] != "M":
            continue
        key = (r["partner"], r["reporter"], r["hs"], r["period"])
        x = exports.get(key)
        if x is None:
            continue
        exp = x["fob"] if x["fob"] is not None else x["value"]
        if r["fob"] is not None:
            imp, basis = r["fob"], "importer's FOB value"
        else:
            imp, basis = (
                (r["cif"] if r["cif"] is not None else r["value"]) / cif_fob,
                f"importer's CIF / {cif_fob}",
            )
        gap = exp - imp
        out.append(
            {
                "exporter": key[0],
                "importer": key[1],
                "hs": key[2],
                "period": key[3].isoformat()[:7],
                "exporter_reported_fob": exp,
                "importer_reported_fob": round(imp, 2),
                "basis": basis,
                "gap": round(gap, 2),
                "gap_pct": round(100 * gap / exp, 2) if exp else None,
            }
        )
    return sorted(out, key=lambda g: (g["period"], g["exporter"], g["importer"], g["hs"]))


def _total(rows: list[dict[str, Any]]) -> float:
    world = [r for r in rows if r["partner"] == "W00"]
    use = world or rows
    return sum(r["value"] or 0 for r in use)


def reexport_ratios(rows: list[dict[str, Any]], rulebook: Rulebook) -> list[dict[str, Any]]:
    out = []
    keys = sorted({(r["reporter"], r["hs"], r["period"]) for r in rows if r["flow"] in ("M", "X", "RX")})
    for hub, hs, period in keys:
        if not rulebook.hubs.is_hub(hub, period):
            continue
        mine = [r for r in rows if (r["reporter"], r["hs"], r["period"]) == (hub, hs, period)]
        imports = _total([r for r in mine if r["flow"] == "M"])
        outs = [r for r in mine if r["flow"] in ("X", "RX")]
        if not imports or not outs:
            continue
        total_out = _total(outs)
        china = sum(r["value"] or 0 for r in outs if r["partner"] in CHINA)
        out.append(
            {
                "hub": hub,
                "hs": hs,
                "period": period.isoformat()[:7],
                "imports": imports,
                "exports_and_reexports": total_out,
                "reexport_ratio": round(total_out / imports, 4),
                "to_china_hk_mo": china,
                "to_china_share_of_imports": round(china / imports, 4),
            }
        )
    return out


def rule_dates(rulebook: Rulebook) -> list[tuple[dt.date, str]]:
    dates: dict[dt.date, str] = {}
    for v in rulebook.versions:
        dates.setdefault(v.effective, f"{v.name} ({v.id}) in force")
        if v.compliance:
            dates[v.compliance] = f"{v.name} ({v.id}): compliance date"
    for e in rulebook.hubs.events:
        if e.kind == "measure":
            dates.setdefault(e.date, f"{e.country}: {e.event.split('(')[0].strip()}")
    return sorted(dates.items())


def _add(month: dt.date, n: int) -> dt.date:
    k = month.year * 12 + month.month - 1 + n
    return dt.date(k // 12, k % 12 + 1, 1)


def _mean(series: dict[dt.date, float], months: list[dt.date]) -> tuple[float | None, int]:
    vals = [series[m] for m in months if m in series]
    return (sum(vals) / len(vals) if vals else None), len(vals)


def jumps(series_rows: list[dict[str, Any]], rulebook: Rulebook, window: int = 3) -> list[dict[str, Any]]:
    """Run-up and after ratios of every monthly series around every rule date inside it."""
    series: dict[tuple, dict[dt.date, float]] = {}
    for r in series_rows:
        if r.get("monthly", True) and r["value"] is not None:
            series.setdefault((r["reporter"], r["partner"], r["flow"], r["hs"]), {})[r["period"]] = r["value"]
    out = []
    for key, s in sorted(series.items()):
        first, last = min(s), max(s)
        for day, label in rule_dates(rulebook):
            m = dt.date(day.year, day.month, 1)
            if not first < m <= _add(last, 1):
                continue
            pre, n_pre = _mean(s, [_add(m, -k) for k in range(1, window + 1)])
            base, n_base = _mean(s, [_add(m, -k) for k in range(window + 1, 2 * window + 1)])
            post, n_post = _mean(s, [_add(m, k) for k in range(window)])
            if pre is None or (base is None and post is None):
                continue
            out.append(
                {
                    "reporter": key[0],
                    "partner": key[1],
                    "flow": key[2],
                    "hs": key[3],
                    "date": day.isoformat(),
                    "rule": label,
                    "mean_before": pre,
                    "run_up": round(pre / base, 3) if base else None,
                    "after": round(post / pre, 3) if post is not None and pre else None,
                    "months_used": {"base": n_base, "before": n_pre, "after": n_post},
                }
            )
    return out


def load_published(path: Path = PUBLISHED_FILE) -> list[dict[str, Any]]:
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        r["value_usd"] = float(r["value_usd"]) if r["value_usd"] else None
        r["yoy_pct"] = float(r["yoy_pct"]) if r["yoy_pct"] else None
    return rows


@dataclass(frozen=True)
class FlowReport:
    files: list[str]
    rows: int
    mirror: list[dict[str, Any]]
    reexport: list[dict[str, Any]]
    events: list[dict[str, Any]]
    published: list[dict[str, Any]]
    published_events: list[dict[str, Any]]
    cif_fob: float
    series: dict[str, dict[dt.date, float]]  # monthly series with a rule date inside, for the chart

    def to_dict(self) -> dict[str, Any]:
        return {
            "caveat": CAVEAT,
            "files": self.files,
            "rows_in_scope": self.rows,
            "hs_codes": list(HS_CODES),
            "cif_fob": self.cif_fob,
            "mirror_gaps": self.mirror,
            "reexport_ratios": self.reexport,
            "jumps": self.events,
            "published": self.published,
            "published_jumps": self.published_events,
        }


def analyse(paths: list[Path], rulebook: Rulebook, *, cif_fob: float = 1.10, window: int = 3) -> FlowReport:
    rows = load_comtrade(paths)
    published = load_published()
    pub_series = [
        {
            "reporter": p["reporter"],
            "partner": p["partner"],
            "flow": p["flow"],
            "hs": p["hs"],
            "period": dt.date.fromisoformat(p["period"] + "-01"),
            "value": p["value_usd"],
        }
        for p in published
        if p["value_usd"] is not None
    ]
    events, pub_events = jumps(rows, rulebook, window), jumps(pub_series, rulebook, window)
    charted: dict[str, dict[dt.date, float]] = {}
    for label, src, evs in (("", rows, events), (" (published)", pub_series, pub_events)):
        keys = {(e["reporter"], e["partner"], e["flow"], e["hs"]) for e in evs}
        for r in src:
            k = (r["reporter"], r["partner"], r["flow"], r["hs"])
            if k in keys and r["value"] is not None and r.get("monthly", True):
                charted.setdefault(f"{k[0]}>{k[1]} {k[2]} {k[3]}{label}", {})[r["period"]] = r["value"]
    return FlowReport(
        [str(p) for p in paths],
        len(rows),
        mirror_gaps(rows, cif_fob),
        reexport_ratios(rows, rulebook),
        events,
        published,
        pub_events,
        cif_fob,
        charted,
    )
