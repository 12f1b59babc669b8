"""List commands: show the accepted snapshots, load a file, update from trade.gov."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from chipex.errors import ChipexError
from chipex.interfaces.cli.app import app, console, emit_json, err_console
from chipex.interfaces.cli.progress import list_progress
from chipex.interfaces.cli.render import Col, FormatOpt, WideOpt, emit, pick_format, print_table
from chipex.screening import LoadReport, Screener, load_list
from chipex.screening.lists import list_info
from chipex.screening.store import Store

lists_app = typer.Typer(
    help="Show the accepted list snapshots and their counts; --load a file, or update from trade.gov.",
    invoke_without_command=True,
)
app.add_typer(lists_app, name="lists")

JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]
ForceOpt = Annotated[
    bool, typer.Option("--force", help="accept a snapshot that fails the swap checks (recorded with --user)")
]
UserOpt = Annotated[str, typer.Option("--user", help="who loads (recorded when forced)")]
RescreenOpt = Annotated[
    bool, typer.Option("--rescreen/--no-rescreen", help="re-screen every known party against the new list")
]


def parse_date(value: str, opt: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ChipexError(f"not a date: '{value}' (use YYYY-MM-DD)", field=opt) from None


def print_rescreen(r: dict) -> None:
    console.print(f"re-screened {r['parties_screened']} known part(ies) from {r['from']} to {r['to']}")
    for p in r["parties_changed"]:
        what = [f"now matches {', '.join(p['new_matches'])}"] if p["new_matches"] else []
        what += [f"no longer matches {', '.join(p['no_longer'])}"] if p["no_longer"] else []
        what += [f"matched entry changed: {', '.join(p['entry_changed'])}"] if p["entry_changed"] else []
        console.print(
            f"  {p['name']} ({', '.join(p['where'])}): {'; '.join(what)}", highlight=False, markup=False
        )
    for d in r["determinations_differ"]:
        console.print(f"  [bold]determination {d['determination']}[/bold] ({d['date']}, {d['end_user'] or d['consignee']}): "
                      f"licence required {d['was_license_required']} -> {d['now_license_required']}", highlight=False)  # fmt: skip
    for d in r["decisions_reopened"]:
        console.print(
            f"  reopened: {d['was']} by {d['by']} on {d['party']!r} / {d['entry']} (the entry changed)"
        )
    if r.get("recorded"):
        console.print(f"  recorded in the audit chain as {r['recorded']}")


def _rescreen(rep: LoadReport, wanted: bool) -> dict | None:
    if not wanted or rep.already_loaded or not rep.current:
        return None
    from chipex.orders.rescreen import rescreen

    return rescreen(rep.previous_id, rep.snapshot_id)


def print_load(rep: LoadReport, as_json: bool, rescreened: dict | None = None) -> None:
    if as_json:
        emit_json({**rep.to_dict(), "rescreen": rescreened})
        return
    if rep.already_loaded:
        console.print(f"snapshot {rep.snapshot_id} was already loaded; nothing changed")
        return
    title = f"loaded snapshot {rep.snapshot_id} (follows {rep.previous_id})"
    dc = rep.delta_counts()
    rows = [{"list": code, "previous": rep.previous_counts.get(code, 0), "loaded": rep.counts.get(code, 0),
             **{k: dc.get(code, {}).get(k, 0) for k in ("added", "removed", "changed")}}
            for code in sorted(set(rep.counts) | set(rep.previous_counts))]  # fmt: skip
    count = lambda v: f"{v:,}"  # noqa: E731
    cols = [Col("list", "list"), *(Col(k, k, right=True, show=count) for k in ("previous", "loaded", "added", "removed", "changed"))]  # fmt: skip
    print_table(
        rows,
        cols,
        title=title,
        legend=["entries per list: in the snapshot followed, in the one loaded, and the change"],
    )
    if not rep.current:
        console.print(
            "[yellow]not current: a newer snapshot is in force; kept for orders of its dates[/yellow]"
        )
    for d in rep.forced:
        console.print(f"[yellow]forced by {rep.forced_by} despite: {d}[/yellow]")
    if rescreened is not None:
        print_rescreen(rescreened)


@lists_app.callback()
def lists_cmd(
    ctx: typer.Context,
    load: Annotated[
        Path | None, typer.Option("--load", help="load a list file (.csv/.json CSL, DPL .txt, FtM .jsonl)")
    ] = None,
    on: Annotated[str | None, typer.Option("--date", help="the list's source date (YYYY-MM-DD)")] = None,
    force: ForceOpt = False,
    user: UserOpt = "",
    rescreen: RescreenOpt = True,
    as_json: JsonOpt = False,
    fmt: FormatOpt = None,
    wide: WideOpt = False,
) -> None:
    """Show the accepted list snapshots and their counts; --load a file, or update from trade.gov."""
    if ctx.invoked_subcommand is not None:
        return
    if load is not None:
        if not on:
            raise ChipexError("--load needs --date YYYY-MM-DD (the date the list was generated)")
        with list_progress(err_console, load.name, rescreen) as prog:
            rep = load_list(load, parse_date(on, "date"), force=force, user=user, progress=prog)
            rescreened = _rescreen(rep, rescreen)
            prog.done(0 if rep.already_loaded else sum(rep.counts.values()))
        print_load(rep, as_json, rescreened)
        return
    s = Screener()
    accepted = Store().accepted()
    shown = pick_format(fmt, as_json)
    counts = [{"list": code, "entries": n, "name": list_info().get(code, {}).get("name", "")}
              for code, n in s.counts.items()]  # fmt: skip
    if shown != "table":  # rows: the current snapshot's lists
        emit(counts, [], shown, document={"current": s.snapshot_id, "source_date": s.source_date, "counts": s.counts,
                   "total": sum(s.counts.values()), "source": s.index.source, "warnings": s.warnings(),
                   "accepted": [{"id": x.id, "source_date": x.source_date, "loaded_at": x.loaded_at,
                                 "origin": x.origin, "forced_by": x.forced_by, "forced_past": list(x.problems),
                                 "counts": x.counts} for x in accepted]})  # fmt: skip
        return
    console.print(f"current snapshot [bold]{s.snapshot_id}[/bold] (list of {s.source_date}, "
                  f"{sum(s.counts.values()):,} entries)")  # fmt: skip
    console.print(f"[dim]source: {s.index.source}[/dim]")
    for w in s.warnings():
        console.print(f"[yellow]warning: {w}[/yellow]")
    cols = [Col("list", "list"), Col("entries", "entries", right=True, show=lambda v: f"{v:,}"),
            Col("name", "name", wrap=True)]  # fmt: skip
    print_table(
        counts, cols, legend=["list: the CSL source code; entries: in the current snapshot"], wide=wide
    )
    console.print("accepted snapshots (by list date): " + ", ".join(
        f"{x.id} ({'shipped' if x.loaded_at == 'shipped' else 'loaded ' + x.loaded_at[:10]}"
        + (f", forced by {x.forced_by}" if x.forced_by else "") + ")" for x in accepted))  # fmt: skip


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).hostname or url


@lists_app.command("update")
def update_cmd(
    url: Annotated[
        str | None, typer.Option("--url", help="where to download from (default: trade.gov)")
    ] = None,
    on: Annotated[
        str | None,
        typer.Option("--date", help="the list's date (default: the server's Last-Modified, else today)"),
    ] = None,
    timeout: Annotated[float, typer.Option("--timeout", min=0.1, help="seconds without data")] = 60.0,
    force: ForceOpt = False,
    user: UserOpt = "",
    rescreen: RescreenOpt = True,
    as_json: JsonOpt = False,
) -> None:
    """Download the Consolidated Screening List and load it through the same checks as --load."""
    from chipex.screening.update import OFFICIAL_URL, update

    source = url or OFFICIAL_URL
    with list_progress(err_console, f"from {_host(source)}", rescreen) as prog:
        rep = update(source, source_date=parse_date(on, "date") if on else None, timeout=timeout,
                     force=force, user=user, progress=prog)  # fmt: skip
        rescreened = _rescreen(rep, rescreen)
        prog.done(0 if rep.already_loaded else sum(rep.counts.values()))
    print_load(rep, as_json, rescreened)


@lists_app.command("rescreen")
def rescreen_cmd(
    old: Annotated[str, typer.Option("--from", help="snapshot id compared from")],
    new: Annotated[
        str | None, typer.Option("--to", help="snapshot id compared to (default: current)")
    ] = None,
    db: Annotated[str | None, typer.Option("--db", help="ledger database (default CHIPEX_DB)")] = None,
    user: UserOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Re-screen every known party between two snapshots; name the recorded determinations that change."""
    from chipex.orders.rescreen import rescreen

    known = {s.id for s in Store().accepted()}
    to = new or Store().current().id
    for sid in (old, to):
        if sid not in known:
            raise ChipexError(
                f"no accepted snapshot '{sid}' (see chipex lists)", field="from" if sid == old else "to"
            )
    r = rescreen(old, to, db=db, user=user)
    emit_json(r) if as_json else print_rescreen(r)
