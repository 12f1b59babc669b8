"""The check page shows the new parts of an answer: subject to the EAR, GP10 warnings, and the
scope (`checked` / `not_checked`, rules/scope.yaml), without a browser (FastAPI's TestClient)."""

from __future__ import annotations

import html

from tests.web.conftest import CSRF, add_users, sign_in


def test_the_check_page_shows_jurisdiction_warnings_and_scope(tmp_path):
    from fastapi.testclient import TestClient

    from chipex.interfaces.http import create_app

    db = str(tmp_path / "ledger.db")
    keys = add_users(db)
    with TestClient(create_app(db=db, run_jobs=False)) as client:
        sign_in(client, keys["officer"])
        csrf = CSRF.search(client.get("/check").text).group(1)
        # a China-made Ascend 910C to China in 2026: 734.9(h) FDP with US tooling presumed, and
        # BIS's guidance of 2025-05-13 (GP10) shown as a warning, never as the decision
        order = {"item": "Ascend 910C", "quantity": "1", "date": "2026-02-01", "destination": "CN",
                 "made_in": "CN", "csrf": csrf}  # fmt: skip
        r = client.post("/check", data=order)
        assert r.status_code == 200, r.text
        text = html.unescape(r.text)
        assert 'id="jurisdiction"' in r.text and "734.9(h)" in text
        assert 'id="warnings"' in r.text and "gp10-ascend" in text
        checked = text.split('id="checked"')[1].split("</ul>")[0]
        not_checked = text.split('id="not-checked"')[1].split("</ul>")[0]
        assert "part 746 embargoes" in checked and "subject to the EAR" in checked
        assert "744.6" in not_checked and "no end user hq or parent hq given" in not_checked
