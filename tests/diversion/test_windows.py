"""The exposure windows count only items subject to the EAR and open at the first control that
could reach each chip (issue 16, part 5)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from tests.chipex_cli import run_chipex

from chipex.analysis.policy.windows import exposure_windows, load_shipments
from chipex.catalog import default_catalog
from chipex.rules import default_rulebook


@pytest.fixture(scope="module")
def cn():
    cat = default_catalog()
    rows = exposure_windows(
        catalog=cat,
        rulebook=default_rulebook(),
        destinations=["CN"],
        shipments=load_shipments(catalog=cat),
        until=dt.date(2026, 7, 1),
    )
    return {e.chip_id: e for e in rows}


def test_chinese_designed_chips_have_no_us_window(cn):
    # Ascend 910 (Huawei, 2019), BR100/BR104 (Biren), MTT S4000 (Moore Threads): designed in China.
    for chip in ("huawei-ascend-910", "biren-br100", "biren-br104", "mthreads-mtt-s4000"):
        assert chip not in cn
    r = run_chipex("windows", "--destination", "CN", "--until", "2026-07-01", "--json")
    out = json.loads(r.stdout)
    excluded = {x["chip_id"] for x in out["excluded"]}
    assert {"huawei-ascend-910", "biren-br100", "biren-br104", "mthreads-mtt-s4000"} <= excluded
    # since the catalog's designer_country: every CN-designed IC released by then, e.g. Ascend 950PR (Q1 2026)
    assert "huawei-ascend-950pr" in excluded and "huawei-ascend-950dt" not in excluded  # Q4 2026
    assert all("catalog designer_country" in x["reason"] for x in out["excluded"])
    assert out["counts"].startswith("licence-free windows of items subject to the EAR")


def test_window_opens_at_the_later_of_release_and_first_control(cn):
    # TPU v4 (released 2021-05-18): Google got no is-informed letter, so the first control that
    # could reach it is the 2022-10-07 rule, not the rulebook's first date (the 2022-08-26 letters).
    assert cn["google-tpu-v4"].windows[0].start == "2022-10-07"
    # A30 (NVIDIA, 2021): NVIDIA's 2022-08-26 letter is the first control that could reach it.
    assert cn["nvidia-a30"].windows[0].start == "2022-08-26"
    # H800 (released 2023-03-21, after every earlier control): its release; closed by the letter
    # of 2023-10-23, the rule itself on 2023-11-17.
    h800 = cn["nvidia-h800-sxm"].windows[0]
    assert (h800.start, h800.end, h800.rule_close) == ("2023-03-21", "2023-10-23", "2023-11-17")
    # Gaudi 2 (2022-05-10) was caught by the 2022-10-07 rule the day controls reached Intel: no window.
    assert not cn["intel-gaudi2"].windows
    # The A100 has no window: controlled from the first control that reached NVIDIA (its
    # pre-control sales, 2020-05-14 to 2022-08-26, were before any rule).
    assert not cn["nvidia-a100-sxm"].windows
