"""Signing in to the web UI with a user name and password (set with `chipex users passwd`), without a
browser: one message for every refusal, the session's cookie and CSRF as for a key, the role still
enforced, and a revocation, an expiry or a new password ending the session at once."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from tests.web.conftest import CSRF

PASSWORD = "a long enough passphrase"
ORDER = {"item": "H100", "quantity": "8", "date": "2024-01-01", "destination": "CN"}


@pytest.fixture
def app(tmp_path):
    from fastapi.testclient import TestClient

    from chipex.interfaces.http import create_app
    from chipex.interfaces.http.auth import reset_failures
    from chipex.service import users

    reset_failures()
    db = str(tmp_path / "ledger.db")
    for name, role in (("vera", "viewer"), ("otto", "officer"), ("nopass", "viewer")):
        users.add_user(name, role, db=db)
    users.set_password("vera", PASSWORD, db=db)
    users.set_password("otto", PASSWORD + "!", db=db)
    with TestClient(create_app(db=db, run_jobs=False)) as client:
        yield client, db
    reset_failures()


def _post(client, name: str, password: str, next: str = "/check"):
    client.cookies.clear()
    token = CSRF.search(client.get("/signin").text).group(1)
    return client.post("/signin", data={"name": name, "password": password, "csrf": token, "next": next},
                       follow_redirects=False)  # fmt: skip


def _error(r) -> str:
    return r.text.split('id="signin-error">')[1].split("<")[0]


def test_the_sign_in_page_offers_a_password_and_a_key(app):
    client, _ = app
    page = client.get("/signin").text
    assert 'id="signin-password"' in page and 'name="password"' in page and 'name="name"' in page
    assert 'id="signin-key"' in page and 'name="key"' in page
    assert page.count('name="csrf"') == 2


def test_a_password_signs_in_with_the_same_cookie_and_csrf_as_a_key(app):
    client, _ = app
    r = _post(client, "vera", PASSWORD, next="/rules")
    assert r.status_code == 303 and r.headers["location"] == "/rules"
    cookie = r.headers["set-cookie"]
    assert "chipex_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert PASSWORD not in cookie
    page = client.get("/check")
    assert page.status_code == 200 and "vera" in page.text
    csrf = CSRF.search(page.text).group(1)
    forged = client.post("/check", data={**ORDER, "csrf": "forged"}, headers={"accept": "text/html"})
    assert forged.status_code == 403 and "CSRF" in forged.text
    assert client.post("/check", data={**ORDER, "csrf": csrf}).status_code == 200


def test_wrong_password_unknown_user_and_no_password_read_the_same(app):
    client, db = app
    from chipex.service import store, users

    store.write(db, lambda c: c.execute(update(store.users).where(store.users.c.name == "otto")
                                         .values(expires_at="2020-01-01T00:00:00+00:00")))  # fmt: skip
    refusals = [_post(client, "vera", PASSWORD + "x"), _post(client, "nobody", PASSWORD),
                _post(client, "nopass", PASSWORD), _post(client, "otto", PASSWORD + "!")]  # fmt: skip
    assert {r.status_code for r in refusals} == {401}
    assert {_error(r) for r in refusals} == {users.SIGNIN_REFUSED}
    assert all("chipex_session" not in r.headers.get("set-cookie", "") for r in refusals)
    # the name typed stays in the form; the password never comes back
    assert 'value="nobody"' in refusals[1].text and PASSWORD not in refusals[1].text


def test_failed_passwords_count_against_the_address_limit(app):
    from chipex.interfaces.http.auth import FAILURES_ALLOWED

    client, _ = app
    for _ in range(FAILURES_ALLOWED):
        assert _post(client, "vera", "not the password").status_code == 401
    r = _post(client, "vera", PASSWORD)  # even the right one, until the window passes
    assert r.status_code == 429 and "too many failed authentications" in r.text


def test_the_role_is_still_enforced_for_a_password_session(app):
    client, _ = app
    assert _post(client, "vera", PASSWORD).status_code == 303
    csrf = CSRF.search(client.get("/check").text).group(1)
    r = client.post("/check", data={**ORDER, "csrf": csrf, "record": "on"}, headers={"accept": "text/html"})
    assert r.status_code == 403 and "permission &#39;record&#39; is needed" in r.text
    assert client.get("/lab", headers={"accept": "text/html"}).status_code == 403


def test_revocation_and_a_new_password_end_a_password_session(app):
    client, db = app
    from chipex.service import users

    assert _post(client, "vera", PASSWORD).status_code == 303
    assert client.get("/check", follow_redirects=False).status_code == 200
    users.set_password("vera", PASSWORD + " changed", db=db)
    assert client.get("/check", follow_redirects=False).status_code == 303
    assert _post(client, "vera", PASSWORD).status_code == 401  # the old password is gone
    assert _post(client, "vera", PASSWORD + " changed").status_code == 303
    users.revoke("vera", db=db)
    r = client.get("/check", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/signin")
    assert _post(client, "vera", PASSWORD + " changed").status_code == 401


def test_the_password_form_without_the_csrf_cookie_is_refused(app):
    client, _ = app
    client.cookies.clear()
    r = client.post("/signin", data={"name": "vera", "password": PASSWORD, "csrf": "x"},
                    headers={"accept": "text/html"})  # fmt: skip
    assert r.status_code == 403 and "CSRF" in r.text
