"""The policyholder portal at the level of the best peers (issue 12), in Chromium on gunicorn.

Each point is checked on a laptop (1366x768) and a phone (390x844), with screenshots under
test-artifacts/screenshots/, and axe-core runs on every portal page with no violation.
Data is arranged and committed before the browser starts (SQLite's write lock).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from portal.models import Policyholder
from portal.services.accounts.credentials import LinkSettings, make_link_token
from tests.e2e.conftest import LAPTOP, PHONE_TALL, axe_violations, screenshot
from tests.policyholder.conftest import BillRef, Holder, add_bill, make_holder, pay

pytestmark = pytest.mark.live

VIEWPORTS = {"laptop": LAPTOP, "phone": PHONE_TALL}


@dataclass(frozen=True)
class Scene:
    holder: Holder
    soon: BillRef  # payable, its code expires first
    later: BillRef  # payable, expires later (listed first in the database: due later)
    declined: BillRef  # unpaid, above the Alfa limit
    paid: BillRef
    payment_id: int


@pytest.fixture
def scene(session: Session) -> Scene:
    holder = make_holder(session)
    now = datetime.now(UTC)
    later = add_bill(session, holder, amount=320_000, due_date=date.today() + timedelta(days=30),
                     expires_at=now + timedelta(days=40))  # fmt: skip
    soon = add_bill(session, holder, amount=150_000, due_date=date.today() + timedelta(days=5),
                    expires_at=now + timedelta(days=7, hours=3))  # fmt: skip
    declined = add_bill(session, holder, amount=7_500_000)
    paid = add_bill(session, holder, amount=275_000, due_date=date.today() - timedelta(days=20))
    payment_id = pay(session, paid, paid_at=now - timedelta(days=3), store="TZ01",
                     reference="ALFA-20261128-TZ01-00012345")  # fmt: skip
    add_bill(session, holder, amount=90_000, expires_at=now - timedelta(days=1),
             due_date=date.today() - timedelta(days=40))  # fmt: skip
    session.commit()
    return Scene(holder, soon, later, declined, paid, payment_id)


def _context(browser: Any, viewport: dict[str, int], **options: Any) -> Any:
    return browser.new_context(viewport=viewport, locale="id-ID", **options)


def _log_in(page: Any, live_url: str, holder: Holder) -> None:
    page.goto(f"{live_url}/login")
    page.fill("#email", holder.email)
    page.fill("#password", holder.password)
    page.click("form[novalidate] button[type=submit]")
    page.wait_for_url(f"{live_url}/")


WIDEST = "document.documentElement.scrollWidth"
OVERFLOWING = """() => Array.from(document.querySelectorAll('body *'))
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth)
  .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


@pytest.mark.parametrize("device", VIEWPORTS)
def test_dashboard_leads_with_the_bill_to_pay_soonest_and_folds_the_rest(
    browser: Any, live_url: str, scene: Scene, device: str
) -> None:
    context = _context(browser, VIEWPORTS[device])
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_url)
    page = context.new_page()
    try:
        _log_in(page, live_url, scene.holder)
        codes = [_digits(t) for t in page.locator(".to-pay p.code").all_inner_texts()]
        assert codes == [scene.soon.code, scene.later.code]  # soonest deadline first
        assert page.locator("#to-pay-title").inner_text() == "2 tagihan untuk dibayar"
        # The declined bill is not folded: it needs the policyholder to call.
        blocked = page.locator("section[aria-labelledby=blocked-title] .notice-warn")
        assert "paling banyak Rp 5.000.000" in blocked.inner_text()
        # Paid and expired bills are folded away, closed.
        settled = page.locator("details.settled")
        assert settled.get_attribute("open") is None
        assert "2 tagihan sebelumnya" in settled.locator("summary").inner_text()
        assert not settled.locator(".badge-paid").is_visible()
        # The current page is marked, and the navigation is one line.
        assert page.locator("nav.menu a[aria-current=page]").inner_text() == "Tagihan saya"
        tops = {round(box["y"]) for box in (
            page.locator(sel).bounding_box() for sel in
            ("nav.menu a >> nth=0", "nav.menu a >> nth=1", "nav.menu button"))}  # fmt: skip
        assert len(tops) == 1, tops
        # On the first screen: the code, the amount and the deadline of the first bill.
        height = VIEWPORTS[device]["height"]
        first = page.locator(".to-pay .bill").first
        for part in ("p.code", ".amount", ".deadline"):
            box = first.locator(part).bounding_box()
            assert box is not None and box["y"] + box["height"] <= height, part
        # The card's content keeps off its border, on both sides.
        card, badge = first.bounding_box(), first.locator(".badge").bounding_box()
        title = first.locator(".bill-title").bounding_box()
        assert (
            title["x"] - card["x"] >= 12
            and card["x"] + card["width"] - (badge["x"] + badge["width"]) >= 12
        )
        screenshot(page, f"portal-level-dashboard-{device}")
        assert page.evaluate(WIDEST) <= VIEWPORTS[device]["width"], page.evaluate(OVERFLOWING)
        # The amount has its own copy button: digits only, ready for a banking app.
        first.locator("button.copy-amount").click()
        page.wait_for_function("() => document.querySelector('.copy-amount-status').textContent")
        assert page.evaluate("navigator.clipboard.readText()") == "150000"
        settled.locator("summary").click()
        assert settled.locator(".badge-paid").is_visible()
        screenshot(page, f"portal-level-dashboard-unfolded-{device}")
    finally:
        context.close()


