"""Back-office lists, dashboard charts, DOKU traffic and the import preview in Debian's
Chromium against gunicorn, on a desktop (1366x768) and a phone (390x844). Screenshots go to
test-artifacts/screenshots/admin-lists-*.png."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Payment, StaffRole
from tests.admin.conftest import PASSWORD, make_staff
from tests.e2e.conftest import screenshot
from tests.factories import (
    INQUIRY_TARGET,
    inquiry_body,
    live_code,
    make_bill,
    notification_body_for,
    notify,
    post_signed,
)

pytestmark = pytest.mark.live

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
SIZES = [pytest.param(DESKTOP, id="desktop"), pytest.param(PHONE, id="phone")]


def _log_in(page: Any, live_url: str, email: str, size: dict[str, int]) -> None:
    page.set_viewport_size(size)
    page.context.add_cookies([{"name": "lang", "value": "en", "url": live_url}])
    page.goto(f"{live_url}/admin/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")  # not the language switch in the top bar
    page.wait_for_url(f"{live_url}/admin/")


def _no_sideways_scroll(page: Any) -> None:
    """The page itself never scrolls sideways (wide tables scroll inside their own box)."""
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    wide = page.evaluate(
        "() => [...document.querySelectorAll('body *')].filter(e => "
        "e.getBoundingClientRect().right > document.documentElement.clientWidth + 1 && "
        "!e.closest('.table-scroll')).map(e => e.tagName + '#' + e.id + '.' + e.className)"
    )
    assert overflow <= 1, f"the page is {overflow}px wider than the screen: {wide[:8]}"


def _inquire_at(client: FlaskClient, code: str, agent_id: str) -> None:
    body = inquiry_body(code, AGENT_ID=agent_id, AGENT_STORE_ID="S01", AGENT_TRX_ID="T1")
    assert post_signed(client, INQUIRY_TARGET, body).status_code in (200, 400, 404)


@pytest.fixture
def month(session: Session, client: FlaskClient) -> dict[str, Any]:
    """Payments over the last days at three chains, three different declines, an unknown
    code and an amount mismatch (an open exception)."""
    now = datetime.now(UTC)
    paid = [make_bill(session, amount=100_000 + 25_000 * i) for i in range(6)]
    for i, bill in enumerate(paid):
        body = notification_body_for(bill, transaction_date=now - timedelta(days=3 * i))
        assert notify(client, body).status_code == 200
    for bill, chain in zip(paid[1:3], ("LAWSON", "ALFAMIDI"), strict=True):
        payment = session.scalar(select(Payment).where(Payment.bill_id == bill.id))
        assert payment is not None
        payment.agent_id = chain
    session.commit()
    declines = [
        make_bill(session, amount=120_000, policy_status="lapse"),
        make_bill(session, amount=7_500_000),
        make_bill(session, amount=130_000, expires_at=now - timedelta(hours=1)),
    ]
    for bill in declines:
        _inquire_at(client, live_code(bill), "ALFAMART")
    _inquire_at(client, "8896000000000000", "LAWSON")
    payable = make_bill(session, amount=210_000)
    _inquire_at(client, live_code(payable), "DANDAN")
    wrong = make_bill(session, amount=200_000)
    assert notify(client, notification_body_for(wrong, amount=1_000)).status_code == 200
    staff = make_staff(session, StaffRole.ADMIN)
    found = {"email": staff.email, "declines": [b.invoice_number for b in declines]}
    session.commit()  # on SQLite a read transaction would hold the server's write lock
    return found


@pytest.mark.parametrize("size", SIZES)
def test_the_dashboard_draws_its_charts(
    page: Any, live_url: str, month: dict[str, Any], size: dict[str, int],
    console_errors: list[str],
) -> None:  # fmt: skip
    _log_in(page, live_url, month["email"], size)
    for chart in ("payments", "chains", "verdicts", "exceptions"):
        svg = page.locator(f"#chart-{chart}")
        assert svg.is_visible()
        box = svg.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 40
    assert page.locator("#chart-payments rect.bar").count() == 30
    assert page.locator("#chart-chains rect.bar").count() == 3  # Alfamart, Lawson, Alfamidi
    # The figures are there as a table too, one click away, without script.
    page.locator("#figure-chains summary").click()
    assert page.locator("#table-chains").is_visible()
    assert "Lawson" in page.locator("#table-chains").inner_text()
    _no_sideways_scroll(page)
    name = "desktop" if size == DESKTOP else "phone"
    page.locator("#trends").scroll_into_view_if_needed()
    screenshot(page, f"admin-lists-dashboard-{name}")
    assert console_errors == []


@pytest.mark.parametrize("size", SIZES)
def test_doku_traffic_explains_itself(
    page: Any, live_url: str, month: dict[str, Any], size: dict[str, int],
    console_errors: list[str],
) -> None:  # fmt: skip
    _log_in(page, live_url, month["email"], size)
    page.goto(f"{live_url}/admin/traffic/inquiries")
    rows = page.locator("#inquiries tbody tr")
    assert rows.count() == 5
    reasons = [page.locator(f"#inquiries tr:has-text('{inv}') .reason").inner_text()
               for inv in month["declines"]]  # fmt: skip
    assert len(set(reasons)) == 3, reasons
    assert "policy status" in reasons[0] and "Alfa limits" in reasons[1]
    assert "expired" in reasons[2]
    assert "Dan+Dan" in page.locator("#inquiries").inner_text()
    _no_sideways_scroll(page)
    name = "desktop" if size == DESKTOP else "phone"
    screenshot(page, f"admin-lists-inquiries-{name}")
    page.goto(f"{live_url}/admin/traffic/notifications")
    table = page.locator("#notifications").inner_text()
    assert "Wrong amount" in table and "Alfamart" in table and "Lawson" in table
    _no_sideways_scroll(page)
    screenshot(page, f"admin-lists-notifications-{name}")
    assert console_errors == []


@pytest.mark.parametrize("size", SIZES)
def test_staff_filter_sort_and_download_the_bill_list(
    page: Any, live_url: str, month: dict[str, Any], size: dict[str, int],
    console_errors: list[str],
) -> None:  # fmt: skip
    _log_in(page, live_url, month["email"], size)
    page.goto(f"{live_url}/admin/bills")
    assert page.locator("#bill-totals").inner_text().startswith("11 bills")
    # Paid at Alfamart, 100.000 to 200.000: filters combine.
    page.select_option("#state", "paid")
    page.select_option("#chain", "Alfamart")
    page.fill("#f-min", "100.000")
    page.fill("#f-max", "200.000")
    page.click("#bill-filters button[type=submit]")
    page.wait_for_url("**/admin/bills?*")
    assert page.locator("tr.bill-row").count() == 3  # 100.000, 175.000 and 200.000 at Alfamart
    assert "3 bills · Rp 475.000" in page.locator("#bill-totals").inner_text()

    # Sort by amount, up then down; the filters stay. On a desktop the column headers sort,
    # on a phone (one card per bill, no header row) the form's "Sort by".
    def sort_amount(direction: str) -> None:
        if size == DESKTOP:
            page.click("#sort-amount")
        else:
            page.select_option("#sort", "amount")
            page.select_option("#dir", direction)
            page.click("#bill-filters button[type=submit]")
        page.wait_for_url(f"**dir={direction}**")

    sort_amount("asc")
    amounts = page.locator("tr.bill-row td.num").all_inner_texts()
    assert amounts == ["Rp 100.000", "Rp 175.000", "Rp 200.000"]
    sort_amount("desc")
    assert page.locator("tr.bill-row td.num").all_inner_texts() == amounts[::-1]
    assert page.locator("th[aria-sort=descending] #sort-amount").count() == 1
    assert "state=paid" in page.url and "chain=Alfamart" in page.url
    _no_sideways_scroll(page)
    name = "desktop" if size == DESKTOP else "phone"
    screenshot(page, f"admin-lists-bills-{name}")
    # The download holds what is shown, in the same order.
    with page.expect_download() as download:
        page.click("#export-csv")
    content = download.value.path().read_text(encoding="utf-8-sig").splitlines()
    assert content[0].startswith("invoice_number,policyholder")
    assert [line.split(",")[4] for line in content[1:]] == ["200000", "175000", "100000"]
    # A filter that cannot be read says so and keeps the others.
    page.fill("#f-min", "lots")
    page.click("#bill-filters button[type=submit]")
    page.wait_for_selector("#filter-problems")
    assert page.locator("#f-min").get_attribute("aria-invalid") == "true"
    assert "lots" in page.locator("#f-min-error").inner_text()
    screenshot(page, f"admin-lists-bills-problem-{name}")
    assert [e for e in console_errors if "400" not in e] == []


@pytest.mark.parametrize("size", SIZES)
def test_the_import_check_previews_before_staff_confirm(
    page: Any, live_url: str, session: Session, size: dict[str, int], tmp_path: Any,
    console_errors: list[str],
) -> None:  # fmt: skip
    from portal.services.billing.imports import HEADER

    existing = make_bill(session, amount=150_000)
    invoice = existing.invoice_number
    policy = existing.policy
    holder = policy.policyholder
    kept = ",".join([policy.number, policy.type, policy.account_name, policy.status, holder.name,
                     holder.email])  # fmt: skip
    email = make_staff(session, StaffRole.ADMIN).email
    session.commit()
    rows = [
        ",".join(HEADER),
        f"{kept},{invoice},175000,2031-05-21,,,,",  # an update: 150.000 -> 175.000
        "8080801,Jiwa,Rina,aktif,Rina Wati,rina@example.com,INV-NEW-1,90000,2031-07-01,,,,",
        "8080801,Jiwa,Rina,aktif,Rina Wati,rina@example.com,INV-NEW-2,60000,2031-07-01,,"
        "2020-01-01T00:00:00+07:00,,",  # already expired: skipped
    ]
    good = tmp_path / "bills.csv"
    good.write_text("\n".join(rows) + "\n", encoding="utf-8")
    _log_in(page, live_url, email, size)
    name = "desktop" if size == DESKTOP else "phone"
    page.goto(f"{live_url}/admin/import")
    with page.expect_download() as download:
        page.click("#template-csv")
    assert download.value.path().read_text(encoding="utf-8-sig").startswith("policy_number,")
    page.set_input_files("#csv_file", str(good))
    page.click("#check-import")
    page.wait_for_selector("#job-result-page", timeout=30_000)
    page.click("#job-result-page")
    page.wait_for_selector("#import-ok")
    totals = page.locator("#import-preview-totals")
    assert "Rp 90.000" in totals.locator("#preview-total-create").inner_text()
    assert "Rp 175.000" in totals.locator("#preview-total-update").inner_text()
    assert "Rp 60.000" in totals.locator("#preview-total-skip").inner_text()
    assert "Rp 150.000" in page.locator("#preview-update del").inner_text()
    assert page.locator("#preview-create").is_visible()
    _no_sideways_scroll(page)
    screenshot(page, f"admin-lists-import-preview-{name}")
    # A bad file names each refused value.
    bad = tmp_path / "bad.csv"
    bad.write_text(rows[0] + "\n" + rows[2].replace("90000", "9O.000") + "\n", encoding="utf-8")
    page.goto(f"{live_url}/admin/import")
    page.set_input_files("#csv_file", str(bad))
    page.click("#check-import")
    page.wait_for_selector("#job-result-page", timeout=30_000)
    page.click("#job-result-page")
    page.wait_for_selector("#import-error-rows")
    assert page.locator("#import-error-rows code.offending").first.inner_text() == "9O.000"
    _no_sideways_scroll(page)
    screenshot(page, f"admin-lists-import-errors-{name}")
    assert console_errors == []
