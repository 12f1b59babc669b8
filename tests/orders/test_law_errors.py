"""The licence errors of issue 10, each against the regulation's text (cited per test).

Texts read: eCFR 2026-07-23 (../shared/data/ecfr-2026-07-23/ccl.json, ECCN 3A090 License
Requirements); 15 CFR 744.23 as of 88 FR 73495 (2023-10-25) and as amended at 89 FR 23886
(2024-04-04), GitHub MichalOpoka/ecfr part-744/section-744.23.md (commits 72c1e58 and 2c9f73e).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chipex.orders import check_order

ROOT = Path(__file__).resolve().parents[2]
# ../shared beside the checkout (or beside the worktrees' folder)
ECFR = (
    next(
        (p for p in (ROOT.parent / "shared", ROOT.parent.parent / "shared") if p.exists()),
        ROOT.parent / "shared",
    )
    / "data"
    / "ecfr-2026-07-23"
)


def rules(d):
    return [r["rule"] for r in d["reasons"]]


def excs(d):
    return {e["id"] for e in d["exceptions"]}


def test_the_snapshot_names_the_uae_beside_the_group_exclusion():
    # the text the next test relies on: 3A090 RS "b" reads "To or within the United Arab Emirates or ..."
    if not ECFR.exists():
        pytest.skip("../shared/data not present")
    entry = next(e for e in json.loads((ECFR / "ccl.json").read_text())["entries"] if e["eccn"] == "3A090")
    assert "United Arab Emirates" in json.dumps(entry)


@pytest.mark.parametrize(("item", "rule"), [("L40", "d145-b-2026"), ("H100", "d145-a-enforced-2026")])
def test_a_country_named_beside_the_group_exclusion_stays_in(item, rule):
    # eCFR 2026-07-23, 3A090 License Requirements, RS "b": "To or within the United Arab Emirates or
    # destinations specified in Country Groups D:1, D:4, and D:5 ..., excluding any destination also
    # specified in Country Groups A:5 or A:6" -- the UAE is in A:5, named explicitly all the same.
    uae = check_order(date="2026-08-01", item=item, quantity=1, destination="AE")
    assert uae["license_required"] and rules(uae) == [rule]
    # another A:5 country is still excluded
    for other in ("GB", "JP"):
        assert not check_order(date="2026-08-01", item=item, quantity=1, destination=other)[
            "license_required"
        ]


def test_aia_only_for_entities_headquartered_in_a_supp5a_destination():
    # 15 CFR 740.27(a) (90 FR 4544): AIA is for entities located in Supp. 5(a) destinations "unless the
    # entity is headquartered outside of, or has an ultimate parent company headquartered outside of",
    # one. Japan is Tier 1, India is not (fact sheet 5.2.2).
    kw = dict(date="2025-06-01", item="H100", quantity=8, destination="JP", regime="as-printed")
    india = check_order(end_user_hq="IN", **kw)
    assert india["license_required"] and "AIA" not in excs(india)
    assert "AIA" not in excs(check_order(end_user_hq="JP", parent_hq="IN", **kw))
    assert "AIA" in excs(check_order(end_user_hq="JP", **kw))
    # headquarters not given: AIA is listed, with the headquarters among what is still missing
    unknown = check_order(**kw)
    aia = next(e for e in unknown["exceptions"] if e["id"] == "AIA")
    assert "end user's headquarters" in aia["missing"]


def test_case_by_case_after_april_2024_except_datacenter_3a090a():
    # 89 FR 23876 (2024-04-04): case-by-case for 3A090/4A090 items except those designed or marketed
    # for use in a datacenter and meeting 3A090.a (same carve-out in 744.23(d)(3)(i), 89 FR 23886).
    # L40: a datacenter part classified 3A090.b.
    l40 = check_order(date="2024-07-01", item="L40", quantity=1, destination="CN")
    assert l40["eccn"].startswith("3A090.b") and l40["policy"]["policy"] == "case-by-case"
    # before the amendment: presumption of denial (88 FR 73458)
    assert check_order(date="2024-03-01", item="L40", quantity=1, destination="CN")["policy"]["policy"] == (
        "presumption of denial"
    )
    # a datacenter 3A090.a part stays presumption of denial
    h100 = check_order(date="2024-07-01", item="H100", quantity=1, destination="CN")
    assert h100["policy"]["policy"] == "presumption of denial"


def test_headquartered_in_rule_policy_follows_744_23_d():
    # 744.23(d) as of 88 FR 73495: denial for Macau/D:5 *destinations*; approval for end users
    # headquartered in the US or A:5/A:6 (not majority-owned from Macau/D:5); all others case-by-case.
    kw = dict(date="2024-03-01", quantity=1, destination="MY")
    d = check_order(item="H100", end_user_hq="CN", **kw)
    assert rules(d) == ["hq-744.23a3"] and d["policy"]["policy"] == "case-by-case"
    d = check_order(item="H100", end_user_hq="JP", parent_hq="CN", **kw)
    assert d["policy"]["policy"] == "presumption of approval" and "majority-owned" in d["policy"]["note"]
    # as amended at 89 FR 23886: (d)(1) denial for Macau/D:5-headquartered entities unless (d)(2)
    # approval or (d)(3)(i) case-by-case (all but datacenter 3A090.a items) applies
    kw["date"] = "2024-07-01"
    assert check_order(item="H100", end_user_hq="CN", **kw)["policy"]["policy"] == "presumption of denial"
    assert check_order(item="L40", end_user_hq="CN", **kw)["policy"]["policy"] == "case-by-case"
    assert check_order(item="L40", end_user_hq="JP", parent_hq="CN", **kw)["policy"]["policy"] == (
        "presumption of approval"
    )


@pytest.mark.parametrize("date", ["2024-03-01", "2024-07-01", "2026-08-01"])
def test_a_delivery_inside_the_united_states_is_not_an_export(date):
    # 15 CFR 734.13(a): an export is a shipment or transmission "out of the United States"; 744.23(a)(3)
    # and 742.6(a)(6)(iii)(A) (BIS guidance 2026-05-31: "all destinations outside the United States")
    us = check_order(date=date, item="H100", quantity=1, destination="US", end_user_hq="CN")
    assert not us["license_required"]
    assert check_order(date=date, item="H100", quantity=1, destination="MY", end_user_hq="CN")[
        "license_required"
    ]


def test_an_is_informed_letter_by_headquarters_does_not_reach_a_us_delivery():
    # NVIDIA 8-K (2025-04-15): licence to export the H20 to China/D:5 "or to companies headquartered"
    # there; a delivery inside the US is no export (734.13), so the letter does not reach it
    kw = dict(date="2025-06-01", item="H20", quantity=1, end_user_hq="CN", exporter="NVIDIA")
    assert not check_order(destination="US", **kw)["license_required"]
    assert check_order(destination="MY", **kw)["license_required"]


def test_no_licence_exception_overcomes_the_headquartered_in_rule_as_first_printed():
    # 744.23(c) as of 88 FR 73495: "No license exceptions may overcome the prohibition described in
    # paragraph (a)"; from 89 FR 23886 (a)(3)(i) may be overcome by those of 740.2(a)(9)(ii) (NAC).
    # RTX 4090: 3A090.a but not a datacenter item, so NAC's own terms would allow it.
    kw = dict(item="RTX 4090", quantity=1, destination="MY", end_user_hq="CN")
    before = check_order(date="2024-03-01", **kw)
    assert before["license_required"] and excs(before) == set()
    assert excs(check_order(date="2024-07-01", **kw)) == {"NAC"}


# ---- every answer states its scope (issue 10, "Answers state their scope"; rules/scope.yaml) ----


def test_every_answer_states_what_it_checked_and_what_not():
    free = check_order(date="2026-08-01", item="H100", quantity=1, destination="JP")
    assert not free["license_required"]
    assert any(c.startswith("chipex rule data") and "(" in c for c in free["checked"])
    assert any("742.6(a)(6)" in c for c in free["checked"])
    # the headquartered-in rule was not checked: no headquarters given
    assert any(
        "headquartered-in" in c and "no end user hq or parent hq given" in c for c in free["not_checked"]
    )
    assert any("744.6" in c for c in free["not_checked"]) and any("IaaS" in c for c in free["not_checked"])
    with_hq = check_order(date="2026-08-01", item="H100", quantity=1, destination="JP", end_user_hq="JP")
    assert any("headquartered-in" in c for c in with_hq["checked"])


def test_a_us_delivery_names_the_deemed_export_question():
    # 15 CFR 734.13(b): releasing technology or source code to a foreign person in the US is an export
    d = check_order(date="2026-08-01", item="H100", quantity=1, destination="US", end_user_hq="CN")
    assert any("deemed export" in x for x in d["depends_on"])
    assert not any(
        "deemed export" in x
        for x in check_order(date="2026-08-01", item="H100", quantity=1, destination="JP")["depends_on"]
    )


def test_a_book_carries_the_scope_on_every_line(tmp_path):
    from chipex.orders import check_book

    src = tmp_path / "o.csv"
    src.write_text(
        "date,item,quantity,destination,end_user_hq\n2024-07-01,H100,1,MY,CN\n2024-07-01,L4,1,FR,\n"
    )
    rows = check_book(src, screen=False).results.to_pylist()
    for r in rows:
        assert "742.6(a)(6)" in r["checked"] and "744.6" in r["not_checked"]
    assert "headquartered-in" in rows[0]["checked"] and "headquartered-in" in rows[1]["not_checked"]


def test_one_order_prints_its_scope_in_the_terminal():
    from tests.chipex_cli import run_chipex

    r = run_chipex(  # piped output is CSV by default: ask for the terminal's explanation
        "check", "--item", "L4", "--quantity", "1", "--to", "FR", "--date", "2026-08-01", "--no-screen",
        "--format", "table",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    out = r.stdout.replace("\n", " ")
    assert "checked: chipex rule data" in out and "not checked: " in out and "744.6" in out


# ---- rule data by confidence (`chipex rules --confidence`, README) ----


def test_confidence_counts_match_the_data_and_the_readme():
    from tests.chipex_cli import run_chipex

    from chipex.rules import default_rulebook

    r = run_chipex("rules", "--confidence", "--json")
    assert r.returncode == 0, r.stderr
    rows = {x["rules"]: x for x in json.loads(r.stdout)}
    rb = default_rulebook()
    versions = rows["rule versions (timeline.yaml)"]
    assert versions["total"] == len(rb.versions)
    assert versions["verified"] == sum(v.confidence == "verified" for v in rb.versions)
    policies = rows["licence review policies"]
    assert policies["from-memory"] == sum(p.confidence == "from-memory" for p in rb.licensing.policies)
    # the README table is this output
    readme = (ROOT / "README.md").read_text()
    table = readme.split("<!-- confidence-counts -->")[1].split("<!-- /confidence-counts -->")[0]
    for name, row in rows.items():
        cells = f"| {name} | {row['verified']} | {row['secondary']} | {row['from-memory']} | {row['total']} |"
        assert cells in table, f"README confidence table out of date: run chipex rules --confidence ({name})"


def test_nac_and_aca_only_where_740_8_a_allows_them():
    # 740.8(a) as of 89 FR 23884: NAC to Macau/D:5 or an entity headquartered there, wherever located;
    # ACA to or within D:1/D:4 other than Macau/D:5. The UAE (A:5 in 2026, named in 3A090.b) is neither.
    uae = check_order(date="2026-08-01", item="L40", quantity=1, destination="AE")
    assert uae["license_required"] and excs(uae) == set()
    assert "ACA" in excs(check_order(date="2024-07-01", item="L40", quantity=1, destination="SA"))
    assert excs(check_order(date="2024-07-01", item="L40", quantity=1, destination="CN")) == {"NAC"}
