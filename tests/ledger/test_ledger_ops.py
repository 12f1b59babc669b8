"""Licences, reservations, shipments, cancellations, caps and determinations, on SQLite and PostgreSQL."""

from __future__ import annotations

from fractions import Fraction

import pytest
from ledger_helpers import H100_TPP, h100_line, licence, owner_engine
from sqlalchemy import func, select, text

from chipex.core.classify import measure
from chipex.errors import ChipexError
from chipex.ledger import Request
from chipex.ledger.schema import ChainHead, Entry, Event


def state(ledger):
    """(events, entries, head hash): what 'no change to the ledger' compares."""
    with ledger.engine.connect() as conn:
        events = conn.execute(select(func.count()).select_from(Event)).scalar_one()
        entries = conn.execute(select(func.count()).select_from(Entry)).scalar_one()
        head = conn.execute(select(ChainHead.hash)).scalar_one()
    return events, entries, head


def test_the_catalog_h100_has_the_tpp_these_tests_assume(catalog):
    assert measure(catalog.get("H100")).tpp == H100_TPP


def test_ship_against_a_licence_until_it_is_exhausted(ledger):
    ledger.add_licence(licence(units=10))
    first = ledger.reserve(h100_line(4), ship=True)
    second = ledger.reserve(h100_line(6), ship=True)
    assert (first.status, second.status) == ("shipped", "shipped")
    refused = ledger.reserve(h100_line(1), ship=True)
    assert refused.status == "refused" and refused.seq is None
    assert refused.refusals == ["licence L-1: 0 units left of 10; this needs 1"]
    _, heads, reservations = ledger.licence("L-1")
    assert (heads[0].limit, heads[0].used, heads[0].remaining) == (10, 10, 0)
    assert sorted(r["units"] for r in reservations) == [4, 6]
    assert {r["status"] for r in reservations} == {"shipped"}


def test_a_reservation_records_the_line_and_every_quantity_it_draws(ledger):
    ledger.add_licence(licence(units=10))
    out = ledger.reserve(h100_line(8), key="order-1/line-1")
    assert out.line["eccn"] == "3A090.a.1" and out.line["tpp"] == "126649.6"  # 8 x 15,831.2
    by_bucket = {d.bucket: d for d in out.draws}
    assert by_bucket["licence/L-1/units"].requested == 8
    tier2 = by_bucket["cap/ai-diffusion-tier2-country/2025-2027/IN"]
    assert (tier2.limit, tier2.requested, tier2.confidence) == (790_000_000, 8 * H100_TPP, "derived")
    assert "lpp-consignee: counts shipments under LPP, not licence" in out.not_counted


def test_the_tier2_allocation_admits_49901_h100s_and_refuses_one_more(ledger):
    # 790,000,000 / 15,831.2 = 49,901.46: 49,901 H100s use 789,992,711.2 TPP
    # (50,000 x 15,831.2 = 791,560,000, less 99 x 15,831.2 = 1,567,288.8), leaving 7,288.8
    ledger.add_licence(licence(units=100_000))
    assert ledger.reserve(h100_line(49_901)).status == "reserved"
    refused = ledger.reserve(h100_line(1), regime="as-printed")
    assert refused.refusals == [
        "AI Diffusion country allocation for Tier 2 destinations (cumulative 2025-2027) [IN, 2025-2027]: "
        "7,288.8 tpp left of 790,000,000; this needs 15,831.2"
    ]
    [row] = [
        r
        for r in ledger.cap_status(country="IN", as_of="2025-03-01")
        if r.cap == "ai-diffusion-tier2-country"
    ]
    assert (row.used, row.remaining) == (Fraction("789992711.2"), Fraction("7288.8"))


def test_as_enforced_the_allocation_counts_but_does_not_refuse(ledger):
    ledger.add_licence(licence(units=100_000))
    ledger.reserve(h100_line(49_901))
    over = ledger.reserve(h100_line(10), regime="as-enforced")
    assert over.status == "reserved"
    tier2 = next(d for d in over.draws if d.bucket.startswith("cap/ai-diffusion"))
    assert not tier2.binding and "2025-05-13" in tier2.why
    printed = {r.cap: r for r in ledger.cap_status(country="IN", as_of="2025-03-01", regime="as-printed")}
    # 7,288.8 left, 10 x 15,831.2 = 158,312 counted: over by 151,023.2
    assert printed["ai-diffusion-tier2-country"].remaining == Fraction("-151023.2")
    enforced = {r.cap: r for r in ledger.cap_status(country="IN", as_of="2025-03-01", regime="as-enforced")}
    assert not enforced["ai-diffusion-tier2-country"].binding


