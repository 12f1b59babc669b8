"""Order-book input under attack (issue 11): every bad book is one clear error naming the file,
line and field, exit 2, and nothing written; never a traceback or a silently different answer."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from chipex.core.dates import parse_date
from chipex.errors import ChipexError
from chipex.limits import MAX_NAME_LENGTH
from chipex.orders import check_book
from chipex_cli import run_chipex

HEADER = "date,item,quantity,destination"
GOOD = "2024-03-01,H100,8,CN"


def book(tmp_path: Path, *lines: str, header: str = HEADER, name: str = "o.csv") -> Path:
    p = tmp_path / name
    p.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return p


def refused(path: Path, *expected: str, **kw) -> str:
    out = path.parent / "out.parquet"
    with pytest.raises(ChipexError) as exc:
        check_book(path, out=out, **kw)
    text = str(exc.value)
    for e in expected:
        assert e in text, text
    assert not out.exists() and not any(p.name.startswith(".out") for p in path.parent.iterdir())
    return text


def test_misspelt_column_is_an_error_naming_the_closest(tmp_path):
    # `end user` instead of `end_user` used to skip screening silently
    p = book(tmp_path, GOOD + ",Sugon", header=HEADER + ",end user")
    refused(p, "unknown column(s) 'end user'", "did you mean 'end_user'?", "--allow-extra-columns")
    report = check_book(p, allow_extra_columns=True)
    assert report.ignored_columns == ["end user"] and report.checked == 1


@pytest.mark.parametrize("header", [HEADER + ",ITEM", "date,item,Item ,quantity,destination"])
def test_duplicate_columns_are_an_error(tmp_path, header):
    p = book(tmp_path, GOOD + ",A100", header=header)
    refused(p, "duplicate column")


def test_parquet_duplicate_columns(tmp_path):
    p = tmp_path / "o.parquet"
    cols = [pa.array(["2024-03-01"]), pa.array(["H100"]), pa.array(["A100"]), pa.array([8]), pa.array(["CN"])]
    pq.write_table(pa.table(cols, names=["date", "item", "item", "quantity", "destination"]), p)
    refused(p, "duplicate column 'item'")


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("8.5", "not a whole number"),
        ("1.5", "not a whole number"),
        ("0x10", "not a whole number"),
        ("1e3", "not a whole number"),
        ("0", "positive"),
        ("-3", "positive"),
        ("99999999999999999999", "too large"),
        ("10000000000000", "too large"),
    ],
)
def test_quantity_must_be_a_whole_number_written_as_one(tmp_path, quantity, message):
    p = book(tmp_path, GOOD, f"2024-03-01,H100,{quantity},CN")
    refused(p, "line 3, field 'quantity'", message, str(p))


def test_parquet_float_quantity_is_rejected_not_rounded(tmp_path):
    p = tmp_path / "o.parquet"
    pq.write_table(
        pa.table(
            {
                "date": ["2024-03-01"] * 2,
                "item": ["H100"] * 2,
                "quantity": [8.0, 7.6],
                "destination": ["CN"] * 2,
            }
        ),
        p,
    )
    refused(p, "record 1, field 'quantity' '8.0'", "not a whole number")


@pytest.mark.parametrize(
    "date", ["10000-01-01", "0000-01-01", "0001-01-01 (BC)", "2024-1-1", "20240101", "2024-02-30"]
)
def test_out_of_range_and_loose_dates(tmp_path, date):
    p = book(tmp_path, GOOD, f"{date},H100,1,CN")
    refused(p, "line 3, field 'date'", "not a date (use YYYY-MM-DD")


def test_one_date_parser_for_the_cli_and_the_book(tmp_path):
    assert str(parse_date("2024-03-01")) == "2024-03-01"
    for bad in ("2024-1-1", "20240101", "10000-01-01", "0000-01-01", "2024-W01-1"):
        with pytest.raises(ChipexError, match="not a date"):
            parse_date(bad)
    r = run_chipex("check", "--item", "H100", "--to", "CN", "--date", "20240101")
    assert r.returncode == 2 and "not a date (use YYYY-MM-DD" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize(
    ("item", "message"), [("99999999999999999999x H100", "too large"), ("0x H100", "at least one chip")]
)
def test_absurd_systems(tmp_path, item, message):
    p = book(tmp_path, GOOD, f"2024-03-01,{item},1,CN")
    refused(p, "line 3, field 'item'", message)


def test_very_long_names_are_bounded(tmp_path):
    long = "A" * (MAX_NAME_LENGTH + 1)
    p = book(tmp_path, GOOD + ",x", f"2024-03-01,H100,1,CN,{long}", header=HEADER + ",end_user")
    text = refused(p, "line 3, field 'end_user'", f"longer than the {MAX_NAME_LENGTH:,} characters")
    assert len(text) < 2000  # the name is shortened in the message


def test_header_only_and_empty_files(tmp_path):
    refused(book(tmp_path), "no order lines", "only a header")
    e = tmp_path / "e.csv"
    e.write_bytes(b"")
    refused(e, "empty")


def _big_book(tmp_path: Path, last: bytes, n: int = 1_000_000) -> Path:
    p = tmp_path / "big.csv"
    with p.open("wb") as f:
        f.write(HEADER.encode() + b"\n")
        f.write(b"2024-03-01,H100,8,CN\n" * (n - 1))
        f.write(last)
    return p


@pytest.mark.parametrize(
    ("last", "message"),
    [
        (b"2024-03-01,H100,8\n", "3 field(s) where the header has 4"),
        (b"2024-03-01,H\xe9,8,CN\n", "not UTF-8: byte 0xE9"),
        (b'2024-03-01,"H100,8,CN\n', "quote is opened and never closed"),
    ],
)
def test_bad_last_line_of_a_million_line_book(tmp_path, last, message):
    p = _big_book(tmp_path, last)
    r = run_chipex(
        "check", str(p), "--out", str(tmp_path / "out.parquet"), env={"CHIPEX_MEMORY_LIMIT": "500MB"}
    )
    assert r.returncode == 2, r.stderr
    assert f"{p}, line 1000001" in r.stderr and message in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out.parquet").exists()


def test_cp1252_says_not_utf8_or_reads_with_encoding(tmp_path):
    p = tmp_path / "excel.csv"
    p.write_bytes(
        (HEADER + ",end_user\n2024-03-01,H100,8,DE,Soci\xe9t\xe9 G\xe9n\xe9rale Caf\xe9\n").encode("cp1252")
    )
    text = refused(p, "line 2", "not UTF-8: byte 0xE9", "--encoding")
    assert "column" in text
    report = check_book(p, encoding="cp1252", screen=False)
    assert report.checked == 1 and report.results.to_pylist()[0]["end_user"] == "Société Générale Café"


def test_spreadsheet_renamed_csv(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(HEADER.split(","))
    p = tmp_path / "book.csv"
    wb.save(p)
    refused(p, "is a spreadsheet", "not the csv its name says")


def test_jsonl_duplicate_keys(tmp_path):
    p = tmp_path / "o.jsonl"
    rec = '{"date":"2024-03-01","item":"H100","item":"A100","quantity":1,"destination":"CN"}'
    p.write_text(
        json.dumps({"date": "2024-03-01", "item": "H100", "quantity": 1, "destination": "CN"})
        + "\n"
        + rec
        + "\n"
    )
    refused(p, "line 2", "duplicate key 'item'")


def test_catalog_with_invalid_utf8(tmp_path):
    c = tmp_path / "chips.yaml"
    c.write_bytes(b'chips:\n  - id: x\n    name: "caf\xe9"\n')
    r = run_chipex("check", "--item", "H100", "--to", "CN", "--date", "2024-01-01", "--catalog", str(c))
    assert (
        r.returncode == 2 and f"{c}, line 3: not UTF-8: byte 0xE9" in r.stderr and "Traceback" not in r.stderr
    )


def test_reform_with_an_infinite_bound(tmp_path):
    r = tmp_path / "r.yaml"
    r.write_text(
        "name: x\ndescription: y\nrationale: z\ncitation: c\nchanges:\n  - file: eccn/3A090.yaml\n"
        "    path: [texts, 3A090-2022, paragraphs, 3A090.a, all, tpp]\n    set: {at_least: -1e999}\n"
    )
    res = run_chipex("classify", "H100", "--as-of", "2023-01-01", "--reform", str(r))
    assert res.returncode == 2 and "not a finite number" in res.stderr and "Traceback" not in res.stderr


def test_xlsx_book_with_sheet_row_and_column_errors(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "notes"
    wb.active.append(["this sheet is not the book"])
    ws = wb.create_sheet("Orders")
    ws.append(HEADER.split(","))
    ws.append(["2024-03-01", "H100", 8, "CN"])
    ws.append([None, None, None, None])  # an empty row inside is kept as a row (and rejected)
    ws.append(["2024-03-01", "H100", 8.5, "CN"])
    p = tmp_path / "book.xlsx"
    wb.save(p)
    refused(p, f"{p}, sheet 'notes'", "unknown column(s) 'this sheet is not the book'")
    text = refused(p, f"{p}, sheet 'Orders'", "row 3, column 'date'", sheet="Orders")
    assert "row 4, column 'quantity' '8.5': not a whole number" in text
    ws.delete_rows(3, 2)
    wb.save(p)
    report = check_book(p, sheet="Orders")
    assert report.checked == 1 and report.results.to_pylist()[0]["license_required"]  # H100 to China in 2024
