"""Tables that fit, --format, metavars: the terminal output a newcomer sees (issue 17).

"Cut" means a cell shown shortened (rich's '…'), or a value that is not on its row's line whole. The
facts checked against the table are the command's own --format json/jsonl answer, so a table that
drops or mangles a date, an item, the licence answer or an ECCN fails.
"""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from tests.chipex_cli import run_chipex

from chipex.interfaces.cli.render import Col, fit

WIDTHS = (80, 120)


def _table(*args: str, width: int) -> str:
    r = run_chipex(*args, env={"COLUMNS": str(width)})
    assert r.returncode == 0, r.stderr
    assert "…" not in r.stdout, f"a cut cell in chipex {' '.join(args)} at {width} columns"
    too_long = [ln for ln in r.stdout.splitlines() if len(ln.rstrip()) > width]
    assert not too_long, too_long[:3]
    return r.stdout


def _row_line(text: str, first: str, then: str) -> str:
    """The table line on which `first` is followed (after spaces) by `then`."""
    m = re.search(rf"^(?:.*\s)?{re.escape(first)}\s+{re.escape(then)}(\s.*)?$", text, re.M)
    assert m, f"no row '{first} {then}' in\n{text}"
    return m.group(0)


@pytest.mark.parametrize("width", WIDTHS)
def test_demo_line_table_shows_every_answer_whole(width):
    out = _table("demo", "--format", "table", width=width)
    lines = [json.loads(x) for x in run_chipex("check", _story(), "--json").stdout.splitlines()]
    assert len(lines) == 23
    for d in lines:
        row = _row_line(out, str(d["line"]), d["date"])
        assert (d["eccn"] or "-") in row.split()
        assert ("required" if d["license_required"] else "no") in row.split()
        assert d["item"].split()[0] in row
        assert f" {d['destination']} " in row
    # a policy wraps at spaces, never inside a word: "presumption of denial" is on consecutive lines
    assert "presumption" in out and "denial" in out and "presump\n" not in out


@pytest.mark.parametrize("width", WIDTHS)
def test_demo_chip_table_shows_every_rule_version_whole(width):
    out = _table("demo", "--format", "table", width=width)
    doc = json.loads(run_chipex("demo", "--format", "json").stdout)
    by = {r["chip"]: r for r in doc["chips"]}
    # the A800's 400 GB/s interconnect is below the 2022 text's 600 GB/s; the H100 is 3A090.a then
    assert by["A800 SXM 80GB"]["2022-10-07"] is None and by["H100 SXM"]["2022-10-07"] == "3A090.a"
    for r in doc["chips"]:
        cells = [r[k] for k in ("2022-10-07", "2023-11-17", "2024-12-02", "2025-04-09")]
        shown = [("- " + c if c.startswith("+") else c) if c else "-" for c in cells]
        numbers = [f"{r['tpp']:,.0f}", f"{r['pd']:.2f}", *shown]
        assert re.search(r"\s+".join(map(re.escape, numbers)), out), (r["chip"], numbers)


@pytest.mark.parametrize("width", WIDTHS)
def test_check_book_table_shows_every_answer_whole(width):
    out = _table("check", _story(), "--format", "table", width=width)
    for d in (json.loads(x) for x in run_chipex("check", _story(), "--json").stdout.splitlines()):
        row = _row_line(out, str(d["line"]), d["date"])
        assert (d["eccn"] or "-") in row.split()
        assert ("required" if d["license_required"] else "no") in row.split()
    # the legend under the table names its symbols
    assert "'?' after it" in out and "licence: required or no" in out


@pytest.mark.parametrize("width", WIDTHS)
def test_chips_table_shows_name_tpp_and_release_date(width):
    out = _table("chips", "--format", "table", width=width)
    rows = json.loads(run_chipex("chips", "--format", "json").stdout)
    for r in rows:
        if r["released"] and r["tpp"]:
            assert re.search(rf"\b{r['tpp']:,.0f}\s.*{r['released']}", out), r["name"]
        for word in r["name"].split():
            assert word in out
    assert "PD (TPP/mm²)" in out  # the unit is in the header
    assert "TPP: total processing performance" in out  # the legend


@pytest.mark.parametrize("width", WIDTHS)
def test_windows_table_shows_dates_and_h100e(width):
    out = _table("windows", "--until", "2026-07-01", "--format", "table", width=width)
    doc = json.loads(run_chipex("windows", "--until", "2026-07-01", "--json").stdout)
    for e in doc["exposures"]:
        for w in e["windows"]:
            if w["h100e"]:
                row = _row_line(out, e["destination"], w["start"])
                assert str(w["end"] or "open") in row and f"{w['h100e']:,.0f}" in row
    assert "H100e: compute delivered in the window" in out


@pytest.mark.parametrize("width", WIDTHS)
def test_compute_equiv_and_serve_tables_fit(width):
    # 2,048 H800 (989.4 BF16 TFLOP/s, 3.35 TB/s) in Ascend 910B (376 TFLOP/s, 1.6 TB/s):
    # ceil(2048 x 989.4 / 376) = 5,390 for training, ceil(2048 x 3350 / 1600) = 4,288 for decode
    out = _table(
        "compute", "equiv", "--from", "2048 H800", "--to", "Ascend 910B", "--format", "table", width=width
    )
    assert re.search(r"^training, BF16\s.*\s5,390\s", out, re.M)
    assert re.search(r"^decode, memory\s.*\s4,288\s", out, re.M)
    serve = ("compute", "serve", "--preset", "deepseek-v3", "--chip", "H100", "--chip", "H200", "--gpus", "8")
    out = _table(*serve, "--format", "table", width=width)
    # 671 GB of FP8 weights + 70,272 B x 4,096 tokens of KV cache = 671.3 GB: 8 x 80 GB x 0.9 = 576 GB
    # does not hold it, 8 x 141 GB x 0.9 = 1,015.2 GB does
    assert re.search(r"^H100\b.*\s576\s+671\.3\s+no\s", out, re.M)
    assert re.search(r"^H200\b.*\s1,015\.2\s+671\.3\s+yes\s", out, re.M)


