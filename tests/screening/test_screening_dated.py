"""The list in force on the order's date (issue 15 §3): every accepted snapshot is kept; a line dated D
is screened against the latest snapshot dated on or before D; older than every snapshot: the oldest,
with a warning; --list-as-of today: today's list for every line."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from tests.chipex_cli import run_chipex
from tests.screening.test_screening_snapshots import shipped_rows, write_list

from chipex.orders import check_book, check_order
from chipex.screening import load_list
from chipex.screening.store import Store

NEW = "Newly Listed Compute Trading Co"


def _load_later_list(home: Path, tmp_path: Path) -> str:
    rows = shipped_rows()
    rows.append({**rows[0], "_id": "new-entry-1", "name": NEW, "source":
                 "Entity List (EL) - Bureau of Industry and Security", "license_policy": "Presumption of denial",
                 "license_requirement": "For all items subject to the EAR"})  # fmt: skip
    return load_list(write_list(tmp_path / "later.csv", rows), date(2026, 8, 15), home=home).snapshot_id


def test_each_line_screens_against_the_list_in_force_on_its_date(home: Path, tmp_path: Path) -> None:
    later = _load_later_list(home, tmp_path)
    assert [s.id for s in Store(home).accepted()] == ["2026-07-31-e32db4d060b6", later]  # both kept
    before = check_order(date="2026-08-01", item="H100", quantity=1, destination="DE", end_user=NEW)
    after = check_order(date="2026-08-20", item="H100", quantity=1, destination="DE", end_user=NEW)
    assert before["license_required"] is False  # not yet listed on 2026-08-01
    assert before["list_snapshot"].startswith("2026-07-31-e32db4d060b6 (list of 2026-07-31)")
    assert after["license_required"] is True and after["reasons"][0]["rule"] == "listed-party"
    assert after["list_snapshot"].startswith(f"{later} (list of 2026-08-15)")
    today = check_order(date="2026-08-01", item="H100", quantity=1, destination="DE", end_user=NEW,
                        list_as_of="today")  # fmt: skip
    assert today["license_required"] is True and today["list_snapshot"].startswith(later)


def test_an_order_older_than_every_snapshot_uses_the_oldest_and_says_so(home: Path) -> None:
    d = check_order(date="2026-07-01", item="H100", quantity=1, destination="DE", end_user="Sugon")
    assert d["license_required"] is True
    assert d["list_snapshot"] == ("2026-07-31-e32db4d060b6 (list of 2026-07-31); warning: no list snapshot dated "
                                  "on or before 2026-07-01, the oldest one was used")  # fmt: skip


def test_stale_list_warning_in_a_determination(home: Path) -> None:
    d = check_order(date="2026-09-30", item="H100", quantity=1, destination="DE", end_user="Sugon")
    # 2026-07-31 to 2026-09-30 is 61 days
    assert d["list_snapshot"].endswith("; warning: the list is 61 days old on 2026-09-30 (more than 7)")


def test_a_book_mixes_snapshots_by_line_date(home: Path, tmp_path: Path) -> None:
    later = _load_later_list(home, tmp_path)
    book = tmp_path / "book.csv"
    book.write_text(f"date,item,quantity,destination,end_user\n2026-08-01,H100,1,DE,{NEW}\n"
                    f"2026-08-20,H100,1,DE,{NEW}\n")  # fmt: skip
    out = check_book(book).results.to_pylist()
    assert [r["license_required"] for r in out] == [False, True]
    assert [r["list_snapshot"].split(" ")[0] for r in out] == ["2026-07-31-e32db4d060b6", later]
    r = run_chipex("check", str(book), "--list-as-of", "today", "--json", env={"CHIPEX_HOME": str(home)})
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{") and '"line"' in x]
    assert [x["license_required"] for x in lines] == [True, True]


def test_a_party_name_too_long_names_the_line(home: Path, tmp_path: Path) -> None:
    book = tmp_path / "long.csv"
    book.write_text("date,item,quantity,destination,end_user\n2026-08-01,H100,1,DE,Acme\n"
                    f"2026-08-01,H100,1,DE,{'A' * 1001}\n")  # fmt: skip
    r = run_chipex("check", str(book), env={"CHIPEX_HOME": str(home)})
    assert r.returncode == 2 and "Traceback" not in r.stderr
    # refused at order input (orders/validate.py), before any screening: the line and field are named
    assert str(book) in r.stderr and "line 3, field 'end_user'" in r.stderr
    assert "longer than the 1,000 characters allowed" in r.stderr
