"""One logic for one order and a book: the Python evaluator of one order (orders/single.py) gives
exactly the answer the bulk DuckDB expression gives the same line in a book (check_book), field by
field, for valid lines; for a bad line it names the same field with the same message as the book's
reject list.

The reference is the bulk path (check_book on a book of the drawn lines, each explained by
explain_row as for one order); the lines cover every catalog item, every date on which a rule or a
country group changes (and the day before it), region codes, headquarters, end uses, ship-from,
jurisdiction inputs, parties and both regimes.
"""

from __future__ import annotations

import csv
import datetime as dt
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chipex.catalog import default_catalog
from chipex.orders import check_book, make_engine
from chipex.orders.explain import explain_row
from chipex.orders.parties import PartyScreening
from chipex.orders.schema import OPTIONAL, REQUIRED
from chipex.orders.single import OneOrder
from chipex.orders.single_io import Invalid
from chipex.orders.tables import Periods, resolve_item
from chipex.rules import default_rulebook

ROOT = Path(__file__).resolve().parents[2]
STORY = ROOT / "src" / "chipex" / "examples" / "orders-story.csv"
REGIMES = ("as-enforced", "as-printed")
DESTINATIONS = ["UA-43", "UA-14", "US", "CN", "MO", "RU", "AE", "IN", "JP", "HK", "SG", "MY", "DE", "China", "Crimea"]  # fmt: skip
COUNTRIES = ["CN", "US", "TW", "SG", "AE", "JP", "DE", "MO", "RU", "IR", "HK", "KR", "IN"]


def _dates() -> list[str]:
    starts = [
        s for s in Periods.of(default_rulebook()).starts if dt.date(2022, 1, 1) <= s <= dt.date(2026, 12, 31)
    ]
    out = {d for s in starts for d in (s, s - dt.timedelta(days=1))}
    return sorted(d.isoformat() for d in out | {dt.date(2022, 1, 1), dt.date(2026, 12, 31)})


DATES = _dates()
ITEMS = sorted(c.name for c in default_catalog())


@cache
def single(regime: str) -> OneOrder:
    """Built from the rule data alone, as check_order builds it (not from the book's engine)."""
    return OneOrder(default_rulebook(), default_catalog(), regime)


def write_book(path: Path, rows: list[dict[str, str]]) -> None:
    cols = [*REQUIRED, *[c for c in OPTIONAL if any(c in r for r in rows)]]
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, cols)
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in cols})


def assert_same(tmp: Path, rows: list[dict[str, str]], regime: str, screen: bool = False) -> int:
    """Every line of the book, one by one, against the book's own answer; returns lines compared."""
    book = tmp / "book.csv"
    write_book(book, rows)
    report = check_book(book, regime=regime, reject_file=tmp / "rejects.csv", screen=screen)
    engine = make_engine(regime)  # the book's own engine is not kept: classify its pairs here
    results = report.results.to_pylist()
    for r in results:
        engine.items_table([resolve_item(r["item"], default_catalog())], [engine.period_of(r["date"])])
    bulk = {r["line"]: explain_row(r, engine) for r in results}
    lines = {r["line"]: r for r in results}
    rejected = {r.line: r for r in report.errors}
    one = single(regime)
    for i, raw in enumerate(rows, start=2):  # a CSV book's line numbers: the header is line 1
        raw = {k: v for k, v in raw.items() if v != ""}
        ps = (
            PartyScreening(regime=regime)
            if screen and (raw.get("end_user") or raw.get("consignee"))
            else None
        )
        try:
            got = one.check(raw, ps)
        except Invalid as exc:
            assert i in rejected, (raw, exc.field, exc.message)
            assert (exc.field, exc.message) == (rejected[i].field, rejected[i].message), raw
            continue
        assert i not in rejected, (raw, rejected.get(i))
        want = dict(bulk[i], line=1)
        assert got.keys() == want.keys(), raw
        for k in want:
            assert got[k] == want[k], (raw, k, got[k], want[k])
        decided, line = one.decide(raw, ps), dict(lines[i], line=1)  # decide_order: no explanation
        assert decided.keys() == line.keys(), raw
        for k in line:
            assert decided[k] == line[k], (raw, k, decided[k], line[k])
    return len(rows)