@pytest.mark.parametrize("device", VIEWPORTS)
def test_how_to_pay_switches_chain_without_javascript(
    browser: Any, live_url: str, scene: Scene, device: str
) -> None:
    context = _context(browser, VIEWPORTS[device], java_script_enabled=False)
    page = context.new_page()
    try:
        _log_in(page, live_url, scene.holder)
        page.goto(f"{live_url}/bills/{scene.soon.id}")
        panels = {slug: page.locator(f"#steps-{slug}") for slug in
                  ("alfamart", "alfamidi", "alfaexpress", "lawson", "dandan")}  # fmt: skip
        assert [s for s, p in panels.items() if p.is_visible()] == ["alfamart"]
        page.click("label[for=chain-lawson]")
        assert [s for s, p in panels.items() if p.is_visible()] == ["lawson"]
        assert "Simpan struk Lawson" in panels["lawson"].inner_text()
        page.click("label[for=chain-dandan]")
        assert [s for s, p in panels.items() if p.is_visible()] == ["dandan"]
        # The receipt footer preview is there, since the bill can be paid.
        assert page.locator("pre.till").is_visible()
        screenshot(page, f"portal-level-chain-steps-{device}")
        # A link can choose the chain too.
        page.goto(f"{live_url}/bills/{scene.soon.id}?chain=alfamidi")
        assert [s for s, p in panels.items() if p.is_visible()] == ["alfamidi"]
        # No footer preview, no steps where the till would decline the bill.
        page.goto(f"{live_url}/bills/{scene.declined.id}")
        assert page.locator("pre.till").count() == 0 and page.locator(".chain-panel").count() == 0
    finally:
        context.close()


@pytest.mark.parametrize("device", VIEWPORTS)
def test_receipt_names_the_chain_and_store_and_downloads_as_pdf(
    browser: Any, live_url: str, scene: Scene, device: str
) -> None:
    context = _context(browser, VIEWPORTS[device], accept_downloads=True)
    page = context.new_page()
    try:
        _log_in(page, live_url, scene.holder)
        page.goto(f"{live_url}/payments/{scene.payment_id}")
        assert page.locator(".receipt-store").inner_text() == "Alfamart · toko TZ01"
        code = scene.paid.code
        assert page.locator(".receipt-code").inner_text() == " ".join(
            code[i : i + 4] for i in range(0, 16, 4)
        )
        assert page.locator(".receipt-ref").inner_text() == "…00012345"
        assert "ALFAMART" not in page.content()
        screenshot(page, f"portal-level-receipt-{device}")
        with page.expect_download() as receipt:
            page.click("a[href$='/receipt.pdf']")
        assert receipt.value.suggested_filename.endswith(".pdf")
        assert Path(receipt.value.path()).read_bytes()[:5] == b"%PDF-"
        page.goto(f"{live_url}/bills/{scene.soon.id}")
        with page.expect_download() as slip:
            page.click("a[href$='/slip.pdf']")
        assert Path(slip.value.path()).read_bytes()[:5] == b"%PDF-"
        # No slip for a bill the till would decline.
        response = page.request.get(f"{live_url}/bills/{scene.declined.id}/slip.pdf")
        assert response.status == 404
    finally:
        context.close()


