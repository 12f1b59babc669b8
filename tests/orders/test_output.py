"""Outputs (issue 11, issue 17 item 5): never over the input, lists native, spreadsheet-safe, atomic."""

from __future__ import annotations

import csv
import json
import os
import subprocess
from pathlib import Path

import duckdb
import pytest

from chipex.errors import ChipexError, OutputError
from chipex.orders import check_book
from chipex.orders.output import atomic_path, clean_stale
from chipex_cli import run_chipex

HEADER = "date,item,quantity,destination,end_user"
# A100 to China in 2024: licence required under the 2023 rule, d145-2023 (88 FR 73458); 8 x A100 = TPP 8 x 4992
LINES = [
    '2024-03-01,A100,8,CN,=HYPERLINK("http://x")',
    "2024-03-01,RTX 4090,1,CN,@SUM(A1)",
    "2022-01-05,A100,2,DE,-2+3",
]


@pytest.fixture
def src(tmp_path: Path) -> Path:
    p = tmp_path / "o.csv"
    p.write_text("\n".join([HEADER, *LINES]) + "\n")
    return p


def test_output_over_the_input_or_another_output_is_refused(src, tmp_path):
    before = src.read_bytes()
    for kw, msg in [
        ({"out": src}, "--out is the order book itself"),
        ({"reject_file": tmp_path / "." / "o.csv"}, "--reject-file is the order book itself"),
        ({"out": tmp_path / "r.csv", "reject_file": tmp_path / "r.csv"}, "are the same file"),
    ]:
        with pytest.raises(ChipexError, match=msg):
            check_book(src, screen=False, **kw)
    assert src.read_bytes() == before and not (tmp_path / "r.csv").exists()


def test_lists_are_native_in_parquet_and_jsonl_joined_in_csv(src, tmp_path):
    for suffix in (".parquet", ".jsonl", ".csv"):
        check_book(src, out=tmp_path / f"r{suffix}", screen=False)
    pq_rows = duckdb.sql(f"SELECT * FROM '{tmp_path / 'r.parquet'}' ORDER BY line").fetchall()
    cols = [d[0] for d in duckdb.sql(f"SELECT * FROM '{tmp_path / 'r.parquet'}'").description]
    first = dict(zip(cols, pq_rows[0], strict=True))
    assert first["reasons"] == ["d145-2023"] and isinstance(first["depends_on"], list)
    j = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text().splitlines()]
    j = {r["line"]: r for r in j}
    assert j[2]["reasons"] == ["d145-2023"] and j[4]["reasons"] == []
    assert j[2]["tpp_total"] == 8 * 4992  # written as a number, not 39936.000000
    assert j[2]["end_user"] == '=HYPERLINK("http://x")'  # JSON Lines stays exact
    rows = {r["line"]: r for r in csv.DictReader((tmp_path / "r.csv").open())}
    assert rows["2"]["reasons"] == "d145-2023" and rows["2"]["tpp_total"] == "39936"
    assert rows["2"]["end_user"] == '\'=HYPERLINK("http://x")'  # OWASP: neutralised in CSV
    assert rows["3"]["end_user"] == "'@SUM(A1)" and rows["4"]["end_user"] == "'-2+3"


def test_reject_file_is_formula_safe(src, tmp_path):
    bad = tmp_path / "b.csv"
    bad.write_text(HEADER + "\n2024-03-01,=cmd|' /C calc'!A0,1,CN,x\n2024-03-01,A100,1,CN,y\n")
    report = check_book(bad, reject_file=tmp_path / "rej.csv", screen=False)
    assert report.rejected == 1 and report.checked == 1
    rej = list(csv.DictReader((tmp_path / "rej.csv").open()))
    assert rej[0]["item"].startswith("'=cmd") and rej[0]["field"] == "item"


def test_xlsx_results_with_summary_results_and_rejects(tmp_path):
    from openpyxl import load_workbook

    bad = tmp_path / "b.csv"
    bad.write_text(HEADER + "\n2024-03-01,A100,8,CN,=1+1\n2024-03-01,Z9000,1,CN,\n")
    out = tmp_path / "r.xlsx"
    report = check_book(bad, out=out, reject_file=tmp_path / "rej.csv", screen=False)
    wb = load_workbook(out)
    assert wb.sheetnames == ["summary", "results", "rejects"]
    res = wb["results"]
    assert res.freeze_panes == "A2" and res.auto_filter.ref.startswith("A1:")
    header = [c.value for c in res[1]]
    row = dict(zip(header, [c for c in res[2]], strict=True))
    assert row["end_user"].value == "=1+1" and row["end_user"].data_type == "s"  # text, never a formula
    assert row["reasons"].value == "d145-2023" and row["tpp_total"].value == "39936"
    rej = wb["rejects"]
    assert [c.value for c in rej[2]][:2] == [3, "item"]
    summary = {r[0].value: r[1].value for r in wb["summary"].iter_rows(min_row=2)}
    assert summary["lines checked"] == 1 and summary["lines rejected"] == 1 and report.rejected == 1


def test_stale_temp_files_of_dead_runs_are_cleaned(tmp_path):
    dead = subprocess.run(["true"]).args and 999_999_999  # no such pid
    stale = tmp_path / f".r.csv.chipex-{dead}-abc.tmp"
    stale.write_text("half")
    mine = tmp_path / f".r.csv.chipex-{os.getpid()}-abc.tmp"
    mine.write_text("in use")
    assert clean_stale(tmp_path) == [stale] and mine.exists()
    with atomic_path(tmp_path / "r.csv") as tmp:
        tmp.write_text("whole")
    assert (tmp_path / "r.csv").read_text() == "whole"


def test_killed_check_leaves_nothing_for_the_next_run(src, tmp_path):
    out = tmp_path / "r.csv"
    proc = subprocess.Popen(["sleep", "0"])
    proc.wait()
    (tmp_path / f".r.csv.chipex-{proc.pid}-zz.tmp").write_text("partial")  # as a killed run leaves it
    check_book(src, out=out, screen=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.csv", "r.csv"]


def test_disk_full_is_an_io_error_with_its_own_exit_code(src, tmp_path):
    full = tmp_path / "full"
    full.mkdir()
    if subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4k", "tmpfs", str(full)], capture_output=True
    ).returncode:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        big = tmp_path / "big.csv"
        big.write_text(HEADER + "\n" + "\n".join([LINES[0]] * 2000) + "\n")
        with pytest.raises(OutputError, match="No space left on device"):
            check_book(big, out=full / "r.csv", screen=False)
        assert os.listdir(full) == []
        r = run_chipex("check", str(big), "--no-screen", "--out", str(full / "r.csv"))
        assert r.returncode == 4 and "No space left" in r.stderr and "Traceback" not in r.stderr
    finally:
        subprocess.run(["umount", str(full)])