def test_every_item_on_every_breakpoint(tmp_path):
    """Every catalog item (chips and systems, and an '8 x' system) on every rule date and the day
    before it, the destination turning through the list, in both regimes."""
    rows = []
    for n, (item, on) in enumerate((i, d) for i in [*ITEMS, "8 x H100", "2x MI300X"] for d in DATES):
        rows.append({"date": on, "item": item, "quantity": str(1 + n % 9), "destination": DESTINATIONS[n % len(DESTINATIONS)]})  # fmt: skip
    for regime in REGIMES:
        assert assert_same(tmp_path, rows, regime) == len(rows)


@pytest.mark.parametrize(("regime", "screen"), [("as-enforced", True), ("as-printed", False)])
def test_the_story_book_line_by_line(tmp_path, regime, screen):
    with STORY.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) > 10
    assert_same(tmp_path, rows, regime, screen=screen)


def _book(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(text.splitlines()))


@pytest.mark.parametrize("regime", REGIMES)
def test_the_law_books_line_by_line(tmp_path, regime):
    from tests.orders.test_embargoes import BOOK
    from tests.orders.test_end_uses import LAW_C_BOOK

    for text in (BOOK, LAW_C_BOOK):
        assert assert_same(tmp_path, _book(text), regime) >= 8


BAD = {
    "date": ["2024-1-1", "20240101", "2024-02-30", "0000-01-01", "10000-01-01", "", "01/02/2024"],
    "item": ["No Such Chip", "0 x H100", "999999999 x H100", "", "x", "2 x DGX H100"],
    "quantity": ["", "-1", "0", "000", "1.5", "abc", "1e3", "99999999999999", "1000000000001", "0008"],
    "destination": ["", "Narnia", "Congo", "china", "Hong Kong", "KOR"],
    "ship_from": ["Narnia", "USA", "Taiwan"],
    "made_in": ["ZZ", "Korea"],
    "us_content_pct": [
        "101",
        "-1",
        "abc",
        "nan",
        "inf",
        "1_0",
        "+5",
        ".5",
        "5.",
        "1e1",
        "12.345",
        "2.675",
        "0x10",
    ],
    "unit_price_usd": ["-1", "inf", "abc", "100", "1e400", "0", "nan"],
    "consignee_type": ["Freight Forwarder", "freight_forwarder", "FREIGHT  FORWARDER", "bogus", "end user"],
    "exporter_role": ["OSAT", "Foundry", "fab", "other"],
    "end_user_established": ["2024-13-01", "2024-06-01", "2023-1-1"],
    "payer_country": ["Narnia", "CN"],
}


def test_bad_and_odd_values_name_the_same_field_and_message(tmp_path):
    rows = []
    for field, values in BAD.items():
        for v in values:
            rows.append(
                {"date": "2025-02-01", "item": "H100", "quantity": "8", "destination": "CN", field: v}
            )
    for chunk in range(0, len(rows), 40):  # a book reports at most 50 rejected lines
        assert_same(tmp_path, rows[chunk : chunk + 40], "as-enforced")


def _opt(values) -> st.SearchStrategy[str]:
    return st.one_of(st.just(""), st.sampled_from(values))