@pytest.mark.parametrize("device", VIEWPORTS)
def test_insurer_brand_and_contacts_in_header_footer_and_printed_slip(
    browser: Any, live_url: str, scene: Scene, device: str
) -> None:
    context = _context(browser, VIEWPORTS[device])
    page = context.new_page()
    try:
        _log_in(page, live_url, scene.holder)
        assert page.locator("header.site .brand img.logo").is_visible()
        assert "PT Asuransi Demo Sejahtera" in page.locator("header.site .brand").inner_text()
        footer = page.locator("footer.site")
        assert footer.locator("a[href='tel:1500123']").is_visible()
        assert footer.locator("a[href='https://wa.me/628111500123']").is_visible()
        assert footer.locator("a[href='mailto:layanan@asuransi-demo.example']").is_visible()
        assert "Otoritas Jasa Keuangan" in footer.inner_text()
        # Content keeps its distance from the header on every page.
        for path in ("/", f"/bills/{scene.soon.id}", "/payments"):
            page.goto(f"{live_url}{path}")
            gap = page.evaluate(
                "() => document.querySelector('main').firstElementChild.getBoundingClientRect()"
                ".top - document.querySelector('header.site').getBoundingClientRect().bottom"
            )
            assert gap >= 16, (path, gap)
        page.goto(f"{live_url}/bills/{scene.soon.id}")
        page.emulate_media(media="print")
        brand = page.locator(".slip-brand")
        assert brand.is_visible() and "1500-123" in brand.inner_text()
        screenshot(page, f"portal-level-slip-print-{device}")
    finally:
        context.close()


