"""Shared test data for the ledger tests: a licence, a shipment line, and tampering helpers."""

from __future__ import annotations

from contextlib import contextmanager
from fractions import Fraction

from sqlalchemy import Engine, create_engine

from chipex.ledger import Request

# app URL -> owner URL of each PostgreSQL test schema (conftest fills it); SQLite has no roles
OWNERS: dict[str, str] = {}

# NVIDIA H100 SXM: 1,978.9 dense FP8 TFLOPS (datasheet 3,958 with sparsity, halved) x 8 bits = 15,831.2
H100_TPP = Fraction("15831.2")


def licence(number: str = "L-1", **overrides) -> dict:
    """A licence for H100s to India, 2025-2026, in units."""
    spec = {
        "number": number,
        "holder": "Exporter Inc.",
        "items": ["H100"],
        "destinations": ["IN"],
        "valid_from": "2025-01-01",
        "valid_to": "2026-12-31",
        "units": 10,
    }
    return {**spec, **overrides}


def h100_line(units: int, **overrides):
    fields = {
        "destination": "IN",
        "consignee": "Bharat Compute Pvt Ltd",
        "item": "H100",
        "units": units,
        "licence": "L-1",
        "on": "2025-03-01",
    }
    return Request(**{**fields, **overrides})


@contextmanager
def owner_engine(ledger):
    """An engine with the rights of the tables' owner (the database administrator, the insider)."""
    url = ledger.engine.url.render_as_string(hide_password=False)
    if url not in OWNERS:
        yield ledger.engine
        return
    engine = create_engine(OWNERS[url])
    try:
        yield engine
    finally:
        engine.dispose()


def tamper(ledger, *statements: str) -> None:
    """Run SQL as the owner would."""
    with owner_engine(ledger) as engine, engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)


def drop_append_only(ledger) -> None:
    """What someone with the database's admin rights can do: remove the append-only triggers."""
    with owner_engine(ledger) as engine:
        _drop_triggers(engine)


def _drop_triggers(engine: Engine) -> None:
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            for table in ("events", "entries", "buckets"):
                conn.exec_driver_sql(f"DROP TRIGGER {table}_append_only ON {table}")
        else:
            for table in ("events", "entries", "buckets"):
                for verb in ("update", "delete"):
                    conn.exec_driver_sql(f"DROP TRIGGER {table}_no_{verb}")
