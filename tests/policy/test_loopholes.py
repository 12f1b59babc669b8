"""Loophole search: the 2022 interconnect leak and the 2023 memory-bandwidth leak, with reforms."""

import datetime as dt

import pytest

from chipex.analysis.policy import loopholes as lh
from chipex.core.classify import classify
from chipex.rules import build_rulebook
from chipex.rules.reform import Reform, apply_reform


def test_training_model_h800_equals_h100(catalog):
    # DeepSeek trained on H800s at full compute: the model takes the H800 as interconnect-balanced, so it
    # keeps 100% of the H100's training usefulness (989.4 TFLOPS at 16 bits, fig 0.1)
    m = lh.model("training", catalog)
    assert lh.usefulness(catalog.get("H800 SXM"), m, catalog) == pytest.approx(1.0)
    assert m.rate(lh.spec_of(catalog.get("H100 SXM")))[0] == pytest.approx(15831.2 / 16)


def test_inference_model_h20_beats_h100_on_decode(catalog):
    # decode is memory-bound: usefulness ratio = 4,000 / 3,350 GB/s (datasheets)
    m = lh.model("inference", catalog)
    assert lh.usefulness(catalog.get("H20"), m, catalog) == pytest.approx(4000 / 3350, rel=1e-6)


@pytest.fixture(scope="module")
def leak_2022():
    from chipex.catalog import default_catalog
    from chipex.rules import load_raw, load_rulebook

    on = dt.date(2022, 10, 7)
    return lh.loopholes(
        on,
        raw=load_raw(),
        catalog=default_catalog(),
        rulebook=load_rulebook(),
        objective="training",
        bounds_on=on,
    )


def test_2022_leak_is_full_compute_with_interconnect_just_under_600(leak_2022):
    lp = leak_2022
    assert lp.spec["ic"] == pytest.approx(599)  # "600 Gbyte/s or more", resolution 1 GB/s
    assert lp.spec["tpp"] == pytest.approx(lp.bounds["tpp"]["hi"])  # TPP at the catalog maximum
    assert [e.fails for e in lp.escapes] == [["interconnect_gbps 599: >= 600 no"]]
    assert lp.classified_as is None and lp.usefulness_h100e >= 1.0
    assert "tpp" in lp.leak_metrics and "interconnect_gbps" in lp.leak_metrics


def test_2022_reform_closes_it_without_touching_consumer_chips(leak_2022, catalog, rulebook, raw):
    lp = leak_2022
    assert lp.reform is not None and lp.reform_effect["consumer_changed"] == []
    assert lp.reform_effect["after_h100e"] <= 0.5 * lp.usefulness_h100e
    rb = build_rulebook(apply_reform(raw, Reform.model_validate(lp.reform), source="proposal"))
    on = dt.date(2022, 10, 7)
    assert classify(lh.design_chip(lp.spec, True), on, catalog=catalog, rulebook=rb).eccn is not None
    # applied from 2022, it catches the H800 (400 GB/s) at its launch
    assert classify("H800 SXM", dt.date(2023, 3, 21), catalog=catalog, rulebook=rb).eccn is not None


@pytest.fixture(scope="module")
def leak_2023():
    from chipex.catalog import default_catalog
    from chipex.rules import load_raw, load_rulebook

    on = dt.date(2024, 6, 1)
    return lh.loopholes(
        on,
        raw=load_raw(),
        catalog=default_catalog(),
        rulebook=load_rulebook(),
        objective="inference",
        bounds_on=on,
    )


def test_2023_leak_is_the_h20_path(leak_2023):
    lp = leak_2023
    assert lp.text == "3A090-2023"
    assert lp.spec["tpp"] < 2400 and lp.performance_density < 3.2  # under 3A090.b.1 and 3A090.b.2
    assert lp.spec["mbw"] == pytest.approx(lp.bounds["mbw"]["hi"])  # memory bandwidth at the catalog maximum
    assert lp.leak_metrics == ["memory_bandwidth_gbps"] and lp.binding == ["memory bandwidth"]
    assert lp.usefulness_h100e > 2  # 8,000 vs 3,350 GB/s decode


def test_2023_reform_is_a_memory_bandwidth_paragraph_that_catches_the_h20(leak_2023, catalog, raw):
    lp = leak_2023
    assert lp.reform is not None and lp.reform_effect["consumer_changed"] == []
    prongs = lp.reform["changes"][0]["add"]["all"]
    assert {"metric": "datacenter", "is": True} in prongs
    assert any(p["metric"] == "memory_bandwidth_gbps" for p in prongs)
    assert "nvidia-h20" in lp.reform_effect["newly_controlled"]
    rb = build_rulebook(apply_reform(raw, Reform.model_validate(lp.reform), source="proposal"))
    assert classify("H20", dt.date(2024, 6, 1), catalog=catalog, rulebook=rb).eccn is not None


def test_2023_training_has_no_leak_beyond_compute(catalog, rulebook, raw):
    on = dt.date(2024, 6, 1)
    lp = lh.loopholes(on, raw=raw, catalog=catalog, rulebook=rulebook, objective="training", bounds_on=on)
    assert lp.binding == ["compute (TPP/16)"] and lp.leak_metrics == [] and lp.reform is None
    assert lp.spec["tpp"] < 2400
