"""Commands on the ledger: `chipex ledger licence|reserve|ship|cancel|return|caps|migrate`
(`chipex audit` is in audit_cmds).

A refused reservation or a failed verification exits 1 with the reason; bad input exits 2 (one
line, nothing recorded).
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from chipex.catalog import load_catalog
from chipex.core.classify import parse_date
from chipex.datafiles import read_yaml
from chipex.errors import ChipexError
from chipex.interfaces.cli.app import DISCLAIMER, app, console, emit_json
from chipex.interfaces.cli.core_cmds import CatalogOpt, JsonOpt
from chipex.interfaces.cli.render import Col, FormatOpt, WideOpt, emit, pick_format, print_table
from chipex.ledger import CapRow, Headroom, Ledger, Licence, Outcome, Request, open_ledger
from chipex.ledger.db import grant_app_role, open_engine
from chipex.ledger.records import fmt_amount
from chipex.rules.countries import REGIMES, iso_code

ledger_app = typer.Typer(
    help="Licences, caps, reservations and shipments, on SQLite (default) or PostgreSQL.",
    no_args_is_help=True,
)
licence_app = typer.Typer(help="Licences as granted: add, show, list.", no_args_is_help=True)
app.add_typer(ledger_app, name="ledger")
ledger_app.add_typer(licence_app, name="licence")

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db", help="database URL or SQLite file (default: CHIPEX_DB, else ledger.db in CHIPEX_HOME)"
    ),
]
RegimeOpt = Annotated[
    str, typer.Option("--regime", help=f"{' or '.join(REGIMES)}: which caps refuse (all are counted)")
]
DateOpt = Annotated[str | None, typer.Option("--date", help="shipment date YYYY-MM-DD (default today)")]
UserOpt = Annotated[
    str | None,
    typer.Option(
        "--user", help="who records this (default CHIPEX_USER, else the OS account, recorded beside it)"
    ),
]


def _open(db: str | None, catalog: list[Path] | None = None, user: str | None = None) -> Ledger:
    return open_ledger(db, catalog=load_catalog(catalog) if catalog else None, actor=user)


def _amount(x: Fraction | None) -> str:
    return "-" if x is None else fmt_amount(x)


# --- licences ----------------------------------------------------------------------------------


@licence_app.command("add")
def licence_add(
    number: Annotated[str | None, typer.Option("--number", help="licence number")] = None,
    holder: Annotated[str | None, typer.Option("--holder", help="the licence holder (exporter)")] = None,
    item: Annotated[list[str] | None, typer.Option("--item", help="catalog chip or system (repeat)")] = None,
    eccn: Annotated[list[str] | None, typer.Option("--eccn", help="ECCN paragraph covered (repeat)")] = None,
    to: Annotated[list[str] | None, typer.Option("--to", help="destination country (repeat)")] = None,
    consignee: Annotated[
        list[str] | None, typer.Option("--consignee", help="ultimate consignee (repeat)")
    ] = None,
    end_user: Annotated[list[str] | None, typer.Option("--end-user", help="end user (repeat)")] = None,
    valid_from: Annotated[str | None, typer.Option("--valid-from", help="YYYY-MM-DD")] = None,
    valid_to: Annotated[str | None, typer.Option("--valid-to", help="YYYY-MM-DD")] = None,
    units: Annotated[int | None, typer.Option("--units", help="quantity granted, in units")] = None,
    tpp: Annotated[str | None, typer.Option("--tpp", help="quantity granted, in TPP")] = None,
    condition: Annotated[
        list[str] | None, typer.Option("--condition", help="licence condition (repeat)")
    ] = None,
    file: Annotated[Path | None, typer.Option("--file", help="the licence as a YAML or JSON file")] = None,
    user: UserOpt = None,
    db: DbOpt = None,
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Record a licence as granted (number, holder, items, destinations, parties, validity, quantity)."""
    if file is not None:
        spec: dict[str, Any] = read_yaml(file)
        if not isinstance(spec, dict):
            raise ChipexError("a licence file holds one mapping of fields", file=str(file))
    else:
        given = {
            "number": number,
            "holder": holder,
            "items": item,
            "eccns": eccn,
            "destinations": to,
            "consignees": consignee,
            "end_users": end_user,
            "valid_from": valid_from,
            "valid_to": valid_to,
            "units": units,
            "tpp": tpp,
            "conditions": condition,
        }
        spec = {k: v for k, v in given.items() if v is not None}
    with _open(db, catalog, user) as ledger:
        try:
            lic = ledger.add_licence(spec)
        except ChipexError as exc:
            exc.file = exc.file if file is None else str(file)
            raise
    if json_out:
        emit_json(lic.to_dict())
        return
    granted = " and ".join(f"{fmt_amount(g)} {u}" for u, g in lic.quantities())
    items = ", ".join(lic.items) or "any item"
    console.print(
        f"licence [bold]{lic.number}[/bold] recorded (event #{lic.seq}): {granted} of {items} to "
        f"{', '.join(lic.destinations)}, valid {lic.valid_from} to {lic.valid_to}"
    )


