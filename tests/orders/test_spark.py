"""The same rule expression on Apache Spark (local mode): few tests, Spark takes ~20 s to start."""

from __future__ import annotations

import shutil

import pytest

from chipex.orders import check_book

from .test_orders import STORY

pyspark = pytest.importorskip("pyspark", reason="the spark extra (pyspark) is not installed")
pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java 17 (not found on PATH)"),
]


def _rows(path):
    import duckdb

    return {
        r["line"]: r for r in duckdb.connect().sql(f"SELECT * FROM '{path}'").to_arrow_table().to_pylist()
    }


def test_spark_gives_the_same_answers_as_duckdb(tmp_path):
    # Both written through the same Parquet writer (native list columns), so only the engine differs.
    check_book(STORY, out=tmp_path / "duck.parquet")
    report = check_book(STORY, engine="spark", out=tmp_path / "spark.parquet")
    duck, spark = _rows(tmp_path / "duck.parquet"), _rows(tmp_path / "spark.parquet")
    assert report.checked == len(duck) > 20
    assert any(d["reasons"] for d in duck.values())  # the comparison covers lines that need a licence
    for line, d in duck.items():
        s = spark[line]
        assert (s["license_required"], s["eccn"], s["reasons"], s["exceptions"], s["policy"]) == (
            d["license_required"],
            d["eccn"],
            d["reasons"],
            d["exceptions"],
            d["policy"],
        ), line


def test_spark_part_746_embargoes_on_a_sub_threshold_chip(tmp_path):
    # `on_ccl` and the region codes (UA-43, UA-14) through the Spark expression: 15 CFR 746.8, 746.6, ...
    from .test_embargoes import BOOK

    book = tmp_path / "book.csv"
    book.write_text(BOOK)
    check_book(book, out=tmp_path / "duck.parquet", screen=False)
    check_book(book, engine="spark", out=tmp_path / "spark.parquet", screen=False)
    duck, spark = _rows(tmp_path / "duck.parquet"), _rows(tmp_path / "spark.parquet")
    assert sum(d["license_required"] for d in duck.values()) == 8  # every line but the US one
    for line, d in duck.items():
        keys = ("license_required", "eccn", "eccn_confidence", "destination", "reasons", "policy")
        assert [spark[line][k] for k in keys] == [d[k] for k in keys], line


def test_spark_gives_the_same_end_use_jurisdiction_and_warning_answers(tmp_path):
    from .test_end_uses import law_c_book

    book = law_c_book(tmp_path)
    check_book(book, out=tmp_path / "duck.parquet")
    check_book(book, engine="spark", out=tmp_path / "spark.parquet")
    duck, spark = _rows(tmp_path / "duck.parquet"), _rows(tmp_path / "spark.parquet")
    keys = ("license_required", "reasons", "policy", "depends_on", "warnings", "jurisdiction", "advisories")
    keys += ("checked", "not_checked")
    for line, d in duck.items():
        assert [spark[line][k] for k in keys] == [d[k] for k in keys], line
