"""An API on its own ledger database, with one user (and key) per role."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import pytest

warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
ROLES = ("viewer", "analyst", "officer", "admin")


@dataclass
class Api:
    client: object
    keys: dict[str, str]
    db: str

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}

    def wait(self, job_id: str, role: str = "viewer", timeout: float = 120) -> dict:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            job = self.client.get(f"/api/v1/books/{job_id}", headers=self.auth(role)).json()
            if job["status"] in ("done", "failed"):
                return job
            time.sleep(0.1)
        raise AssertionError(f"job {job_id} still {job['status']} after {timeout} s")


def make_api(tmp_path, **kwargs):
    from fastapi.testclient import TestClient

    from chipex.interfaces.http import create_app
    from chipex.interfaces.http.auth import reset_failures
    from chipex.service import users

    db = str(tmp_path / "ledger.db")
    reset_failures()
    keys = {r: users.add_user(f"{r}-user", r, actor="test-admin", db=db).key for r in ROLES}
    return db, keys, TestClient(create_app(db=db, **kwargs))


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    db, keys, client = make_api(tmp_path_factory.mktemp("api"))
    with client:
        yield Api(client, keys, db)