def _quantities_table(heads: list[Headroom]) -> Table:
    t = Table("quantity", "granted", "used", "remaining")
    for h in heads:
        t.add_row(h.unit, fmt_amount(h.limit), fmt_amount(h.used), fmt_amount(h.remaining))
    return t


@licence_app.command("show")
def licence_show(
    number: Annotated[str, typer.Argument(help="licence number")],
    db: DbOpt = None,
    json_out: JsonOpt = False,
    fmt: FormatOpt = None,
    wide: WideOpt = False,
) -> None:
    """A licence: its terms, what is used and left, and every reservation against it."""
    with _open(db) as ledger:
        lic, heads, reservations = ledger.licence(number)
    shown = pick_format(fmt, json_out)
    if shown != "table":  # rows: the reservations
        doc = {
            "licence": lic.to_dict(),
            "quantities": [h.to_dict() for h in heads],
            "reservations": reservations,
        }
        emit(reservations, [], shown, document=doc)
        return
    _print_licence(lic)
    console.print(_quantities_table(heads))
    for r in reservations:
        r["item_text"] = r["item_name"] or r["eccn"] or "-"
    if reservations:
        print_table(reservations, RESERVATION_COLUMNS, wide=wide)
    else:
        console.print("no reservations against this licence")


def _print_licence(lic: Licence) -> None:
    console.print(
        f"[bold]licence {lic.number}[/bold] held by {lic.holder}, valid {lic.valid_from} to {lic.valid_to}"
    )
    console.print(f"items: {', '.join(lic.items) or 'any'}; ECCNs: {', '.join(lic.eccns) or 'any'}")
    console.print(f"destinations: {', '.join(lic.destinations)}")
    console.print(
        f"consignees: {'; '.join(lic.consignees) or 'any'}; end users: {'; '.join(lic.end_users) or 'any'}"
    )
    for c in lic.conditions:
        console.print(f"condition: {c}")
    console.print(f"[dim]recorded by {lic.recorded_by} at {lic.recorded_at} (event #{lic.seq})[/dim]")


RESERVATION_COLUMNS = [
    Col("key", "reservation", wrap=True),
    Col("status", "status"),
    Col("event", "event", right=True, drop=2),
    Col("item_text", "item", wrap=True),
    Col("units", "units", right=True),
    Col("tpp", "TPP", right=True, show=lambda v: fmt_amount(Fraction(v)) if v else "-", drop=1),
    Col("destination", "to"),
    Col("consignee", "consignee", wrap=True, drop=3),
    Col("date", "date"),
]
LICENCE_COLUMNS = [
    Col("number", "licence"),
    Col("holder", "holder", wrap=True, drop=2),
    Col("destinations", "destinations", wrap=True),
    Col("valid", "valid", wrap=True),
    Col("unit", "unit"),
    Col("granted", "granted", right=True),
    Col("used", "used", right=True, drop=1),
    Col("remaining", "remaining", right=True),
]


