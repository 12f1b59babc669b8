"""Commands on the catalog and the rulebook: classify, history, chips, rules, demo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from chipex.catalog import Catalog, load_catalog, read_chip_file
from chipex.catalog.model import Chip
from chipex.core.classify import Classification, classify, history
from chipex.errors import ChipexError
from chipex.interfaces.cli.app import DISCLAIMER, app, console, emit_json
from chipex.interfaces.cli.render import (
    Col,
    FormatOpt,
    ObjectFormatOpt,
    WideOpt,
    emit,
    pick_format,
    pick_object_format,
)
from chipex.rules import default_rulebook

CatalogOpt = Annotated[
    list[Path] | None,
    typer.Option("--catalog", help="extra catalog file(s) in the catalog schema; override by id"),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="the same as --format json")]
DatacenterOpt = Annotated[
    bool | None,
    typer.Option(
        "--datacenter/--not-datacenter",
        help="override 'designed or marketed for use in datacenters' (Note 2 to 3A090)",
        show_default=False,
    ),
]


def _catalog(extra: list[Path] | None) -> Catalog:
    return load_catalog(extra or [])


def _adhoc_chip(
    name: str,
    tops: dict[str, float | None],
    die_area: float | None,
    interconnect: float | None,
    memory_bandwidth: float | None,
    datacenter: bool | None,
) -> Chip:
    """A chip described on the command line: every figure is marked as the user's own."""

    def fig(v: float | None) -> dict | None:
        return None if v is None else {"value": str(v), "source": "user input", "confidence": "published"}

    return Chip.model_validate(
        {
            "id": "user-spec",
            "name": name,
            "vendor": "user",
            "family": name,
            "datacenter": {"value": datacenter, "source": "user input", "confidence": "published"},
            "dense_tops": {p: fig(v) for p, v in tops.items() if v is not None},
            "die_area_mm2": fig(die_area),
            "interconnect_gbps": fig(interconnect),
            "memory_bandwidth_gbps": fig(memory_bandwidth),
        }
    )


def _resolve(chip: str | None, spec: Path | None, catalog: Catalog, adhoc: Chip | None) -> Chip:
    if spec is not None:
        chips = read_chip_file(spec)
        if len(chips) != 1:
            raise ChipexError(f"a spec file must hold exactly one chip, found {len(chips)}", file=str(spec))
        return chips[0]
    if adhoc is not None:
        return adhoc
    if not chip:
        raise ChipexError("name a chip, or give --spec FILE, or its figures (--fp16, --die-area, ...)")
    return catalog.get(chip)


def _print_classification(c: Classification) -> None:
    eccn = c.eccn or "not 3A090/4A090 (no advanced-computing paragraph applies)"
    console.print(f"[bold]{c.chip}[/bold] as of {c.as_of}: [bold]{eccn}[/bold]")
    shown = [default_rulebook().warnings.by_id()[i].shown() for i in c.warning_ids]
    for w in shown:  # rules/warnings.yaml: before everything else
        console.print(f"[bold red]WARNING:[/bold red] {w}")
    ver = f"{c.rule_version} ({c.rule_version_name})" if c.rule_version else "none in force yet"
    console.print(f"rule version: {ver}; ECCN text: {c.eccn_text or '-'}")
    if c.ccl_eccn:
        console.print(f"on the CCL: [bold]{c.ccl_eccn}[/bold] ({c.ccl_confidence}): {c.ccl_basis}")
    if c.tpp is not None:
        pd = f"{c.performance_density:,.2f}" if c.performance_density is not None else "unknown"
        console.print(f"TPP {c.tpp:,.1f} (set by {c.tpp_precision}); performance density {pd}")
    t = Table("rule", "met", "detail", "citation", show_lines=False)
    for r in c.reasons:
        met = {True: "[green]yes[/green]", False: "no", None: "[yellow]unknown[/yellow]"}[r.met]
        t.add_row(r.rule, met, r.detail, r.citation)
    console.print(t)
    for w in (w for w in c.warnings if w not in shown):
        console.print(f"[yellow]warning:[/yellow] {w}")
    console.print(f"[dim]{DISCLAIMER}[/dim]")


