"""Book checks as jobs: upload, status, results in every format, rejects, limits, restarts."""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[2]
STORY = ROOT / "src" / "chipex" / "examples" / "orders-story.csv"
SCHEMA = json.loads((ROOT / "docs" / "schema" / "determination.schema.json").read_text())
ROW_SCHEMA = json.loads((ROOT / "docs" / "schema" / "determination-row.schema.json").read_text())


def _upload(api, name: str, data: bytes, role: str = "viewer", **form) -> dict:
    r = api.client.post("/api/v1/books", files={"file": (name, data)}, data=form, headers=api.auth(role))
    assert r.status_code == 202, r.text
    return r.json()


def test_story_book_job_end_to_end(api):
    job = _upload(api, "orders-story.csv", STORY.read_bytes())
    assert job["status"] in ("queued", "running", "done") and len(job["job_id"]) == 32
    done = api.wait(job["job_id"])
    assert done["status"] == "done", done
    assert done["counts"] == {"total": 23, "checked": 23, "rejected": 0}
    assert done["progress"] == {"done": 23, "total": 23}
    h = api.auth("viewer")
    base = f"/api/v1/books/{job['job_id']}/results"
    lines = api.client.get(base + "?format=jsonl", headers=h).text.splitlines()
    rows = [json.loads(x) for x in lines]
    for row in rows:
        jsonschema.validate(row, SCHEMA)
    by_line = {r["line"]: r for r in rows}
    # the README's story table: line 3 (A100 to CN, 2022-12-01) 3A090.a under cn-2022; line 4 (A800) no licence
    assert by_line[3]["eccn"] == "3A090.a" and by_line[3]["reasons"][0]["rule"] == "cn-2022"
    assert by_line[4]["license_required"] is False
    table = pq.read_table(io.BytesIO(api.client.get(base + "?format=parquet", headers=h).content))
    assert set(table.column_names) == set(ROW_SCHEMA["properties"]) and table.num_rows == 23
    csv = api.client.get(base + "?format=csv", headers=h)
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0].replace('"', "").split(",") == table.column_names
    xlsx = api.client.get(base + "?format=xlsx", headers=h)
    assert xlsx.content[:2] == b"PK"  # a zip container: an Office Open XML workbook
    assert api.client.get(base + "?format=pdf", headers=h).status_code == 422


def test_bad_lines_are_rejected_with_line_numbers_and_a_broken_book_fails(api):
    text = STORY.read_text().splitlines()
    text[2] = text[2].replace("A100", "NO-SUCH-CHIP", 1)  # line 3 of the file
    job = api.wait(_upload(api, "book.csv", "\n".join(text).encode())["job_id"])
    assert job["status"] == "done" and job["counts"]["rejected"] == 1 and job["counts"]["checked"] == 22
    assert job["errors"][0]["line"] == 3 and job["errors"][0]["field"] == "item"
    rejects = api.client.get(f"/api/v1/books/{job['job_id']}/rejects", headers=api.auth("viewer")).text
    assert rejects.splitlines()[1].startswith("3,item,")
    strict = api.wait(_upload(api, "book.csv", "\n".join(text).encode(), on_error="fail")["job_id"])
    assert strict["status"] == "failed" and strict["errors"][0]["line"] == 3
    broken = api.wait(_upload(api, "x.csv", b"when,what\n2024-01-01,H100\n")["job_id"])
    assert broken["status"] == "failed" and broken["errors"], broken
    r = api.client.get(f"/api/v1/books/{broken['job_id']}/results", headers=api.auth("viewer"))
    assert r.status_code == 409
    r = api.client.post("/api/v1/books", files={"file": ("a.txt", b"x")}, headers=api.auth("viewer"))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "file"]
    assert api.client.get("/api/v1/books/" + "0" * 32, headers=api.auth("viewer")).status_code == 404


def test_xlsx_and_jsonl_books(api):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for row in [("date", "item", "quantity", "destination"), ("2024-01-01", "H100", 8, "CN")]:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    job = api.wait(_upload(api, "book.xlsx", buf.getvalue())["job_id"])
    assert job["status"] == "done" and job["counts"]["checked"] == 1
    line = b'{"date": "2024-01-01", "item": "H20", "quantity": 1, "destination": "CN"}\n'
    job = api.wait(_upload(api, "book.jsonl", line)["job_id"])
    assert job["status"] == "done" and job["summary"][0]["license_required"] is False  # H20 TPP 2,368 < 2,400


def test_upload_limit_is_413(tmp_path):
    from tests.api.conftest import make_api

    _db, keys, client = make_api(tmp_path, max_upload_mb=0.01)
    with client:
        r = client.post("/api/v1/books", files={"file": ("big.csv", b"x" * 20_000)},
                        headers={"Authorization": f"Bearer {keys['viewer']}"})  # fmt: skip
        assert r.status_code == 413 and "limit" in r.json()["detail"]


def test_a_job_left_running_by_a_killed_server_is_run_again_on_restart(tmp_path):
    from sqlalchemy import update
    from tests.api.conftest import make_api

    from chipex.service import jobs, store

    db, keys, client = make_api(tmp_path, run_jobs=False)
    with client:  # a server whose worker never gets to the job, then "killed" mid-run
        r = client.post("/api/v1/books", files={"file": ("s.csv", STORY.read_bytes())},
                        headers={"Authorization": f"Bearer {keys['viewer']}"})  # fmt: skip
        job_id = r.json()["job_id"]
    store.write(
        db, lambda c: c.execute(update(store.jobs).where(store.jobs.c.id == job_id).values(status="running"))
    )
    assert jobs.get(job_id, db=db).status == "running"
    from fastapi.testclient import TestClient

    from chipex.interfaces.http import create_app

    with TestClient(create_app(db=db)) as again:  # the restarted server recovers it
        import time

        for _ in range(600):
            job = again.get(
                f"/api/v1/books/{job_id}", headers={"Authorization": f"Bearer {keys['viewer']}"}
            ).json()
            if job["status"] in ("done", "failed"):
                break
            time.sleep(0.1)
    assert job["status"] == "done" and job["counts"]["checked"] == 23
