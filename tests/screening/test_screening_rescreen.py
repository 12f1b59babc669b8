"""Re-screening when a list changes (issue 15 §2): a new list is loaded; the customer master, the
recorded determinations and the reviewer decisions are checked against it; the re-screen is recorded
in the audit chain."""

from __future__ import annotations

import json
from pathlib import Path

from tests.chipex_cli import run_chipex
from tests.screening.test_screening_snapshots import shipped_rows, write_list

from chipex.screening.store import Store

NEW = "Newly Listed Compute Trading Co"
SHIPPED = "2026-07-31-e32db4d060b6"


def test_loading_a_list_rescreens_parties_and_names_the_determinations_that_change(
    home: Path, tmp_path: Path
) -> None:
    env = {"CHIPEX_HOME": str(home)}
    customers = tmp_path / "customers.csv"
    customers.write_text(f"id,name,country\nC1,{NEW},CN\nC2,Sugon,CN\nC3,Harmless Bakery GmbH,DE\n")
    r = run_chipex("parties", "load", str(customers), env=env)
    assert r.returncode == 0 and "3 parties loaded" in r.stdout, r.stderr
    # a determination recorded under the shipped list: no licence needed
    r = run_chipex("check", "--item", "H100", "--to", "DE", "--date", "2026-08-20", "--end-user", NEW,
                   "--record", "--user", "alice", "--json", env=env)  # fmt: skip
    assert r.returncode == 0, r.stderr
    recorded = json.loads(r.stdout)
    assert recorded["license_required"] is False
    # a reviewer cleared Sugon's CMIC hit as a false positive (on the entry as it is now)
    r = run_chipex("screen", "Sugon", "--json", env=env)
    cmic = next(h for h in json.loads(r.stdout)["hits"] if h["list"] == "CMIC")
    r = run_chipex("review", "Sugon", cmic["entry_id"], "--false-positive", "--reviewer", "bob", env=env)
    assert r.returncode == 0, r.stderr
    # the new list: the party is added to the Entity List, and the CMIC entry's programs change
    rows = shipped_rows()
    for row in rows:
        if row["_id"] == cmic["entry_id"]:
            row["programs"] = "CMIC-EO13959; amended"
    rows.append({**rows[0], "_id": "new-entry-1", "name": NEW, "addresses": "CN",
                 "source": "Entity List (EL) - Bureau of Industry and Security",
                 "license_requirement": "For all items subject to the EAR", "license_policy": "Presumption of denial"})  # fmt: skip
    new_list = write_list(tmp_path / "consolidated.csv", rows)
    r = run_chipex("lists", "--load", str(new_list), "--date", "2026-08-25", "--json", env=env)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["delta"] == {
        "CMIC": {"added": 0, "removed": 0, "changed": 1},
        "EL": {"added": 1, "removed": 0, "changed": 0},
    }
    rs = doc["rescreen"]
    assert rs["from"] == SHIPPED and rs["to"] == doc["loaded"]
    changed = {p["name"]: p for p in rs["parties_changed"]}
    assert changed[NEW]["new_matches"][0].startswith(f"EL '{NEW}'")
    where = sorted(w for p in rs["parties_changed"] if p["name"] == NEW for w in p["where"])
    assert where == sorted(
        ["customer C1", f"determination {recorded['determination_id']}"]
    )  # as CN and as DE
    assert changed["Sugon"]["entry_changed"] == ["CMIC 'Dawning Information Industry Co., Ltd'"]
    assert "Harmless Bakery GmbH" not in changed
    assert rs["determinations_differ"] == [{
        "determination": recorded["determination_id"], "order": "cli", "date": "2026-08-20", "end_user": NEW,
        "consignee": None, "was_license_required": False, "now_license_required": True}]  # fmt: skip
    assert rs["decisions_reopened"] == [{"party": "Sugon", "entry": "Dawning Information Industry Co., Ltd",
                                         "was": "false_positive", "by": "bob"}]  # fmt: skip
    assert rs["recorded"] == f"rescreen-{SHIPPED}-{doc['loaded']}"
    # the decision log keeps both events; the reopened hit is reported again
    assert [d.decision for d in Store(home).history()] == ["false_positive", "reopened"]
    r = run_chipex("screen", "Sugon", "--json", env=env)
    assert any(h["list"] == "CMIC" for h in json.loads(r.stdout)["hits"])
    # the audit chain holds the re-screen and still verifies
    r = run_chipex("audit", "verify", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    r = run_chipex("audit", "export", "--format", "jsonl", env=env)
    assert '"kind": "screening.rescreened"' in r.stdout
