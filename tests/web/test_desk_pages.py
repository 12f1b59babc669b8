"""Licences, the policy lab, chip and rule pages without a browser (FastAPI's TestClient): roles,
CSRF, the lab's CSV and the licence arithmetic of chipex.service.ledger.licence_desk."""

from __future__ import annotations

import csv

import pytest
from tests.web.conftest import add_users, sign_in

LICENCE = {"number": "D-PG-1", "holder": "Acme", "items": ["H100"], "destinations": ["AE"],
           "valid_from": "2025-01-01", "valid_to": "2027-12-31", "units": 20}  # fmt: skip
LINE = {"licence": "D-PG-1", "item": "H100", "units": "8", "destination": "AE", "consignee": "G42",
        "date": "2026-06-01"}  # fmt: skip


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from fastapi.testclient import TestClient

    from chipex.interfaces.http import create_app

    db = str(tmp_path_factory.mktemp("web-desk") / "ledger.db")
    keys = add_users(db)
    with TestClient(create_app(db=db, run_jobs=False)) as client:
        r = client.post(
            "/api/v1/ledger/licences", json=LICENCE, headers={"Authorization": f"Bearer {keys['officer']}"}
        )
        assert r.status_code == 200, r.text
        yield client, keys, db


def test_a_viewer_may_not_reserve_through_the_page_and_sees_no_form(app):
    client, keys, _ = app
    csrf = sign_in(client, keys["viewer"])
    assert 'id="reserve-form"' not in client.get("/licences").text
    r = client.post("/licences/reserve", data={**LINE, "csrf": csrf}, headers={"accept": "text/html"})
    assert r.status_code == 403 and "ledger:write" in r.text
    client.cookies.clear()


def test_a_reservation_needs_the_csrf_token_and_a_refusal_records_nothing(app):
    client, keys, db = app
    from chipex.service import ledger

    csrf = sign_in(client, keys["officer"])
    r = client.post("/licences/reserve", data={**LINE, "csrf": "forged"}, headers={"accept": "text/html"})
    assert r.status_code == 403
    # 30 units against a licence for 20: the licence's own quantity refuses it
    r = client.post("/licences/reserve", data={**LINE, "units": "30", "csrf": csrf})
    assert r.status_code == 200 and 'id="outcome-status">Refused' in r.text
    assert ledger.licence_desk("D-PG-1", db=db).trail[-1].kind == "licence.added"
    r = client.post("/licences/reserve", data={**LINE, "csrf": csrf})
    assert 'id="outcome-status">Reserved' in r.text
    q = ledger.licence_desk("D-PG-1", db=db).quantities[0]
    assert (q.granted, q.reserved, q.shipped, q.returned, q.remaining) == ("20", "8", "0", "0", "12")
    r = client.post("/licences/reserve", data={**LINE, "units": "eight", "csrf": csrf})
    assert r.status_code == 422 and "<strong>units</strong>" in r.text
    client.cookies.clear()


def test_the_lab_needs_the_lab_permission(app):
    client, keys, _ = app
    sign_in(client, keys["viewer"])
    r = client.get("/lab", headers={"accept": "text/html"})
    assert r.status_code == 403 and "lab" in r.text
    assert client.get("/lab/plane.csv").status_code == 403
    assert 'href="/lab"' not in client.get("/check").text  # not in the viewer's navigation
    client.cookies.clear()


def test_the_lab_csv_holds_each_rule_line_on_the_date(app):
    client, keys, _ = app
    sign_in(client, keys["officer"])
    r = client.get("/lab/lines.csv?as_of=2024-01-01")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(r.text.splitlines()))
    # 88 FR 73458: 3A090.a.1 "TPP of 4800 or more"; 3A090.a.2 "TPP 1600 or more and PD 5.92 or more"
    got = {(x["paragraph"], x["metric"], x["bound"], float(x["value"])) for x in rows}
    assert ("3A090.a.1", "tpp", "at_least", 4800.0) in got
    assert ("3A090.a.2", "performance_density", "at_least", 5.92) in got
    assert client.get("/lab?as_of=not-a-date", headers={"accept": "text/html"}).status_code == 422
    client.cookies.clear()


def test_unknown_chip_and_rule_version_are_404_pages(app):
    client, keys, _ = app
    sign_in(client, keys["viewer"])
    r = client.get("/chips/H1000zz", headers={"accept": "text/html"})
    assert r.status_code == 404 and "unknown chip" in r.text
    r = client.get("/rules/1999-01-01", headers={"accept": "text/html"})
    assert r.status_code == 404 and "unknown rule version" in r.text
    client.cookies.clear()


def test_a_reform_upload_needs_csrf_and_a_bad_file_is_named(app):
    client, keys, _ = app
    csrf = sign_in(client, keys["officer"])
    html = {"accept": "text/html"}
    files = {"file": ("mine.yaml", b"name: only a name\n", "application/yaml")}
    assert client.post("/lab/reform", data={"csrf": "x"}, files=files, headers=html).status_code == 403
    r = client.post("/lab/reform", data={"csrf": csrf, "as_of": "2024-06-01"}, files=files, headers=html)
    # a reform names what it changes and why (chipex.rules.reform.Reform)
    assert r.status_code == 422 and "mine.yaml" in r.text and "description" in r.text
    r = client.post("/lab/reform", data={"csrf": csrf, "shipped": "../../etc/passwd"}, headers=html)
    assert r.status_code == 422
    client.cookies.clear()


def test_cancel_needs_a_reason_releases_the_units_and_a_viewer_may_not(app):
    client, keys, db = app
    from chipex.service import ledger

    csrf = sign_in(client, keys["officer"])
    before = ledger.licence_desk("D-PG-1", db=db).quantities[0].remaining
    client.post("/licences/reserve", data={**LINE, "units": "3", "csrf": csrf})
    key = ledger.licence_desk("D-PG-1", db=db).trail[-1].subject
    r = client.post("/licences/D-PG-1/cancel", data={"key": key, "csrf": csrf})
    assert r.status_code == 422 and "<strong>reason</strong>" in r.text
    assert ledger.licence_desk("D-PG-1", db=db).quantities[0].remaining == str(int(before) - 3)
    r = client.post("/licences/D-PG-1/cancel", data={"key": key, "reason": "order withdrawn", "csrf": csrf})
    assert 'id="outcome-status">Cancelled' in r.text
    assert ledger.licence_desk("D-PG-1", db=db).quantities[0].remaining == before
    client.cookies.clear()
    csrf = sign_in(client, keys["viewer"])
    r = client.post("/licences/D-PG-1/cancel", data={"key": key, "reason": "x", "csrf": csrf},
                    headers={"accept": "text/html"})  # fmt: skip
    assert r.status_code == 403
    client.cookies.clear()
