"""Licence determination: the bundled story, hand-written orders, bad input, and one logic at two scales."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chipex.errors import ChipexError
from chipex.orders import check_book, check_order, decide_order
from chipex_cli import run_chipex

ROOT = Path(__file__).resolve().parents[2]
STORY = ROOT / "src" / "chipex" / "examples" / "orders-story.csv"


@pytest.fixture(scope="module")
def story():
    rows = check_book(STORY).results.to_pylist()
    return {r["line"]: r for r in rows}


def ids(value):
    return [x for x in (value or "").split(";") if x]


def test_story_tells_the_seed(story):
    # A100 to China after 2022-10-07: 3A090 and 742.6(a)(6)(iii) (87 FR 62186)
    assert story[3]["license_required"] and ids(story[3]["reasons"]) == ["cn-2022"]
    # A100 before the rule: the is-informed letter to NVIDIA of 2022-08-26
    assert story[2]["license_required"] and ids(story[2]["reasons"]) == ["nvidia-2022-08-26"]
    # A800 (Dec 2022) and H800 (mid-2023) to China: legal, 400 GB/s < 600 GB/s
    assert not story[4]["license_required"] and not story[5]["license_required"]
    # H800 after NVIDIA was told on 2023-10-23 that the new rule applied at once, and in 2024
    assert ids(story[6]["reasons"]) == ["nvidia-2023-10-23"]
    assert story[7]["license_required"] and story[7]["eccn"] == "3A090.a.1"
    # H20: free in 2024, is-informed letter from April 2025 (NVIDIA exporting: certain)
    assert not story[8]["license_required"]
    assert ids(story[9]["reasons"]) == ["nvidia-2025-04-09"]
    # ... shipped by an unnamed exporter: shown as required, but it depends on who was informed
    assert story[10]["license_required"] and not story[10]["license_required_otherwise"]
    assert "is-informed" in story[10]["depends_on"]
    # RTX 4090 needs a licence (TPP >= 4800) but NAC could apply; the 4090D does not need one
    assert story[11]["license_required"] and ids(story[11]["exceptions"]) == ["NAC"]
    assert not story[12]["license_required"]
    # H200 to China in 2026: case-by-case only when exported from the US (91 FR 1684)
    assert story[13]["policy"] == "case-by-case" and story[13]["policy_rule"] == "h200-case-by-case-2026"
    assert story[14]["policy"] == "presumption of denial"  # shipped from Singapore
    assert story[15]["policy"] == "presumption of denial"  # B200: TPP 36,000 >= 21,000
    # A China-headquartered cloud buying H100s in Malaysia: the headquartered-in rule 744.23(a)(3)
    assert ids(story[16]["reasons"]) == ["hq-744.23a3"] and not story[17]["license_required"]
    # Systems classify through their chips (4A090.a) and D:4 destinations need a licence since 2023-11-17
    assert story[20]["eccn"] == "4A090.a" and story[20]["license_required"]
    assert story[20]["policy"] == "presumption of approval"
    # An Entity-Listed buyer (Sugon, 84 FR 29373) makes an otherwise free L20 need a licence
    assert not story[22]["license_required"]
    assert ids(story[24]["reasons"]) == ["listed-party"] and story[24]["policy"] == "Presumption of denial"
    assert "EL 'Sugon'" in story[24]["party_entries"] and "84 FR 29373" in story[24]["party_entries"]
    # A100 for a supercomputer in Russia: 3A090 is not in 744.23(a)(1)'s item list (3A001, 3A991,
    # 4A994, 5A002, ...; 88 FR 73449), so the licence comes from 742.6 (D:5), not the end use; Russia
    # also needs a licence for every CCL item (15 CFR 746.8(a)(1)), and the embargo's review policy is
    # tried first: 746.8(b) "policy of denial"
    assert set(ids(story[23]["reasons"])) == {"ru-746.8", "d145-2023"}
    assert story[23]["policy"] == "policy of denial" and story[23]["policy_rule"] == "ru-by-denial"


def test_ai_diffusion_printed_versus_enforced():
    kw = dict(date="2025-06-01", item="H100", quantity=1024, destination="IN", end_user_hq="IN")
    enforced = check_order(**kw)
    printed = check_order(regime="as-printed", **kw)
    assert not enforced["license_required"]
    assert printed["license_required"]
    assert [r["paragraph"] for r in printed["reasons"]] == ["15 CFR 742.6(a)(6)(iii)(A)"]
    assert {e["id"] for e in printed["exceptions"]} == {"LPP", "ACM"}  # India is Tier 2
    assert printed["policy"]["policy"].startswith("presumption of approval")
    # before the compliance date (2025-05-15) the worldwide requirement did not bind
    assert not check_order(regime="as-printed", **{**kw, "date": "2025-03-01"})["license_required"]


def test_one_order_explains_itself():
    d = check_order(date="2024-01-01", item="H100", quantity=8, destination="CN", end_user_hq="CN")
    assert d["license_required"] and d["eccn"] == "3A090.a.1" and d["rule_version"] == "2023-11-17"
    r = d["reasons"][0]
    assert r["paragraph"] == "15 CFR 742.6(a)(6)(iii)" and "88 FR 73458" in r["citation"]
    assert "destination CN [D:1, D:4, D:5]" in r["detail"]
    assert d["policy"]["policy"] == "presumption of denial"
    assert d["classification"]["tpp"] == 15831.2
    assert d["tpp_total"] == pytest.approx(8 * 15831.2)


def test_decide_order_is_the_decision_without_the_explanation():
    """H100 (TPP 15,831) to China after 2023-11-17: 742.6(a)(6)(iii) (d145-2023), a presumption of
    denial (88 FR 73458); the same order to Japan (A:1, no D group) needs none."""
    d = decide_order(date="2024-01-01", item="H100", quantity=8, destination="CN", end_user_hq="CN")
    assert d["license_required"] and d["eccn"] == "3A090.a.1" and d["reasons"] == "d145-2023;"
    assert d["policy"] == "presumption of denial" and float(d["tpp_total"]) == pytest.approx(8 * 15831.2)
    assert not decide_order(date="2024-01-01", item="H100", quantity=8, destination="JP")["license_required"]
    with pytest.raises(ChipexError, match="quantity"):
        decide_order(date="2024-01-01", item="H100", quantity=0, destination="CN")


def test_hong_kong_counts_as_china_and_macau_is_named_beside_d5():
    assert check_order(date="2022-12-01", item="A100", quantity=1, destination="Hong Kong")[
        "license_required"
    ]
    # Macau only from 2023-01-17 (88 FR 2821)
    assert not check_order(date="2023-01-16", item="A100", quantity=1, destination="MO")["license_required"]
    assert check_order(date="2023-01-17", item="A100", quantity=1, destination="Macau")["license_required"]


def write_csv(path: Path, rows: list[dict]) -> Path:
    cols = sorted(
        {k for r in rows for k in r},
        key=lambda c: (
            ["date", "item", "quantity", "destination"].index(c)
            if c in ("date", "item", "quantity", "destination")
            else 9
        ),
    )
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        w.writerows(rows)
    return path


GOOD = {"date": "2024-01-01", "item": "H100", "quantity": "8", "destination": "CN"}


@pytest.mark.parametrize(
    ("bad", "field", "message"),
    [
        ({"item": "Z9000"}, "item", "unknown chip"),
        ({"date": "2024-13-45"}, "date", "not a date"),
        ({"destination": "Atlantis"}, "destination", "unknown country"),
        ({"quantity": "-3"}, "quantity", "positive"),
        ({"quantity": "lots"}, "quantity", "whole number"),
    ],
)
def test_bad_line_is_named_and_nothing_is_written(tmp_path, bad, field, message):
    src = write_csv(tmp_path / "o.csv", [GOOD, {**GOOD, **bad}, GOOD])
    out = tmp_path / "out.parquet"
    with pytest.raises(ChipexError) as exc:
        check_book(src, out=out)
    text = str(exc.value)
    assert f"line 3, field '{field}'" in text and message in text and str(src) in text
    assert not out.exists()


def test_missing_column(tmp_path):
    src = tmp_path / "o.csv"
    src.write_text("date,item,destination\n2024-01-01,H100,CN\n")
    with pytest.raises(ChipexError, match=r"missing column.*quantity"):
        check_book(src)


def test_reject_file_checks_the_rest(tmp_path):
    src = write_csv(tmp_path / "o.csv", [GOOD, {**GOOD, "item": "Z9000"}, {**GOOD, "destination": "FR"}])
    rej, out = tmp_path / "rejects.csv", tmp_path / "out.csv"
    report = check_book(src, out=out, reject_file=rej)
    assert report.checked == 2 and report.rejected == 1
    rejected = list(csv.DictReader(rej.open()))
    assert rejected[0]["line"] == "3" and rejected[0]["field"] == "item"
    got = list(csv.DictReader(out.open()))
    assert [(r["line"], r["license_required"]) for r in got] == [("2", "true"), ("4", "false")]


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl"])
def test_outputs_in_every_format(tmp_path, suffix):
    out = tmp_path / f"r{suffix}"
    check_book(STORY, out=out)
    n = duckdb.execute(f"SELECT count(*) FROM '{out}'").fetchall()[0][0]
    assert n == 23 and not list(tmp_path.glob(".r*"))  # no temp file left behind


def test_jsonl_and_parquet_inputs_agree_with_csv(tmp_path):
    duckdb.sql(f"COPY (SELECT * FROM read_csv('{STORY}', all_varchar=true)) TO '{tmp_path / 'o.parquet'}'")
    duckdb.sql(
        f"COPY (SELECT * FROM read_csv('{STORY}', all_varchar=true)) TO '{tmp_path / 'o.jsonl'}' (FORMAT JSON)"
    )
    base = [r["license_required"] for r in check_book(STORY).results.to_pylist()]
    for f in ("o.parquet", "o.jsonl"):
        assert [r["license_required"] for r in check_book(tmp_path / f).results.to_pylist()] == base


def test_polars_engine_gives_the_same_answers(story):
    rows = check_book(STORY, engine="polars").results.to_pylist()
    assert {r["line"]: (r["license_required"], r["reasons"], r["policy"]) for r in rows} == {
        k: (v["license_required"], v["reasons"], v["policy"]) for k, v in story.items()
    }


ITEMS = [
    "H100",
    "H800",
    "A100",
    "A800",
    "H20",
    "RTX 4090",
    "RTX 4090D",
    "L4",
    "L40",
    "H200",
    "B200",
    "8x H100",
    "DGX H100",
    "MI308X",
]
COUNTRIES = ["CN", "HK", "MO", "RU", "IN", "MY", "SG", "AE", "SA", "VN", "US", "FR", "NI", "KH", "IR"]


order = st.fixed_dictionaries(
    {
        "date": st.dates(
            min_value=__import__("datetime").date(2022, 6, 1),
            max_value=__import__("datetime").date(2026, 11, 1),
        ).map(str),
        "item": st.sampled_from(ITEMS),
        "quantity": st.integers(1, 5000).map(str),
        "destination": st.sampled_from(COUNTRIES),
        "end_user_hq": st.sampled_from(["", *COUNTRIES]),
        "parent_hq": st.sampled_from(["", "CN", "US", "MO"]),
        "end_use": st.sampled_from(
            ["", "datacenter", "supercomputer", "advanced-node fab", "model training"]
        ),
        "ship_from": st.sampled_from(["", "US", "SG", "TW"]),
        "exporter": st.sampled_from(["", "NVIDIA", "AMD", "Acme Distribution"]),
    }
)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(order, min_size=1, max_size=12))
def test_single_order_path_equals_bulk_path(tmp_path_factory, orders):
    src = write_csv(tmp_path_factory.mktemp("prop") / "o.csv", orders)
    bulk = {r["line"]: r for r in check_book(src).results.to_pylist()}
    for i, o in enumerate(orders):
        one = check_order(**{k: (v or None) for k, v in o.items()})
        b = bulk[i + 2]
        assert one["license_required"] == b["license_required"]
        assert one["eccn"] == b["eccn"]
        assert [x["id"] for x in one["exceptions"]] == ids(b["exceptions"])
        assert (one["policy"] or {}).get("policy") == b["policy"]
        assert [r["rule"].removeprefix("is-informed ") for r in one["reasons"] if r["rule"] != "none"] == [
            x.rstrip("?") for x in ids(b["reasons"])
        ]


def test_cli_one_order_json():
    p = run_chipex(
        "check", "--item", "H100", "--quantity", "8", "--to", "CN", "--date", "2024-01-01", "--json"
    )
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["license_required"] is True and d["eccn"] == "3A090.a.1"


def test_cli_book_json_lines(tmp_path):
    p = run_chipex("check", str(STORY), "--json")
    assert p.returncode == 0, p.stderr
    lines = [json.loads(x) for x in p.stdout.splitlines()]
    assert len(lines) == 23 and [x["line"] for x in lines] == sorted(x["line"] for x in lines)
    for x in lines:
        assert {"line", "license_required", "eccn", "reasons", "exceptions"} <= set(x)


def test_cli_bad_book_exits_nonzero_with_line_and_field(tmp_path):
    src = write_csv(tmp_path / "o.csv", [GOOD, {**GOOD, "quantity": "-1"}])
    p = run_chipex("check", str(src), "--out", str(tmp_path / "r.parquet"))
    assert p.returncode == 2 and "line 3, field 'quantity'" in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "r.parquet").exists()


def test_listed_end_user_in_one_order_and_no_screen_option():
    d = check_order(
        date="2024-08-01", item="L20", quantity=1, destination="CN", end_user="HUAWEI TECH CO LTD"
    )
    assert d["license_required"] and d["reasons"][0]["rule"] == "listed-party"
    assert "EL" in d["parties"] and d["policy"]["rule"] == "listed-party"
    quiet = check_order(
        date="2024-08-01",
        item="L20",
        quantity=1,
        destination="CN",
        end_user="HUAWEI TECH CO LTD",
        screen=False,
    )
    assert not quiet["license_required"]


def test_check_records_in_the_ledger_and_shows_caps(tmp_path):
    db = str(tmp_path / "ledger.db")
    p = run_chipex(
        "check",
        "--item",
        "H100",
        "--quantity",
        "1024",
        "--to",
        "IN",
        "--date",
        "2025-06-01",
        "--regime",
        "as-printed",
        "--ledger",
        "--record",
        "--user",
        "alice",
        "--json",
        env={"CHIPEX_DB": db},
    )
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    # India is Tier 2: LPP could apply, and 1,024 H100s (16.2M TPP) fit its 26.9M per consignee-year
    lpp = [e for e in d["ledger"] if e["bucket"].startswith("License Exception LPP")]
    assert lpp and lpp[0]["limit"] == 26_900_000 and not lpp[0]["exceeds"]
    v = run_chipex("audit", "verify", env={"CHIPEX_DB": db})
    assert v.returncode == 0 and "intact: 1 events" in v.stdout
