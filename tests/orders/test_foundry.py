"""Foundry/OSAT due diligence: the transistor-count presumption of Note 1 to 3A090.a (90 FR 5298)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from chipex.catalog import default_catalog
from chipex.core.foundry import presumption
from chipex.orders import check_order
from chipex.rules import default_rulebook

RB = default_rulebook()


def test_transistor_count_levels_by_year_as_printed():
    # Note 1.b/c: below 30 billion; without HBM below 35 billion for exports completed in 2027 and
    # 40 billion in 2029 or later (the printed text names no 2028 level). A 33-billion GDDR chip:
    gddr = default_catalog().get("nvidia-rtx-pro-6000")
    chip = gddr.model_copy(
        update={"transistors_billion": gddr.transistors_billion.model_copy(update={"value": Decimal(33)})}
    )
    assert ">= 30 billion" in presumption(RB.foundry, chip, dt.date(2026, 6, 1), "3A991.p")
    # 2027: 33 < 35, so the attestation overcomes the presumption
    assert "< 35 billion" in presumption(RB.foundry, chip, dt.date(2027, 6, 1), "3A991.p")
    assert ">= 30 billion" in presumption(RB.foundry, chip, dt.date(2028, 6, 1), "3A991.p")
    assert "< 40 billion" in presumption(RB.foundry, chip, dt.date(2029, 1, 2), "3A991.p")
    # with HBM only the 30 billion level counts, every year
    hbm = chip.model_copy(update={"memory_type": "HBM3e"})
    assert ">= 30 billion" in presumption(RB.foundry, hbm, dt.date(2029, 1, 2), "3A991.p")
    # compliance date 2025-01-31 (90 FR 5298): nothing before it
    assert presumption(RB.foundry, chip, dt.date(2025, 1, 30), "3A991.p") == ""


def test_a_foundry_order_carries_the_presumption_and_others_do_not():
    # RTX PRO 6000: 92.2 billion transistors (GB202), 3A090.a.1 already: the presumption is moot
    kw = dict(date="2027-03-01", item="RTX PRO 6000", quantity=10, destination="SG")
    d = check_order(exporter_role="foundry", **kw)
    assert len(d["advisories"]) == 1 and "classifies it 3A090.a anyway" in d["advisories"][0]
    assert "Note 1 to 3A090.a" in d["advisories"][0]
    assert check_order(exporter_role="other", **kw)["advisories"] == []
    assert check_order(**kw)["advisories"] == []
    # the H20 (3A991.p) has no transistor count in the catalog: only a designer's attestation helps
    d = check_order(exporter_role="OSAT", **{**kw, "item": "H20"})
    assert "transistor count is not known" in d["advisories"][0]
