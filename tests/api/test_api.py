"""The HTTP API end to end (in process, through FastAPI's test client): auth, roles, checks,
idempotency, bad input, security headers, ledger and audit."""

from __future__ import annotations

import json
import re
from pathlib import Path

from chipex.core import DISCLAIMER

README = Path(__file__).parents[2] / "README.md"
ORDER = {"date": "2024-01-01", "item": "H100", "quantity": 8, "destination": "CN"}


def test_health_docs_and_openapi_need_no_key(api):
    c = api.client
    assert c.get("/health").json() == {"status": "ok"}
    spec = c.get("/openapi.json").json()
    assert "/api/v1/check" in spec["paths"] and "/api/v1/match/{dataset}" in spec["paths"]
    assert c.get("/docs").status_code == 200


def test_no_key_is_401_and_a_bad_key_is_401(api):
    r = api.client.post("/api/v1/check", json=ORDER)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    r = api.client.post(
        "/api/v1/check", json=ORDER, headers={"Authorization": "Bearer chipex_000000000000_nope"}
    )
    assert r.status_code == 401
    assert "invalid" in r.json()["detail"]


def test_check_one_order_in_the_one_schema(api):
    # 88 FR 73458: H100 (TPP 15,831 >= 4,800) is 3A090.a.1; CN is in D:1/D:4/D:5 -> licence required,
    # presumption of denial (15 CFR 742.6(b)(10))
    r = api.client.post("/api/v1/check", json=ORDER, headers=api.auth("viewer"))
    assert r.status_code == 200
    d = r.json()
    assert d["license_required"] is True and d["eccn"] == "3A090.a.1"
    assert d["reasons"][0]["rule"] == "d145-2023" and "88 FR 73458" in d["reasons"][0]["citation"]
    assert d["policy"]["policy"] == "presumption of denial"
    assert d["determination_id"] is None and d["disclaimer"] == DISCLAIMER


def test_roles_viewer_cannot_record_and_403_names_the_permission(api):
    r = api.client.post("/api/v1/check", json={**ORDER, "record": True}, headers=api.auth("viewer"))
    assert r.status_code == 403 and "'record'" in r.json()["detail"]
    r = api.client.post(
        "/api/v1/lab/diff", json={"a": "2022-10-07", "b": "2023-11-17"}, headers=api.auth("viewer")
    )
    assert r.status_code == 403 and "'lab'" in r.json()["detail"]
    r = api.client.post("/api/v1/ledger/licences", json={}, headers=api.auth("analyst"))
    assert r.status_code == 403 and "'ledger:write'" in r.json()["detail"]
    r = api.client.get("/api/v1/users", headers=api.auth("officer"))
    assert r.status_code == 403 and "'users'" in r.json()["detail"]
    r = api.client.post(
        "/api/v1/lab/diff", json={"a": "2022-10-07", "b": "2023-11-17"}, headers=api.auth("analyst")
    )
    assert r.status_code == 200
    # 87 FR 62186 created 3A090; 88 FR 73458 added .b and dropped the interconnect prong: the API
    # gives the README's own count for this diff (taken from the CLI's output there)
    counted = re.search(r"\(2022-10-07 → 2023-11-17, excerpt; (\d+ newly controlled)", README.read_text())
    assert r.json()["data"]["changes"] and counted and counted.group(1) in r.json()["explanation"]
    assert api.client.get("/api/v1/users", headers=api.auth("admin")).status_code == 200


def test_record_returns_an_id_the_audit_chain_holds_with_the_user_as_actor(api):
    h = {**api.auth("officer"), "Idempotency-Key": "oms-order-77/1"}
    first = api.client.post("/api/v1/check", json={**ORDER, "record": True}, headers=h).json()
    again = api.client.post("/api/v1/check", json={**ORDER, "record": True}, headers=h).json()
    assert first["determination_id"] == again["determination_id"] == "oms-order-77/1"
    lines = api.client.get("/api/v1/audit/export?format=jsonl", headers=api.auth("viewer")).text.splitlines()
    events = [json.loads(x) for x in lines]
    recorded = [e for e in events if e["kind"] == "determination.recorded"]
    assert len(recorded) == 1 and recorded[0]["actor"] == "officer-user"  # a retried key is recorded once
    assert api.client.get("/api/v1/audit/verify", headers=api.auth("viewer")).json()["ok"] is True


def test_bad_input_is_422_naming_the_field_with_the_cli_message(api):
    h = api.auth("viewer")
    r = api.client.post("/api/v1/check", json={**ORDER, "quantity": -8}, headers=h)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "quantity"]
    r = api.client.post("/api/v1/check", json={**ORDER, "date": "2024-13-01"}, headers=h)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][:2] == ["body", "date"]
    r = api.client.post("/api/v1/check", json={**ORDER, "destination": "Atlantis"}, headers=h)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "destination"]
    r = api.client.post("/api/v1/check", json={**ORDER, "colour": "red"}, headers=h)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "colour"]
    r = api.client.post(
        "/api/v1/check", content=b"{not json", headers={**h, "Content-Type": "application/json"}
    )
    assert r.status_code == 422 and "Traceback" not in r.text