@app.command("classify")
def classify_cmd(
    chip: Annotated[
        str | None, typer.Argument(help="catalog chip name, e.g. 'H800' or 'NVIDIA H100 SXM5'")
    ] = None,
    as_of: Annotated[str, typer.Option("--as-of", help="date YYYY-MM-DD (default today)")] = "today",
    spec: Annotated[Path | None, typer.Option("--spec", help="a chip not in the catalog: one record")] = None,
    catalog: CatalogOpt = None,
    datacenter: DatacenterOpt = None,
    fp16: Annotated[float | None, typer.Option(help="dense FP16/BF16 TFLOPS")] = None,
    fp8: Annotated[float | None, typer.Option(help="dense FP8 TFLOPS")] = None,
    int8: Annotated[float | None, typer.Option(help="dense INT8 TOPS")] = None,
    fp4: Annotated[float | None, typer.Option(help="dense FP4 TFLOPS")] = None,
    die_area: Annotated[float | None, typer.Option(help="applicable die area, mm2")] = None,
    interconnect: Annotated[float | None, typer.Option(help="bidirectional chip-to-chip GB/s")] = None,
    memory_bandwidth: Annotated[float | None, typer.Option(help="memory bandwidth GB/s")] = None,
    json_out: JsonOpt = False,
    fmt: ObjectFormatOpt = None,
) -> None:
    """The ECCN paragraph of a chip or system on a date, with every threshold compared and cited."""
    as_json = pick_object_format(fmt, json_out) == "json"
    tops = {"fp16": fp16, "fp8": fp8, "int8": int8, "fp4": fp4}
    adhoc = None
    if any(v is not None for v in tops.values()):
        adhoc = _adhoc_chip(chip or "user chip", tops, die_area, interconnect, memory_bandwidth, datacenter)
    cat = _catalog(catalog)
    record = _resolve(None if adhoc else chip, spec, cat, adhoc)
    result = classify(record, as_of, catalog=cat, datacenter=datacenter)
    if as_json:
        emit_json(result.to_dict())
    else:
        _print_classification(result)


HISTORY_LEGEND = (
    "*: the status changed at this version; letters: is-informed letters in force, as their legal basis "
    "[letter id] (chipex classify CHIP); "
    "-: no advanced-computing ECCN"
)


def _letter_labels(ids: list[str]) -> str:
    from chipex.interfaces.cli.book_view import rule_label

    return "\n".join(rule_label(i) for i in ids) or "-"


@app.command("history")
def history_cmd(
    chip: Annotated[str | None, typer.Argument(help="catalog chip name")] = None,
    spec: Annotated[Path | None, typer.Option("--spec", help="a chip not in the catalog: one record")] = None,
    catalog: CatalogOpt = None,
    datacenter: DatacenterOpt = None,
    json_out: JsonOpt = False,
    fmt: FormatOpt = None,
    wide: WideOpt = False,
) -> None:
    """A chip's status under every rule version, in date order, marking where it changed."""
    cat = _catalog(catalog)
    record = _resolve(chip, spec, cat, None)
    rows = history(record, catalog=cat, datacenter=datacenter)
    out = pick_format(fmt, json_out)
    flat, prev = [], object()
    for r in rows:
        state = (r.eccn, tuple(x.id for x in r.other_requirements))
        flat.append(
            {
                "from": str(r.as_of),
                "rule_version": r.rule_version,
                "rule_version_name": r.rule_version_name,
                "eccn": r.eccn,
                "letters": [x.id for x in r.other_requirements],
                "changed": state != prev,
            }
        )
        prev = state
    cols = [
        Col("from", "from"),
        Col("rule_version_name", "rule version", wrap=True),
        Col("eccn", "ECCN"),
        Col("letters", "letters", wrap=True, show=_letter_labels),
        Col("changed", "changed", drop=1, show=lambda v: "*" if v else ""),
    ]
    emit(
        flat,
        cols,
        out,
        title=f"{record.name}: status over time",
        legend=[HISTORY_LEGEND],
        wide=wide,
        document=[r.to_dict() for r in rows],
    )
    if out == "table":
        console.print(f"[dim]{DISCLAIMER}[/dim]")


def _num(spec: str) -> object:
    return lambda v: "-" if v is None else format(v, spec)


CHIPS_LEGEND = (
    "TPP: total processing performance (3A090 Technical Note: 2 x MacTOPS x bit length); "
    "PD: TPP per mm² of applicable die area; datacenter: designed or marketed for datacenters "
    "(Note 2 to 3A090), ? unknown; -: not computed (a system, or a figure the catalog lacks)"
)


@app.command("chips")
def chips_cmd(
    catalog: CatalogOpt = None, json_out: JsonOpt = False, fmt: FormatOpt = None, wide: WideOpt = False
) -> None:
    """List the catalog with TPP and performance density computed from its own figures."""
    from chipex.core.classify import measure
    from chipex.core.metrics import as_float

    cat = _catalog(catalog)
    rows = []
    for c in cat:
        m = measure(c) if c.kind != "system" else None
        rows.append(
            {
                "id": c.id,
                "name": c.name,
                "vendor": c.vendor,
                "kind": c.kind,
                "datacenter": c.datacenter.value,
                "tpp": as_float(m.tpp, 1) if m else None,
                "performance_density": as_float(m.performance_density, 2) if m else None,
                "released": c.released.value.isoformat() if c.released else None,
                "file": cat.origin.get(c.id),
            }
        )
    cols = [
        Col("id", "id", drop=3),
        Col("name", "name", wrap=True),
        Col("vendor", "vendor", drop=2),
        Col("tpp", "TPP", right=True, show=_num(",.0f")),
        Col("performance_density", "PD (TPP/mm²)", right=True, show=_num(".2f")),
        Col("datacenter", "datacenter", drop=1, show=lambda v: {True: "yes", False: "no"}.get(v, "?")),
        Col("released", "released"),
    ]
    emit(rows, cols, pick_format(fmt, json_out), title="The catalog", legend=[CHIPS_LEGEND], wide=wide)


