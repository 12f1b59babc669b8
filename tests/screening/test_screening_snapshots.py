"""Snapshot swap checks (issue 11): absolute removals, mass renames, repeated ids, erosion against the
baseline, forced loads recorded; the store's files private; decisions append-only; the index cache
authenticated; long names refused."""

from __future__ import annotations

import csv
import gzip
import os
import sqlite3
import stat
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from chipex.errors import ChipexError
from chipex.limits import MAX_NAME_LENGTH
from chipex.screening import Screener, load_list
from chipex.screening.checks import MAX_REMOVED, MAX_RENAMED
from chipex.screening.index import load_index
from chipex.screening.lists import DEFAULT_DATE, default_snapshot_path, list_code
from chipex.screening.store import Store

SHIPPED = "2026-07-31-e32db4d060b6"


def shipped_rows() -> list[dict[str, str]]:
    with gzip.open(default_snapshot_path(), "rt", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def write_list(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def variant(
    tmp_path: Path, name: str, change: Callable[[list[dict[str, str]]], list[dict[str, str]]]
) -> Path:
    return write_list(tmp_path / name, change(shipped_rows()))


def without_el(n: int, skip: int = 0) -> Callable[[list[dict[str, str]]], list[dict[str, str]]]:
    """Drop EL rows number skip .. skip+n-1."""

    def change(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        el = [i for i, r in enumerate(rows) if list_code(r["source"]) == "EL"][skip : skip + n]
        cut = set(el)
        return [r for i, r in enumerate(rows) if i not in cut]

    return change


def test_removing_more_than_an_absolute_number_is_refused_though_under_ten_percent(
    home: Path, tmp_path: Path
) -> None:
    # 30 of 3,420 Entity List entries is 0.9%: under the 10% rule, over the absolute bound of 25
    bad = variant(tmp_path, "el-30.csv", without_el(MAX_REMOVED + 5))
    with pytest.raises(ChipexError, match=rf"EL: 30 entries removed \(more than 25\) against {SHIPPED}"):
        load_list(bad, date(2026, 8, 1), home=home)
    assert Store(home).current().id == SHIPPED
    ok = variant(tmp_path, "el-25.csv", without_el(MAX_REMOVED))  # exactly the bound: accepted
    rep = load_list(ok, date(2026, 8, 1), home=home)
    assert rep.delta_counts() == {"EL": {"added": 0, "removed": 25, "changed": 0}}


def test_mass_renames_under_the_same_id_are_refused(home: Path, tmp_path: Path) -> None:
    def rename(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        el = [r for r in rows if list_code(r["source"]) == "EL"]
        for r in el[: MAX_RENAMED + 1]:
            r["name"] = "Harmless Trading " + r["_id"][:6]
        return rows

    bad = variant(tmp_path, "renamed.csv", rename)
    with pytest.raises(ChipexError, match=r"EL: 26 entries keep their id under another name"):
        load_list(bad, date(2026, 8, 1), home=home)


def test_repeated_ids_are_refused(home: Path, tmp_path: Path) -> None:
    def repeat(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        rows[1]["_id"] = rows[0]["_id"]
        return rows

    with pytest.raises(ChipexError, match=r"1 entry id\(s\) repeat"):
        load_list(variant(tmp_path, "dup.csv", repeat), date(2026, 8, 1), home=home)


def test_repeated_small_drops_cannot_erode_a_list(home: Path, tmp_path: Path) -> None:
    """Each weekly file drops 10 more EL entries: fine against last week, not against the baseline."""
    rows = shipped_rows()
    el = [i for i, r in enumerate(rows) if list_code(r["source"]) == "EL"]
    for week, day in enumerate((7, 14)):
        cut = set(el[: 10 * (week + 1) + 3 * week])  # 10, then 23 gone since the shipped list
        load_list(write_list(tmp_path / f"w{week}.csv", [r for i, r in enumerate(rows) if i not in cut]),
                  date(2026, 8, day), home=home)  # fmt: skip
    cut = set(el[:36])  # 13 fewer than last week, 36 fewer than the baseline of 2026-07-31
    third = write_list(tmp_path / "w2.csv", [r for i, r in enumerate(rows) if i not in cut])
    with pytest.raises(ChipexError, match=rf"EL: 36 entries removed \(more than 25\) against {SHIPPED}"):
        load_list(third, date(2026, 8, 21), home=home)
    assert Store(home).current().source_date == date(2026, 8, 14)


def test_store_files_are_private(home: Path, tmp_path: Path) -> None:
    load_list(variant(tmp_path, "ok.csv", without_el(3)), date(2026, 8, 1), home=home)
    store = Store(home)
    assert stat.S_IMODE(store.dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(store.db_path.stat().st_mode) == 0o600
    copy = store.current().path
    assert copy.parent == store.dir / "lists" and stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert stat.S_IMODE((store.dir / "lists").stat().st_mode) == 0o700


def test_reviewer_decisions_keep_their_history(home: Path) -> None:
    s = Screener(home=home)
    hit = s.screen("Sugon", "CN")[0]
    s.decide("Sugon", hit.entry_id, "false_positive", reviewer="bob", note="another Sugon")
    s.decide("Sugon", hit.entry_id, "confirmed", reviewer="carol", note="it is")
    store = Store(home)
    hist = store.history()
    assert [(d.decision, d.reviewer) for d in hist] == [("false_positive", "bob"), ("confirmed", "carol")]
    assert all(d.os_user and d.entry_hash for d in hist)
    assert store.decisions()[(hist[0].query_key, hit.entry_id)].reviewer == "carol"  # the latest is in effect
    con = sqlite3.connect(store.db_path)
    for sql in ("UPDATE decision_log SET decision = 'false_positive'", "DELETE FROM decision_log"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute(sql)
    con.close()


def test_a_first_release_decisions_table_moves_into_the_log(home: Path) -> None:
    store = Store(home)
    store.dir.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(store.db_path)
    con.execute("CREATE TABLE decisions (query_key TEXT, entry_id TEXT, decision TEXT, query TEXT, "
                "entry_name TEXT, snapshot_id TEXT, reviewer TEXT, note TEXT, decided_at TEXT)")  # fmt: skip
    con.execute("INSERT INTO decisions VALUES ('sugon', 'e1', 'confirmed', 'Sugon', 'Sugon', 's', 'dan', '', "
                "'2026-08-01T00:00:00+00:00')")  # fmt: skip
    con.commit()
    con.close()
    assert [(d.reviewer, d.entry_hash) for d in store.history()] == [("dan", "")]


def test_index_cache_is_authenticated_and_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import chipex.screening.index as ix

    cache_dir = tmp_path / "cache"
    path = default_snapshot_path()
    monkeypatch.setattr(ix, "_LOADED", {})
    load_index(path, DEFAULT_DATE, "x", cache_dir)
    (cached,) = cache_dir.glob("index-*.marshal")
    assert stat.S_IMODE(cached.stat().st_mode) == 0o600
    assert stat.S_IMODE((cache_dir / ".key").stat().st_mode) == 0o600
    key = (cache_dir / ".key").read_bytes()
    assert ix._read_cache(cached, key) is not None
    good = cached.read_bytes()
    cached.write_bytes(good[:32] + good[32:-1] + b"\x00")  # one byte changed: the HMAC fails
    assert ix._read_cache(cached, key) is None
    cached.write_bytes(good)
    os.chmod(cached, 0o666)  # writable by others: never read
    assert ix._read_cache(cached, key) is None
    os.chmod(cached, 0o600)
    os.chmod(cache_dir, 0o777)
    assert ix._read_cache(cached, key) is None
    os.chmod(cache_dir, 0o700)
    # a tampered cache is rebuilt, not used
    cached.write_bytes(b"\x00" * 32 + good[32:])
    ix._LOADED.clear()
    built = []
    real = ix.Index.build
    monkeypatch.setattr(ix.Index, "build", classmethod(lambda cls, snap: built.append(1) or real(snap)))
    assert load_index(path, DEFAULT_DATE, "x", cache_dir).snapshot_id == SHIPPED
    assert built == [1]


def test_very_long_names_are_refused(screener: Screener) -> None:
    with pytest.raises(ChipexError, match=f"longer than the {MAX_NAME_LENGTH:,} allowed"):
        screener.screen("Huawei " * 200_000)
    assert screener.screen("x" * MAX_NAME_LENGTH) == []  # at the bound: screened