def test_security_headers_and_cors_closed(api):
    r = api.client.get("/health", headers={"Origin": "https://evil.example"})
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["content-security-policy"].startswith("default-src 'none'")
    assert "access-control-allow-origin" not in r.headers
    r = api.client.options(
        "/api/v1/check", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in r.headers


def test_classify_chips_rules_screen(api):
    h = api.auth("viewer")
    # 2022 text (87 FR 62186): 3A090 needed 600 GB/s interconnect; the H800 has 400 -> not 3A090
    r = api.client.post("/api/v1/classify", json={"chip": "H800", "as_of": "2023-06-01"}, headers=h).json()
    assert r["eccn"] is None and r["chip"] == "H800 SXM"
    r = api.client.post("/api/v1/classify", json={"chip": "H800", "as_of": "2024-01-01"}, headers=h).json()
    assert r["eccn"] == "3A090.a.1"
    r = api.client.post("/api/v1/classify", json={"chip": "H800", "spec": {}}, headers=h)
    assert r.status_code == 422
    chips = api.client.get("/api/v1/chips", headers=h).json()
    h100 = next(c for c in chips if c["id"] == "nvidia-h100-sxm")
    assert h100["tpp"] == 15831.2  # 989.5 dense FP8 TFLOPS x 8 bits x 2 (Technical Note TPP)
    assert any(v["id"] == "2023-11-17" for v in api.client.get("/api/v1/rules", headers=h).json())
    s = api.client.post(
        "/api/v1/screen", json={"name": "HUAWEI TECH CO LTD", "country": "CN"}, headers=h
    ).json()
    assert s["hits"][0]["list"] == "EL" and s["hits"][0]["score"] == 1.0


def test_ledger_writes_with_idempotency_and_the_user_as_actor(api):
    w = api.auth("officer")
    lic = {"number": "L-API-1", "holder": "Exporter Inc.", "items": ["H100"], "destinations": ["IN"],
           "valid_from": "2025-01-01", "valid_to": "2026-12-31", "units": 10}  # fmt: skip
    assert api.client.post("/api/v1/ledger/licences", json=lic, headers=w).status_code == 200
    line = {"licence": "L-API-1", "item": "H100", "units": 4, "destination": "IN",
            "consignee": "Bharat Compute", "date": "2025-03-01"}  # fmt: skip
    h = {**w, "Idempotency-Key": "SO-17/1"}
    a = api.client.post("/api/v1/ledger/reservations", json=line, headers=h).json()
    b = api.client.post("/api/v1/ledger/reservations", json=line, headers=h).json()
    assert a["status"] == "reserved" and a["key"] == "SO-17/1" and not a["replayed"]
    assert b["replayed"] and b["event"] == a["event"]
    shown = api.client.get("/api/v1/ledger/licences/L-API-1", headers=api.auth("viewer")).json()
    units = next(q for q in shown["quantities"] if q["unit"] == "units")
    assert units["remaining"] == "6"  # 10 granted - 4 reserved once
    over = api.client.post("/api/v1/ledger/reservations", json={**line, "units": 7}, headers=w).json()
    assert over["status"] == "refused" and over["refusals"]
    events = [json.loads(x) for x in api.client.get("/api/v1/audit/export", headers=w).text.splitlines()]
    assert {e["actor"] for e in events if e["kind"].startswith(("licence", "reservation"))} == {
        "officer-user"
    }


def test_a_revoked_or_expired_key_is_refused(api, tmp_path):
    from sqlalchemy import update

    from chipex.service import store, users

    new = users.add_user("temp", "viewer", db=api.db)
    h = {"Authorization": f"Bearer {new.key}"}
    assert api.client.get("/api/v1/chips", headers=h).status_code == 200
    store.write(api.db, lambda c: c.execute(
        update(store.users).where(store.users.c.name == "temp").values(expires_at="2020-01-01T00:00:00+00:00")))  # fmt: skip
    assert api.client.get("/api/v1/chips", headers=h).status_code == 401
    users.revoke("temp", db=api.db)
    assert api.client.get("/api/v1/chips", headers=h).status_code == 401


def test_failed_authentication_is_rate_limited(tmp_path):
    from tests.api.conftest import make_api

    _db, keys, client = make_api(tmp_path)
    with client:
        bad = {"Authorization": "Bearer chipex_123456789012_wrong"}
        codes = [client.get("/api/v1/chips", headers=bad).status_code for _ in range(11)]
        assert codes[:10] == [401] * 10 and codes[10] == 429
        # even a good key is refused from that address until the window passes
        r = client.get("/api/v1/chips", headers={"Authorization": f"Bearer {keys['viewer']}"})
        assert r.status_code == 429 and "Retry-After" in r.headers


def test_users_cli_prints_the_key_alone_on_its_last_line_and_it_authenticates(tmp_path):
    from fastapi.testclient import TestClient
    from tests.chipex_cli import run_chipex

    from chipex.interfaces.http import create_app
    from chipex.interfaces.http.auth import reset_failures

    reset_failures()  # the rate-limit test before this one left the test client's address blocked
    db = str(tmp_path / "ledger.db")
    r = run_chipex("users", "add", "alice", "--role", "officer", "--db", db)
    assert r.returncode == 0, r.stderr
    key = r.stdout.strip().splitlines()[-1]
    assert key.startswith("chipex_") and " " not in key
    listed = run_chipex("users", "list", "--db", db)
    assert "alice" in listed.stdout and key not in listed.stdout  # the key is shown once, stored hashed
    with TestClient(create_app(db=db)) as c:
        body = {"date": "2024-01-01", "item": "H100", "quantity": 8, "destination": "CN", "record": True}
        got = c.post("/api/v1/check", json=body, headers={"Authorization": f"Bearer {key}"})
        assert got.status_code == 200 and got.json()["determination_id"], got.text
    assert run_chipex("users", "revoke", "alice", "--db", db).returncode == 0