@pytest.mark.parametrize("width", WIDTHS)
def test_compute_scenario_presets_and_train_tables_fit(width):
    out = _table("compute", "scenario", "china-2021-2026", "--format", "table", width=width)
    doc = json.loads(run_chipex("compute", "scenario", "china-2021-2026", "--json").stdout)
    from chipex.analysis.compute.figures import human

    for y in doc["years"]:
        assert re.search(rf"^{y['year']}\s.*\s{re.escape(human(y['total']))}\s", out, re.M), y["year"]
    out = _table("compute", "presets", "--format", "table", width=width)
    for rid in json.loads(run_chipex("compute", "presets", "--json").stdout)["runs"]:
        assert re.search(rf"^{re.escape(rid)}\s", out, re.M), rid
    out = _table("compute", "train", "--preset", "deepseek-v3", width=width)
    # DeepSeek-V3 Technical Report, Table 1: 2,788K H800 GPU-hours, $5.576M at $2/GPU-hour
    assert re.search(r"^total\s+2,788,000\s+\$5,576,000\s", out, re.M)


@pytest.mark.parametrize("width", WIDTHS)
def test_history_wraps_version_names_at_spaces(width):
    out = _table("history", "H20", "--format", "table", width=width)
    assert _row_line(out, "2025-04-09", "H20")  # the version that changed it, its date whole


def test_fit_drops_lowest_priority_columns_first_and_never_an_answer():
    cols = [Col("a", "date"), Col("b", "note", wrap=True, drop=1), Col("c", "extra", drop=2)]
    cells = [["2024-01-01", "a long explanation of the line", "xxxxxxxxxxxxxxxxxxxx"]]
    shown, widths = fit(cols, cells, 40)
    assert shown == [0, 1]  # 'extra' (drop 2) left out; 'note' wraps
    assert widths[0] == 10
    assert fit(cols, cells, 200)[0] == [0, 1, 2]
    assert fit(cols, cells, 8) is None  # not even the date fits: one record per block


def test_blocks_below_the_narrowest_table():
    r = run_chipex("history", "H20", "--format", "table", env={"COLUMNS": "30"})
    assert "…" not in r.stdout
    assert "ECCN:" in r.stdout and "from:" in r.stdout


def test_formats_and_the_json_synonym():
    as_json = json.loads(run_chipex("chips", "--json").stdout)
    assert as_json == json.loads(run_chipex("chips", "--format", "json").stdout)
    jl = [json.loads(x) for x in run_chipex("chips", "--format", "jsonl").stdout.splitlines()]
    assert jl == as_json
    piped = run_chipex("chips").stdout  # not a terminal: CSV by default
    rows = list(csv.DictReader(io.StringIO(piped)))
    assert [r["id"] for r in rows] == [r["id"] for r in as_json]
    h100 = next(r for r in rows if r["id"] == "nvidia-h100-sxm")
    assert float(h100["tpp"]) == next(r["tpp"] for r in as_json if r["id"] == "nvidia-h100-sxm")
    bad = run_chipex("chips", "--json", "--format", "csv")
    assert bad.returncode == 2 and "--json means --format json" in bad.stderr
    assert run_chipex("chips", "--format", "xml").returncode == 2


def test_help_shows_metavars_not_python_types():
    for cmd in ("check", "windows", "classify", "chips", "screen"):
        out = run_chipex(cmd, "--help", env={"COLUMNS": "200"}).stdout
        assert not re.search(r"<(bool|str|int|float|path|list\[.*?\])>", out), (cmd, out)
    classify = run_chipex("classify", "--help", env={"COLUMNS": "200"}).stdout
    assert re.search(r"--as-of\s+DATE", classify) and re.search(r"--catalog\s+FILE", classify)
    assert re.search(r"--json\s{3,}the same as --format json", classify)  # a flag: no placeholder
    chips = run_chipex("chips", "--help", env={"COLUMNS": "200"}).stdout
    assert "table|csv|json|jsonl" in chips and "csv when piped" in chips


def test_root_help_names_completion_reform_and_exit_codes():
    out = run_chipex("--help", env={"COLUMNS": "200"}).stdout
    assert "--install-completion" in out and "--reform" in out
    assert "Exit codes: 0 done" in out


def test_no_color_is_honoured():
    colour = re.compile(r"\x1b\[[0-9;]*(3[0-7]|9[0-7])m")
    forced = run_chipex("classify", "H100", "--as-of", "2024-01-01", env={"FORCE_COLOR": "1", "NO_COLOR": ""})
    assert colour.search(forced.stdout)  # the probe can see colour
    plain = run_chipex("classify", "H100", "--as-of", "2024-01-01", env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert not colour.search(plain.stdout)


def _story() -> str:
    from chipex.interfaces.cli.core_cmds import STORY

    return str(STORY)
