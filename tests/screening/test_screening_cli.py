"""The screening commands, run as a user runs them."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CHIPEX = [sys.executable, "-c", "from chipex.interfaces.cli import main; main()"]


def run(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CHIPEX, *args], capture_output=True, text=True, env={"CHIPEX_HOME": str(home), "PATH": "/usr/bin:/bin", "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
                                                               "COLUMNS": "200"}, timeout=120,
    )  # fmt: skip


def test_screen_json(home: Path) -> None:
    r = run("screen", "HUAWEI TECH CO LTD", "--country", "CN", "--json", home=home)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["snapshot_id"] == "2026-07-31-e32db4d060b6"
    top = doc["hits"][0]
    assert top["list"] == "EL"
    assert top["license_policy"] == "Presumption of denial"
    assert {"score", "matched_name", "entry_id", "license_requirement", "citation", "features"} <= set(top)


def test_screen_text_explains(home: Path) -> None:
    r = run("screen", "Sugon", "--format", "table", home=home)
    assert r.returncode == 0, r.stderr
    assert "EL  Sugon" in r.stdout
    assert "licence policy: Presumption of denial" in r.stdout
    assert "name_tokens 1.00 (base)" in r.stdout
    assert "not legal advice" in r.stdout


def test_match_json(home: Path) -> None:
    r = run("match", "SCI & TECH HLDGS ACME", "Acme Science and Technology Holdings", "--json", home=home)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["match"] is True and doc["score"] == 1.0
    r = run("match", "Company Limited", "Corp", "--json", home=home)
    assert json.loads(r.stdout)["match"] is False


def test_screen_file_to_csv(home: Path, tmp_path: Path) -> None:
    parties = tmp_path / "parties.csv"
    parties.write_text("id,name,country\n1,Sugon,CN\n2,ACME Widgets GmbH,DE\n3,华为技术有限公司,CN\n4,Sugon,CN\n",
                       encoding="utf-8")  # fmt: skip
    out = tmp_path / "hits.csv"
    r = run("screen", "--file", str(parties), "--out", str(out), "--format", "table", home=home)
    assert r.returncode == 0, r.stderr
    assert "4 parties (3 distinct): 3 flagged" in r.stdout
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert {r["party_id"] for r in rows if r["status"] == "clear"} == {"2"}
    assert any(r["party_id"] == "3" and r["list"] == "EL" for r in rows)
    assert all(r["snapshot_id"] == "2026-07-31-e32db4d060b6" for r in rows)


@pytest.mark.parametrize(
    ("content", "message"),
    [("nom,pays\nX,CN\n", "field 'name'"), ("name,country\nSugon,Atlantis\n", "record 2, field 'country'")],
)
def test_bad_party_file_is_one_line_and_nothing_written(
    home: Path, tmp_path: Path, content: str, message: str
) -> None:
    parties = tmp_path / "parties.csv"
    parties.write_text(content, encoding="utf-8")
    out = tmp_path / "hits.csv"
    r = run("screen", "--file", str(parties), "--out", str(out), home=home)
    assert r.returncode == 2
    assert message in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_lists_and_bad_list_file(home: Path, tmp_path: Path) -> None:
    r = run("lists", "--json", home=home)
    doc = json.loads(r.stdout)
    assert doc["current"] == "2026-07-31-e32db4d060b6" and doc["total"] == 25921
    bad = tmp_path / "consolidated.csv"
    bad.write_text("source,name\nEntity List (EL) - Bureau of Industry and Security,\n", encoding="utf-8")
    r = run("lists", "--load", str(bad), "--date", "2026-08-01", home=home)
    assert r.returncode == 2
    assert r.stderr.startswith(f"chipex: error: {bad}, record 2, field 'name'")
    assert json.loads(run("lists", "--json", home=home).stdout)["current"] == "2026-07-31-e32db4d060b6"


def test_review_then_screen(home: Path) -> None:
    hits = json.loads(run("screen", "Huawei Technology", "--json", home=home).stdout)["hits"]
    egypt = next(h for h in hits if h["entry_name"] == "Huawei Technology")
    r = run(
        "review",
        "Huawei Technology",
        egypt["entry_id"][:16],
        "--false-positive",
        "--reviewer",
        "ana",
        home=home,
    )
    assert r.returncode == 0, r.stderr
    after = json.loads(run("screen", "Huawei Technology", "--json", home=home).stdout)["hits"]
    assert egypt["entry_id"] not in {h["entry_id"] for h in after}
