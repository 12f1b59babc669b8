"""`chipex check`: licence determination for one order or a whole order book."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from chipex.catalog import load_catalog
from chipex.errors import ChipexError
from chipex.interfaces.cli.app import DISCLAIMER, app, console, emit_json, err_console
from chipex.interfaces.cli.book_view import print_book
from chipex.interfaces.cli.progress import book_progress
from chipex.interfaces.cli.render import FormatOpt, WideOpt, emit, pick_format
from chipex.rules import default_rulebook
from chipex.rules.countries import REGIMES

REGIME_HELP = (
    "as-enforced (default): what BIS says it enforces (the AI Diffusion rule is printed but not enforced "
    "since 2025-05-13); as-printed: the CFR text"
)


def _print_one(d: dict) -> None:
    verdict = (
        "[bold red]LICENCE REQUIRED[/bold red]"
        if d["license_required"]
        else "[bold green]no licence required[/bold green]"
    )
    console.print(f"{d['quantity']} x {d['item']} to {d['destination']} on {d['date']}: {verdict}")
    for w in d.get("warnings") or []:  # rules/warnings.yaml: printed before everything else
        console.print(
            f"[bold red]WARNING ({w['id']}):[/bold red] {w['text']} [{w['citation']}; {w['confidence']}]"
        )
    console.print(f"subject to the EAR: {d['jurisdiction']}")
    for a in d.get("advisories") or []:
        console.print(f"[bold yellow]advisory:[/bold yellow] {a}")
    console.print(
        f"ECCN: {d['eccn'] or 'none'} ({d.get('eccn_confidence') or 'unknown'}); "
        f"rule version {d['rule_version']}; regime {d['regime']}"
    )
    t = Table("rule", "paragraph", "detail", "citation", "confidence")
    for r in d["reasons"]:
        t.add_row(r["rule"], r["paragraph"] or "-", r["detail"], r["citation"] or "-", r["confidence"] or "-")
    console.print(t)
    if d["depends_on"]:
        console.print(f"[yellow]depends on facts not in the order:[/yellow] {'; '.join(d['depends_on'])}")
    if d.get("outcomes"):
        for k, v in d["outcomes"].items():
            console.print(f"  {k}: licence required = {v}")
    if d["policy"]:
        p = d["policy"]
        console.print(
            f"licence review policy: [bold]{p['policy']}[/bold] ({p['paragraph']}; {p['citation']}; {p['confidence']})"
        )
        if p["note"]:
            console.print(f"  {p['note']}")
        for c in p.get("conditions") or []:
            console.print(f"  - condition of the application: {c}")
    for e in d["exceptions"]:
        console.print(
            f"licence exception that could apply: [bold]{e['id']}[/bold] {e['paragraph']} ({e['citation']})"
        )
        for c in e["conditions"]:
            console.print(f"  - condition: {c}")
        for m in e["missing"]:
            console.print(f"  - still needed: {m}")
    _print_flags(d)
    for e in d.get("ledger") or []:
        left = "-" if e["remaining"] is None else f"{e['remaining']:,.0f}"
        flag = "[bold red]EXCEEDS[/bold red] " if e["exceeds"] else ""
        console.print(
            f"ledger: {flag}{e['bucket']}: {left} {e['unit']} left ({e['citation']}; {e['confidence']})"
        )
    if d.get("determination_id"):
        console.print(f"recorded in the ledger as {d['determination_id']}")
    # the answer's scope (rules/scope.yaml): a "no licence required" holds only within it
    console.print(f"checked: {'; '.join(d['checked'])}", highlight=False)
    console.print(f"[yellow]not checked:[/yellow] {'; '.join(d['not_checked'])}", highlight=False)
    console.print(f"[dim]{DISCLAIMER}[/dim]")


def _print_flags(d: dict) -> None:
    """Red flags: the inquiries to make before shipping (they never change the licence answer)."""
    if not d.get("red_flag_inquiries"):
        console.print("red flags: none raised by the fields given (unknown fields raise none)")
        return
    console.print(f"[bold yellow]red flags ({len(d['red_flags'])}): inquire before shipping[/bold yellow]")
    for f in d["red_flag_inquiries"]:
        console.print(f"  [bold]{f['flag']}[/bold] {f['title']}: {f['detail']}")
        console.print(f"    inquiry: {f['inquiry']}")
        console.print(f"    {f['citation']} ({f['confidence']}; in guidance since {f['added']})")


@app.command("check")
def check_cmd(
    orders: Annotated[Path | None, typer.Argument(help="order book: .csv, .parquet, .jsonl or .xlsx")] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="FILE",
            help="results file: .parquet, .csv, .jsonl or .xlsx (written atomically); stdout then "
            "shows the summary table unless --format is given",
        ),
    ] = None,
    engine: Annotated[str, typer.Option("--engine", help="bulk engine: duckdb, polars or spark")] = "duckdb",
    regime: Annotated[str, typer.Option("--regime", help=REGIME_HELP)] = "as-enforced",
    reject_file: Annotated[
        Path | None,
        typer.Option(
            "--reject-file",
            metavar="FILE",
            help="write bad lines here (.csv, .jsonl, .parquet, .xlsx) and check the rest",
        ),
    ] = None,
    allow_extra_columns: Annotated[
        bool,
        typer.Option(
            "--allow-extra-columns",
            help="check a book with unknown columns (ignored, and listed in the summary)",
        ),
    ] = False,
    encoding: Annotated[
        str | None,
        typer.Option(
            "--encoding",
            metavar="NAME",
            help="text encoding of a CSV/JSONL book (default UTF-8), e.g. cp1252",
        ),
    ] = None,
    sheet: Annotated[
        str | None,
        typer.Option("--sheet", metavar="NAME", help="the sheet of an .xlsx book (default the first)"),
    ] = None,
    catalog: Annotated[
        list[Path] | None, typer.Option("--catalog", help="extra chip catalog file(s)")
    ] = None,
    item: Annotated[
        str | None, typer.Option("--item", help="one order: chip or system, e.g. H100 or '8x H100'")
    ] = None,
    quantity: Annotated[int, typer.Option("--quantity", help="one order: units")] = 1,
    to: Annotated[str | None, typer.Option("--to", help="one order: destination country")] = None,
    date: Annotated[str, typer.Option("--date", help="one order: date (YYYY-MM-DD)")] = "today",
    end_user: Annotated[str | None, typer.Option("--end-user")] = None,
    end_user_hq: Annotated[
        str | None, typer.Option("--end-user-hq", help="end user's headquarters country")
    ] = None,
    parent_hq: Annotated[
        str | None, typer.Option("--parent-hq", help="ultimate parent's headquarters country")
    ] = None,
    consignee: Annotated[str | None, typer.Option("--consignee")] = None,
    end_use: Annotated[
        str | None,
        typer.Option(
            "--end-use",
            help="datacenter, supercomputer, advanced-node fab, sme production, model training, other, or free text",
        ),
    ] = None,
    ship_from: Annotated[str | None, typer.Option("--ship-from", help="country the item ships from")] = None,
    exporter: Annotated[
        str | None, typer.Option("--exporter", help="exporting company (is-informed letters bind a company)")
    ] = None,
    consignee_type: Annotated[
        str | None,
        typer.Option("--consignee-type", help="end-user, distributor, reseller, freight-forwarder, unknown"),
    ] = None,
    payer_country: Annotated[
        str | None, typer.Option("--payer-country", help="country the payment comes from")
    ] = None,
    payer_name: Annotated[str | None, typer.Option("--payer-name", help="who pays")] = None,
    end_user_business: Annotated[
        str | None, typer.Option("--end-user-business", help="e.g. cloud, research, trading, logistics")
    ] = None,
    end_user_established: Annotated[
        str | None, typer.Option("--end-user-established", help="date the end user was established")
    ] = None,
    unit_price_usd: Annotated[
        str | None, typer.Option("--unit-price-usd", help="price of one ordered item (a system is one item)")
    ] = None,
    declared_description: Annotated[
        str | None, typer.Option("--declared-description", help="description on the invoice / export filing")
    ] = None,
    delivery_address: Annotated[str | None, typer.Option("--delivery-address")] = None,
    payment_terms: Annotated[
        str | None, typer.Option("--payment-terms", help="e.g. cash, letter of credit, open account")
    ] = None,
    made_in: Annotated[
        str | None, typer.Option("--made-in", help="country of manufacture (not given: US-origin assumed)")
    ] = None,
    us_content_pct: Annotated[
        str | None,
        typer.Option("--us-content-pct", help="controlled US-origin content, % of value (de minimis)"),
    ] = None,
    exporter_role: Annotated[
        str | None, typer.Option("--exporter-role", help="foundry, OSAT or other (Note 1 to 3A090.a)")
    ] = None,
    screen: Annotated[
        bool, typer.Option("--screen/--no-screen", help="screen end users and consignees against the lists")
    ] = True,
    list_as_of: Annotated[
        str,
        typer.Option(
            "--list-as-of", help="order: the list in force on each order's date; today: today's list"
        ),
    ] = "order",
    ledger: Annotated[
        bool, typer.Option("--ledger", help="show how much of each licence or cap the line(s) would use")
    ] = False,
    record: Annotated[
        bool,
        typer.Option(
            "--record",
            help="record each determination in the ledger's audit chain (a book: resumable, "
            "lines recorded before are not recorded again)",
        ),
    ] = False,
    missing: Annotated[
        bool,
        typer.Option(
            "--missing", help="a book: list its lines not yet recorded in the ledger (records nothing)"
        ),
    ] = False,
    db: Annotated[
        str | None, typer.Option("--db", help="ledger database URL or SQLite path (default CHIPEX_DB)")
    ] = None,
    user: Annotated[
        str | None, typer.Option("--user", help="who is checking (recorded with --record)")
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="one JSON object per line (--format jsonl)")
    ] = False,
    fmt: FormatOpt = None,
    wide: WideOpt = False,
    fail_on_licence: Annotated[
        bool,
        typer.Option("--fail-on-licence", help="exit 3 if any line (or the one order) needs a licence"),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", help="show the Spark engine's JVM logs and progress bars")
    ] = False,
) -> None:
    """May this order ship? Licence requirements, exceptions and review policy, cited, as of the order's date."""
    # the query engines load only when an order is checked
    from chipex.orders.explain import split_ids
    from chipex.service.orders import BookRequest, OrderRequest, check_book, check_order

    if regime not in REGIMES:
        raise ChipexError(f"unknown regime '{regime}' (use {' or '.join(REGIMES)})")
    cat = load_catalog(catalog or [])
    if orders is None:
        if not item or not to:
            raise ChipexError("give an order book file, or one order with --item and --to (and --date)")
        fields = {
            "end_user": end_user, "end_user_hq": end_user_hq, "parent_hq": parent_hq, "consignee": consignee,
            "end_use": end_use, "ship_from": ship_from, "exporter": exporter, "consignee_type": consignee_type,
            "payer_country": payer_country, "payer_name": payer_name, "end_user_business": end_user_business,
            "end_user_established": end_user_established, "unit_price_usd": unit_price_usd,
            "declared_description": declared_description, "delivery_address": delivery_address,
            "payment_terms": payment_terms, "made_in": made_in, "us_content_pct": us_content_pct,
            "exporter_role": exporter_role,
        }  # fmt: skip
        req = OrderRequest(date=date, item=item, quantity=quantity, destination=to, regime=regime,  # type: ignore[arg-type]
                           screen=screen, list_as_of=_list_as_of(list_as_of), ledger=ledger, record=record,
                           **fields)  # fmt: skip
        if missing:
            raise ChipexError("--missing lists the unrecorded lines of an order book: give the book file")
        d = check_order(req, actor=user, db=db, catalog=cat if catalog else None, order="cli").to_dict()
        shown = pick_format(fmt, json_out, json_means="jsonl")
        if shown == "table":
            _print_one(d)
        else:
            emit([one_row(d)] if shown == "csv" else [d], [], shown, document=d)
        _fail_if(fail_on_licence, int(d["license_required"]), "the order needs")
        return
    from chipex.orders.output import check_outputs
    from chipex.orders.reading import file_format

    check_outputs(orders, out=out, reject_file=reject_file)
    # A CSV results file neutralises formula-like text (OWASP): rows that are recorded come from
    # memory, never read back from it.
    csv_out = out is not None and file_format(out) == "csv" and (ledger or record or missing)
    # with --out the results are in the file: stdout shows the summary unless a format is asked for
    shown = pick_format(fmt or ("table" if out and not json_out else None), json_out, json_means="jsonl")
    if engine == "spark" and verbose:
        os.environ["CHIPEX_SPARK_LOGS"] = "1"  # chipex.orders.spark: JVM logs kept out otherwise
    with book_progress(err_console, orders) as done:
        report = check_book(
            BookRequest(
                path=orders,
                out=None if csv_out else out,
                engine=engine,  # type: ignore[arg-type]
                regime=regime,  # type: ignore[arg-type]
                reject_file=reject_file,
                screen=screen,
                list_as_of=_list_as_of(list_as_of),  # type: ignore[arg-type]
                allow_extra_columns=allow_extra_columns,
                encoding=encoding,
                sheet=sheet,
            ),
            catalog=cat,
        )
        done(report.total)
    if csv_out:
        _write_results(report.results, out)
    link = _link(ledger or record or missing, db, regime, user, catalog)
    rows = report.rows() if link is not None else None
    extra = {}
    if missing:
        _print_missing(link, rows, orders, screen, list_as_of, shown)
        return
    recording = _record_book(link, rows, orders, screen, list_as_of) if record else None
    if ledger:
        for row in rows:
            d = {
                "license_required": row["license_required"],
                "eccn": row["eccn"],
                "reasons": split_ids(row["reasons"]),
                "exceptions": split_ids(row["exceptions"]),
                "policy": row["policy"],
                "regime": regime,
            }
            extra[row["line"]] = _attach(link, d, row)
        over = [(line, e) for line, d in extra.items() for e in d.get("ledger", []) if e["exceeds"]]
        for line, e in over:
            err_console.print(f"line {line}: would exceed {e['bucket']}: {e['message']}")
    needing = sum(s.lines for s in report.summary if s.license_required)
    if shown != "table":
        _emit_book(report, shown, extra, recording)
        if recording:
            _print_recording(recording, len(rows), err_console)
        _fail_if(fail_on_licence, needing, f"{needing:,} line(s) need")
        return
    print_book(report, str(orders), regime, wide=wide)
    if report.ignored_columns:
        from rich.markup import escape

        from chipex.errors import printable

        shown = ", ".join(escape(printable(c)) for c in report.ignored_columns)
        console.print(f"[yellow]columns ignored (--allow-extra-columns):[/yellow] {shown}")
    if report.rejected:
        err_console.print(f"{report.rejected:,} bad line(s) written to {reject_file}")
    if out:
        console.print(f"results: {out}")
    if recording:
        _print_recording(recording, len(rows), console)
    console.print(f"[dim]{DISCLAIMER}[/dim]")
    _fail_if(fail_on_licence, needing, f"{needing:,} line(s) need")


