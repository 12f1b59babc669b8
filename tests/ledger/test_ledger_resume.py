"""`chipex check BOOK --record` killed midway, then run again (issue 11, crash safety and
resumability): the re-run records only the lines still missing, nothing twice, and `--missing`
lists what is left; each record carries what it was decided with (chipex.core.provenance), on
SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from tests.chipex_cli import run_chipex

from chipex.core.provenance import Provenance
from chipex.orders.ledger_link import RECORD_BATCH

LINES = 6000  # 12 batches of RECORD_BATCH: room to be killed between two of them
COUNTRIES = ("IN", "CN", "DE", "AE")


def _book(path: Path, n: int = LINES) -> Path:
    rows = [f"2025-06-01,H100,{i % 50 + 1},{COUNTRIES[i % 4]}" for i in range(n)]
    path.write_text("date,item,quantity,destination\n" + "\n".join(rows) + "\n")
    return path


def _recorded(db: str) -> list[tuple[str, dict]]:
    engine = create_engine(db)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT subject, payload FROM events WHERE kind = 'determination.recorded' ORDER BY seq")
            ).all()
    finally:
        engine.dispose()
    return [(s, json.loads(p)) for s, p in rows]


def _count(db: str) -> int:
    engine = create_engine(db)
    try:
        with engine.connect() as conn:
            return conn.execute(
                text("SELECT count(*) FROM events WHERE kind = 'determination.recorded'")
            ).scalar_one()
    except Exception:  # the schema is not there yet (the run is still migrating)
        return 0
    finally:
        engine.dispose()


def test_killed_record_run_resumes_with_only_the_missing_lines(tmp_path: Path, db: str) -> None:
    assert LINES > 4 * RECORD_BATCH
    book = _book(tmp_path / "book.csv")
    args = ["check", str(book), "--record", "--db", db, "--no-screen", "--user", "alice", "--format", "table"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "chipex", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 300
    while _count(db) == 0 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)  # as soon as the first batch is in
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()
    first = _recorded(db)
    assert 0 < len(first) < LINES, "the run finished before it could be killed: make the book larger"
    assert len(first) % RECORD_BATCH == 0  # whole batches only: a batch is one transaction

    # what is missing, before the re-run: every line not recorded, by number (CSV: the header is line 1)
    r = run_chipex("check", str(book), "--missing", "--db", db, "--no-screen", "--json")
    assert r.returncode == 0, r.stderr
    done = {p["provenance"]["book"]["line"] for _, p in first}
    assert json.loads(r.stdout)["missing"] == [n for n in range(2, LINES + 2) if n not in done]

    r = run_chipex(*args)
    assert r.returncode == 0, r.stderr
    said = " ".join(r.stdout.split())
    assert (
        f"recorded {LINES - len(first):,} determinations in the ledger; {len(first):,} of the {LINES:,}"
        in said
    )
    assert "differ" not in r.stderr
    events = _recorded(db)
    assert len(events) == LINES  # nothing twice, nothing lost
    assert events[: len(first)] == first  # the earlier records stand as they were
    assert sorted(p["provenance"]["book"]["line"] for _, p in events) == list(range(2, LINES + 2))
    assert len({s for s, _ in events}) == LINES

    # the chain is intact, and a third run records nothing
    v = run_chipex("audit", "verify", "--db", db)
    assert v.returncode == 0, v.stdout + v.stderr
    r = run_chipex(*args)
    assert "recorded 0 determinations" in " ".join(r.stdout.split())
    assert _count(db) == LINES
    r = run_chipex("check", str(book), "--missing", "--db", db, "--no-screen", "--format", "table")
    assert "0 of 6,000 checked lines" in " ".join(r.stdout.split()) and ": none" in r.stdout


@pytest.fixture
def screening_home(monkeypatch, tmp_path, _screening_cache) -> Path:
    """A CHIPEX_HOME that shares the session's screening-index cache (screening is slow to index)."""
    home = tmp_path / "home"
    (home / "screening").mkdir(parents=True, exist_ok=True)
    (home / "screening" / "cache").symlink_to(_screening_cache, target_is_directory=True)
    monkeypatch.setenv("CHIPEX_HOME", str(home))
    return home


HUAWEI = "Huawei Technologies Co. Ltd."


