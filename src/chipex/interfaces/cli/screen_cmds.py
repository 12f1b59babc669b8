"""Screening commands: screen, match, review (the lists are in lists_cmds)."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from chipex.errors import ChipexError
from chipex.interfaces.cli.app import DISCLAIMER, app, console, emit_json, err_console
from chipex.interfaces.cli.lists_cmds import parse_date
from chipex.interfaces.cli.progress import count_progress
from chipex.interfaces.cli.render import Col, FormatOpt, WideOpt, emit, pick_format, print_table
from chipex.screening import THRESHOLD, Hit, Screener, country_code

JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]
ThresholdOpt = Annotated[
    float, typer.Option("--threshold", min=0.0, max=1.0, help="report hits scoring at least this")
]
ListAsOfOpt = Annotated[
    str,
    typer.Option("--list-as-of", help="screen against the list in force on this date (YYYY-MM-DD), or today"),
]
WarnAgeOpt = Annotated[
    int, typer.Option("--warn-list-age", min=0, help="warn when the list is older than this many days")
]
MaxAgeOpt = Annotated[
    int | None,
    typer.Option("--max-list-age", min=0, help="an error when the list is older than this many days"),
]
OUT_COLUMNS = (
    "row", "party_id", "party_name", "party_country", "status", "score", "list", "entry_id", "entry_name",
    "matched_name", "license_requirement", "license_policy", "license_basis", "citation", "decision",
    "snapshot_id", "explanation",
)  # fmt: skip


def _explain(h: Hit) -> str:
    return "; ".join(f"{f.name} {f.value:.2f} [{f.effect}]: {f.detail}" for f in h.features)


def list_warnings(s: Screener, on: date, warn_age: int, max_age: int | None) -> list[str]:
    """The list's warnings for a screen on `on`; an error instead when it is older than `max_age`."""
    age = (on - s.source_date).days
    if max_age is not None and age > max_age:
        raise ChipexError(
            f"list snapshot {s.snapshot_id} of {s.source_date} is {age} days old on {on}, more than "
            f"--max-list-age {max_age} (update it with 'chipex lists update')"
        )
    return s.warnings(on, warn_age)


def _print_warnings(warnings: list[str]) -> None:
    for w in warnings:
        console.print(f"[yellow]warning: {w}[/yellow]")


FailOnHitOpt = Annotated[bool, typer.Option("--fail-on-hit", help="exit 3 if any party scores a hit")]
HIT_COLUMNS = [
    Col("row", "row", right=True),
    Col("party_name", "party", wrap=True),
    Col("score", "score", right=True),
    Col("list", "list"),
    Col("entry_name", "listed entry", wrap=True),
    Col("license_requirement", "licence requirement", wrap=True, drop=1),
    Col("decision", "reviewer", drop=2),
]
HIT_LEGEND = (
    "score: name similarity 0-1 (a hit at or above the threshold); list: CSL source list code "
    "(EL Entity List, SDN OFAC, MEU military end user...); reviewer: a recorded decision on the hit; -: none"
)


def _fail_on_hit(wanted: bool, hits: int) -> None:
    """--fail-on-hit: exit 3 (after the output) when a party scored a hit (README: exit codes)."""
    if wanted and hits:
        err_console.print(f"{hits:,} hit(s) (--fail-on-hit: exit 3)")
        raise typer.Exit(3)


def _print_hits(name: str, hits: list[Hit], s: Screener, limit: int, warnings: list[str]) -> None:
    console.print(
        f"[bold]{name}[/bold]: {len(hits)} hit(s) at >= {s.threshold:.2f} (snapshot {s.snapshot_id}, "
        f"list of {s.source_date})"
    )
    _print_warnings(warnings)
    for h in hits[:limit]:
        alias = " (alias)" if h.matched_alias else ""
        console.print(
            f"\n  [bold]{h.score:.2f}[/bold]  {h.list}  {h.entry_name}  [{', '.join(h.countries) or '-'}]"
            f"\n        matched: {h.matched_name}{alias}   entry {h.entry_id[:16]}"
            + (f"   reviewer: {h.decision}" if h.decision else "")
            + f"\n        licence requirement ({h.license_basis}): {h.license_requirement}"
            f"\n        licence policy: {h.license_policy}"
            f"\n        citation: {h.citation}"
        )
        for f in h.features:
            console.print(f"        - {f.name} {f.value:.2f} ({f.effect}): {f.detail}", highlight=False)
    if len(hits) > limit:
        console.print(f"\n  ... {len(hits) - limit} more (use --limit or --json)")
    console.print(f"\n[dim]{DISCLAIMER}[/dim]")