def _fail_if(wanted: bool, needing: int, what: str) -> None:
    """--fail-on-licence: exit 3 (after the output) when a licence is needed (README: exit codes)."""
    if wanted and needing:
        err_console.print(f"{what} a licence (--fail-on-licence: exit 3)")
        raise typer.Exit(3)


def _emit_book(report, shown: str, extra: dict, recording) -> None:
    """A book's lines in a script's format: jsonl/json one Determination per line (the
    docs/schema/determination.schema.json objects), CSV the flat DeterminationRow of each line."""
    if shown == "csv":
        from chipex.service.orders import shaped

        emit(shaped(report._joined(), "csv").to_pylist(), [], "csv")
        return
    dets = []
    for d in report.determinations():
        more = extra.get(d.line, {})
        key = recording.keys.get(d.line) if recording else None
        d = d.model_copy(update={"ledger": more.get("ledger"), "determination_id": key}).to_dict()
        if shown == "jsonl":
            emit_json(d)
        else:
            dets.append(d)
    if shown == "json":
        emit_json(dets)


def one_row(d: dict) -> dict:
    """One order's Determination as its flat DeterminationRow (the columns of a CSV results file)."""
    from chipex.service.determination import DeterminationRow

    p = d.get("policy") or {}
    flat = {**d, "reasons": [r["rule"] for r in d["reasons"]], "exceptions": [e["id"] for e in d["exceptions"]],
            "policy": p.get("policy"), "policy_rule": p.get("rule"), "party_entries": d.get("parties"),
            "red_flags": ";".join(d.get("red_flags") or [])}  # fmt: skip
    return {k: flat.get(k) for k in DeterminationRow.model_fields}


