"""Licences and caps, the policy lab, chip and rule pages in a real browser (Debian's chromium via
Playwright), at 1280x800 and 390x844, with no console errors; a viewer sees no ledger form and the
API refuses the reservation anyway. Screenshots as in test_browser ($CHIPEX_SCREENSHOTS)."""

from __future__ import annotations

import httpx
from tests.web.conftest import Site
from tests.web.test_browser import new_page, shoot, sign_in

LICENCE = {
    "number": "D-WEB-1",
    "holder": "Acme Exports",
    "items": ["H100"],
    "destinations": ["AE"],
    "valid_from": "2025-01-01",
    "valid_to": "2027-12-31",
    "units": 100,
}


def _cells(page, table: str) -> dict[str, str]:
    row = page.locator(f"#{table} tbody tr").first
    return {
        k: row.locator(f"td.{k}").inner_text()
        for k in ("granted", "reserved", "shipped", "returned", "remaining")
    }


def test_officer_reserves_ships_and_reads_the_trail_and_caps(site: Site, browser, tmp_path):
    r = httpx.post(site.url + "/api/v1/ledger/licences", json=LICENCE,
                   headers={"Authorization": f"Bearer {site.keys['officer']}"})  # fmt: skip
    assert r.status_code == 200, r.text
    errors: list[str] = []
    ctx, page = new_page(browser, errors)
    sign_in(page, site, "officer")
    page.get_by_role("link", name="Licences and caps").click()
    form = page.locator("#reserve-form")
    form.get_by_label("Licence", exact=True).select_option("D-WEB-1")
    form.get_by_label("Chip or system").fill("H100")
    form.get_by_label("Units").fill("10")
    form.get_by_label("Destination (ISO code or country)").fill("AE")
    form.get_by_label("Ultimate consignee").fill("G42")
    form.get_by_label("Shipment date (empty: today)").fill("2026-06-01")
    form.get_by_role("button", name="Reserve").click()
    assert page.locator("#outcome-status").inner_text() == "Reserved"
    first = page.locator("#outcome-key").inner_text()
    # a second line, reserved and shipped at once
    form.get_by_label("Licence", exact=True).select_option("D-WEB-1")
    for label, value in (("Chip or system", "H100"), ("Units", "5"), ("Ultimate consignee", "G42"),
                         ("Destination (ISO code or country)", "AE"), ("Shipment date (empty: today)", "2026-06-02")):  # fmt: skip
        form.get_by_label(label).fill(value)
    form.get_by_label("Ship it now (reserve and ship at once)").check()
    form.get_by_role("button", name="Reserve").click()
    assert page.locator("#outcome-status").inner_text() == "Shipped"
    second = page.locator("#outcome-key").inner_text()
    # 100 granted: 10 held by the reservation, 5 shipped
    assert _cells(page, "q-D-WEB-1") == {"granted": "100", "reserved": "10", "shipped": "5", "returned": "0",
                                         "remaining": "85"}  # fmt: skip

    # a return of 2 of the shipped units re-credits them
    page.get_by_role("link", name="Licence D-WEB-1").click()
    row = page.locator(f"#reservations tr[data-key='{second}']")
    row.get_by_text("Record a return…").click()
    row.get_by_label("Units back").fill("2")
    row.get_by_label("Evidence (RMA, document id)").fill("RMA-77")
    row.get_by_label("Returned on").fill("2026-07-01")
    row.get_by_role("button", name=f"Record the return of {second}").click()
    assert page.locator("#outcome-status").inner_text() == "Returned"
    row = page.locator(f"#reservations tr[data-key='{first}']")
    row.get_by_label("Shipped on").fill("2026-06-03")
    row.get_by_role("button", name=f"Ship {first}").click()
    assert page.locator("#outcome-status").inner_text() == "Shipped"
    assert page.locator(f"#reservations tr[data-key='{first}'] .status").inner_text() == "shipped"
    assert _cells(page, "quantities") == {"granted": "100", "reserved": "0", "shipped": "15", "returned": "2",
                                          "remaining": "87"}  # fmt: skip
    kinds = page.locator("#trail td.kind").all_inner_texts()
    assert kinds == ["licence.added", "reservation.made", "reservation.made", "reservation.shipped",
                     "reservation.returned", "reservation.shipped"]  # fmt: skip
    assert "RMA-77" in page.locator("#trail").inner_text()
    shoot(page, "licence", tmp_path)

    # caps for AE in 2026: the Tier 2 country allocation (90 FR 4544) counts the licensed H100s
    page.goto(site.url + "/licences")
    page.get_by_label("Country (ISO code or name; empty: every key held)").fill("AE")
    page.get_by_label("As of (empty: today)").fill("2026-08-01")
    page.get_by_role("button", name="Show the caps").click()
    cap = page.locator("#caps-table tr[data-cap='ai-diffusion-tier2-country']")
    assert cap.locator("meter").count() == 1
    assert "AE" in cap.inner_text()
    shoot(page, "licences", tmp_path)
    assert errors == []
    ctx.close()


