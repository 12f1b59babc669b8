"""The one-order SQL cache (orders/sqlcache.py): used only when authentic, keyed by what it compiles."""

from __future__ import annotations

import dataclasses
import os

import chipex.orders as orders
from chipex.orders import check_order, make_engine
from chipex.orders.sqlcache import cached_sql, sql_key
from chipex.rules import default_rulebook


def test_cached_only_when_authentic_and_same_key(tmp_path):
    compiled = []

    def compile_sql():
        compiled.append(1)
        return "SELECT 1 AS one"

    key = "a" * 64
    assert cached_sql(key, compile_sql, tmp_path) == "SELECT 1 AS one"
    assert cached_sql(key, compile_sql, tmp_path) == "SELECT 1 AS one"
    assert len(compiled) == 1  # the second came from the file
    (path,) = tmp_path.glob("one-order-*.sql")
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    good = path.read_bytes()
    path.write_bytes(good[:-1] + b"2")  # 'SELECT 1 AS one' -> '... on2': the HMAC no longer matches
    assert cached_sql(key, compile_sql, tmp_path) == "SELECT 1 AS one"
    assert len(compiled) == 2
    os.chmod(path, 0o666)  # writable by others: never run, compiled afresh
    assert cached_sql(key, compile_sql, tmp_path) == "SELECT 1 AS one"
    assert len(compiled) == 3
    os.chmod(path, 0o600)
    # same first 32 hex digits (same file name), another key: the full key in the file is checked
    assert cached_sql("a" * 32 + "b" * 32, compile_sql, tmp_path) == "SELECT 1 AS one"
    assert len(compiled) == 4


def test_the_key_changes_with_the_regime_and_the_rules():
    eng = make_engine()
    base = sql_key(eng.rulebook, eng.catalog, eng.regime)
    assert base == sql_key(eng.rulebook, eng.catalog, eng.regime)
    assert base != sql_key(eng.rulebook, eng.catalog, "as-printed")
    versions = eng.rulebook.versions
    other = dataclasses.replace(eng.rulebook, versions=versions[:-1])
    assert base != sql_key(other, eng.catalog, eng.regime)


def test_one_order_is_the_same_from_a_cold_and_a_warm_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CHIPEX_HOME", str(tmp_path))
    order = {"date": "2024-01-01", "item": "H100", "quantity": 8, "destination": "CN", "screen": False}
    monkeypatch.setattr(orders, "_SINGLE", {})
    # a fresh engine each time (the default one is shared and remembers what it classified)
    cold = check_order(**order, engine=make_engine(rulebook=default_rulebook()))
    assert list((tmp_path / "cache").glob("one-order-*.sql"))
    compiled = []
    real = orders.OrderEngine.expression
    monkeypatch.setattr(orders.OrderEngine, "expression", lambda *a: compiled.append(1) or real(*a))
    warm = check_order(**order, engine=make_engine(rulebook=default_rulebook()))
    assert not compiled  # the SQL came from the cache
    assert cold == warm
    assert cold["license_required"] is True  # 3A090.a.1 to China after 2023-11-17 (742.6(a)(6)(iii))


def test_one_order_on_an_engine_another_caller_already_used():
    """An engine whose items were classified for a book must still give one order its item row.

    H100 (TPP 15,832 >= 4,800) to China on 2024-06-01 is 3A090.a under 88 FR 73458: a licence is
    required; a missing lookup row would read as 'no ECCN, no licence'."""
    from chipex.catalog import default_catalog

    eng = make_engine(catalog=default_catalog(), rulebook=default_rulebook())
    first = check_order(
        date="2024-06-01", item="A100", quantity=1, destination="DE", engine=eng, screen=False
    )
    assert first["eccn"].startswith("3A090.a")
    # another caller classifies H100 in this period through the engine (as a book does) ...
    h100 = orders.SingleOrders(eng)  # a fresh connection on the same engine
    d = h100.check({"date": "2024-06-01", "item": "H100", "quantity": "8", "destination": "CN"}, screen=False)
    assert d["eccn"].startswith("3A090.a") and d["license_required"] is True
    # ... and the first connection, which has not seen H100, asks again
    again = check_order(
        date="2024-06-01", item="H100", quantity=8, destination="CN", engine=eng, screen=False
    )
    assert again["eccn"].startswith("3A090.a") and again["license_required"] is True