def test_an_idempotency_key_counts_a_retried_request_once(ledger):
    ledger.add_licence(licence(units=10))
    first = ledger.reserve(h100_line(3), key="k-1")
    again = ledger.reserve(h100_line(3), key="k-1")
    assert (again.replayed, again.seq, again.status) == (True, first.seq, "reserved")
    assert ledger.licence("L-1")[1][0].used == 3
    with pytest.raises(ChipexError, match="already used for a different reservation"):
        ledger.reserve(h100_line(4), key="k-1")
    shipped = ledger.reserve(h100_line(3), key="k-1", ship=True)  # a retried reserve-and-ship ships once
    assert shipped.status == "shipped" and ledger.reserve(h100_line(3), key="k-1", ship=True).replayed


def test_cancelling_releases_through_a_new_event_and_never_edits(ledger):
    ledger.add_licence(licence(units=10))
    made = ledger.reserve(h100_line(7), key="k")
    events, entries, _ = state(ledger)
    cancelled = ledger.cancel("k", reason="customer withdrew", on="2025-03-05")
    assert cancelled.status == "cancelled" and cancelled.seq > made.seq
    assert state(ledger)[:2] == (events + 1, entries + 2)  # one event, two releasing entries
    with ledger.engine.connect() as conn:
        amounts = conn.execute(select(Entry.amount).order_by(Entry.id)).scalars().all()
    assert amounts[:2] == [7000, scaled_tpp(7)] and amounts[2:] == [-7000, -scaled_tpp(7)]
    assert ledger.licence("L-1")[1][0].used == 0
    assert ledger.cancel("k", reason="again").replayed
    with pytest.raises(ChipexError, match="was cancelled"):
        ledger.ship("k")


def test_a_shipment_is_final_and_cannot_be_cancelled(ledger):
    ledger.add_licence(licence(units=10))
    ledger.reserve(h100_line(10), key="k", ship=True)
    before = state(ledger)
    with pytest.raises(
        ChipexError, match="shipment is final; record what came back with 'chipex ledger return'"
    ):
        ledger.cancel("k", reason="re-credit it")
    assert state(ledger) == before
    assert ledger.reserve(h100_line(10)).refusals == ["licence L-1: 0 units left of 10; this needs 10"]


def scaled_tpp(units: int) -> int:
    return int(units * H100_TPP * 1000)


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (h100_line(1, licence="L-404"), "unknown licence 'L-404'"),
        (
            Request(
                destination="IN", consignee="X", tpp=5000, eccn="3A090.a", licence="L-1", on="2025-03-01"
            ),
            "granted in units",
        ),
        (
            h100_line(1, on="2027-01-01"),
            "2027-01-01 is outside licence L-1's validity (2025-01-01 to 2026-12-31)",
        ),
        (h100_line(-5), "units must be a positive whole number, not -5"),
        (h100_line(0), "units must be a positive whole number, not 0"),
        (h100_line(1, destination="Atlantis"), "unknown destination 'Atlantis'"),
        (h100_line(1, destination="AE"), "licence L-1 does not cover AE"),
        (h100_line(1, item="A100"), "does not cover A100"),
        (
            Request(
                destination="IN", consignee="X", tpp=-1, eccn="3A090.a", authorization="NLR", on="2025-03-01"
            ),
            "TPP must be positive",
        ),
        (h100_line(1, licence=None, authorization="NVEU"), "counted per veu"),
        (h100_line(1, licence=None), "name the licence, or the authorization"),
    ],
)
def test_bad_input_is_one_clear_error_and_changes_nothing(ledger, request_, message):
    ledger.add_licence(licence(units=10))
    before = state(ledger)
    with pytest.raises(ChipexError) as err:
        ledger.reserve(request_)
    assert message in str(err.value)
    assert "\n" not in str(err.value)
    assert state(ledger) == before