def test_a_viewer_sees_no_ledger_form_and_the_api_refuses(site: Site, browser):
    errors: list[str] = []
    ctx, page = new_page(browser, errors)
    sign_in(page, site, "viewer")
    page.goto(site.url + "/licences")
    assert page.locator("h1").inner_text() == "Licences and caps"
    assert page.locator("#reserve-form").count() == 0 and page.locator("form[action$='/ship']").count() == 0
    body = {"destination": "AE", "consignee": "G42", "item": "H100", "units": 1, "licence": "D-WEB-1"}
    r = httpx.post(site.url + "/api/v1/ledger/reservations", json=body,
                   headers={"Authorization": f"Bearer {site.keys['viewer']}"})  # fmt: skip
    assert r.status_code == 403 and "ledger:write" in r.json()["detail"]
    assert errors == []
    ctx.close()


def test_policy_lab_plane_tooltips_slider_and_csv(site: Site, browser, tmp_path):
    import csv
    from pathlib import Path

    errors: list[str] = []
    ctx, page = new_page(browser, errors)
    sign_in(page, site, "officer")
    page.get_by_role("link", name="Policy lab").click()
    page.get_by_label("As of (YYYY-MM-DD, or a rule version id; empty: today)").fill("2024-01-01")
    page.get_by_label("As of (YYYY-MM-DD, or a rule version id; empty: today)").press("Enter")
    assert page.locator("#lab-text").inner_text() == "3A090-2023"
    # 88 FR 73458 (in force 2023-11-17): 3A090.a.1 at TPP 4,800 or more, .a.2 at PD 5.92
    lines = page.locator("#plane .rule-label").all_text_contents()
    assert any(t.startswith("TPP 4,800: 3A090.a.1") for t in lines), lines
    assert any(t.startswith("PD 5.92: 3A090.a.2") for t in lines), lines
    h800 = page.locator("#plane a[data-chips~='nvidia-h800-sxm']")
    assert "tier-a" in h800.get_attribute("class")
    h800.hover()
    tip = page.locator("#tip")
    assert tip.is_visible()
    assert "H800 SXM (NVIDIA)" in tip.inner_text() and "3A090.a.1" in tip.inner_text()
    assert "source " in tip.inner_text()
    page.keyboard.press("Escape")
    assert tip.is_hidden()
    # keyboard: each point is a link; focusing one shows its tooltip
    h800.focus()
    assert tip.is_visible() and "H800 SXM" in tip.inner_text()
    shoot(page, "lab", tmp_path)  # the H800's tooltip showing
    h800.focus()
    page.keyboard.press("Tab")
    assert tip.is_visible() and "H800 SXM" not in tip.inner_text().split("\n")[0]

    # the CSV behind the plane: one row per chip (those drawn, and those without a density)
    with page.expect_download() as dl:
        page.locator("#dl-plane").click()
    rows = list(csv.DictReader(Path(dl.value.path()).read_text().splitlines()))
    drawn = sum(
        len(ids.split())
        for ids in page.locator("#plane a.pt").evaluate_all("els => els.map(e => e.dataset.chips)")
    )
    assert drawn == sum(1 for r in rows if r["performance_density"])
    assert {r["as_of"] for r in rows} == {"2024-01-01"}
    assert next(r for r in rows if r["id"] == "nvidia-h800-sxm")["eccn"] == "3A090.a.1"

    # one step back on the slider (keyboard): the 2023-10-23 letter, under the 2022 text, whose
    # 600 GB/s interconnect prong (87 FR 62186) the H800's 400 GB/s stays under
    page.locator("#as-of-step").focus()
    page.keyboard.press("ArrowLeft")
    page.wait_for_url(lambda url: "as_of=2023-10-23" in url)
    assert page.locator("#lab-text").inner_text() == "3A090-2022"
    assert "free" in page.locator("#plane a[data-chips~='nvidia-h800-sxm']").get_attribute("class")
    # chips link to their own page
    page.locator("#near-misses a").first.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/chips/" in url)
    assert errors == []
    ctx.close()


