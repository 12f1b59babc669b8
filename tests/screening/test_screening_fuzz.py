"""Fuzzing list snapshots (issue 11): a mutated list file is accepted correctly, or refused with one
clear message naming the file, leaving the accepted snapshots as they were; never a traceback.

Bounded for CI: FUZZ_EXAMPLES cases per run (each loads a 13-entry sample over a baseline of itself).
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.chipex_cli import run_chipex
from tests.screening.conftest import SAMPLES

from chipex.errors import ChipexError
from chipex.screening import load_list
from chipex.screening.lists import read_snapshot
from chipex.screening.store import Store

FUZZ_EXAMPLES = 60
SAMPLE = (SAMPLES / "consolidated-sample.csv").read_bytes()
BASE_DATE, NEW_DATE = date(2020, 1, 1), date(2020, 1, 2)  # older than the shipped list: it is no baseline


def mutate(data: bytes, ops: list[tuple[str, int, bytes]]) -> bytes:
    lines = data.split(b"\n")
    for op, at, junk in ops:
        i = at % max(len(lines), 1)
        if op == "drop_line" and len(lines) > 1:
            del lines[i]
        elif op == "repeat_line":
            lines.insert(i, lines[i])
        elif op == "truncate":
            joined = b"\n".join(lines)
            lines = joined[: at % (len(joined) + 1)].split(b"\n")
        elif op == "insert":
            line = lines[i]
            k = at % (len(line) + 1)
            lines[i] = line[:k] + junk + line[k:]
        elif op == "swap_lines" and len(lines) > 1:
            j = (i + 1) % len(lines)
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "blank_cell":
            lines[i] = lines[i].replace(b'"', b"", 2)
    return b"\n".join(lines)


OPS = st.lists(
    st.tuples(
        st.sampled_from(["drop_line", "repeat_line", "truncate", "insert", "swap_lines", "blank_cell"]),
        st.integers(0, 20_000),
        st.sampled_from([b",", b'"', b"\xff\xfe", b"\x00", b"\r", b"\n", b",,,,", b"<html>", b"\xe2\x80"]),
    ),
    min_size=1,
    max_size=4,
)


def _base(home: Path) -> str:
    return load_list(SAMPLES / "consolidated-sample.csv", BASE_DATE, home=home, force=True).snapshot_id


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=OPS, suffix=st.sampled_from([".csv", ".json", ".txt"]))
def test_mutated_list_is_accepted_correctly_or_refused_clearly(ops, suffix) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        _base(home)
        before = [s.id for s in Store(home).accepted()]
        path = home / f"mutant{suffix}"
        path.write_bytes(mutate(SAMPLE, ops))
        try:
            rep = load_list(path, NEW_DATE, home=home)
        except ChipexError as exc:
            msg = str(exc)
            assert str(path) in msg and "\n" not in msg.split(": refused:")[0]
            assert [s.id for s in Store(home).accepted()] == before  # nothing changed
            return
        snap = read_snapshot(path, NEW_DATE)  # accepted: what is stored is what the file says
        assert rep.snapshot_id == snap.id and rep.counts == snap.counts
        assert Store(home).in_force(NEW_DATE)[0].id == snap.id  # the list in force on its date
        assert len({e.id for e in snap.entries}) == len(snap.entries)


def test_the_command_refuses_a_mutant_in_one_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _base(home)
    bad = tmp_path / "cut.csv"
    bad.write_bytes(SAMPLE[: len(SAMPLE) // 2] + b'"unclosed')
    r = run_chipex("lists", "--load", str(bad), "--date", "2020-01-02", env={"CHIPEX_HOME": str(home)})
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Traceback" not in r.stderr and str(bad) in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