def test_each_record_holds_what_it_was_decided_with(tmp_path: Path, screening_home: Path) -> None:
    db = str(tmp_path / "ledger.db")
    book = tmp_path / "parties.csv"
    book.write_text(
        f"date,item,quantity,destination,end_user\n2025-06-01,H100,8,CN,{HUAWEI}\n2025-06-01,Acme X1,2,DE,\n"
    )
    extra = tmp_path / "my-chips.yaml"  # a user catalog: 700 dense FP8 TOPS x 8 bits = TPP 5,600 >= 4,800
    extra.write_text(
        "chips:\n  - id: acme-x1\n    name: Acme X1\n    vendor: Acme\n    family: X1\n"
        '    datacenter: {value: true, source: "Acme datasheet 2026", confidence: published}\n'
        '    dense_tops:\n      fp8: {value: 700, source: "Acme datasheet 2026", confidence: published}\n'
    )
    r = run_chipex("check", str(book), "--record", "--db", db, "--catalog", str(extra), "--user", "alice")
    assert r.returncode == 0, r.stderr
    (s1, p1), (s2, p2) = _recorded(f"sqlite:///{db}")
    sha = hashlib.sha256(book.read_bytes()).hexdigest()
    for p, line in ((p1, 2), (p2, 3)):
        prov = Provenance.model_validate(p["provenance"])  # the model the web report reads
        assert prov.book is not None and (prov.book.sha256, prov.book.line) == (sha, line)
        assert prov.catalog_overrides[0].file == str(extra)
        assert prov.catalog_overrides[0].sha256 == hashlib.sha256(extra.read_bytes()).hexdigest()
        assert prov.regime == "as-enforced" and prov.screened
        assert prov.rule_version == "2025-05-13"  # in force on 2025-06-01 (rules/timeline.yaml)
    assert s1.startswith(f"book-{sha[:32]}-") and s1.endswith("-2") and s2.endswith("-3")
    v = run_chipex("--version", "-v")
    assert f"sha256 {p1['provenance']['rule_data_sha256'][:12]}" in v.stdout  # the rule data chipex names
    assert p1["provenance"]["chipex_version"] in v.stdout
    assert p2["decision"]["eccn"] == "3A090.a.1" and p2["inputs"]["item"] == "Acme X1"
    # the list snapshot and Huawei's Entity List entries (15 CFR 744 Supp. 4) with their scores
    prov = p1["provenance"]
    assert prov["list_snapshot"] and p1["decision"]["list_snapshot"].startswith(prov["list_snapshot"])
    el = [
        m for m in prov["matches"] if m["list"] == "EL" and m["entry_name"] == "Huawei Technologies Co., Ltd."
    ]
    assert el and el[0]["score"] >= 0.9 and el[0]["role"] == "end_user" and el[0]["decision"] is None
    assert p1["decision"]["license_required"] is True
    # one order (no book): the same provenance, without a book line
    r = run_chipex("check", "--item", "Acme X1", "--to", "DE", "--date", "2025-06-01", "--record", "--db", db,
                   "--catalog", str(extra))  # fmt: skip
    assert r.returncode == 0, r.stderr
    one = Provenance.model_validate(_recorded(f"sqlite:///{db}")[-1][1]["provenance"])
    assert (
        one.book is None and one.catalog_overrides[0].file == str(extra) and one.rule_version == "2025-05-13"
    )


def test_reviewer_decision_in_effect_is_recorded_and_a_changed_line_is_named(
    tmp_path: Path, screening_home: Path
) -> None:
    from chipex.screening import Screener

    db = str(tmp_path / "ledger.db")
    book = tmp_path / "p.csv"
    book.write_text(f"date,item,quantity,destination,end_user\n2025-06-01,A100,1,DE,{HUAWEI}\n")
    assert run_chipex("check", str(book), "--record", "--db", db).returncode == 0
    ((_, before),) = _recorded(f"sqlite:///{db}")
    target = next(m for m in before["provenance"]["matches"] if m["list"] == "CMIC")
    Screener().decide(HUAWEI, target["entry_id"], "false_positive", reviewer="bob", note="other company")
    r = run_chipex("check", str(book), "--record", "--db", db)
    assert r.returncode == 0, r.stderr
    # not recorded twice; the line that would now be decided with another decision in effect is named
    assert len(_recorded(f"sqlite:///{db}")) == 1
    said = " ".join(r.stderr.split())
    assert "1 line(s) recorded before differ from this run in" in said and "matches" in said
    # the same book under the other regime is another question: recorded, with the decision in effect
    r = run_chipex("check", str(book), "--record", "--db", db, "--regime", "as-printed")
    assert r.returncode == 0, r.stderr
    _, (_, after) = _recorded(f"sqlite:///{db}")
    m = next(m for m in after["provenance"]["matches"] if m["entry_id"] == target["entry_id"])
    assert m["decision"] == "false_positive" and "bob" in m["decision_detail"]
    assert after["provenance"]["regime"] == "as-printed"


def test_recording_under_a_reform_is_refused(tmp_path: Path) -> None:
    from chipex.rules import RULES_DIR

    book = _book(tmp_path / "b.csv", 3)
    reform = RULES_DIR / "reforms" / "2023-thresholds-from-2022.yaml"
    r = run_chipex(
        "check", str(book), "--record", "--db", str(tmp_path / "l.db"), "--no-screen", "--reform", str(reform)
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "reform is a what-if" in r.stderr and len(r.stderr.strip().splitlines()) == 1