@pytest.mark.parametrize("device", VIEWPORTS)
def test_refused_login_offers_the_forgot_link_and_the_password_can_be_shown(
    browser: Any, live_url: str, scene: Scene, device: str
) -> None:
    context = _context(browser, VIEWPORTS[device])
    page = context.new_page()
    try:
        page.goto(f"{live_url}/login")
        page.fill("#email", scene.holder.email)
        page.fill("#password", "not-the-password")
        toggle = page.locator("button.reveal")
        assert toggle.inner_text() == "Tampilkan kata sandi"
        toggle.click()
        assert page.locator("#password").get_attribute("type") == "text"
        assert toggle.inner_text() == "Sembunyikan kata sandi"
        page.click("form[novalidate] button[type=submit]")
        refused = page.locator("#refused")
        assert refused.is_visible()
        assert page.locator("#password").get_attribute("type") == "password"
        screenshot(page, f"portal-level-login-refused-{device}")
        refused.locator("a").click()
        page.wait_for_url(f"{live_url}/forgot")
    finally:
        context.close()
    # Without JavaScript the field is a plain password field and no toggle appears.
    context = _context(browser, VIEWPORTS[device], java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{live_url}/login")
        assert page.locator("#password").get_attribute("type") == "password"
        assert page.locator("button.reveal").count() == 0
    finally:
        context.close()


def _set_password_token(session: Session, holder_id: int) -> str:
    row = session.get(Policyholder, holder_id)
    assert row is not None
    settings = LinkSettings(secret_key="live-test-secret", max_age_seconds=3600)
    token = make_link_token(row, "activate", settings)
    session.commit()
    return token


@pytest.mark.parametrize("device", VIEWPORTS)
def test_axe_finds_no_violation_on_any_portal_page(
    browser: Any, live_url: str, scene: Scene, session: Session, device: str
) -> None:
    newcomer = make_holder(session, name="Siti Rahayu", email="siti@example.com", password=None)
    token = _set_password_token(session, newcomer.id)
    context = _context(browser, VIEWPORTS[device])
    page = context.new_page()
    found: dict[str, list[str]] = {}

    def check(name: str) -> None:
        page.wait_for_load_state("load")
        violations = axe_violations(page)
        if violations:
            found[name] = violations

    try:
        for path in ("/login", "/forgot", f"/activate/{token}", "/activate/not-a-token"):
            page.goto(f"{live_url}{path}")
            check(path)
        page.goto(f"{live_url}/login")
        page.fill("#email", scene.holder.email)
        page.fill("#password", "wrong")
        page.click("form[novalidate] button[type=submit]")
        check("login refused")
        page.goto(f"{live_url}/forgot")
        page.fill("#email", "nobody@example.com")
        page.click("form[novalidate] button[type=submit]")
        check("forgot sent")
        _log_in(page, live_url, scene.holder)
        check("/")
        page.click("details.settled summary")
        check("/ unfolded")
        for path in (
            f"/bills/{scene.soon.id}",
            f"/bills/{scene.declined.id}",
            f"/bills/{scene.paid.id}",
            "/payments",
            f"/payments/{scene.payment_id}",
            "/bills/999999",
        ):
            page.goto(f"{live_url}{path}")
            check(path)
        page.goto(f"{live_url}/bills/{scene.soon.id}")
        page.click("label[for=chain-lawson]")
        check("bill, Lawson steps")
        page.click("button[name=language][value=en]")
        check("bill in English")
        screenshot(page, f"portal-level-bill-en-{device}")
    finally:
        context.close()
    assert found == {}


@pytest.mark.parametrize("device", VIEWPORTS)
def test_emails_read_well_in_a_browser_at_both_sizes(browser: Any, device: str) -> None:
    """The HTML part of a reminder, a receipt and an activation email, as a mail program shows
    it: branded, no sideways scrolling, no axe violation."""
    from portal.models import Policyholder as Holder_
    from portal.services.accounts.links import account_link_email
    from portal.services.contact import InsurerContact
    from portal.services.mail.reminders import Notice, NoticeKind, compose

    insurer = InsurerContact(
        name="PT Asuransi Demo Sejahtera", phone="1500-123", email="layanan@asuransi-demo.example",
        whatsapp="+62 811-1500-123", licence="Berizin dan diawasi oleh Otoritas Jasa Keuangan",
    )  # fmt: skip
    now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    base = "https://premi.example.co.id"
    reminder = Notice(
        NoticeKind.CODE_EXPIRING, 41, "budi@example.com", "Budi Santoso", "id", "INV-7",
        150_000, "8896469706801443", None, now + timedelta(days=2), policy_number="9090900001",
        policy_type="Dana Pendidikan",
    )  # fmt: skip
    receipt = Notice(
        NoticeKind.PAYMENT_RECEIVED, 41, "budi@example.com", "Budi Santoso", "en", "INV-7",
        150_000, "8896469706801443", None, None, now, policy_number="9090900001",
        policy_type="Dana Pendidikan", payment_id=9, agent_id="ALFAMART", store="TZ01",
        reference="ALFA-20261128-TZ01-00012345",
    )  # fmt: skip
    holder = Holder_(name="Siti Rahayu", email="siti@example.com", language="id")
    emails = {
        "reminder": compose(reminder, base_url=base, insurer=insurer, now=now),
        "receipt": compose(receipt, base_url=base, insurer=insurer, now=now),
        "activation": account_link_email(
            holder, "activate", f"{base}/activate/" + "x" * 120, max_age=timedelta(days=7),
            insurer=insurer,
        ),
    }  # fmt: skip
    context = browser.new_context(viewport=VIEWPORTS[device])
    page = context.new_page()
    try:
        for name, email in emails.items():
            assert email.html is not None
            page.set_content(email.html)
            assert "PT Asuransi Demo Sejahtera" in page.inner_text("body")
            assert page.evaluate(WIDEST) <= VIEWPORTS[device]["width"], name
            violations = axe_violations(page)
            assert violations == [], (name, violations)
            screenshot(page, f"portal-level-email-{name}-{device}")
        assert "7 hari" in emails["activation"].text
        assert "Alfamart (store TZ01)" in emails["receipt"].text
    finally:
        context.close()
