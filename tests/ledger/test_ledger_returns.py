"""Shipments are final; a return re-credits only what came back; no licence ever ships more than it
grants, whatever the sequence (a property test over random sequences, on SQLite and PostgreSQL).
Also: files 0600, the user and the OS account on every event, the same length limits on both."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_helpers import h100_line, licence
from sqlalchemy import select

from chipex.errors import ChipexError
from chipex.ledger import audit
from chipex.ledger.schema import Event

GRANTED = 10
steps = st.lists(
    st.tuples(
        st.sampled_from(["reserve", "ship", "reserve+ship", "cancel", "return"]),
        st.integers(0, 4),  # which reservation
        st.integers(1, 7),  # units
    ),
    max_size=14,
)


def replay(ledger, number: str) -> tuple[int, int]:
    """(units held: reserved or shipped less returned, units shipped less returned), counted from
    the log's events by hand, independently of the ledger's own sums."""
    with ledger.engine.connect() as conn:
        events = conn.execute(select(Event).order_by(Event.seq)).all()
    units, state, back = {}, {}, {}
    for ev in events:
        p = audit.parse(ev.payload)
        if ev.kind == "reservation.made":
            if p["line"]["licence"] != number:
                continue
            units[ev.subject], state[ev.subject] = p["line"]["units"], "reserved"
        elif ev.subject not in units and p.get("reservation") not in units:
            continue
        elif ev.kind == "reservation.shipped":
            assert state[ev.subject] == "reserved"
            state[ev.subject] = "shipped"
        elif ev.kind == "reservation.cancelled":
            assert state[ev.subject] == "reserved"  # a shipment is never cancelled
            state[ev.subject] = "cancelled"
        elif ev.kind == "reservation.returned":
            back[p["reservation"]] = back.get(p["reservation"], 0) + p["units"]
            assert back[p["reservation"]] <= units[p["reservation"]]
    held = sum(u - back.get(k, 0) for k, u in units.items() if state[k] != "cancelled")
    shipped = sum(u - back.get(k, 0) for k, u in units.items() if state[k] == "shipped")
    return held, shipped


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=steps)
def test_no_sequence_ships_more_than_granted(db, sequence):
    from chipex.ledger import open_ledger

    tag = os.urandom(4).hex()  # hypothesis reuses the database across examples: one licence each
    number = f"L-{tag}"
    with open_ledger(db) as ledger:
        ledger.add_licence(licence(number, units=GRANTED))
        for n, (op, i, u) in enumerate(sequence):
            key = f"{tag}-{i}"
            try:
                if op in ("reserve", "reserve+ship"):
                    ledger.reserve(h100_line(u, licence=number), key=f"{key}-{n}", ship=op == "reserve+ship")
                elif op == "ship":
                    ledger.ship(f"{key}-{n - 1}", on="2025-03-02")
                elif op == "cancel":
                    ledger.cancel(f"{key}-{n - 1}", reason="test")
                else:
                    ledger.return_units(f"{key}-{n - 1}", units=u, evidence=f"RMA-{n}", on="2025-04-01")
            except ChipexError:
                pass  # refused: unknown key, shipped, more than shipped...
            held, shipped = replay(ledger, number)
            assert shipped <= held <= GRANTED
            assert ledger.licence(number)[1][0].used == held
        assert ledger.verify().ok


def test_a_return_re_credits_only_what_came_back(ledger):
    ledger.add_licence(licence(units=10))
    ledger.reserve(h100_line(10), key="k", ship=True)
    back = ledger.return_units(
        "k",
        units=3,
        evidence="RMA-1",
        on="2025-04-01",
    )
    assert (back.status, back.returned) == ("returned", 3)
    assert ledger.return_units("k", units=3, evidence="RMA-1", on="2025-04-01").replayed
    assert ledger.licence("L-1")[1][0].used == 7
    [tier2] = [d for d in ledger.remaining(h100_line(1)) if d.bucket.startswith("cap/")]
    assert tier2.used == 7 * h100_tpp()  # the cap re-credited by 3 x 15,831.2 as well
    with pytest.raises(ChipexError, match="shipped 10 units and 3 came back already: 8 more"):
        ledger.return_units("k", units=8, evidence="RMA-2")
    with pytest.raises(ChipexError, match="before the shipment"):
        ledger.return_units("k", units=1, evidence="RMA-3", on="2025-01-01")
    with pytest.raises(ChipexError, match="give the evidence"):
        ledger.return_units("k", units=1, evidence=" ")
    assert ledger.reserve(h100_line(4)).refusals == ["licence L-1: 3 units left of 10; this needs 4"]
    assert ledger.verify().ok


def h100_tpp():
    from ledger_helpers import H100_TPP

    return H100_TPP


def test_every_event_names_the_user_and_the_os_account(db):
    import getpass

    from chipex.ledger import open_ledger

    with open_ledger(db, actor="alice") as ledger:
        ledger.add_licence(licence())
        ledger.record_determination(inputs={}, decision={}, rule_version=None, list_snapshot=None, user="bob")
        with ledger.engine.connect() as conn:
            rows = conn.execute(select(Event.actor, Event.os_user).order_by(Event.seq)).all()
    assert [tuple(r) for r in rows] == [("alice", getpass.getuser()), ("bob", getpass.getuser())]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"key": "k" * 301}, "key is 301 characters; the ledger holds at most 300"),
        ({"consignee": "x" * 700, "licence": None, "authorization": "LPP"}, "consignee is 7"),
    ],
)
def test_too_long_values_are_one_clear_error_on_both_databases(ledger, kwargs, message):
    ledger.add_licence(licence(units=10, consignees=[]))
    kwargs = dict(kwargs)
    key = kwargs.pop("key", None)
    line = h100_line(1, **kwargs)
    with pytest.raises(ChipexError, match=message):
        ledger.reserve(line, key=key)
    with pytest.raises(ChipexError, match="user is 201 characters"):
        from chipex.ledger import open_ledger

        open_ledger(str(ledger.engine.url.render_as_string(hide_password=False)), actor="u" * 201)


def test_sqlite_refuses_what_postgresql_refuses(tmp_path):
    from sqlalchemy import text

    from chipex.ledger import open_ledger

    with (
        open_ledger(str(tmp_path / "l.db")) as ledger,
        pytest.raises(Exception, match=r"character varying\(200\)"),
        ledger.engine.begin() as conn,
    ):
        conn.execute(text(
            "INSERT INTO events VALUES (1, 'now', :a, 'k', 's', '{}', 'p', 'h', NULL)"
        ), {"a": "a" * 201})  # fmt: skip


def test_the_database_and_lock_files_are_0600(tmp_path):
    from chipex.ledger import open_ledger

    path = tmp_path / "new" / "ledger.db"
    with open_ledger(str(path)) as ledger:
        ledger.add_licence(licence())
    for f in (path, path.with_name("ledger.db-writer.lock"), path.with_name("ledger.db-wal")):
        if f.exists():
            assert f.stat().st_mode & 0o777 == 0o600, f
    assert path.parent.stat().st_mode & 0o777 == 0o700