def _list_as_of(value: str) -> str:
    if value not in ("order", "today"):
        raise ChipexError(f"--list-as-of is 'order' or 'today', not '{value}'", field="list-as-of")
    return value


def _link(wanted: bool, db: str | None, regime: str, user: str | None, catalog: list[Path] | None = None):
    if not wanted:
        return None
    from chipex.orders.ledger_link import LedgerLink

    return LedgerLink(db, regime, user, catalog or [])


def _record_book(link, rows: list[dict], book: Path, screen: bool, list_as_of: str):
    """Record the book's determinations (only those not recorded yet)."""
    return link.record_book(rows, book, screened=screen, list_as_of=list_as_of, rule_version=_version)


def _print_recording(rep, lines: int, out) -> None:
    from chipex.orders.ledger_link import line_ranges

    out.print(
        f"recorded {rep.recorded:,} determinations in the ledger; {rep.already:,} of the {lines:,} lines "
        f"were recorded before (book sha256 {rep.book_sha256[:16]})"
    )
    if rep.differing:
        fields = sorted({f for _, fs in rep.differing for f in fs})
        first = ", ".join(f"{line} ({', '.join(fs)})" for line, fs in rep.differing[:5])
        err_console.print(
            f"[yellow]{len(rep.differing):,} line(s) recorded before differ from this run in {', '.join(fields)}; "
            f"they keep the determination recorded then (lines {line_ranges([n for n, _ in rep.differing])}; "
            f"first: {first})[/yellow]"
        )


