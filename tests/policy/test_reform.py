"""Reforms: overlays on a clone of the raw rule data, validated before anything is applied."""

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from chipex.core.classify import classify
from chipex.errors import ChipexError
from chipex.rules import build_rulebook, load_raw
from chipex.rules.reform import Reform, apply_reform, apply_reforms

REFORMS = Path(__file__).parents[2] / "src" / "chipex" / "rules" / "reforms"
SHIPPED = sorted(REFORMS.glob("*.yaml"))


def test_three_examples_are_shipped():
    assert {p.stem for p in SHIPPED} >= {
        "2023-thresholds-from-2022",
        "memory-bandwidth-prong-2023",
        "ai-diffusion-enforced",
    }


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_reform_validates_and_leaves_the_baseline_untouched(path, raw):
    before = json.dumps(raw, default=str, sort_keys=True)
    out = apply_reforms(raw, [path])
    assert json.dumps(raw, default=str, sort_keys=True) == before
    assert json.dumps(out, default=str, sort_keys=True) != before
    build_rulebook(out)


def test_reform_files_are_not_rule_files():
    assert not [k for k in load_raw() if k.startswith("reforms/")]


def test_2023_thresholds_from_2022_control_the_a800_in_mid_2023(raw, catalog, rulebook):
    reformed = build_rulebook(apply_reforms(raw, [REFORMS / "2023-thresholds-from-2022.yaml"]))
    on = dt.date(2023, 6, 1)
    assert classify("A800 SXM", on, catalog=catalog, rulebook=rulebook).eccn is None  # 400 < 600 GB/s
    # TPP 312 x 16 = 4,992 >= 4,800 under 3A090.a.1 of the 2023 text, now in force from 2022-10-07
    assert classify("A800 SXM", on, catalog=catalog, rulebook=reformed).eccn == "3A090.a.1"


def _reform(**change):
    return Reform.model_validate({"name": "t", "description": "t", "changes": [change]})


def test_unknown_id_names_itself_and_nothing_is_applied(raw):
    before = json.dumps(raw, default=str, sort_keys=True)
    bad = _reform(
        file="eccn/3A090.yaml", path=["texts", "3A090-2023", "paragraphs", "3A090.a.9"], set={"text": "x"}
    )
    with pytest.raises(ChipexError, match=r"no item '3A090\.a\.9'.*3A090\.a\.1"):
        apply_reform(raw, bad, source="bad.yaml")
    assert json.dumps(raw, default=str, sort_keys=True) == before


def test_unknown_file_and_unknown_key_are_named(raw):
    with pytest.raises(ChipexError, match=r"unknown rule file 'eccn/9Z999\.yaml'"):
        apply_reform(raw, _reform(file="eccn/9Z999.yaml", path=[], set={"x": 1}), source="r")
    with pytest.raises(ChipexError, match="no key 'textz'"):
        apply_reform(raw, _reform(file="eccn/3A090.yaml", path=["textz"], set={"x": 1}), source="r")


def test_a_reform_that_breaks_the_schema_is_refused(raw, tmp_path):
    f = tmp_path / "r.yaml"
    f.write_text(
        "name: n\ndescription: d\nchanges:\n  - file: eccn/3A090.yaml\n"
        "    path: [texts, 3A090-2023, paragraphs, 3A090.a.1, all, tpp]\n    set: {at_leest: 4000}\n"
    )
    with pytest.raises(ChipexError, match="at_leest"):
        apply_reforms(raw, [f])


def test_a_bad_reform_file_names_the_field(tmp_path, raw):
    f = tmp_path / "r.yaml"
    f.write_text("name: n\ndescription: d\nchanges: [{file: timeline.yaml, set: {}}]\nrationalle: typo\n")
    with pytest.raises(ChipexError, match="rationalle"):
        apply_reforms(raw, [f])


def test_aliased_texts_are_separate_after_cloning(raw):
    # 3A090-2024-12 and 3A090-2025-01 share one YAML anchor; a reform of one must not move the other
    r = _reform(
        file="eccn/3A090.yaml",
        path=["texts", "3A090-2024-12", "paragraphs", "3A090.a.1", "all", "tpp"],
        set={"at_least": 4000},
    )
    rb = build_rulebook(apply_reform(raw, r, source="r"))
    texts = {t.id: t for t in rb.eccns["3A090"].texts}
    bound = {
        k: next(p for p in texts[k].paragraphs[0].all if p.metric == "tpp").at_least
        for k in texts
        if k != "3A090-2022"
    }
    assert bound == {"3A090-2023": 4800, "3A090-2024-12": 4000, "3A090-2025-01": 4800}


def test_cli_takes_reform_anywhere_and_diffs_baseline_against_it():
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from chipex.interfaces.cli import main; main()",
            "diff",
            "--reform",
            str(REFORMS / "memory-bandwidth-prong-2023.yaml"),
            "2024-06-01",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    d = json.loads(out.stdout)
    h20 = next(c for c in d["changes"] if c["chip_id"] == "nvidia-h20")
    assert (h20["before"], h20["after"]) == (None, "3A090.a.3")  # H20: 4,000 GB/s >= 2,400
    assert all(c["change"] == "newly controlled" for c in d["changes"])


def test_cli_bad_reform_is_one_line_exit_2(tmp_path):
    f = tmp_path / "r.yaml"
    f.write_text(
        "name: n\ndescription: d\nchanges:\n  - {file: timeline.yaml, path: [versions, nope], remove: true}\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", "from chipex.interfaces.cli import main; main()", "rules", f"--reform={f}"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "no item 'nope'" in out.stderr
