"""The policyholder portal in Chromium against gunicorn: log in, open a bill, read the code,
barcode and footer, switch language, print the slip; screenshots at phone and desktop width.

The test's database session must not hold SQLite's write lock while the server works: data is
arranged and committed before the browser starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.e2e.conftest import PHONE, screenshot
from tests.policyholder.conftest import BillRef, Holder, add_bill, make_holder, pay

pytestmark = pytest.mark.live

FOOTER = "Terima kasih, Bapak Budi. Polis Anda tetap aktif.   Call Center 1500-123"


@dataclass(frozen=True)
class Scene:
    holder: Holder
    bill: BillRef


@pytest.fixture
def scene(session: Session) -> Scene:
    holder = make_holder(session)
    bill = add_bill(
        session,
        holder,
        amount=150_000,
        due_date=date.today() + timedelta(days=14),
        expires_at=datetime.now(UTC) + timedelta(days=20, hours=3),
        footer_message=FOOTER,
    )
    paid = add_bill(session, holder, amount=275_000)
    pay(session, paid, paid_at=datetime.now(UTC) - timedelta(days=3), store="TZ01",
        reference="TRX-20260501-0001")  # fmt: skip
    add_bill(session, holder, amount=320_000, expires_at=datetime.now(UTC) - timedelta(days=1))
    session.commit()
    return Scene(holder=holder, bill=bill)


@pytest.fixture
def csp_violations(page: Any) -> Iterator[list[str]]:
    """Console errors of the page: a CSP violation (inline style or script) shows up here."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield errors


def log_in(page: Any, live_url: str, holder: Holder) -> None:
    page.goto(f"{live_url}/")
    assert page.url.startswith(f"{live_url}/login")
    page.fill("#email", holder.email)
    page.fill("#password", holder.password)
    page.click("form[novalidate] button[type=submit]")
    page.wait_for_url(f"{live_url}/")


def test_policyholder_logs_in_and_pays_from_the_bill_page_on_a_desktop(
    page: Any, live_url: str, scene: Scene, csp_violations: list[str]
) -> None:
    log_in(page, live_url, scene.holder)
    assert page.locator("h1").inner_text() == "Halo, Budi Santoso"
    assert page.locator(".badge-unpaid").count() == 1
    assert page.locator(".badge-paid").count() == 1
    assert page.locator(".badge-expired").count() == 1
    screenshot(page, "portal-dashboard-desktop")

    page.click(f"a[href='/bills/{scene.bill.id}']")
    page.wait_for_url(f"{live_url}/bills/{scene.bill.id}")
    code = scene.bill.code
    assert page.locator(".code").inner_text().split() == [code[i : i + 4] for i in range(0, 16, 4)]
    barcode = page.locator("svg.barcode")
    assert barcode.is_visible() and barcode.bounding_box()["width"] > 250
    assert page.locator("svg.qr").is_visible()
    till = page.locator("pre.till").inner_text().splitlines()
    assert [line.rstrip() for line in till] == [
        "Terima kasih, Bapak Budi. Polis Anda tet",
        "ap aktif.   Call Center 1500-123",
    ]
    assert "Rp 150.000" in page.locator(".facts").first.inner_text()
    assert page.locator("button.copy").is_visible()  # JavaScript ran: copy button shown
    screenshot(page, "portal-slip-desktop")
    assert csp_violations == []


def test_the_copy_button_puts_the_payment_code_on_the_clipboard(
    page: Any, live_url: str, scene: Scene
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_url)
    log_in(page, live_url, scene.holder)
    page.goto(f"{live_url}/bills/{scene.bill.id}")
    page.click("button.copy")
    page.wait_for_function("document.querySelector('.copy-status').textContent !== ''")
    assert page.locator(".copy-status").inner_text() == "Tersalin"
    assert page.evaluate("navigator.clipboard.readText()") == scene.bill.code


def test_pages_fit_a_360_pixel_phone(
    page: Any, live_url: str, scene: Scene, csp_violations: list[str]
) -> None:
    page.set_viewport_size(PHONE)
    log_in(page, live_url, scene.holder)
    pages = [
        ("/", "portal-dashboard-phone"),
        (f"/bills/{scene.bill.id}", "portal-slip-phone"),
        ("/payments", "portal-payments-phone"),
    ]
    for path, name in pages:
        page.goto(f"{live_url}{path}")
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= PHONE["width"], f"{path} scrolls sideways ({overflow} px)"
        screenshot(page, name)
    assert page.locator("svg.barcode").count() == 0  # payments page
    page.goto(f"{live_url}/bills/{scene.bill.id}")
    assert page.locator("svg.barcode").bounding_box()["width"] <= PHONE["width"]
    # Neither the footer's 40 columns nor the code's four groups are cut or wrapped.
    assert page.evaluate("(e => e.scrollWidth <= e.clientWidth)(document.querySelector('.till'))")
    spans = page.locator(".code span")
    assert len({round(spans.nth(i).bounding_box()["y"]) for i in range(spans.count())}) == 1
    assert csp_violations == []


