"""The web UI on its own ledger database, served by uvicorn on 127.0.0.1 (a free port) in a thread,
with one user per role; and Debian's chromium driven by Playwright (skipped where it is absent)."""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
ROLES = ("viewer", "officer")
# the browser test has a second officer for four eyes
EXTRA = {"second-officer": "officer"}
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Site:
    url: str
    keys: dict[str, str]
    db: str


def add_users(db: str) -> dict[str, str]:
    from chipex.interfaces.http.auth import reset_failures
    from chipex.service import users

    reset_failures()
    return {r: users.add_user(f"{r}-user", r, actor="test-admin", db=db).key for r in ROLES}


def sign_in(client, key: str) -> str:
    """Sign a TestClient in through the form; the session's CSRF token."""
    token = CSRF.search(client.get("/signin").text).group(1)
    r = client.post("/signin", data={"key": key, "csrf": token}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return CSRF.search(client.get("/check").text).group(1)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    import uvicorn

    from chipex.interfaces.http import create_app

    tmp = tmp_path_factory.mktemp("web")
    db = str(tmp / "ledger.db")
    keys = add_users(db)
    from chipex.service import users

    keys |= {n: users.add_user(n, r, db=db).key for n, r in EXTRA.items()}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(db=db), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    end = time.monotonic() + 30
    while not server.started and time.monotonic() < end:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield Site(f"http://127.0.0.1:{port}", keys, db)
    server.should_exit = True
    thread.join(timeout=10)


def needs_pdf() -> None:
    """Skip when WeasyPrint cannot load Debian's Pango libraries (.ci/run installs them as root)."""
    try:
        import weasyprint  # noqa: F401
    except OSError as exc:
        pytest.skip(f"WeasyPrint cannot load Pango ({exc}): install libpango-1.0-0 libpangoft2-1.0-0")


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent (Debian package 'chromium'; .ci/run installs it as root)")
    if shutil.which("chromium") is None:
        pytest.skip("chromium is not on PATH")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()