@licence_app.command("list")
def licence_list(
    db: DbOpt = None, json_out: JsonOpt = False, fmt: FormatOpt = None, wide: WideOpt = False
) -> None:
    """Every licence with what is used and left of it."""
    with _open(db) as ledger:
        rows = ledger.licences()
    flat = [
        {"number": lic.number, "holder": lic.holder, "destinations": list(lic.destinations),
         "valid_from": str(lic.valid_from), "valid_to": str(lic.valid_to), "unit": h.unit,
         "granted": fmt_amount(h.limit), "used": fmt_amount(h.used), "remaining": fmt_amount(h.remaining)}
        for lic, heads in rows for h in heads
    ]  # fmt: skip
    shown = pick_format(fmt, json_out)
    if shown != "table":
        doc = [{"licence": lic.to_dict(), "quantities": [h.to_dict() for h in heads]} for lic, heads in rows]
        emit(flat, [], shown, document=doc)
        return
    if not rows:
        console.print("no licences recorded")
        return
    for r in flat:
        r["valid"] = f"{r['valid_from']} to {r['valid_to']}"
    legend = "unit: units (items) or TPP; granted, used and remaining in that unit"
    print_table(flat, LICENCE_COLUMNS, legend=[legend], wide=wide)


# --- reservations ------------------------------------------------------------------------------

LicenceOpt = Annotated[str | None, typer.Option("--licence", help="licence number the line ships under")]
UnderOpt = Annotated[
    str | None,
    typer.Option("--under", help="authorization without a licence: LPP, AIA, NVEU, UVEU, ACM, NAC, NLR"),
]
ItemOpt = Annotated[str | None, typer.Option("--item", help="catalog chip or system, e.g. H100")]
UnitsOpt = Annotated[int | None, typer.Option("--units", help="number of units")]
TppOpt = Annotated[str | None, typer.Option("--tpp", help="the line's total TPP (items outside the catalog)")]
EccnOpt = Annotated[
    str | None, typer.Option("--eccn", help="ECCN (items outside the catalog, or to override)")
]
ToOpt = Annotated[str | None, typer.Option("--to", help="destination country (ISO code or name)")]
ConsigneeOpt = Annotated[str | None, typer.Option("--consignee", help="ultimate consignee")]
EndUserOpt = Annotated[str | None, typer.Option("--end-user", help="end user")]
VeuOpt = Annotated[str | None, typer.Option("--veu", help="VEU authorization id (for NVEU)")]
KeyOpt = Annotated[str | None, typer.Option("--key", help="idempotency key: a retry with it is counted once")]


def _request(
    to: str | None,
    consignee: str | None,
    item: str | None,
    units: int | None,
    tpp: str | None,
    eccn: str | None,
    date: str | None,
    licence: str | None,
    under: str | None,
    veu: str | None,
    end_user: str | None,
) -> Request:
    if not to:
        raise ChipexError("give the destination (--to)", field="to")
    if not consignee:
        raise ChipexError("give the ultimate consignee (--consignee)", field="consignee")
    return Request(
        destination=to,
        consignee=consignee,
        item=item,
        units=units,
        tpp=tpp,
        eccn=eccn,
        on=date,
        licence=licence,
        authorization=under,
        veu=veu,
        end_user=end_user,
    )


def _report(outcome: Outcome, json_out: bool) -> None:
    """Print an outcome; a refusal exits 1."""
    if json_out:
        emit_json(outcome.to_dict())
    else:
        _print_outcome(outcome)
    if not outcome.ok:
        raise typer.Exit(1)


def _print_outcome(o: Outcome) -> None:
    line = o.line
    what = f"{line['units']} x {line['item_name']}" if line["item_name"] else f"TPP {line['tpp']}"
    under = f"licence {line['licence']}" if line["licence"] else line["authorization"]
    desc = (
        f"{what} ({line['eccn'] or 'no advanced-computing ECCN'}) to {line['destination']} for "
        f"{line['consignee']} on {line['date']}, under {under}"
    )
    if o.status == "refused":
        console.print(f"[bold red]refused[/bold red] {o.key}: {desc}")
        for r in o.refusals:
            console.print(f"  [red]{r}[/red]")
    else:
        again = " (already recorded: nothing new)" if o.replayed else ""
        console.print(f"[bold]{o.status}[/bold] {o.key} (event #{o.seq}){again}: {desc}")
    for d in o.draws:
        left = d.remaining - d.requested if o.ok else d.remaining
        unit = "TPP" if d.unit == "tpp" else "units"
        console.print(
            f"  {d.bucket}: limit {fmt_amount(d.limit)} {unit}, used {fmt_amount(d.used)}, "
            f"this {fmt_amount(d.requested)}, {'left after' if o.ok else 'left'} {fmt_amount(left)}"
        )
        source = f"; limit {d.confidence}: {d.citation}" if d.confidence else ""
        console.print(f"    [dim]{d.why}{source}[/dim]")
    for r in o.reports:
        console.print(f"[yellow]report:[/yellow] {r}")
    for n in o.not_counted:
        console.print(f"[dim]not counted: {n}[/dim]")
    console.print(f"[dim]{DISCLAIMER}[/dim]")