ORDER = st.fixed_dictionaries(
    {
        "date": st.sampled_from(DATES),
        "item": st.sampled_from([*ITEMS, "4 x H20", "8x B200"]),
        "quantity": st.integers(1, 10**6).map(str),
        "destination": st.sampled_from(DESTINATIONS),
    },
    optional={
        "end_user_hq": _opt(COUNTRIES),
        "parent_hq": _opt(COUNTRIES),
        "end_use": _opt(
            [
                "datacenter",
                "supercomputer",
                "advanced-node fab",
                "sme production",
                "model training",
                "cloud services",
                "wafer fab",
                "other",
                "HPC cluster",
            ]
        ),
        "ship_from": _opt(COUNTRIES),
        "made_in": _opt(COUNTRIES),
        "us_content_pct": _opt(["0", "10", "24.99", "25", "25.01", "100", "12.345"]),
        "exporter_role": _opt(["foundry", "osat", "other"]),
        "exporter": _opt(["NVIDIA", "AMD", "Acme Export"]),
        "consignee_type": _opt(["freight-forwarder", "end-user", "distributor"]),
        "payer_country": _opt(COUNTRIES),
        "payer_name": _opt(["Example Cloud Beijing", "Other Payer"]),
        "end_user_business": _opt(["trading company", "cloud", "research"]),
        "end_user_established": _opt(["2024-06-01", "2019-01-01", "2025-01-01"]),
        "unit_price_usd": _opt(["100", "30000", "1", "250000"]),
        "declared_description": _opt(["GPU server", "toys"]),
        "delivery_address": _opt(["Apt 5, Main St", "1 Industrial Park"]),
        "payment_terms": _opt(["cash", "letter of credit"]),
    },
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(regime=st.sampled_from(REGIMES), rows=st.lists(ORDER, min_size=1, max_size=40))
def test_drawn_orders_give_the_book_answer(tmp_path, regime, rows):
    assert_same(tmp_path, rows, regime)


PARTIES = ["Huawei Technologies Co., Ltd.", "Semiconductor Manufacturing International Corporation", "Example Cloud Beijing", "Acme GmbH", "Inspur"]  # fmt: skip


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    regime=st.sampled_from(REGIMES),
    rows=st.lists(
        # not to a region code: the screener refuses it as a party country (in both paths)
        ORDER.filter(lambda o: o["destination"] not in ("UA-43", "UA-14", "Crimea")).flatmap(
            lambda o: st.fixed_dictionaries({"end_user": _opt(PARTIES), "consignee": _opt(PARTIES)}).map(
                lambda p: {**o, **p}
            )
        ),
        min_size=1,
        max_size=20,
    ),
)
def test_drawn_orders_with_parties_give_the_book_answer(tmp_path, regime, rows):
    assert_same(tmp_path, rows, regime, screen=True)


def test_one_order_on_an_engine_a_book_already_used():
    """An engine whose items were classified for a book still gives one order its item row and
    classification. H100 (TPP 15,832 >= 4,800) to China on 2024-06-01 is 3A090.a under 88 FR 73458:
    a licence is required; a missing row would read as 'no ECCN, no licence'."""
    from chipex.orders import check_order

    eng = make_engine(catalog=default_catalog(), rulebook=default_rulebook())
    first = check_order(
        date="2024-06-01", item="A100", quantity=1, destination="DE", engine=eng, screen=False
    )
    assert first["eccn"].startswith("3A090.a")
    eng.items_table(
        [resolve_item("H100", eng.catalog)], [eng.period_of(dt.date(2024, 6, 1))]
    )  # as a book does
    again = check_order(
        date="2024-06-01", item="H100", quantity=8, destination="CN", engine=eng, screen=False
    )
    assert again["eccn"].startswith("3A090.a") and again["license_required"] is True
    assert again["classification"]["chip"] == "H100 SXM"  # the catalog name "H100" resolves to


def test_one_order_loads_no_query_engine():
    import subprocess
    import sys

    code = (
        "import sys; from chipex.orders import check_order; "
        "d = check_order(date='2025-01-01', item='H100', quantity=8, destination='CN', screen=False); "
        "assert d['license_required'] is True; "
        "print(sorted(m for m in ('ibis', 'duckdb', 'pyarrow') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stderr