def _print_missing(link, rows: list[dict], book: Path, screen: bool, list_as_of: str, shown: str) -> None:
    from chipex.orders.ledger_link import line_ranges

    lines = link.missing_lines(rows, book, screened=screen, list_as_of=list_as_of)
    if shown in ("json", "jsonl"):
        emit_json({"book": str(book), "lines": len(rows), "missing": lines})
        return
    if shown == "csv":
        emit([{"line": n} for n in lines], [], "csv")
        return
    shown = line_ranges(lines) if lines else "none"
    console.print(
        f"{len(lines):,} of {len(rows):,} checked lines of {book} are not recorded in the ledger: {shown}"
    )


def _write_results(results, out: Path) -> None:
    """Write the in-memory results to `out` with the bulk path's writer (atomic, neutralised CSV)."""
    import duckdb

    from chipex.orders.output import write_table

    con = duckdb.connect()
    con.register("results_view", results)
    write_table(con, "results_view", out)


def _version(on) -> str | None:
    import datetime as dt

    v = default_rulebook().version_on(on if isinstance(on, dt.date) else dt.date.fromisoformat(str(on)))
    return v.id if v else None


def _attach(link, d: dict, row) -> dict:
    """Add the ledger headroom a line would draw on to its determination `d` (a dict)."""
    row = row if isinstance(row, dict) else d
    exceptions = [e if isinstance(e, str) else e["id"] for e in d.get("exceptions", [])]
    d["ledger"] = link.headroom(row, d["license_required"], exceptions)
    return d