def test_a_bad_licence_is_refused_before_anything_is_written(ledger):
    before = state(ledger)
    with pytest.raises(ChipexError, match="give units and/or tpp"):
        ledger.add_licence(licence(units=None))
    with pytest.raises(ChipexError, match="valid_to is before valid_from"):
        ledger.add_licence(licence(valid_to="2024-01-01"))
    with pytest.raises(ChipexError, match="unknown chip"):
        ledger.add_licence(licence(items=["Z9000"]))
    assert state(ledger) == before
    ledger.add_licence(licence())
    with pytest.raises(ChipexError, match="licence L-1 already exists"):
        ledger.add_licence(licence())


def test_a_licence_in_tpp_is_drawn_in_tpp(ledger):
    # 100,000 TPP admits 6 H100s (94,987.2) and not a seventh (110,818.4)
    ledger.add_licence(licence(units=None, tpp=100_000))
    assert ledger.reserve(h100_line(6)).status == "reserved"
    assert ledger.reserve(h100_line(1)).refusals[0].startswith("licence L-1: 5,012.8 tpp left of 100,000")


def test_lpp_counts_per_consignee_per_calendar_year(ledger):
    # 26,900,000 / 15,831.2 = 1,699.2: 1,699 H100s per consignee per year, the 1,700th refused
    def lpp(units, consignee="Bharat Compute Pvt Ltd", on="2025-03-01"):
        line = h100_line(units, licence=None, authorization="LPP", consignee=consignee, on=on)
        return ledger.reserve(line, regime="as-printed")

    assert lpp(1_699).status == "reserved"
    assert "[bharat compute pvt ltd, 2025]" in lpp(1, consignee="BHARAT  Compute Pvt Ltd").refusals[0]
    assert lpp(1_699, consignee="Another Cloud Ltd").status == "reserved"
    assert lpp(1_699, on="2026-01-02").status == "reserved"  # a new calendar year
    rows = [r for r in ledger.cap_status(country="IN", as_of="2025-06-01") if r.cap == "lpp-consignee"]
    assert {r.key: r.used for r in rows} == {
        "another cloud ltd": 1_699 * H100_TPP,
        "bharat compute pvt ltd": 1_699 * H100_TPP,
    }
    # LPP shipments are outside the country allocation (5.3.5)
    tier2 = [
        r for r in ledger.cap_status(country="IN", as_of="2025-06-01") if r.cap.startswith("ai-diffusion")
    ]
    assert tier2[0].used == 0


def test_aia_reports_the_253m_threshold_and_never_refuses(ledger):
    # 253,000,000 / 15,831.2 = 15,981.1: the 15,982nd H100 to one consignee crosses the threshold
    def aia(units, regime="as-printed"):
        line = h100_line(units, licence=None, authorization="AIA", destination="FR", consignee="Paris AI SAS")
        return ledger.reserve(line, regime=regime)

    assert aia(15_981).reports == []
    assert aia(1, regime="as-enforced").reports == []  # not enforced: nothing to report
    crossing = aia(1)
    assert crossing.status == "reserved"
    assert crossing.reports[0].startswith("License Exception AIA: certification reporting threshold")
    assert "reaches 253,000,000" in crossing.reports[0]


def test_an_uncontrolled_item_does_not_draw_on_the_allocation(ledger):
    ledger.add_licence(licence(units=100, items=[]))
    out = ledger.reserve(h100_line(10, item="H20"))  # H20: TPP 2,368, no 3A090 paragraph met
    assert [d.bucket for d in out.draws] == ["licence/L-1/units"]
    assert any("not uncontrolled items" in n for n in out.not_counted)


def test_remaining_answers_without_reserving(ledger):
    ledger.add_licence(licence(units=10))
    ledger.reserve(h100_line(7))
    before = state(ledger)
    heads = {h.bucket: h for h in ledger.remaining(h100_line(5))}
    assert (heads["licence/L-1/units"].remaining, heads["licence/L-1/units"].exceeds) == (3, True)
    assert not heads["cap/ai-diffusion-tier2-country/2025-2027/IN"].exceeds
    assert state(ledger) == before


