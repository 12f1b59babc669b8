"""The web UI's sessions, CSRF, roles and the report, without a browser (FastAPI's TestClient)."""

from __future__ import annotations

import io

import pytest
from tests.chipex_cli import run_chipex
from tests.web.conftest import CSRF, add_users, needs_pdf, sign_in

ORDER = {"item": "H100", "quantity": "8", "date": "2024-01-01", "destination": "CN"}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from fastapi.testclient import TestClient

    from chipex.interfaces.http import create_app

    db = str(tmp_path_factory.mktemp("web-pages") / "ledger.db")
    keys = add_users(db)
    with TestClient(create_app(db=db, run_jobs=False)) as client:
        yield client, keys, db


def test_pages_need_a_session_and_the_cookie_is_httponly_samesite(app):
    client, keys, _ = app
    client.cookies.clear()
    r = client.get("/check?x=1", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/signin?next=/check?x=1"
    page = client.get("/signin")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    token = CSRF.search(page.text).group(1)
    r = client.post("/signin", data={"key": keys["viewer"], "csrf": token, "next": "https://evil.example/"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == "/check"  # never off-site
    cookie = r.headers["set-cookie"]
    assert "chipex_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    client.cookies.clear()


def test_sign_in_refuses_a_wrong_key_and_a_missing_csrf_token(app):
    client, _, _ = app
    client.cookies.clear()
    token = CSRF.search(client.get("/signin").text).group(1)
    r = client.post("/signin", data={"key": "chipex_000000000000_nope", "csrf": token})
    assert r.status_code == 401 and "invalid, expired or revoked API key" in r.text
    client.cookies.clear()
    r = client.post("/signin", data={"key": "x", "csrf": token}, headers={"accept": "text/html"})
    assert r.status_code == 403 and "CSRF" in r.text


def test_a_form_without_the_session_csrf_token_is_refused(app):
    client, keys, _ = app
    sign_in(client, keys["officer"])
    r = client.post("/check", data={**ORDER, "csrf": "forged"}, headers={"accept": "text/html"})
    assert r.status_code == 403 and "CSRF token is missing or wrong" in r.text
    client.cookies.clear()


def test_bad_fields_are_named_on_the_page(app):
    client, keys, _ = app
    csrf = sign_in(client, keys["viewer"])
    r = client.post("/check", data={**ORDER, "quantity": "eight", "csrf": csrf})
    assert r.status_code == 422 and "<strong>quantity</strong>" in r.text
    r = client.post("/check", data={**ORDER, "item": "H1000zz", "csrf": csrf})
    assert r.status_code == 422 and "unknown chip" in r.text
    client.cookies.clear()


def test_a_viewer_cannot_record_through_the_page_either(app):
    client, keys, _ = app
    csrf = sign_in(client, keys["viewer"])
    page = client.get("/check").text
    assert 'name="record"' not in page
    r = client.post("/check", data={**ORDER, "csrf": csrf, "record": "on"}, headers={"accept": "text/html"})
    assert r.status_code == 403 and "permission &#39;record&#39; is needed" in r.text
    client.cookies.clear()


def test_officer_records_and_the_report_holds_the_audit_event(app, tmp_path):
    from pypdf import PdfReader

    needs_pdf()

    client, keys, db = app
    csrf = sign_in(client, keys["officer"])
    r = client.post("/check", data={**ORDER, "csrf": csrf, "record": "on"})
    assert r.status_code == 200 and "Licence required" in r.text
    did = r.text.split('id="determination-id">')[1].split("<")[0]
    client.cookies.clear()
    # the report route takes a Bearer key like the rest of the API
    assert client.get(f"/api/v1/determinations/{did}/report").status_code == 401
    auth = {"Authorization": f"Bearer {keys['viewer']}"}
    html = client.get(f"/api/v1/determinations/{did}/report", headers=auth)
    assert html.status_code == 200
    head = client.get("/api/v1/audit/verify", headers=auth).json()["head_hash"]
    assert head in html.text  # the determination is the chain's last event
    assert "officer-user" in html.text and "88 FR 73458" in html.text
    missing = client.get("/api/v1/determinations/d-nope/report", headers=auth)
    assert missing.status_code == 404 and "no recorded determination" in missing.json()["detail"]
    # chipex report ID --pdf: the same report from the command line
    out = tmp_path / "r.pdf"
    done = run_chipex("report", did, "--pdf", str(out), "--db", db)
    assert done.returncode == 0, done.stderr
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(out.read_bytes())).pages).replace("\n", "")
    assert did in text and head in text and "3A090.a.1" in text
    bad = run_chipex("report", "d-nope", "--pdf", str(tmp_path / "x.pdf"), "--db", db)
    assert bad.returncode == 2 and "no recorded determination 'd-nope'" in bad.stderr
    assert not (tmp_path / "x.pdf").exists()


def test_a_revoked_key_ends_its_session(app):
    from chipex.service import users

    client, _, db = app
    key = users.add_user("short-lived", "viewer", db=db).key
    sign_in(client, key)
    assert client.get("/check", follow_redirects=False).status_code == 200
    users.revoke("short-lived", db=db)
    assert client.get("/check", follow_redirects=False).status_code == 303
    client.cookies.clear()


def test_clearing_an_entity_list_hit_takes_two_officers(tmp_path):
    # its own database: after `chipex report` (another process) had the module's database open,
    # opening it again here once failed with SQLite's "disk I/O error" (not reproduced alone)

    from fastapi.testclient import TestClient

    from chipex.interfaces.http import create_app

    db = str(tmp_path / "ledger.db")
    keys = add_users(db)
    with TestClient(create_app(db=db, run_jobs=False)) as client:
        _four_eyes(client, keys, db)


def _four_eyes(client, keys, db):
    import re

    from chipex.service import users

    second = users.add_user("second-officer", "officer", db=db).key
    csrf = sign_in(client, keys["officer"])
    party = "Huawei Technologies"
    r = client.post("/check", data={**ORDER, "end_user": party, "screen": "on", "record": "on", "csrf": csrf})
    assert "Licence required" in r.text
    queue = client.get("/reviews").text
    # Huawei Technologies Co., Ltd. is on the Entity List (84 FR 22963, 2019-05-21)
    entry = re.search(r"Entity List \(EL\)[^<]* · <code>([^<]+)</code>", queue).group(1)
    clear = {"name": party, "entry_id": entry, "decision": "false_positive", "reason": "not that Huawei"}
    first = client.post("/reviews", data={**clear, "csrf": csrf})
    assert first.status_code == 200 and "needs a second officer: proposed by officer-user" in first.text
    again = client.post("/reviews", data={**clear, "csrf": csrf})
    assert again.status_code == 409 and "a second, different officer must confirm" in again.text
    client.cookies.clear()
    csrf2 = sign_in(client, second)
    pending = client.get("/reviews").text
    assert "Clearance proposed by <strong>officer-user</strong>" in pending
    done = client.post("/reviews", data={**clear, "reason": "checked the address", "csrf": csrf2})
    assert "cleared by officer-user and second-officer" in done.text, done.text.split('review-error">')[-1][
        :300
    ]
    assert f"<code>{entry}</code>" not in done.text.split('id="review-history"')[0]  # left the queue
    history = done.text.split('id="review-history"')[1]
    assert "clear_proposed" in history and "clear_confirmed" in history
    from chipex.service import screening

    hits = {h.entry_id for h in screening.screen(screening.ScreenRequest(name=party)).hits}
    assert entry not in hits and hits  # later screens honour the clearance; the other entries still hit
    client.cookies.clear()
    csrf3 = sign_in(client, keys["viewer"])
    assert 'action="/reviews"' not in client.get("/reviews").text
    refused = client.post("/reviews", data={**clear, "csrf": csrf3}, headers={"accept": "text/html"})
    assert refused.status_code == 403
    client.cookies.clear()