def test_switching_to_english_is_remembered(
    page: Any, live_url: str, scene: Scene, session: Session
) -> None:
    log_in(page, live_url, scene.holder)
    page.goto(f"{live_url}/bills/{scene.bill.id}")
    assert page.locator("html").get_attribute("lang") == "id"
    assert page.locator("#steps-title").inner_text() == "Cara membayar"
    page.click("button[name=language][value=en]")
    page.wait_for_url(f"{live_url}/bills/{scene.bill.id}")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#steps-title").inner_text() == "How to pay"
    page.goto(f"{live_url}/")
    assert page.locator("h1").inner_text() == "Hello, Budi Santoso"
    screenshot(page, "portal-dashboard-desktop-en")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert cookies["lang"] == "en"


def test_the_slip_prints_on_one_page(page: Any, live_url: str, scene: Scene) -> None:
    log_in(page, live_url, scene.holder)
    page.goto(f"{live_url}/bills/{scene.bill.id}")
    page.emulate_media(media="print")
    assert not page.locator("header.site").is_visible()
    assert page.locator("svg.barcode").is_visible() and page.locator("pre.till").is_visible()
    screenshot(page, "portal-slip-print")
    pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    assert (
        pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") + pdf.count(b"/Type /Page/") == 1
    )


def test_pages_work_without_javascript(browser: Any, live_url: str, scene: Scene) -> None:
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    try:
        page = context.new_page()
        log_in(page, live_url, scene.holder)
        page.goto(f"{live_url}/bills/{scene.bill.id}")
        assert scene.bill.code[:4] in page.locator(".code").inner_text()
        assert page.locator("svg.barcode").is_visible()
        assert not page.locator("button.copy").is_visible()  # needs JavaScript: stays hidden
        page.click("button[name=language][value=en]")
        assert page.locator("#steps-title").inner_text() == "How to pay"
        page.click("nav button.link")  # log out
        assert "/login" in page.url
    finally:
        context.close()


CONTRAST = """
() => {
  const rgb = (s) => {
    const m = s.match(/[\\d.]+/g).map(Number);
    return {r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1};
  };
  const channel = (v) => {
    v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  };
  const lum = (c) => 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.a > 0) return c;
    }
    return {r: 255, g: 255, b: 255, a: 1};
  };
  const failures = [];
  for (const el of document.querySelectorAll('body *')) {
    const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
    const style = getComputedStyle(el);
    if (!own || !el.getClientRects().length || style.visibility === 'hidden') continue;
    const fg = lum(rgb(style.color)), bg = lum(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    if (ratio < 4.5) {
      failures.push(`${el.tagName}.${el.className} ${ratio.toFixed(2)}: ${el.textContent.trim()}`);
    }
  }
  return failures;
}
"""


def test_text_meets_wcag_aa_contrast(page: Any, live_url: str, scene: Scene) -> None:
    log_in(page, live_url, scene.holder)
    for path in ("/", f"/bills/{scene.bill.id}", "/payments"):
        page.goto(f"{live_url}{path}")
        assert page.evaluate(CONTRAST) == [], path
    page.goto(f"{live_url}/payments")
    page.click("text=Bukti bayar")
    assert page.locator("h1").inner_text() == "Bukti pembayaran"
    assert page.evaluate(CONTRAST) == []
    assert "TRX-20260501-0001" in page.content()
    # The check itself notices faint text.
    page.evaluate(
        "() => { const p = document.createElement('p'); p.textContent = 'faint';"
        " p.style.color = '#aaa'; document.querySelector('main').append(p); }"
    )
    assert [f for f in page.evaluate(CONTRAST) if f.endswith("faint")]


def test_a_bill_above_the_alfa_limit_shows_why_and_whom_to_call_but_no_code(
    page: Any, live_url: str, session: Session, csp_violations: list[str]
) -> None:
    holder = make_holder(session)
    payable = add_bill(session, holder, amount=150_000)
    too_big = add_bill(session, holder, amount=7_500_000)
    session.commit()
    log_in(page, live_url, holder)
    # The dashboard: the payable bill shows its code; the one the till declines does not.
    codes = page.locator("p.code").all_inner_texts()
    assert [c.replace("\n", "").replace(" ", "") for c in codes] == [payable.code]
    notice = page.locator(".notice-warn").inner_text()
    assert "paling banyak Rp 5.000.000" in notice
    assert "PT Asuransi Demo Sejahtera" in notice and "1500-123" in notice
    screenshot(page, "portal-dashboard-declined-bill")
    page.goto(f"{live_url}/bills/{too_big.id}")
    assert page.locator("p.code").count() == 0 and page.locator("svg.barcode").count() == 0
    assert page.locator("#steps-title").count() == 0  # no "Cara membayar"
    assert "paling banyak Rp 5.000.000" in page.locator(".notice-warn").inner_text()
    screenshot(page, "portal-bill-declined")
    assert csp_violations == []