@ledger_app.command("reserve")
def reserve_cmd(
    licence: LicenceOpt = None,
    under: UnderOpt = None,
    item: ItemOpt = None,
    units: UnitsOpt = None,
    tpp: TppOpt = None,
    eccn: EccnOpt = None,
    to: ToOpt = None,
    consignee: ConsigneeOpt = None,
    end_user: EndUserOpt = None,
    veu: VeuOpt = None,
    date: DateOpt = None,
    key: KeyOpt = None,
    regime: RegimeOpt = "as-enforced",
    user: UserOpt = None,
    db: DbOpt = None,
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Reserve a shipment line against its licence and every cap it counts against (atomic)."""
    req = _request(to, consignee, item, units, tpp, eccn, date, licence, under, veu, end_user)
    with _open(db, catalog, user) as ledger:
        outcome = ledger.reserve(req, key=key, regime=regime)
    _report(outcome, json_out)


@ledger_app.command("ship")
def ship_cmd(
    reservation: Annotated[str | None, typer.Argument(help="key of a reservation to ship")] = None,
    licence: LicenceOpt = None,
    under: UnderOpt = None,
    item: ItemOpt = None,
    units: UnitsOpt = None,
    tpp: TppOpt = None,
    eccn: EccnOpt = None,
    to: ToOpt = None,
    consignee: ConsigneeOpt = None,
    end_user: EndUserOpt = None,
    veu: VeuOpt = None,
    date: DateOpt = None,
    key: KeyOpt = None,
    regime: RegimeOpt = "as-enforced",
    user: UserOpt = None,
    db: DbOpt = None,
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Ship a reservation (by its key), or reserve and ship a line at once (same options as reserve)."""
    line_given = any(v is not None for v in (licence, under, item, units, tpp, eccn, to, consignee))
    if reservation and line_given:
        raise ChipexError("give a reservation key, or a line to reserve and ship, not both")
    if not reservation and not line_given:
        raise ChipexError(
            "give a reservation key, or a line (--licence/--under, --item, --units, --to, --consignee)"
        )
    with _open(db, catalog, user) as ledger:
        if reservation:
            outcome = ledger.ship(reservation, on=date)
        else:
            req = _request(to, consignee, item, units, tpp, eccn, date, licence, under, veu, end_user)
            outcome = ledger.reserve(req, key=key, regime=regime, ship=True)
    _report(outcome, json_out)


@ledger_app.command("cancel")
def cancel_cmd(
    reservation: Annotated[str, typer.Argument(help="key of the reservation or shipment to cancel")],
    reason: Annotated[str, typer.Option("--reason", help="why (recorded in the audit log)")] = "",
    date: DateOpt = None,
    user: UserOpt = None,
    db: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Cancel a reservation not yet shipped: a new event releases its quantities (nothing is edited)."""
    with _open(db, user=user) as ledger:
        outcome = ledger.cancel(reservation, reason=reason, on=date)
    _report(outcome, json_out)


@ledger_app.command("return")
def return_cmd(
    reservation: Annotated[str, typer.Argument(help="key of the shipped reservation")],
    units: Annotated[int, typer.Option("--units", help="how many units came back")],
    evidence: Annotated[
        str, typer.Option("--evidence", help="reference of the proof: RMA, bill of lading, document id")
    ],
    date: Annotated[str | None, typer.Option("--date", help="return date YYYY-MM-DD (default today)")] = None,
    key: Annotated[
        str | None, typer.Option("--key", help="this return's own key (default: the evidence reference)")
    ] = None,
    user: UserOpt = None,
    db: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Record units of a shipment that came back: re-credits exactly those units (a shipment is final)."""
    with _open(db, user=user) as ledger:
        o = ledger.return_units(reservation, units=units, evidence=evidence, on=date, return_key=key)
    if json_out:
        emit_json(o.to_dict())
        return
    again = " (already recorded: nothing new)" if o.replayed else ""
    console.print(
        f"[bold]returned[/bold] {units} of {o.line['units']} units of {o.key} (event #{o.seq}){again}; "
        f"{o.returned} back in all, re-credited to what the shipment drew on"
    )


@ledger_app.command("migrate")
def migrate_cmd(
    db: DbOpt = None,
    grant: Annotated[
        list[str] | None,
        typer.Option(
            "--grant", help="PostgreSQL role the application connects as (repeat): may read and append only"
        ),
    ] = None,
) -> None:
    """Bring the ledger's schema to the newest revision (run as the tables' owner on PostgreSQL)."""
    engine = open_engine(db)
    try:
        for role in grant or []:
            grant_app_role(engine, role)
    finally:
        engine.dispose()
    roles = f"; {', '.join(grant)} may read and append" if grant else ""
    console.print(f"ledger schema at the newest revision{roles}")


# --- caps --------------------------------------------------------------------------------------


@ledger_app.command("caps")
def caps_cmd(
    country: Annotated[
        str | None, typer.Option("--country", help="destination country (ISO code or name)")
    ] = None,
    as_of: Annotated[str, typer.Option("--as-of", help="date YYYY-MM-DD (default today)")] = "today",
    regime: RegimeOpt = "as-enforced",
    db: DbOpt = None,
    json_out: JsonOpt = False,
    fmt: FormatOpt = None,
) -> None:
    """Every cap on a date: limit, used, remaining, per period, whether it binds, with citations."""
    with _open(db) as ledger:
        rows = ledger.cap_status(country=country, as_of=as_of, regime=regime)
        code = iso_code(country) if country else None
        tier = ledger.rulebook.countries.tier(code, parse_date(as_of)) if code else None
    shown = pick_format(fmt, json_out)
    if shown != "table":
        doc = {
            "country": country,
            "as_of": as_of,
            "regime": regime,
            "tier": tier,
            "caps": [r.to_dict() for r in rows],
        }
        emit([r.to_dict() for r in rows], [], shown, document=doc)
        return
    _print_caps(rows, country, as_of, regime, tier)


def _print_caps(rows: list[CapRow], country: str | None, as_of: str, regime: str, tier: int | None) -> None:
    where = f" for {country}" if country else ""
    tiered = f" ({country} is AI Diffusion Tier {tier}, as printed)" if tier else ""
    console.print(f"[bold]Caps{where} on {as_of}, regime {regime}[/bold]{tiered}")
    for cap, group in itertools.groupby(rows, key=lambda r: r.cap):
        group = list(group)
        first = group[0]
        console.print(f"\n[bold]{cap}[/bold]: {first.title}")
        for r in group:
            if not r.applies:
                console.print(f"  does not apply: {r.note}")
                continue
            h100e = (
                f" ({fmt_amount(Fraction(round(r.limit / r.h100e_tpp)))} H100e)"
                if r.limit is not None
                else ""
            )
            console.print(
                f"  {r.key}, {r.period}: limit {_amount(r.limit)} TPP{h100e}, used {_amount(r.used)}, "
                f"remaining {_amount(r.remaining)}"
            )
        if first.applies:
            reports = " (reports when reached, never refuses)" if first.on_exceed == "report" else ""
            console.print(f"  [dim]{first.why}{reports}[/dim]")
        if first.limit_source:
            console.print(f"  [dim]limit ({first.limit_confidence}): {first.limit_source}[/dim]")
        console.print(f"  [dim]citation ({first.confidence}): {first.citation}[/dim]")
    console.print(f"\n[dim]Amounts in TPP; H100e at 15,832 TPP per H100. {DISCLAIMER}[/dim]")
