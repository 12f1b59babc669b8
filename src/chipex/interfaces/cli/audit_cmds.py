"""`chipex audit verify|checkpoint|export`: the tamper-evident audit log.

A failed verification exits 1 naming the first event that breaks; bad input exits 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from chipex.errors import ChipexError
from chipex.interfaces.cli.app import app, console, emit_json
from chipex.interfaces.cli.core_cmds import JsonOpt
from chipex.interfaces.cli.ledger_cmds import DbOpt, UserOpt
from chipex.ledger import open_ledger
from chipex.ledger.audit import verify_export

audit_app = typer.Typer(
    help="The tamper-evident audit log: verify, checkpoint, export.", no_args_is_help=True
)
app.add_typer(audit_app, name="audit")

CheckpointsOpt = Annotated[
    Path | None,
    typer.Option(
        "--checkpoints",
        help="the signed checkpoint file (default CHIPEX_CHECKPOINTS, else one per database in CHIPEX_HOME)",
    ),
]
KeyFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--key-file",
        help="the Ed25519 signing key (default CHIPEX_AUDIT_KEY, else in CHIPEX_HOME; made 0600)",
    ),
]


@audit_app.command("verify")
def audit_verify(
    file: Annotated[
        Path | None, typer.Option("--file", help="verify an exported copy instead of the database")
    ] = None,
    expect_head: Annotated[
        str | None,
        typer.Option("--expect-head", help="the last hash recorded earlier, kept outside the database"),
    ] = None,
    checkpoints: CheckpointsOpt = None,
    key_file: KeyFileOpt = None,
    public_key: Annotated[
        Path | None, typer.Option("--public-key", help="check checkpoints against this public key (PEM)")
    ] = None,
    db: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Recompute the hash chain and check it against every signed checkpoint; name the first event
    edited, deleted, inserted, reordered or cut off. Exit 1 if any."""
    if file is not None:
        fmt = "csv" if file.suffix.lower() == ".csv" else "jsonl"
        try:
            with file.open(encoding="utf-8", newline="") as f:
                check = verify_export(f, fmt, expect_head=expect_head)
        except OSError as exc:
            raise ChipexError(f"cannot read: {exc.strerror}", file=str(file)) from None
        except (ValueError, KeyError, TypeError) as exc:
            raise ChipexError(f"not a chipex audit export ({exc})", file=str(file)) from None
    else:
        with open_ledger(db) as ledger:
            check = ledger.verify(
                expect_head=expect_head, checkpoints=checkpoints, key=key_file, public_key=public_key
            )
    if json_out:
        emit_json(check.to_dict())
    elif check.ok:
        console.print(f"audit log intact: {check.events} events; last hash {check.head_hash}")
        if check.checkpoints:
            console.print(f"matches {check.checkpoints} signed checkpoints in {check.checkpoint_file}")
        elif file is None:
            console.print(
                "[yellow]no signed checkpoint yet[/yellow]: 'chipex audit checkpoint' signs the head, so a "
                "rewritten or shortened log shows"
            )
    else:
        console.print(f"[bold red]audit log broken[/bold red]: {check.problem.detail}")
    if not check.ok:
        raise typer.Exit(1)


@audit_app.command("checkpoint")
def audit_checkpoint(
    checkpoints: CheckpointsOpt = None,
    key_file: KeyFileOpt = None,
    user: UserOpt = None,
    db: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Verify the log, then sign its head and append the signed checkpoint to a file outside the database."""
    with open_ledger(db, actor=user) as ledger:
        signed, path = ledger.checkpoint(checkpoints=checkpoints, key=key_file)
    if json_out:
        emit_json({"checkpoint": signed.number, "file": str(path), **signed.record})
        return
    console.print(
        f"checkpoint {signed.number} signed: event #{signed.seq}, hash {signed.hash}, appended to {path}"
    )


@audit_app.command("export")
def audit_export(
    fmt: Annotated[str, typer.Option("--format", help="csv or jsonl")] = "jsonl",
    out: Annotated[Path | None, typer.Option("--out", help="file to write (default stdout)")] = None,
    db: DbOpt = None,
) -> None:
    """Write the whole log for an auditor, with each event's hash and its predecessor's."""
    with open_ledger(db) as ledger:
        if out is None:
            n = ledger.export(sys.stdout, fmt)
        else:
            try:
                with out.open("w", encoding="utf-8", newline="") as f:
                    n = ledger.export(f, fmt)
            except OSError as exc:
                raise ChipexError(f"cannot write: {exc.strerror}", file=str(out)) from None
    if out is not None:
        console.print(f"{n} events written to {out}")
