"""The web UI in a real browser (Debian's chromium via Playwright): an officer signs in (Enter
submits), checks an order and reads its answer, records it and downloads its PDF report, proposes
clearing an Entity List hit that a second officer confirms (four eyes), uploads the story book and
waits for the job, verifies the audit chain; a viewer sees no record box and the API
refuses the recording anyway. Screenshots at 1280x800 and 390x844 go to the test's tmp dir (and to
$CHIPEX_SCREENSHOTS, e.g. docs/screenshots, when set)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import httpx
import pytest
from tests.web.conftest import Site, needs_pdf

ROOT = Path(__file__).resolve().parents[2]
STORY = ROOT / "src" / "chipex" / "examples" / "orders-story.csv"
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}


def shoot(page, name: str, tmp_path: Path) -> None:
    out = [tmp_path]
    if os.environ.get("CHIPEX_SCREENSHOTS"):
        out.append(Path(os.environ["CHIPEX_SCREENSHOTS"]))
    for label, (w, h) in SIZES.items():
        page.set_viewport_size({"width": w, "height": h})
        for d in out:
            d.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(d / f"{name}-{label}.png"), full_page=label == "desktop")
    page.set_viewport_size({"width": 1280, "height": 800})


def new_page(browser, errors: list[str]):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    page = ctx.new_page()
    page.on(
        "console",
        lambda m: errors.append(f"console {m.type}: {m.text} {m.location}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.set_default_timeout(60_000)
    return ctx, page


def sign_in(page, site: Site, role: str) -> None:
    page.goto(site.url + "/check")  # not signed in: sent to the sign-in page
    assert "/signin" in page.url
    key = page.get_by_label("API key")
    key.fill(site.keys[role])
    key.press("Enter")  # the keyboard submits the form
    page.wait_for_url(lambda url: url.endswith("/check"))


def test_officer_checks_records_reports_uploads_and_audits(site: Site, browser, tmp_path):
    from pypdf import PdfReader

    needs_pdf()

    errors: list[str] = []
    ctx, page = new_page(browser, errors)
    shoot_dir = tmp_path / "screenshots"
    page.goto(site.url + "/signin")
    shoot(page, "signin", shoot_dir)
    sign_in(page, site, "officer")

    # check an order: H100 x 8 to China on 2024-01-01, end user named in Chinese
    page.get_by_label("Chip or system").fill("H100")
    page.get_by_label("Quantity (units)").fill("8")
    page.get_by_label("Date (YYYY-MM-DD)").fill("2024-01-01")
    page.get_by_label("Destination (ISO code or country)").fill("CN")
    page.get_by_label("End user", exact=True).fill("华为技术有限公司")
    page.get_by_label("Record in the audit chain").check()
    page.get_by_role("button", name="Check").click()
    # 15 CFR 742.6(a)(6)(iii) (88 FR 73458): 3A090.a items to D:1/D:4/D:5 need a licence; the H100's
    # TPP is 15,831 (1,979 dense FP8 TFLOPS x 8 bits), over 3A090.a.1's 4,800
    assert page.locator("#answer").inner_text() == "Licence required"
    assert page.locator("#eccn").inner_text() == "3A090.a.1"
    assert "742.6(a)(6)(iii)" in page.locator("#reasons").inner_text()
    assert "4,800" in page.locator("#classification").inner_text()
    did = page.locator("#determination-id").inner_text()
    shoot(page, "check", shoot_dir)

    # the report: HTML, then the PDF's text
    page.locator("#report-link").click()
    event_hash = page.locator("#event-hash").inner_text()
    assert len(event_hash) == 64
    assert "officer-user" in page.locator("#record").inner_text()
    shoot(page, "report", shoot_dir)
    with page.expect_download() as dl:
        page.locator("#report-pdf").click()
    pdf = Path(dl.value.path()).read_bytes()
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    for expected in (did, event_hash, "3A090.a.1", "88 FR 73458", "742.6(a)(6)(iii)", "华为技术有限公司"):
        assert expected in text.replace("\n", ""), expected

    # the review queue: the Chinese name matched Huawei's Entity List entries; clearing one takes
    # a second officer
    page.goto(site.url + "/reviews")
    first = page.locator("section.review").first
    entry = first.locator("code").first.inner_text()
    assert "Entity List" in first.inner_text()
    first.get_by_label("Clear it (false positive)").check()
    first.get_by_label("Reason").fill("a different company of that name")
    first.get_by_role("button", name="Decide").click()
    assert "needs a second officer" in page.locator("#review-outcome").inner_text()
    shoot(page, "reviews", shoot_dir)
    ctx2, page2 = new_page(browser, errors)
    sign_in(page2, site, "second-officer")
    page2.goto(site.url + "/reviews")
    pending = page2.locator("section.review").filter(has_text="Clearance proposed by officer-user").first
    assert entry in pending.inner_text()
    pending.get_by_label("Clear it (false positive)").check()
    pending.get_by_label("Reason").fill("address and registration number differ")
    pending.get_by_role("button", name="Confirm the clearance").click()
    assert "cleared by officer-user and second-officer" in page2.locator("#review-outcome").inner_text()
    assert "clear_confirmed" in page2.locator("#review-history").inner_text()
    ctx2.close()

    # upload the story book and wait for the job
    page.goto(site.url + "/books")
    page.set_input_files("#book-file", str(STORY))
    page.get_by_role("button", name="Check the book").click()
    page.locator("#job-status", has_text="done").wait_for(timeout=120_000)
    lines = len(STORY.read_text().splitlines()) - 1
    assert f"{lines} lines" in page.locator("#counts").inner_text()
    assert "CN" in page.locator("#summary").inner_text()
    page.get_by_label("Filter the rows").fill("H20")
    visible = page.locator("#results-table tbody tr:visible").count()
    assert 0 < visible < lines
    with page.expect_download() as dl:
        page.locator("#dl-csv").click()
    assert len(Path(dl.value.path()).read_text().splitlines()) == lines + 1
    page.get_by_label("Filter the rows").fill("")
    shoot(page, "book", shoot_dir)

    # audit: the chain verifies and holds the recorded determination
    page.goto(site.url + "/audit")
    assert page.locator("#verify-result").inner_text().startswith("The chain verifies")
    shoot(page, "audit", shoot_dir)
    assert errors == []
    ctx.close()


def test_viewer_sees_no_record_box_and_the_api_refuses(site: Site, browser, tmp_path):
    errors: list[str] = []
    ctx, page = new_page(browser, errors)
    sign_in(page, site, "viewer")
    assert page.locator("#f-record").count() == 0
    assert page.get_by_label("Screen the parties").is_checked()
    r = httpx.post(
        site.url + "/api/v1/check",
        json={"date": "2024-01-01", "item": "H100", "quantity": 8, "destination": "CN", "record": True},
        headers={"Authorization": f"Bearer {site.keys['viewer']}"},
    )
    assert r.status_code == 403 and "record" in r.json()["detail"]
    assert errors == []
    ctx.close()


def test_a_viewer_signs_in_with_a_password_and_the_role_still_holds(site: Site, browser, tmp_path):
    from chipex.service import users

    password = "viewer's long passphrase"
    users.set_password("viewer-user", password, db=site.db)
    errors: list[str] = []
    ctx, page = new_page(browser, errors)
    page.goto(site.url + "/audit")  # not signed in: sent to the sign-in page, then back here
    assert "/signin" in page.url
    page.get_by_label("User name").fill("viewer-user")
    page.get_by_label("Password").fill(password + "x")
    page.get_by_label("Password").press("Enter")
    # a wrong password and an unknown name read the same
    assert page.locator("#signin-error").inner_text() == users.SIGNIN_REFUSED
    assert page.get_by_label("User name").input_value() == "viewer-user"
    page.get_by_label("User name").fill("nobody")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    assert page.locator("#signin-error").inner_text() == users.SIGNIN_REFUSED
    shoot(page, "signin-refused", tmp_path / "screenshots")
    page.get_by_label("User name").fill("viewer-user")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(lambda url: url.endswith("/audit"))
    assert page.locator("#verify-result").inner_text().startswith("The chain verifies")
    assert "viewer-user" in page.locator("header .who").inner_text()
    # the viewer's role: no lab in the navigation, the lab page refused, no record box
    assert page.get_by_role("link", name="Policy lab").count() == 0
    page.goto(site.url + "/lab")
    assert page.locator("h1").inner_text() == "Not allowed"
    assert "permission 'lab' is needed" in page.locator("main").inner_text()
    page.goto(site.url + "/check")
    assert page.locator("#f-record").count() == 0
    # the session cookie is HttpOnly and SameSite=Strict; scripts cannot read it
    cookie = next(c for c in ctx.cookies() if c["name"] == "chipex_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert "chipex_session" not in page.evaluate("document.cookie")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(lambda url: url.endswith("/signin"))
    # chromium logs each refused page's status (the two refusals' 401, the lab's 403): nothing else
    expected = [f"status of {code}" for code in (401, 401, 403)]
    assert [next((e for e in expected if e in m), m) for m in errors] == expected, errors
    ctx.close()


@pytest.fixture(autouse=True)
def _quiet_home(monkeypatch):
    monkeypatch.delenv("CHIPEX_CATALOG", raising=False)
