"""`chipex serve` (the HTTP API and web UI) and `chipex users` (users, roles, keys and passwords)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import sys
import threading
from typing import Annotated

import typer

from chipex.errors import ChipexError
from chipex.interfaces.cli.app import app, console, err_console
from chipex.interfaces.cli.render import FormatOpt, WideOpt

# the help's first line must match the command table in cli/__init__.py (tests/test_startup.py)
users_app = typer.Typer(
    help="Users: add (prints the API key once), list, revoke, passwd (web sign-in).",
    no_args_is_help=True,
)
app.add_typer(users_app, name="users")

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db", help="ledger database URL or SQLite file (default: CHIPEX_DB, else ledger.db in CHIPEX_HOME)"
    ),
]


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@app.command("serve")
def serve_cmd(
    host: Annotated[
        str, typer.Option("--host", help="address to listen on (loopback by default)")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8080,
    allow_remote: Annotated[
        bool, typer.Option("--allow-remote", help="needed to listen on a non-loopback address")
    ] = False,
    max_upload_mb: Annotated[
        float, typer.Option("--max-upload-mb", min=0.001, help="book upload limit (413 beyond)")
    ] = 200,
    cors_origin: Annotated[
        list[str] | None,
        typer.Option("--cors-origin", help="allow this origin cross-site (CORS is closed by default)"),
    ] = None,
    db: DbOpt = None,
) -> None:
    """Serve the HTTP API (OpenAPI at /openapi.json, docs at /docs) with uvicorn."""
    import uvicorn

    from chipex.interfaces.http import create_app
    from chipex.service import policy

    if not _loopback(host):
        if not allow_remote:
            raise ChipexError(
                f"{host} is not a loopback address: pass --allow-remote to listen beyond this machine",
                field="host",
            )
        err_console.print(
            f"[bold yellow]warning:[/bold yellow] listening on {host}: the API is reachable from other machines; "
            "keys travel in clear unless a TLS proxy is in front"
        )
    application = create_app(db=db, max_upload_mb=max_upload_mb, cors_origins=cors_origin)
    # the policy lab's exposure windows take seconds: computed now (and after each midnight) in the
    # background, so the first visit to /lab does not wait for them
    threading.Thread(target=policy.warm_windows, args=(threading.Event(),), daemon=True).start()
    console.print(f"chipex API on http://{host}:{port}  (docs: http://{host}:{port}/docs)")
    uvicorn.run(application, host=host, port=port, log_level="warning", server_header=False)


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="user name")],
    role: Annotated[str, typer.Option("--role", help="viewer, analyst, officer or admin")],
    expires: Annotated[
        str | None, typer.Option("--expires", help="YYYY-MM-DD: the key stops working then")
    ] = None,
    db: DbOpt = None,
) -> None:
    """Add a user; its API key is printed once, alone on the last line (stored only as an Argon2 hash)."""
    from chipex.service import users

    when = None
    if expires:
        try:
            when = dt.date.fromisoformat(expires)
        except ValueError:
            raise ChipexError(f"not a date: '{expires}' (use YYYY-MM-DD)", field="expires") from None
    new = users.add_user(name, role, expires=when, actor=_os_user(), db=db)
    console.print(
        f"user [bold]{new.user.name}[/bold] ({new.user.role}; may: {', '.join(new.user.permissions)})"
        + (f", key expires {when}" if when else "")
    )
    console.print("API key (shown once; send it as 'Authorization: Bearer KEY'):")
    sys.stdout.flush()
    print(new.key)


@users_app.command("list")
def users_list(
    db: DbOpt = None,
    json_out: Annotated[bool, typer.Option("--json", help="the same as --format json")] = False,
    fmt: FormatOpt = None,
    wide: WideOpt = False,
) -> None:
    """Every user, role, key id and state (keys themselves are never stored)."""
    from chipex.interfaces.cli.render import Col, emit, pick_format, print_table
    from chipex.service import users

    rows = users.list_users(db=db)
    shown = pick_format(fmt, json_out)
    if shown != "table":
        emit([u.model_dump() for u in rows], [], shown)
        return
    if not rows:
        console.print("no users (chipex users add NAME --role ROLE)")
        return
    flat = [
        {"name": u.name.split("~")[0], "role": u.role, "key_id": u.key_id, "created": u.created_at,
         "expires": u.expires_at, "state": "revoked" if u.revoked_at else ("active" if u.active() else "expired")}
        for u in rows
    ]  # fmt: skip
    cols = [Col("name", "name", wrap=True), Col("role", "role"), Col("key_id", "key id"),
            Col("created", "created", drop=1), Col("expires", "expires", drop=2), Col("state", "state")]  # fmt: skip
    print_table(flat, cols, legend=["expires: -: never; state: active, expired or revoked"], wide=wide)


@users_app.command("revoke")
def users_revoke(name: Annotated[str, typer.Argument(help="user name")], db: DbOpt = None) -> None:
    """Revoke a user's key at once; the audit chain records who did it."""
    from chipex.service import users

    u = users.revoke(name, actor=_os_user(), db=db)
    console.print(f"revoked {name} (key {u.key_id}) at {u.revoked_at}")


@users_app.command("passwd")
def users_passwd(
    name: Annotated[str, typer.Argument(help="user name")],
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="read the password from standard input (for scripts)"),
    ] = False,
    db: DbOpt = None,
) -> None:
    """Set a user's password for the web UI's sign-in (asked twice, hidden); stored as an Argon2 hash."""
    from chipex.service import users

    if password_stdin:
        password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    else:
        password = typer.prompt(f"new password for {name}", hide_input=True, confirmation_prompt=True)
    u = users.set_password(name, password, actor=_os_user(), db=db)
    console.print(
        f"password set for {name} ({u.role}) at {u.password_set_at}; sessions signed in with an old one end"
    )


def _os_user() -> str:
    from chipex.ledger.ledger import os_account

    return os_account()