CONFIDENCES = ("verified", "secondary", "from-memory")


def confidence_counts(rb) -> list[dict]:
    """How many rule versions and licensing rules carry each confidence."""
    lic = rb.licensing
    groups = {
        "rule versions (timeline.yaml)": rb.versions,
        "licence requirements": lic.requirements,
        "licence exceptions": lic.exceptions,
        "licence review policies": lic.policies,
    }
    rows = []
    for name, records in groups.items():
        row = {"rules": name, **{c: sum(r.confidence == c for r in records) for c in CONFIDENCES}}
        rows.append(row | {"total": len(records)})
    return rows


@app.command("rules")
def rules_cmd(
    json_out: JsonOpt = False,
    fmt: FormatOpt = None,
    wide: WideOpt = False,
    confidence: Annotated[
        bool, typer.Option("--confidence", help="counts by confidence: rule versions and licensing rules")
    ] = False,
) -> None:
    """The rule versions chipex knows, with dates, citations and confidence."""
    if confidence:
        cols = [
            Col("rules", "rules"),
            *(Col(c, c, right=True) for c in CONFIDENCES),
            Col("total", "total", right=True),
        ]
        legend = "licensing rules: rules/licensing.yaml and the other licensing files; see `chipex rules` for the versions"
        rows = confidence_counts(default_rulebook())
        emit(
            rows,
            cols,
            pick_format(fmt, json_out),
            title="Rule data by confidence",
            legend=[legend],
            wide=wide,
        )
        return
    versions = default_rulebook().versions
    rows = [v.model_dump(mode="json") for v in versions]
    cols = [
        Col("id", "id"),
        Col("effective", "effective"),
        Col("name", "name", wrap=True),
        Col("citation", "citation", wrap=True, drop=1),
        Col("confidence", "confidence", drop=2),
    ]
    legend = "confidence: verified (read in the operative text), secondary (quoted by a law firm, press or filing), from-memory (unverified)"
    emit(rows, cols, pick_format(fmt, json_out), title="Rule versions", legend=[legend], wide=wide)


DEMO_CHIPS = [
    "A100",
    "A800",
    "H100",
    "H800",
    "H20",
    "H200",
    "L40S",
    "L4",
    "L20",
    "RTX 4090",
    "RTX 4090D",
    "B200",
]


STORY = Path(__file__).resolve().parents[2] / "examples" / "orders-story.csv"


DEMO_LEGEND = (
    "-: no advanced-computing ECCN (3A090/4A090) under that version; +letter: an is-informed letter "
    "requires a licence for named destinations (chipex classify CHIP); TPP: total processing performance; "
    "PD: TPP per mm² of die area"
)


def _eccn_cell(v: str | None) -> str:
    return "-" if not v else f"- {v}" if v.startswith("+") else v


@app.command("demo")
def demo_cmd(fmt: FormatOpt = None, wide: WideOpt = False) -> None:
    """The main job on bundled data: the story order book checked, and the key chips across the rules."""
    from chipex.interfaces.cli.book_view import print_book
    from chipex.interfaces.cli.render import print_table
    from chipex.service.orders import BookRequest, check_book, shaped

    shown = pick_format(fmt)
    cat = load_catalog()
    rb = default_rulebook()
    dates = [
        v for v in rb.versions if v.id in {"2022-10-07", "2023-11-17", "2024-12-02", "2025-04-09-is-informed"}
    ]
    rows = []
    for name in DEMO_CHIPS:
        chip = cat.get(name)
        row = {"chip": chip.name}
        for v in dates:
            c = classify(chip, v.effective, catalog=cat, rulebook=rb)
            row[str(v.effective)] = (
                " ".join([c.eccn or "", "+letter" if c.other_requirements else ""]).strip() or None
            )
        row |= {"tpp": c.tpp, "pd": c.performance_density}
        rows.append(row)
    report = check_book(BookRequest(path=STORY), catalog=cat)
    if shown != "table":  # rows: the chips by rule version (table `chips`), then the book's lines (`book`)
        book = shaped(report._joined(), "csv").to_pylist()
        doc = {
            "chips": rows,
            "book": [d.to_dict() for d in report.determinations()],
            "disclaimer": DISCLAIMER,
        }
        emit([*({"table": "chips", **r} for r in rows), *({"table": "book", **r} for r in book)], [], shown,
             document=doc)  # fmt: skip
        return
    cols = [
        Col("chip", "chip", wrap=True),
        Col("tpp", "TPP", right=True, show=_num(",.0f")),
        Col("pd", "PD (TPP/mm²)", right=True, show=_num(".2f")),
        *[Col(str(v.effective), str(v.effective), wrap=True, show=_eccn_cell) for v in dates],
    ]
    print_table(rows, cols, title="ECCN by rule version (in force from)", legend=[DEMO_LEGEND], wide=wide)
    console.print(f"\n[bold]The story order book[/bold] ({STORY.name}): may each order ship, on its date?")
    print_book(report, STORY.name, "as-enforced", wide=wide)
    console.print(f"[dim]{DISCLAIMER}[/dim]")
