"""`chipex report`: the report of a recorded determination, as PDF or HTML."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chipex.errors import ChipexError
from chipex.interfaces.cli.app import app, console


@app.command("report")
def report_cmd(
    determination_id: Annotated[str, typer.Argument(help="the determination_id a recorded check returned")],
    pdf: Annotated[Path | None, typer.Option("--pdf", help="write the report as PDF here")] = None,
    html: Annotated[Path | None, typer.Option("--html", help="write the report as HTML here")] = None,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="ledger database URL or SQLite file (default: CHIPEX_DB, else ledger.db in CHIPEX_HOME)",
        ),
    ] = None,
) -> None:
    """The report of a recorded determination (inputs, decision, citations, provenance, audit hash) as PDF or HTML."""
    from chipex.interfaces.web.report import report_html, report_pdf
    from chipex.orders.io import atomic_path
    from chipex.service.reports import recorded

    if pdf is None and html is None:
        raise ChipexError("say where to write the report: --pdf FILE and/or --html FILE", field="pdf")
    rec = recorded(determination_id, db=db)
    for path, content in (
        (pdf, report_pdf(rec) if pdf else None),
        (html, report_html(rec).encode() if html else None),
    ):
        if path is not None and content is not None:
            with atomic_path(path) as tmp:
                Path(tmp).write_bytes(content)
            console.print(f"report of {determination_id} (audit event #{rec.event}) written to {path}")