def test_remaining_for_a_licence_still_to_be_applied_for(ledger):
    ledger.add_licence(licence(units=100))
    ledger.reserve(h100_line(40))
    pending = h100_line(10, licence=None, authorization="licence")
    [cap] = ledger.remaining(pending, regime="as-printed")
    assert (cap.bucket, cap.used, cap.requested) == (
        "cap/ai-diffusion-tier2-country/2025-2027/IN",
        40 * H100_TPP,
        10 * H100_TPP,
    )
    with pytest.raises(ChipexError, match="name the licence"):
        ledger.reserve(pending)


def test_a_batch_is_recorded_whole_or_not_at_all(ledger):
    ledger.add_licence(licence(units=10))
    before = state(ledger)
    outcomes = ledger.reserve_many([(h100_line(6), "a"), (h100_line(5), "b")])
    assert [o.status for o in outcomes] == ["refused", "refused"]
    assert outcomes[0].refusals == ["not recorded: line 2 of the batch was refused"]
    assert outcomes[1].refusals == [
        "licence L-1: 4 units left of 10; this needs 5"
    ]  # line 1's 6 counted first
    assert state(ledger) == before
    assert [o.status for o in ledger.reserve_many([(h100_line(6), "a"), (h100_line(4), "b")])] == [
        "reserved"
    ] * 2


def test_the_log_is_append_only_in_the_database(ledger):
    ledger.add_licence(licence())
    ledger.reserve(h100_line(1))
    for statement in ("UPDATE events SET actor = 'mallory'", "DELETE FROM events", "DELETE FROM entries"):
        with (
            pytest.raises(Exception, match="append-only"),
            owner_engine(ledger) as engine,
            engine.begin() as conn,
        ):
            conn.execute(text(statement))
    assert ledger.verify().ok


def test_determinations_are_recorded_once_with_their_inputs(ledger):
    kwargs = {
        "order": "SO-17",
        "inputs": {"item": "H100", "units": 8, "destination": "IN"},
        "decision": {"licence_required": True, "eccn": "3A090.a.1"},
        "rule_version": "2025-01-13",
        "list_snapshot": "csl-2026-07-31",
    }
    first = ledger.record_determination(key="SO-17/1", **kwargs)
    assert ledger.record_determination(key="SO-17/1", **kwargs) == type(first)("SO-17/1", first.seq, True)
    with pytest.raises(ChipexError, match="different determination"):
        ledger.record_determination(key="SO-17/1", **{**kwargs, "decision": {"licence_required": False}})
    with ledger.engine.connect() as conn:
        ev = conn.execute(select(Event).where(Event.seq == first.seq)).one()
    assert (ev.kind, ev.actor) == ("determination.recorded", "tester")
    assert '"list_snapshot":"csl-2026-07-31"' in ev.payload and '"user":"tester"' in ev.payload
    assert ledger.verify().ok


def test_caps_for_india_on_2025_03_01_as_printed(ledger):
    ledger.add_licence(licence(units=1_000))
    ledger.reserve(h100_line(1_000))
    rows = {r.cap: r for r in ledger.cap_status(country="IN", as_of="2025-03-01", regime="as-printed")}
    tier2 = rows["ai-diffusion-tier2-country"]
    assert (tier2.key, tier2.period, tier2.limit) == ("IN", "2025-2027", 790_000_000)
    assert (tier2.used, tier2.remaining) == (1_000 * H100_TPP, 790_000_000 - 1_000 * H100_TPP)
    assert tier2.binding and tier2.limit_confidence == "derived" and "90 FR 4544" in tier2.citation
    assert not rows["aia-reporting"].applies and "IN is Tier 2" in rows["aia-reporting"].note
    france = {r.cap: r for r in ledger.cap_status(country="FR", as_of="2025-03-01")}
    assert "FR is Tier 1" in france["ai-diffusion-tier2-country"].note


def test_the_default_ledger_is_a_wal_sqlite_file_in_chipex_home(tmp_path, monkeypatch):
    from chipex.ledger import open_ledger

    home = tmp_path / "home"
    monkeypatch.setenv("CHIPEX_HOME", str(home))
    with open_ledger() as ledger, ledger.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    assert (home / "ledger.db").exists()
    monkeypatch.setenv("CHIPEX_DB", str(tmp_path / "team.db"))
    with open_ledger() as ledger:
        ledger.add_licence(licence())
    assert (tmp_path / "team.db").exists()
    with pytest.raises(ChipexError, match="runs on SQLite or PostgreSQL, not 'mysql'"):
        open_ledger("mysql://x@localhost/db")
