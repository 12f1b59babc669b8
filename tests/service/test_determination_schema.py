"""One schema for a determination, in every output path: the JSON Schema files are what the models
generate, and each path's output validates against them."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pyarrow.parquet as pq
import pytest
from tests.chipex_cli import run_chipex

from chipex.service.determination import Determination, DeterminationRow
from chipex.service.schema import SCHEMAS, schema_text

ROOT = Path(__file__).resolve().parents[2]
STORY = ROOT / "src" / "chipex" / "examples" / "orders-story.csv"
FULL = json.loads((ROOT / "docs" / "schema" / "determination.schema.json").read_text())
ROW = json.loads((ROOT / "docs" / "schema" / "determination-row.schema.json").read_text())


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_schema_files_are_up_to_date(name):
    shipped = (ROOT / "docs" / "schema" / name).read_text()
    assert shipped == schema_text(SCHEMAS[name]), "run: python -m chipex.service.schema"


def test_the_row_is_the_engines_result_columns_and_the_request_holds_every_order_field():
    from chipex.orders.engine import RESULT_COLUMNS
    from chipex.orders.schema import OPTIONAL, REQUIRED
    from chipex.service.orders import OrderRequest

    assert list(DeterminationRow.model_fields) == RESULT_COLUMNS
    assert set(REQUIRED) | set(OPTIONAL) <= set(OrderRequest.model_fields)
    # the row is a projection: every row column but the engine's own ids is a Determination field
    assert set(RESULT_COLUMNS) - {"policy_rule", "party_entries"} <= set(Determination.model_fields)


def test_cli_one_order_json_validates():
    r = run_chipex(
        "check", "--item", "H100", "--quantity", "8", "--to", "CN", "--date", "2024-01-01", "--json"
    )
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    jsonschema.validate(d, FULL)
    assert d["classification"]["eccn"] == "3A090.a.1"  # one order: classification with its numbers


def test_cli_book_json_and_jsonl_out_validate_and_agree(tmp_path):
    r = run_chipex("check", str(STORY), "--json", "--no-screen")
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(lines) == 23
    for d in lines:
        jsonschema.validate(d, FULL)
    out = tmp_path / "r.jsonl"
    r = run_chipex("check", str(STORY), "--out", str(out), "--no-screen")
    assert r.returncode == 0, r.stderr
    written = [json.loads(x) for x in out.read_text().splitlines()]
    assert written == lines  # the same determinations, whichever JSON path wrote them
    one = run_chipex("check", "--item", "A100", "--quantity", "64", "--to", "CN", "--date", "2022-12-01",
                     "--end-user-hq", "CN", "--ship-from", "US", "--exporter", "NVIDIA", "--end-use", "datacenter",
                     "--end-user", "Example Cloud Beijing", "--consignee", "Example Cloud Beijing", "--json",
                     "--no-screen")  # fmt: skip
    d = json.loads(one.stdout)
    line3 = next(x for x in lines if x["line"] == 3)  # the same order as line 3 of the story book
    same = ("license_required", "eccn", "exceptions", "policy", "depends_on", "rule_version", "tpp_total")
    assert {k: d[k] for k in same} == {k: line3[k] for k in same}
    assert [x["rule"] for x in d["reasons"]] == [x["rule"] for x in line3["reasons"]] == ["cn-2022"]


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_tabular_outputs_hold_the_row_schema(tmp_path, suffix):
    out = tmp_path / f"r{suffix}"
    r = run_chipex("check", str(STORY), "--out", str(out), "--no-screen")
    assert r.returncode == 0, r.stderr
    if suffix == ".parquet":
        rows = pq.read_table(out).to_pylist()
    else:
        import duckdb

        rows = duckdb.sql(f"SELECT * FROM read_csv('{out}', header=true)").to_arrow_table().to_pylist()
    assert list(rows[0]) == list(ROW["properties"])
    for row in rows:
        row["date"] = str(row["date"])
        row["tpp_total"] = None if row["tpp_total"] is None else float(row["tpp_total"])
        for k in ("reasons", "exceptions", "depends_on", "red_flags", "warnings", "advisories"):
            row[k] = row[k] or ""  # CSV reads an empty field back as null
        jsonschema.validate(row, ROW)


def test_service_and_python_api_outputs_validate():
    import chipex

    d = chipex.check(date="2024-06-01", item="H20", quantity=1, destination="CN", screen=False)
    jsonschema.validate(d.to_dict(), FULL)
    assert d.license_required is False  # H20: TPP 2,368 < 2,400 and PD 2.91 < 3.2 under the 2023 text
    book = chipex.check_book(STORY, screen=False)
    for det in book.determinations():
        jsonschema.validate(det.to_dict(), FULL)
    assert book.to_arrow().column_names == list(ROW["properties"])
