"""List files: official formats in, snapshots with identity out; bad files refused, current list kept."""

from __future__ import annotations

import csv
import gzip
import json
from datetime import date
from pathlib import Path

import pytest
from tests.screening.conftest import SAMPLES

from chipex.errors import ChipexError
from chipex.screening import Screener, load_list
from chipex.screening.checks import swap_problems
from chipex.screening.lists import (
    default_snapshot,
    default_snapshot_path,
    list_code,
    read_snapshot,
)
from chipex.screening.store import Store


def test_shipped_list_counts_match_trade_gov_2026_07_31() -> None:
    # per-list counts published with the list (../shared/data/README.md)
    s = default_snapshot()
    assert s.counts == {"SDN": 19181, "EL": 3420, "DPL": 1596, "DTC": 787, "SSI": 286, "UVL": 222, "ISN": 161,
                        "PLC": 78, "MEU": 70, "CMIC": 68, "NS-MBS": 51, "CAP": 1}  # fmt: skip
    assert sum(s.counts.values()) == 25921
    assert s.id == "2026-07-31-e32db4d060b6"  # sha256 of the CSV: e32db4d060b6...


def test_list_codes() -> None:
    assert list_code("Entity List (EL) - Bureau of Industry and Security") == "EL"
    assert list_code("Military End User (MEU) List - Bureau of Industry and Security") == "MEU"
    assert list_code("Non-SDN Menu-Based Sanctions List (NS-MBS List) - Treasury Department") == "NS-MBS"


def test_official_csv_sample_all_columns() -> None:
    s = read_snapshot(SAMPLES / "consolidated-sample.csv", date(2024, 1, 1))
    assert len(s.entries) == 13  # csv.DictReader counts 13 data rows (the data README says 12)
    meu = next(e for e in s.entries if e.list == "MEU")
    assert meu.name == "Academy of Aerospace Solid Propulsion Technology (AASPT)"
    assert meu.countries == ("CN",)
    assert meu.federal_register_notice == "85 FR 83799"
    assert meu.license_policy.startswith("The license application procedure")
    el = next(e for e in s.entries if e.list == "EL")
    assert el.countries == ("CN",)  # address ends in the country name "China", not a code


def test_2019_csv_layout_without_id_column() -> None:
    s = read_snapshot(SAMPLES / "csl-2019-sample.csv", date(2019, 6, 1))
    assert len(s.entries) == 115
    assert s.counts["EL"] == 22
    el = next(e for e in s.entries if e.name == "32 Group China Ltd.")
    assert el.license_policy == "Presumption of denial."
    assert el.countries == ("HK",)
    assert len({e.id for e in s.entries}) == 115  # ids synthesised from the row, unique


def test_bis_denied_persons_text_format() -> None:
    s = read_snapshot(SAMPLES / "dpl-2019.txt", date(2019, 6, 1))
    assert len(s.entries) == 546  # csv.DictReader counts 546 data rows (the data README says 545)
    assert set(s.counts) == {"DPL"}
    e = next(e for e in s.entries if e.name == "AJAY AHUJA")
    assert e.federal_register_notice == "72 F.R. 61609 10/31/07"
    assert "MUMBAI" in e.addresses[0]


def test_consolidated_json_format(tmp_path: Path) -> None:
    rows = list(csv.DictReader((SAMPLES / "consolidated-sample.csv").open(encoding="utf-8")))
    results = []
    for r in rows:  # the trade.gov API shape: lists for names, address objects
        results.append({**r, "id": r["_id"], "alt_names": [a for a in r["alt_names"].split("; ") if a],
                        "addresses": [{"address": a, "country": a.rsplit(", ", 1)[-1]}
                                      for a in r["addresses"].split("; ") if a]})  # fmt: skip
    p = tmp_path / "consolidated.json"
    p.write_text(json.dumps({"total": len(results), "results": results}), encoding="utf-8")
    s = read_snapshot(p, date(2024, 1, 1))
    assert s.counts == read_snapshot(SAMPLES / "consolidated-sample.csv", date(2024, 1, 1)).counts
    assert next(e for e in s.entries if e.list == "MEU").countries == ("CN",)


