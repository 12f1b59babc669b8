"""The permanent fuzz test of order-book input (issue 11): a mutated book either checks cleanly
with the same answer for every line it still holds, or is refused with one ChipexError that names
the file first, with nothing written; never any other exception. Bounded: 60 cases a run."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chipex.errors import ChipexError
from chipex.orders import check_book

LINES = [
    "2024-03-01,A100,8,CN",
    "2022-01-05,A100,2,DE",
    "2024-03-01,RTX 4090D,1,CN",
    "2025-06-01,H20,100,CN",
    "2024-03-01,8x H100,1,MY",
]
HEADER = "date,item,quantity,destination"
PIECES = ["", ",", '"', "\n", "\r\n", "\x00", "\xe9", "8.5", "0x10", "-1", "99999999999999999999", "10000-01-01",
          "=1+1", "ITEM", "end user", "\ufeff", "\x1b[31m", "A" * 2000, "H100", "CN", "2024-02-30"]  # fmt: skip


@st.composite
def mutated(draw) -> bytes:
    lines = [HEADER, *LINES]
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["insert", "replace-field", "drop", "duplicate", "bytes"]))
        if kind == "insert":
            at = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:at] + draw(st.sampled_from(PIECES)) + lines[i][at:]
        elif kind == "replace-field":
            cells = lines[i].split(",")
            cells[draw(st.integers(0, len(cells) - 1))] = draw(st.sampled_from(PIECES) | st.text(max_size=8))
            lines[i] = ",".join(cells)
        elif kind == "drop" and len(lines) > 1:
            lines.pop(i)
        elif kind == "duplicate":
            lines.insert(i, lines[i])
    data = ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        data = data.replace(b"\xc3\xa9", b"\xe9")  # Latin-1 bytes in a UTF-8 book
    return data


@pytest.fixture(scope="module")
def answers(tmp_path_factory):
    p = tmp_path_factory.mktemp("base") / "o.csv"
    p.write_text("\n".join([HEADER, *LINES]) + "\n")
    rows = check_book(p, screen=False).results.to_pylist()
    return {(str(r["date"]), r["item"], r["quantity"], r["destination"]): r["license_required"] for r in rows}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=mutated(), suffix=st.sampled_from([".csv", ".csv", ".jsonl"]))
def test_mutated_books_check_or_fail_cleanly(tmp_path: Path, answers, data: bytes, suffix: str):
    import tempfile

    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    book, out = folder / f"o{suffix}", folder / "out.parquet"
    book.write_bytes(data)
    try:
        report = check_book(book, out=out, screen=False)
    except ChipexError as exc:
        assert str(exc).startswith(str(book)), str(exc)
        assert "Traceback" not in str(exc)
        assert sorted(p.name for p in folder.iterdir()) == [book.name]  # nothing written
        return
    assert out.exists() and report.checked == report.total and report.rejected == 0
    import duckdb

    for d, item, q, dest, req in duckdb.sql(
        f"SELECT CAST(date AS VARCHAR), item, quantity, destination, license_required FROM '{out}'"
    ).fetchall():
        if (d, item, q, dest) in answers:
            assert req == answers[(d, item, q, dest)]  # a line that survived keeps its answer