def test_chip_and_rule_pages_linked_from_the_check_page(site: Site, browser, tmp_path):
    errors: list[str] = []
    ctx, page = new_page(browser, errors)
    sign_in(page, site, "viewer")
    page.get_by_label("Chip or system").fill("H800")
    page.get_by_label("Quantity (units)").fill("1")
    page.get_by_label("Date (YYYY-MM-DD)").fill("2024-01-01")
    page.get_by_label("Destination (ISO code or country)").fill("CN")
    page.get_by_role("button", name="Check").click()
    page.locator("#item-link").click()
    assert page.locator("#chip-name").inner_text() == "NVIDIA H800 SXM"
    # NVIDIA's H800 datasheet: 400 GB/s NVLink, cited beside the figure
    row = page.locator("#figures tr[data-figure='interconnect gbps']")
    assert row.locator("td.value").inner_text() == "400" and "H800" in row.inner_text()
    # under the 2022 text (87 FR 62186) the 600 GB/s interconnect prong kept the H800 out of 3A090;
    # the 2023 text (88 FR 73458) dropped it: 3A090.a.1 at TPP 4,800
    assert (
        page.locator("#history tr[data-version='2023-10-23-is-informed'] td.eccn").inner_text()
        == "not controlled"
    )
    assert page.locator("#history tr[data-version='2023-11-17'] td.eccn").inner_text() == "3A090.a.1"
    shoot(page, "chip", tmp_path)
    page.locator("#history tr[data-version='2023-11-17'] a").click()
    assert "88 FR 73458" in page.locator("#rule-citation").inner_text()
    para = page.locator("#text-3A090 tr[data-paragraph='3A090.a.1']")
    assert "'total processing performance' of 4800 or more" in para.inner_text()
    # from the 2023-10-23 letter to the 2023-11-17 text, the H800 became 3A090.a.1
    h800 = page.locator("#changes tr[data-chip='nvidia-h800-sxm']")
    assert (
        h800.locator(".after").inner_text() == "3A090.a.1"
        and h800.locator(".change").inner_text() == "newly controlled"
    )
    shoot(page, "rule", tmp_path)
    page.get_by_role("link", name="previous: 2023-10-23-is-informed").click()
    assert page.locator("#version code").first.inner_text() == "2023-10-23-is-informed"
    assert errors == []
    ctx.close()


def test_a_reform_file_side_by_side(site: Site, browser, tmp_path):
    from chipex.rules import RULES_DIR

    # the shipped memory-bandwidth reform, uploaded as a file: a 3A090.a.3 for datacenter ICs of
    # 2,400 GB/s or more catches the H20 (4,000 GB/s), which the 2023 text lets through
    reform = RULES_DIR / "reforms" / "memory-bandwidth-prong-2023.yaml"
    errors: list[str] = []
    ctx, page = new_page(browser, errors)
    sign_in(page, site, "officer")
    page.goto(site.url + "/lab?as_of=2024-06-01")
    page.get_by_label("Reform file (YAML)").set_input_files(str(reform))
    page.get_by_role("button", name="Compare on 2024-06-01").click()
    assert page.locator("#reform-name").inner_text() == "A memory-bandwidth prong added in 2023"
    h20 = page.locator("#reform-changes tr[data-chip='nvidia-h20']")
    assert (
        h20.locator(".after").inner_text() == "3A090.a.3"
        and h20.locator(".change").inner_text() == "newly controlled"
    )
    assert "free" in page.locator("#plane-baseline a[data-chips~='nvidia-h20']").get_attribute("class")
    assert "tier-a" in page.locator("#plane-reformed a[data-chips~='nvidia-h20']").get_attribute("class")
    shoot(page, "lab-reform", tmp_path)
    assert errors == []
    ctx.close()
