"""The chip catalog: sources on every figure, forgiving names, user overrides, clear errors."""

from __future__ import annotations

import pytest

from chipex.catalog import load_catalog, normalize_name
from chipex.core.classify import measure
from chipex.errors import ChipexError, UnknownChipError


def test_at_least_fifty_accelerators_with_the_story_chips(catalog):
    chips = [c for c in catalog if c.kind == "chip"]
    assert len(chips) >= 50
    for name in [
        "V100",
        "A100",
        "A100 PCIe",
        "A800",
        "A30",
        "A40",
        "A10",
        "H100",
        "H100 PCIe",
        "H100 NVL",
        "H800",
        "H800 PCIe",
        "H20",
        "L20",
        "L2",
        "L4",
        "L40",
        "L40S",
        "H200",
        "B100",
        "B200",
        "GB200",
        "B300",
        "RTX 4080",
        "RTX 4090",
        "RTX 4090D",
        "RTX 5090",
        "RTX 5090D",
        "RTX 6000 Ada",
        "MI100",
        "MI210",
        "MI250X",
        "MI300X",
        "MI308X",
        "MI325X",
        "MI355X",
        "Gaudi 2",
        "HL-225B",
        "Gaudi 3",
        "TPU v4",
        "TPU v5e",
        "TPU v5p",
        "TPU v6e",
        "Ascend 910",
        "Ascend 910B",
        "Ascend 910C",
        "BR100",
        "Trainium",
    ]:
        assert catalog.find(name) is not None, name


def test_every_figure_has_a_source_and_confidence(catalog):
    for chip in catalog:
        figures = [chip.datacenter, chip.released, *chip.dense_tops.values()]
        figures += [
            chip.die_area_mm2,
            chip.interconnect_gbps,
            chip.memory_bandwidth_gbps,
            chip.memory_gb,
            chip.tdp_w,
        ]
        for f in figures:
            if f is None:
                continue
            assert f.confidence in ("published", "secondary", "estimate")
            # a key of the file's sources map, or a citation written out
            assert f.source in chip.sources or len(f.source) > 12, (chip.id, f.source)


def test_stored_tpp_agrees_with_tpp_recomputed_from_the_figures(catalog):
    for chip in catalog:
        if chip.tpp_published is None or chip.tpp_published.value is None or chip.kind == "system":
            continue
        computed = measure(chip).tpp
        assert computed is not None, chip.id
        # published TPPs are rounded figures (e.g. 15,832 for 15,831.2): within 0.5 %
        assert abs(float(computed) - float(chip.tpp_published.value)) <= 0.005 * float(
            chip.tpp_published.value
        ), chip.id


@pytest.mark.parametrize("name", ["h800", "H800 SXM", "NVIDIA H800 SXM5", "nvidia-h800-sxm"])
def test_names_resolve_forgivingly(catalog, name):
    assert catalog.get(name).id == "nvidia-h800-sxm"


def test_ambiguous_name_lists_candidates(catalog):
    with pytest.raises(UnknownChipError) as exc:
        catalog.get("HGX H20")
    assert "HGX H20 8-GPU" in str(exc.value) and "H20" in exc.value.candidates


def test_unknown_name_is_a_clear_error(catalog):
    with pytest.raises(UnknownChipError, match="unknown chip 'Z9000'"):
        catalog.get("Z9000")


def test_normalisation_drops_vendor_and_form_factor_digits():
    assert normalize_name("NVIDIA H800 SXM5") == normalize_name("h800 sxm") == "h800sxm"


def test_user_file_adds_and_overrides_without_touching_the_package(tmp_path):
    user = tmp_path / "mine.yaml"
    user.write_text(
        """
chips:
  - id: nvidia-h20
    name: H20
    vendor: NVIDIA
    family: H20
    datacenter: {value: true, source: "my own test sheet", confidence: estimate}
    dense_tops:
      fp16: {value: 160, source: "my own test sheet", confidence: estimate}
  - id: acme-x1
    name: Acme X1
    vendor: Acme
    family: X1
    datacenter: {value: true, source: "Acme datasheet 2026", confidence: published}
    dense_tops:
      fp8: {value: 700, source: "Acme datasheet 2026", confidence: published}
"""
    )
    cat = load_catalog([user], with_env=False)
    assert cat.get("Acme X1").id == "acme-x1"
    assert float(measure(cat.get("H20")).tpp) == 2560.0  # 160 x 16, the override wins
    assert cat.origin["nvidia-h20"] == str(user)


def test_bad_record_names_file_record_and_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        """
chips:
  - id: acme-x2
    name: Acme X2
    vendor: Acme
    family: X2
    datacenter: {value: true, source: "Acme datasheet", confidence: published}
    dense_tops:
      fp16: {value: -5, source: "Acme datasheet", confidence: published}
"""
    )
    with pytest.raises(ChipexError) as exc:
        load_catalog([bad], with_env=False)
    msg = str(exc.value)
    assert str(bad) in msg and "acme-x2" in msg and "dense_tops.fp16" in msg and "negative" in msg


def test_figure_without_source_is_rejected(tmp_path):
    bad = tmp_path / "nosource.yaml"
    bad.write_text(
        "chips:\n  - {id: acme-x3, name: X3, vendor: Acme, family: X3, datacenter: {value: true, confidence: published}}\n"
    )
    with pytest.raises(ChipexError, match=r"datacenter\.source"):
        load_catalog([bad], with_env=False)