def _read_parties(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            cols = [c.strip().lower() for c in (reader.fieldnames or [])]
            if "name" not in cols:
                raise ChipexError("no 'name' column (columns: name, optional country, id)", file=str(path),
                                  record=1, field="name")  # fmt: skip
            rows = []
            for i, raw in enumerate(reader, start=2):
                row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
                if not row.get("name"):
                    raise ChipexError("empty party name", file=str(path), record=i, field="name")
                try:
                    country_code(row.get("country"))
                except ChipexError as exc:
                    raise ChipexError(exc.message, file=str(path), record=i, field="country") from None
                rows.append({"row": str(i), **row})
            return rows
    except OSError as exc:
        raise ChipexError(f"cannot read: {exc.strerror}", file=str(path)) from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ChipexError(f"not a readable CSV file: {exc}", file=str(path)) from None


def _screen_file(
    s: Screener, file: Path, out: Path | None, shown: str, warnings: list[str], wide: bool = False
) -> int:
    """Screen a party file; the number of hits."""
    parties = _read_parties(file)
    with count_progress(
        err_console, f"screening {file.name}", len(parties), "parties", "screened"
    ) as advance:
        results = s.screen_many([(p["name"], p.get("country") or None) for p in parties], progress=advance)
    rows = []
    for p, hits in zip(parties, results, strict=True):
        base = {"row": p["row"], "party_id": p.get("id", ""), "party_name": p["name"],
                "party_country": p.get("country", "")}  # fmt: skip
        if not hits:
            rows.append({**base, "status": "clear", "snapshot_id": s.snapshot_id})
        for h in hits:
            rows.append({
                **base, "status": "hit", "score": f"{h.score:.4f}", "list": h.list, "entry_id": h.entry_id,
                "entry_name": h.entry_name, "matched_name": h.matched_name,
                "license_requirement": h.license_requirement, "license_policy": h.license_policy,
                "license_basis": h.license_basis, "citation": h.citation, "decision": h.decision or "",
                "snapshot_id": h.snapshot_id, "explanation": _explain(h),
            })  # fmt: skip
    flagged = sum(1 for hits in results if hits)
    if out is not None:
        tmp = out.with_name(out.name + ".part")
        try:
            with tmp.open("w", encoding="utf-8", newline="") as fh:
                w = csv.DictWriter(fh, fieldnames=OUT_COLUMNS)
                w.writeheader()
                w.writerows(rows)
            tmp.replace(out)  # all or nothing: no half-written output
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise ChipexError(f"cannot write: {exc.strerror}", file=str(out)) from None
    summary = {"parties": len(parties), "distinct": len({id(h) for h in results}),  # screen_many shares one list per distinct party
               "flagged": flagged, "hits": sum(len(h) for h in results), "snapshot_id": s.snapshot_id,
               "snapshot_date": s.source_date, "warnings": warnings,
               "threshold": s.threshold, "out": str(out) if out else None}  # fmt: skip
    if shown != "table":
        emit(
            rows if out is None else [],
            [],
            shown,
            document={**summary, "results": rows} if out is None else summary,
        )
        return summary["hits"]
    console.print(
        f"{summary['parties']} parties ({summary['distinct']} distinct): {flagged} flagged, {summary['hits']} hits"
        f" at >= {s.threshold:.2f}; snapshot {s.snapshot_id} (list of {s.source_date})"
        + (f"; written to {out}" if out else "")
    )
    _print_warnings(warnings)
    hit_rows = [r for r in rows if r["status"] == "hit"]
    if out is None and hit_rows:
        print_table(hit_rows, HIT_COLUMNS, title="hits", legend=[HIT_LEGEND], wide=wide)
    console.print(f"[dim]{DISCLAIMER}[/dim]")
    return summary["hits"]


@app.command("screen")
def screen_cmd(
    name: Annotated[str | None, typer.Argument(help="party name, in any script")] = None,
    country: Annotated[str | None, typer.Option("--country", help="party country (ISO code or name)")] = None,
    address: Annotated[str | None, typer.Option("--address", help="party address, a qualifier")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="CSV of parties: name[, country, id]")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="with --file: write hits to this CSV")] = None,
    threshold: ThresholdOpt = THRESHOLD,
    limit: Annotated[int, typer.Option("--limit", min=1, help="hits shown (text output)")] = 5,
    list_as_of: ListAsOfOpt = "today",
    warn_age: WarnAgeOpt = 7,
    max_age: MaxAgeOpt = None,
    as_json: JsonOpt = False,
    fmt: FormatOpt = None,
    wide: WideOpt = False,
    fail_on_hit: FailOnHitOpt = False,
) -> None:
    """Screen a party (or a CSV of parties) against the US Consolidated Screening List."""
    if (name is None) == (file is None):
        raise ChipexError("give a party name or --file parties.csv (not both)")
    if out is not None and file is None:
        raise ChipexError("--out needs --file")
    on = date.today() if list_as_of == "today" else parse_date(list_as_of, "list-as-of")
    s = Screener(threshold=threshold, as_of=None if list_as_of == "today" else on)
    warnings = list_warnings(s, on, warn_age, max_age)
    shown = pick_format(fmt, as_json)
    if file is not None:
        _fail_on_hit(fail_on_hit, _screen_file(s, file, out, shown, warnings, wide))
        return
    assert name is not None
    hits = s.screen(name, country, address=address)
    if shown != "table":
        doc = {"query": name, "country": country_code(country), "threshold": s.threshold,
               "snapshot_id": s.snapshot_id, "snapshot_date": s.source_date, "warnings": warnings,
               "hits": [h.to_dict() for h in hits]}  # fmt: skip
        emit([{**h.to_dict(), "features": _explain(h)} for h in hits], [], shown, document=doc)
    else:
        _print_hits(name, hits, s, limit, warnings)
    _fail_on_hit(fail_on_hit, len(hits))