@pytest.mark.parametrize(
    ("content", "name", "expect"),
    [
        (
            "source,name\nEntity List (EL) - Bureau of Industry and Security,\n",
            "bad.csv",
            "record 2, field 'name'",
        ),
        ("source,nom\nX,Y\n", "bad.csv", "field 'name'"),
        ("source,name\nEL,A,extra\n", "bad.csv", "record 2"),
        ('{"results": [{"source": "EL"}]}', "bad.json", "record 1, field 'name'"),
        ("{not json", "bad.json", "not valid JSON"),
        ("Name\tCity\n", "bad.txt", "field 'Street_Address'"),
        ("a,b\n", "bad.xlsx", "unknown list format"),
    ],
)
def test_bad_files_name_file_record_and_field(tmp_path: Path, content: str, name: str, expect: str) -> None:
    p = tmp_path / name
    p.write_text(content, encoding="utf-8")
    with pytest.raises(ChipexError) as err:
        read_snapshot(p, date(2026, 8, 1))
    assert str(p) in str(err.value)
    assert expect in str(err.value)


def _shrunk(tmp_path: Path, drop_list: str, keep: float) -> Path:
    """The shipped list with only `keep` of one list's rows (a truncated download)."""
    with gzip.open(default_snapshot_path(), "rt", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    target = [r for r in rows if list_code(r["source"]) == drop_list]
    cut = {id(r) for r in target[int(len(target) * keep) :]}
    out = tmp_path / "consolidated-2026-08-01.csv"
    with out.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(r for r in rows if id(r) not in cut)
    return out


def test_drop_of_more_than_ten_percent_is_refused_and_current_list_stays(home: Path, tmp_path: Path) -> None:
    bad = _shrunk(tmp_path, "EL", keep=0.85)  # Entity List 3,420 -> 2,907 (15% fewer)
    with pytest.raises(
        ChipexError, match=r"refused: EL: 3,420 -> 2,907 entries \(15% fewer\) against 2026-07-31"
    ):
        load_list(bad, date(2026, 8, 1), home=home)
    assert Screener(home=home).snapshot_id == "2026-07-31-e32db4d060b6"


def test_small_drop_loads_and_becomes_current(home: Path, tmp_path: Path) -> None:
    ok = _shrunk(tmp_path, "UVL", keep=0.95)  # 222 -> 210: 5% fewer and 12 entries, a normal week
    rep = load_list(ok, date(2026, 8, 1), home=home)
    assert rep.counts["UVL"] == 210
    assert rep.previous_counts["UVL"] == 222
    s = Screener(home=home)
    assert s.snapshot_id == rep.snapshot_id != "2026-07-31-e32db4d060b6"
    assert s.snapshot_id.startswith("2026-08-01-")
    assert s.screen("Sugon")[0].snapshot_id == rep.snapshot_id  # every result names its snapshot


def test_forced_drop_loads(home: Path, tmp_path: Path) -> None:
    bad = _shrunk(tmp_path, "EL", keep=0.5)
    rep = load_list(bad, date(2026, 8, 1), home=home, force=True, user="alice")
    assert rep.forced == ["EL: 3,420 -> 1,710 entries (50% fewer) against 2026-07-31-e32db4d060b6"]
    assert rep.forced_by == "alice"
    stored = Store(home).current()
    assert (stored.forced_by, stored.problems) == ("alice", tuple(rep.forced))
    assert stored.os_user
    assert Store(home).current().id == rep.snapshot_id


def test_same_snapshot_passes_the_swap_checks() -> None:
    s = default_snapshot()
    assert swap_problems(s, s) == []
