"""Exposure windows through the order checker, shipment estimates, and charts."""

import datetime as dt

import numpy as np
import pytest

from chipex.analysis.policy import charts
from chipex.analysis.policy.windows import SHIPMENTS_FILE, exposure_windows, load_shipments


@pytest.fixture(scope="module")
def exposures():
    from chipex.catalog import default_catalog
    from chipex.rules import load_rulebook

    cat = default_catalog()
    rows = exposure_windows(
        catalog=cat,
        rulebook=load_rulebook(),
        destinations=["CN"],
        shipments=load_shipments(catalog=cat),
        until=dt.date(2026, 1, 1),
        chips=["H800 SXM", "A800 SXM", "H20", "H100 SXM"],
    )
    return {e.chip_id: e for e in rows}


def test_h800_to_china_launch_to_letter_with_the_rule_date_shown(exposures):
    [w] = exposures["nvidia-h800-sxm"].windows
    assert (w.start, w.end) == ("2023-03-21", "2023-10-23")  # Reuters launch report; NVIDIA 8-K letter
    assert w.closed_by == ["nvidia-2023-10-23?"] and w.rule_close == "2023-11-17"
    # 10,000 H800 (SemiAnalysis, estimate) over 2023-03-21..2023-11-16 (241 days): 216 days in the window
    assert w.units == pytest.approx(10000 * 216 / 241, abs=0.1)
    assert w.h100e == pytest.approx(w.units, abs=0.1)  # same TPP as the H100


def test_a800_window_and_delivered_compute(exposures):
    [w] = exposures["nvidia-a800-sxm"].windows
    assert (w.start, w.end) == ("2022-11-08", "2023-10-23")
    # 100,000 A800 ordered for 2023 (FT): 2023-01-01..2023-10-22 is 295 of 365 days; TPP 4,992 / 15,831.2
    assert w.units == pytest.approx(100000 * 295 / 365, abs=0.1)
    assert w.h100e == pytest.approx(w.units * 4992 / 15831.2, abs=0.2)


def test_h20_until_the_2025_letter_and_h100_never(exposures):
    [w] = exposures["nvidia-h20"].windows
    assert (w.start, w.end) == ("2024-02-01", "2025-04-09")
    assert exposures["nvidia-h100-sxm"].windows == []  # released 2022-09-20, after the 2022-08-26 letter


def test_every_shipment_figure_is_a_cited_estimate(catalog):
    ships = load_shipments(SHIPMENTS_FILE, catalog)
    assert ships and all(s.confidence == "estimate" and len(s.source) > 20 for s in ships)


def test_tier_map_shades_the_2023_regions(rulebook):
    text = rulebook.eccns["3A090"].in_force(dt.date(2024, 1, 1))
    tpp = np.array([5000.0, 2368.0, 2500.0, 1700.0])
    pd = np.array([1.0, 2.91, 3.0, 6.0])
    # a.1 (TPP >= 4800) / outside (the H20 point) / b.1 / a.2 (TPP >= 1600 and PD >= 5.92)
    assert charts.tier_map(text, tpp, pd).tolist() == [2, 0, 1, 2]


def test_charts_render(tmp_path, catalog, rulebook, exposures):
    paths = [
        charts.plane_chart(catalog, rulebook, dt.date(2024, 6, 1), [], tmp_path / "a.png"),
        charts.timeline_chart(catalog, rulebook, tmp_path / "b.png"),
        charts.windows_chart(list(exposures.values()), dt.date(2026, 1, 1), tmp_path / "c.png"),
    ]
    for p in paths:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 10000
