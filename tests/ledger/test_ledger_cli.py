"""The ledger commands as a new user runs them (in process, through chipex's own entry point)."""

from __future__ import annotations

import json
import sys

import pytest

from chipex.interfaces.cli import main
from chipex.interfaces.cli.app import console


@pytest.fixture
def chipex(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(console, "width", 200)
    db = str(tmp_path / "ledger.db")

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["chipex", *args, "--db", db])
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code or 0
        out, err = capsys.readouterr()
        return code, out, err

    return run


LINE = ("--licence", "L-1", "--item", "H100", "--to", "IN", "--consignee", "Bharat Compute Pvt Ltd")


def add_licence(chipex, units: str = "10") -> None:
    code, out, _ = chipex(
        "ledger", "licence", "add", "--number", "L-1", "--holder", "Exporter Inc.", "--item", "H100",
        "--to", "IN", "--valid-from", "2025-01-01", "--valid-to", "2026-12-31", "--units", units,
    )  # fmt: skip
    assert code == 0 and "licence L-1 recorded (event #1): 10 units of nvidia-h100-sxm to IN" in out


def test_a_new_user_ships_until_the_licence_is_exhausted(chipex):
    add_licence(chipex)
    code, out, _ = chipex("ledger", "ship", *LINE, "--units", "6", "--date", "2025-03-01", "--key", "SO-1")
    assert code == 0 and out.startswith("shipped SO-1 (event #3): 6 x H100 SXM (3A090.a.1) to IN")
    assert "licence/L-1/units: limit 10 units, used 0, this 6, left after 4" in out
    assert "cap/ai-diffusion-tier2-country/2025-2027/IN: limit 790,000,000 TPP, used 0, this 94,987.2" in out
    assert chipex("ledger", "ship", *LINE, "--units", "4", "--date", "2025-03-02")[0] == 0
    code, out, _ = chipex("ledger", "ship", *LINE, "--units", "1", "--date", "2025-03-03")
    assert code == 1
    assert "refused" in out and "licence L-1: 0 units left of 10; this needs 1" in out
    code, out, _ = chipex("ledger", "licence", "show", "L-1", "--json")
    shown = json.loads(out)
    assert [(q["limit"], q["used"], q["remaining"]) for q in shown["quantities"]] == [("10", "10", "0")]
    assert sorted(r["units"] for r in shown["reservations"]) == [4, 6]
    code, out, _ = chipex("ledger", "licence", "list")
    assert code == 0 and "L-1" in out and "Exporter Inc." in out


def test_reserve_then_ship_then_cancel_by_key(chipex):
    add_licence(chipex)
    assert chipex("ledger", "reserve", *LINE, "--units", "3", "--date", "2025-03-01", "--key", "k")[0] == 0
    code, out, _ = chipex("ledger", "cancel", "k", "--reason", "order withdrawn", "--json")
    assert code == 0 and json.loads(out)["status"] == "cancelled"
    assert chipex("ledger", "reserve", *LINE, "--units", "3", "--date", "2025-03-01", "--key", "k2")[0] == 0
    code, out, _ = chipex("ledger", "ship", "k2", "--date", "2025-03-04", "--json")
    assert code == 0 and json.loads(out)["status"] == "shipped"
    code, _, err = chipex("ledger", "cancel", "k2", "--reason", "returned unopened")
    assert code == 2 and "a shipment is final" in err
    code, out, _ = chipex(
        "ledger", "return", "k2", "--units", "2", "--evidence", "RMA-88", "--date", "2025-04-01",
        "--user", "alice", "--json",
    )  # fmt: skip
    assert code == 0 and (json.loads(out)["status"], json.loads(out)["returned"]) == ("returned", 2)
    code, _, err = chipex("ledger", "return", "k2", "--units", "2", "--evidence", "RMA-89")
    assert code == 2 and "shipped 3 units and 2 came back already: 2 more cannot be returned" in err
    code, out, _ = chipex("ledger", "licence", "show", "L-1", "--json")
    assert json.loads(out)["quantities"][0]["used"] == "1"  # 3 shipped, 2 back