@app.command("match")
def match_cmd(
    a: Annotated[str, typer.Argument(help="first name (the party)")],
    b: Annotated[str, typer.Argument(help="second name (plays the listed name)")],
    threshold: ThresholdOpt = THRESHOLD,
    as_json: JsonOpt = False,
) -> None:
    """Score two names directly, with the feature-by-feature explanation."""
    r = Screener(threshold=threshold).match(a, b)
    if as_json:
        emit_json(r.to_dict())
        return
    verdict = "[bold]match[/bold]" if r.match else "no match"
    console.print(
        f"{r.a!r} vs {r.b!r}: score [bold]{r.score:.2f}[/bold] -> {verdict} (threshold {r.threshold:.2f})"
    )
    for f in r.features:
        console.print(f"  - {f.name} {f.value:.2f} ({f.effect}): {f.detail}", highlight=False)


@app.command("review")
def review_cmd(
    name: Annotated[str, typer.Argument(help="the party name as screened")],
    entry_id: Annotated[str, typer.Argument(help="the entry id of the hit (from screen --json)")],
    confirmed: Annotated[bool, typer.Option("--confirmed", help="the party is this listed entry")] = False,
    false_positive: Annotated[
        bool, typer.Option("--false-positive", help="the party is not this entry")
    ] = False,
    reviewer: Annotated[str, typer.Option("--reviewer", help="who decided")] = "",
    note: Annotated[str, typer.Option("--note", help="why")] = "",
) -> None:
    """Record a reviewer's decision on a hit; later screens honour it."""
    if confirmed == false_positive:
        raise ChipexError("give exactly one of --confirmed or --false-positive")
    if not reviewer.strip():
        raise ChipexError("--reviewer is required (decisions are audited)", field="reviewer")
    d = Screener().decide(name, entry_id, "confirmed" if confirmed else "false_positive", reviewer=reviewer,
                          note=note)  # fmt: skip
    console.print(f"recorded: {d.query!r} / {d.entry_name} -> {d.decision} by {d.reviewer} ({d.decided_at})")
