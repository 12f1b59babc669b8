"""The permanent fuzz test of the data files a user hands `chipex check` (issue 11): a mutated
catalog file (`--catalog`) or reform (`--reform`) either loads and the book's answers are correct
(each line's ECCN is what chipex.core.classify, a separate implementation, gives the same chip under
the same rules), or it is refused with one ChipexError of one line that names the file, with
nothing written; never any other exception. Mutated list snapshots: tests/screening/test_screening_fuzz.py.

Bounded: CASES catalog files and CASES reforms a run (in-process, a 3-line book each).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chipex.catalog import load_catalog
from chipex.core.classify import classify
from chipex.errors import ChipexError
from chipex.orders import check_book, make_engine
from chipex.rules import default_rulebook, use_reforms

CASES = 25
BOOK = (
    "date,item,quantity,destination\n2025-06-01,Acme X1,4,CN\n2025-06-01,H100,2,CN\n2023-06-01,Acme X1,1,CN\n"
)
# A user catalog: 700 dense FP8 TOPS x 8 bits = TPP 5,600 >= 4,800 (3A090.a.1 since 2023).
CATALOG = """chips:
  - id: acme-x1
    name: Acme X1
    vendor: Acme
    family: X1
    datacenter: {value: true, source: "Acme datasheet 2026", confidence: published}
    dense_tops:
      fp8: {value: 700, source: "Acme datasheet 2026", confidence: published}
"""
# A reform: 3A090.a.1 at TPP 6,000 instead of 4,800 in the text of January 2025.
REFORM = """name: "3A090.a.1 at 6000"
description: "fuzz base"
changes:
  - file: eccn/3A090.yaml
    path: [texts, 3A090-2025-01, paragraphs, 3A090.a.1, all, tpp]
    set: {at_least: 6000}
"""
PIECES = ["", "-1", "0", "1e999", "-1e999", ".nan", ".inf", "0x10", "99999999999999999999", "abc", "null",
          "[]", "{}", ":", "'", '"', "- ", "\t", "  ", "\x00", "\ufeff", "2025-02-30", "true", "É", "&a", "*a",
          "!!python/object:os.system", "3A090-2022", "3A090.b.9", "4A090.yaml", "../x"]  # fmt: skip


@st.composite
def mutated(draw, base: str) -> bytes:
    lines = base.splitlines()
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["value", "insert", "drop", "duplicate", "indent", "key"]))
        if kind == "value" and ":" in lines[i]:
            head, _, _ = lines[i].rpartition(":")
            lines[i] = f"{head}: {draw(st.sampled_from(PIECES) | st.text(max_size=6))}"
        elif kind == "insert":
            at = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:at] + draw(st.sampled_from(PIECES)) + lines[i][at:]
        elif kind == "drop" and len(lines) > 1:
            lines.pop(i)
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        elif kind == "indent":
            lines[i] = draw(st.sampled_from(["", " ", "    ", "\t"])) + lines[i].lstrip()
        elif kind == "key" and ":" in lines[i]:
            _, _, tail = lines[i].partition(":")
            lines[i] = (
                f"{lines[i][: len(lines[i]) - len(lines[i].lstrip())]}{draw(st.sampled_from(PIECES))}:{tail}"
            )
    data = ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        data = data.replace("É".encode(), b"\xc9")  # a Latin-1 byte in a UTF-8 file
    return data


def _refused(exc: ChipexError, path: Path, folder: Path, *keep: str) -> None:
    msg = str(exc)
    assert str(path) in msg, msg  # "FILE: ..." or "after reform FILE: eccn/3A090.yaml, field ...: ..."
    assert "\n" not in msg and "Traceback" not in msg, msg
    assert sorted(p.name for p in folder.iterdir()) == sorted(keep)  # nothing written


def _assert_rows(rows: list[dict], catalog, rulebook) -> None:
    assert len(rows) == 3
    for r in rows:
        c = classify(catalog.get(r["item"]), r["date"], catalog=catalog, rulebook=rulebook)
        # the line's ECCN: the 3A090/4A090 paragraph, else the item's CCL entry (15 CFR 774 Supp. 1)
        assert r["eccn"] == (c.eccn or c.ccl_eccn), (r["item"], r["date"], r["eccn"], c.eccn)


def _assert_answers(out: Path, catalog, rulebook) -> None:
    import duckdb

    _assert_rows(duckdb.sql(f"SELECT * FROM '{out}'").to_arrow_table().to_pylist(), catalog, rulebook)


def _folder(tmp_path: Path) -> tuple[Path, Path]:
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    (folder / "book.csv").write_text(BOOK)
    return folder, folder / "book.csv"


def test_the_base_files_give_the_hand_computed_answers(tmp_path: Path) -> None:
    folder, book = _folder(tmp_path)
    (folder / "c.yaml").write_text(CATALOG)
    cat = load_catalog([folder / "c.yaml"], with_env=False)
    rows = check_book(book, catalog=cat, screen=False).results.to_pylist()
    # TPP 5,600 >= 4,800 on 2025-06-01: 3A090.a.1 (89 FR 96790 text); H100 (15,831.2) likewise
    assert [r["eccn"] for r in rows[:2]] == ["3A090.a.1", "3A090.a.1"]
    _assert_rows(rows, cat, default_rulebook())
    (folder / "r.yaml").write_text(REFORM)
    try:
        use_reforms([folder / "r.yaml"])
        rows = check_book(book, catalog=cat, rulebook=default_rulebook(), screen=False).results.to_pylist()
    finally:
        use_reforms([])
    # under the reform 5,600 < 6,000 in the January 2025 text (in force on 2025-06-01): not 3A090.a.1 on 2025-06-01
    assert rows[0]["eccn"] != "3A090.a.1" and rows[1]["eccn"] == "3A090.a.1"


@settings(max_examples=CASES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=mutated(CATALOG))
def test_mutated_catalog_files_load_correctly_or_are_refused_in_one_line(tmp_path: Path, data: bytes) -> None:
    folder, book = _folder(tmp_path)
    path, out = folder / "mine.yaml", folder / "out.parquet"
    path.write_bytes(data)
    try:
        cat = load_catalog([path], with_env=False)
    except ChipexError as exc:
        _refused(exc, path, folder, "book.csv", "mine.yaml")
        return
    try:
        check_book(book, out=out, catalog=cat, screen=False)
    except ChipexError as exc:  # the catalog no longer has "Acme X1": the book's lines say so
        assert str(exc).startswith(str(book)) and "Acme X1" in str(exc), str(exc)
        assert not out.exists()
        return
    _assert_answers(out, cat, default_rulebook())


@pytest.fixture
def no_reform():
    yield
    use_reforms([])


@settings(max_examples=CASES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=mutated(REFORM))
def test_mutated_reforms_apply_correctly_or_are_refused_in_one_line(
    tmp_path: Path, no_reform, data: bytes
) -> None:
    folder, book = _folder(tmp_path)
    (folder / "c.yaml").write_text(CATALOG)
    cat = load_catalog([folder / "c.yaml"], with_env=False)
    path, out = folder / "reform.yaml", folder / "out.parquet"
    path.write_bytes(data)
    use_reforms([])
    try:
        use_reforms([path])
    except ChipexError as exc:
        _refused(exc, path, folder, "book.csv", "c.yaml", "reform.yaml")
        return
    rb = default_rulebook()
    check_book(book, out=out, catalog=cat, rulebook=rb, screen=False)
    _assert_answers(out, cat, rb)
    assert make_engine(catalog=cat, rulebook=rb).rulebook is rb
