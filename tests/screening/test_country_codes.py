"""Party countries for screening: ISO 3166 codes and names, and the part 746.6 region codes."""

from __future__ import annotations

import pytest

from chipex.errors import ChipexError
from chipex.screening.screener import country_code


def test_region_codes_screen_under_their_country():
    # an order to Crimea (UA-43) or the so-called DNR/LNR (UA-14, UA-09) screens its parties against
    # list entries whose country is Ukraine; before, such an order with a party was an error
    assert [country_code(v) for v in ("UA-43", "ua-14", "UA-09")] == ["UA", "UA", "UA"]
    assert country_code("China") == "CN" and country_code("CHN") == "CN"


def test_an_unknown_region_is_an_error_naming_the_field():
    with pytest.raises(ChipexError) as e:
        country_code("XX-99")
    assert e.value.field == "country" and "XX-99" in e.value.message