def test_caps_for_india_on_2025_03_01_as_printed(chipex):
    add_licence(chipex)
    chipex("ledger", "ship", *LINE, "--units", "10", "--date", "2025-03-01")
    code, out, _ = chipex(
        "ledger",
        "caps",
        "--country",
        "IN",
        "--as-of",
        "2025-03-01",
        "--regime",
        "as-printed",
        "--format",
        "table",
    )
    assert code == 0
    assert "Caps for IN on 2025-03-01, regime as-printed (IN is AI Diffusion Tier 2, as printed)" in out
    # 10 x 15,831.2 = 158,312 used; 790,000,000 - 158,312 = 789,841,688 left
    assert "IN, 2025-2027: limit 790,000,000 TPP (49,899 H100e), used 158,312, remaining 789,841,688" in out
    assert "fact sheet 5.3.2" in out and "(derived)" in out
    code, out, _ = chipex(
        "ledger", "caps", "--country", "IN", "--as-of", "2025-03-01", "--regime", "as-printed", "--json"
    )
    tier2 = next(c for c in json.loads(out)["caps"] if c["cap"] == "ai-diffusion-tier2-country")
    assert (tier2["limit"], tier2["used"], tier2["remaining"], tier2["binding"]) == (
        "790000000",
        "158312",
        "789841688",
        True,
    )
    code, out, _ = chipex(
        "ledger",
        "caps",
        "--country",
        "IN",
        "--as-of",
        "2025-06-01",
        "--regime",
        "as-enforced",
        "--format",
        "table",
    )
    assert "counted, not binding as enforced: BIS announced on 2025-05-13" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--licence", "L-9", "--item", "H100", "--units", "1", "--date", "2025-03-01"),
            "unknown licence 'L-9'",
        ),
        (
            ("--licence", "L-1", "--tpp", "5000", "--eccn", "3A090.a", "--date", "2025-03-01"),
            "granted in units",
        ),
        (
            ("--licence", "L-1", "--item", "H100", "--units", "1", "--date", "2024-12-31"),
            "outside licence L-1's validity",
        ),
        (
            ("--licence", "L-1", "--item", "H100", "--units", "-3"),
            "units must be a positive whole number, not -3",
        ),
        (("--licence", "L-1", "--item", "H100", "--units", "1", "--regime", "as-wished"), "unknown regime"),
        (("--licence", "L-1", "--item", "H100", "--units", "1", "--to", "Atlantis"), "unknown destination"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_records_nothing(chipex, args, message):
    add_licence(chipex)
    to = () if "--to" in args else ("--to", "IN")
    code, out, err = chipex("ledger", "reserve", *args, *to, "--consignee", "X")
    assert code == 2 and out == ""
    assert err.startswith("chipex: error:") and message in err and err.count("\n") == 1
    code, out, _ = chipex("audit", "verify", "--json")
    assert json.loads(out)["events"] == 1  # the licence only


def test_audit_verify_and_export(chipex, tmp_path):
    add_licence(chipex)
    chipex("ledger", "ship", *LINE, "--units", "2", "--date", "2025-03-01")
    code, out, _ = chipex("audit", "verify")
    assert code == 0 and out.startswith("audit log intact: 3 events; last hash ")
    export = tmp_path / "log.jsonl"
    assert chipex("audit", "export", "--format", "jsonl", "--out", str(export))[0] == 0
    assert chipex("audit", "verify", "--file", str(export))[0] == 0
    rows = export.read_text().splitlines()
    export.write_text("\n".join([rows[0], rows[1].replace('"units\\":2', '"units\\":1'), rows[2]]) + "\n")
    code, out, _ = chipex("audit", "verify", "--file", str(export))
    assert code == 1 and "event #2 was edited" in out
    csv_out = tmp_path / "log.csv"
    chipex("audit", "export", "--format", "csv", "--out", str(csv_out))
    assert csv_out.read_text().startswith("seq,at,actor,kind,subject,payload,prev_hash,hash,os_user\n")
