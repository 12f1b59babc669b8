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


def test_spark_gives_the_same_answers_as_duckdb(tmp_path):
    duck = {r["line"]: r for r in check_book(STORY).results.to_pylist()}
    out = tmp_path / "spark.parquet"
    report = check_book(STORY, engine="spark", out=out)
    assert report.checked == len(duck)
    import duckdb

    spark = {
        r["line"]: r for r in duckdb.connect().sql(f"SELECT * FROM '{out}'").to_arrow_table().to_pylist()
    }
    for line, d in duck.items():
        s = spark[line]
        assert (s["license_required"], s["eccn"], s["reasons"], s["exceptions"], s["policy"]) == (
            d["license_required"],
            d["eccn"],
            d["reasons"],
            d["exceptions"],
            d["policy"],
        ), line
