"""Is the item subject to the EAR (15 CFR 734.3, 734.4, 734.9(h)): the first step of every answer."""

from __future__ import annotations

import pytest

from chipex.errors import ChipexError
from chipex.orders import check_order


def order(**kw):
    base = dict(date="2026-03-01", item="H100", quantity=8, destination="CN", exporter="Acme")
    return check_order(**{**base, **kw})


def test_not_given_is_assumed_us_origin_and_says_so():
    d = order()
    assert d["jurisdiction"].startswith("assumed US-origin (15 CFR 734.3(a)(2))") and d["license_required"]
    assert order(made_in="US")["jurisdiction"] == "US-origin (15 CFR 734.3(a)(2))"
    # a foreign-made item in the United States is subject (734.3(a)(1))
    assert order(made_in="TW", ship_from="US", destination="FR", us_content_pct="0")[
        "jurisdiction"
    ].startswith("in the United States (15 CFR 734.3(a)(1))")


def test_foreign_made_3a090_chip_to_china_is_a_foreign_direct_product():
    # 734.9(h): a foreign-produced 3A090 item (H100, made by TSMC in Taiwan) to a D:5 destination
    d = order(made_in="TW", ship_from="TW", us_content_pct="0")
    assert "734.9(h)" in d["jurisdiction"] and "FDP" in d["jurisdiction"]
    assert d["license_required"] and [r["rule"] for r in d["reasons"]] == ["d145-a-enforced-2025"]
    # ... and for a China-headquartered buyer in Malaysia (the FDP rule's headquarters prong)
    assert (
        "734.9(h)" in order(made_in="TW", ship_from="TW", destination="MY", end_user_hq="CN")["jurisdiction"]
    )


def test_de_minimis_levels_and_not_subject():
    kw = dict(item="H20", made_in="TW", ship_from="TW", destination="FR")  # H20: 3A991.p, outside 734.9(h)
    # 734.4(d): 25% for most destinations; 30% exceeds it, 25% does not (at most the level)
    assert "de minimis exceeded" in order(us_content_pct="30", **kw)["jurisdiction"]
    d = order(us_content_pct="25", **kw)
    assert d["jurisdiction"].startswith("not subject") and "15 CFR 734.4(d)" in d["jurisdiction"]
    assert not d["license_required"] and d["reasons"][0]["rule"] == "not-subject"
    # a supercomputer end use in China does not change it: the EAR does not reach the item
    d = order(us_content_pct="20", end_use="supercomputer", **{**kw, "destination": "CN"})
    assert d["jurisdiction"].startswith("not subject") and not d["license_required"]
    # 734.4(c): 10% for E:1/E:2 destinations (Cuba)
    assert (
        "10% (15 CFR 734.4(c))" in order(us_content_pct="12", **{**kw, "destination": "CU"})["jurisdiction"]
    )
    # unknown content or unknown ship-from never gives "not subject"
    assert order(**kw)["jurisdiction"].startswith("assumed subject")
    assert order(us_content_pct="5", **{**kw, "ship_from": None})["jurisdiction"].startswith(
        "assumed subject"
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("us_content_pct", "150", "not a percentage"),
        ("us_content_pct", "lots", "not a percentage"),
        ("exporter_role", "broker", "use one of foundry, osat, other"),
        ("made_in", "Narnia", "unknown country"),
    ],
)
def test_bad_jurisdiction_inputs_are_rejected_naming_the_field(field, value, message):
    with pytest.raises(ChipexError) as e:
        order(**{field: value})
    assert field in str(e.value) and message in str(e.value)


def test_a_book_names_file_line_and_field_of_a_bad_percentage(tmp_path):
    from chipex.orders import check_book

    p = tmp_path / "o.csv"
    p.write_text(
        "date,item,quantity,destination,us_content_pct\n2026-03-01,H100,8,CN,30\n2026-03-01,H100,8,CN,-1\n"
    )
    with pytest.raises(ChipexError) as e:
        check_book(p, out=tmp_path / "out.parquet")
    assert "line 3, field 'us_content_pct' '-1'" in str(e.value) and str(p) in str(e.value)


def test_the_book_and_one_order_fill_the_same_wording():
    """orders/jurisdiction.fill turns a template into one CONCAT of literals and columns; filled
    in DuckDB it reads exactly as str.format of the same template with the row's values."""
    import ibis
    import pyarrow as pa

    from chipex.orders.jurisdiction import fill
    from chipex.orders.jurisdiction_text import TEXTS

    t = ibis.memtable(pa.table({"made": ["TW"], "ship": ["SG"], "pct": ["12.50"]}))
    values = {"foreign": "foreign-made in TW", "ship": "SG", "pct": "12.50", "level": 25, "level_par": "734.4(c)"}  # fmt: skip
    columns = dict(values, foreign=fill("foreign-made in {m}", m=t.made), ship=t.ship, pct=t.pct)
    got = ibis.duckdb.connect().to_pyarrow(t.select(x=fill(TEXTS["not_subject"], **columns))).to_pylist()
    assert got == [{"x": TEXTS["not_subject"].format(**values)}]
    assert got[0]["x"] == (
        "not subject: foreign-made in TW, shipped from SG, outside 734.9(h), controlled US content 12.50% <= 25% (734.4(c))"
    )
