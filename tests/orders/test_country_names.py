"""Country names in order input (issue 11 section 3): ISO codes, exact ISO names and the EAR alias table
of rules/countries.yaml only; no fuzzy matching. A region the EAR treats apart (15 CFR 746.6) is
its own code; a name that could mean several countries is an error listing them."""

from __future__ import annotations

from pathlib import Path

import pytest

from chipex.errors import ChipexError
from chipex.orders import check_book
from chipex.rules import default_rulebook


def resolve(name: str):
    return default_rulebook().countries.resolve(name)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("cn", "CN"),
        ("CHN", "CN"),  # ISO 3166-1 alpha-3
        ("China", "CN"),
        ("Hong Kong", "HK"),  # ISO name (counted as China by the rules: same_as)
        ("Macau", "MO"),  # EAR spelling; ISO writes "Macao"
        ("Macao", "MO"),
        ("Burma", "MM"),  # the EAR's name for Myanmar (740 Supp. 1)
        ("Taiwan", "TW"),
        ("South Korea", "KR"),
        ("Korea, South", "KR"),  # the EAR's spelling
        ("North Korea", "KP"),
        ("Russia", "RU"),
        ("Russian Federation", "RU"),
        ("Iran", "IR"),
        ("Islamic Republic of Iran", "IR"),  # ISO official name
        ("Syria", "SY"),
        ("UAE", "AE"),
        ("united  arab emirates", "AE"),  # case and spacing do not matter
        ("Viet Nam", "VN"),
        ("Crimea", "UA-43"),  # 15 CFR 746.6(a)(1): its own destination, not Ukraine
        ("Donetsk", "UA-14"),  # 746.6(a)(2), the so-called DNR
        ("Luhansk", "UA-09"),  # the so-called LNR
        ("Ukraine", "UA"),
    ],
)
def test_codes_iso_names_and_ear_aliases(name, code):
    assert resolve(name) == (code, None)


@pytest.mark.parametrize(
    ("name", "candidates"),
    [("Republic of China", ["TW", "CN"]), ("Korea", ["KR", "KP"])],
)
def test_ambiguous_names_are_errors_listing_the_candidates(name, candidates):
    code, why = resolve(name)
    assert code is None and "ambiguous" in why
    assert all(f"{c} (" in why for c in candidates), why


@pytest.mark.parametrize("name", ["Texas", "Paris", "Atlantis", "Chna", "Republic"])
def test_places_that_are_not_countries_are_errors(name):
    # pycountry's fuzzy search turned "Texas" into US and "Paris" into FR (issue 11)
    code, why = resolve(name)
    assert code is None and why.startswith(f"unknown country '{name}'")


def test_a_bad_country_names_file_line_and_field(tmp_path: Path):
    src = tmp_path / "o.csv"
    src.write_text(
        "date,item,quantity,destination,end_user_hq\n"
        "2024-03-01,H100,8,Taiwan,Taiwan\n"
        "2024-03-01,H100,8,Taiwan,Republic of China\n"
    )
    with pytest.raises(ChipexError) as exc:
        check_book(src, out=tmp_path / "out.parquet", screen=False)
    text = str(exc.value)
    assert str(src) in text and "line 3, field 'end_user_hq' 'Republic of China'" in text, text
    assert "TW (Taiwan), CN (China)" in text
    assert not (tmp_path / "out.parquet").exists()
