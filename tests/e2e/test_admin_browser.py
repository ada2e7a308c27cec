"""The back office in a real browser (Debian's Chromium) against gunicorn: log in, find and
cancel a bill and see the till declined, import a CSV, resolve an exception, edit the receipt
with its live preview. Screenshots go to test-artifacts/screenshots/admin-*.png."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import Bill, BillState, PaymentException, StaffRole
from portal.services.billing.imports import HEADER
from tests.admin.conftest import PASSWORD, make_staff
from tests.e2e.conftest import screenshot
from tests.factories import (
    check_response_signature,
    inquire,
    live_code,
    make_bill,
    notification_body_for,
    notify,
)

pytestmark = pytest.mark.live


def log_in(page: Any, live_url: str, email: str) -> None:
    page.context.add_cookies([{"name": "lang", "value": "en", "url": live_url}])
    page.goto(f"{live_url}/admin/bills")
    assert "/admin/login" in page.url
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")  # not the language switch in the top bar
    page.wait_for_url(f"{live_url}/admin/bills")


def _verdict(client: FlaskClient, code: str) -> str:
    request_id = str(uuid.uuid4())
    body = check_response_signature(inquire(client, code, request_id=request_id), request_id)
    return str(body["online_to_offline_inquiry"]["status"])


def test_staff_logs_in_finds_a_bill_cancels_it_and_the_till_is_declined(
    page: Any, live_url: str, session: Session, client: FlaskClient, console_errors: list[str]
) -> None:
    email = make_staff(session, StaffRole.ADMIN).email
    bill = make_bill(session, customer_name="Anton Budiman", footer_message="Terima kasih")
    make_bill(session, customer_name="Rina Wati")
    invoice, bill_id = bill.invoice_number, bill.id
    code = live_code(bill)  # commits: the server must not wait for our transaction
    assert _verdict(client, code) == "success"

    log_in(page, live_url, email)
    page.goto(f"{live_url}/admin/")
    assert page.locator("#tile-unpaid strong").inner_text() == "Rp 300.000"
    assert page.locator("#inquiries-today").inner_text() == "1"
    screenshot(page, "admin-dashboard")

    page.click("nav.mainnav >> text=Bills")
    page.fill("#q", "anton")
    page.click("form.search button[type=submit]")
    rows = page.locator("#bills tbody tr")
    assert rows.count() == 1
    screenshot(page, "admin-bill-search")
    page.click(f"text={invoice}")
    page.wait_for_url(f"{live_url}/admin/bills/{bill_id}")
    assert page.locator("#live-code").inner_text().replace(" ", "") == code

    page.fill("#note", "Policy ended before the due date")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#cancel-bill")
    page.wait_for_selector(".flash-success")
    assert "cancelled" in page.locator("h1").inner_text()
    screenshot(page, "admin-bill-cancelled")

    session.expire_all()
    cancelled = session.get(Bill, bill_id)
    assert cancelled is not None and cancelled.state == BillState.CANCELLED
    session.commit()
    assert _verdict(client, code) == "decline"

    # The inquiry is now in the traffic log, with our answer.
    page.goto(f"{live_url}/admin/traffic/inquiries?code={code}")
    assert page.locator("#inquiries tbody tr").count() == 2
    page.click("#inquiries tbody tr >> nth=0 >> a")
    assert '"decline"' in page.locator("#response-body").inner_text()
    screenshot(page, "admin-inquiry")
    assert console_errors == []


def test_a_dismissed_confirmation_cancels_nothing(
    page: Any, live_url: str, session: Session
) -> None:
    email = make_staff(session, StaffRole.ADMIN).email
    bill = make_bill(session)
    bill_id = bill.id
    live_code(bill)
    log_in(page, live_url, email)
    page.goto(f"{live_url}/admin/bills/{bill_id}")
    asked: list[str] = []
    posts: list[str] = []
    page.on(
        "request", lambda request: posts.append(request.url) if request.method == "POST" else None
    )

    def dismiss(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.fill("#note", "Policy surrendered")  # the note is required: the form is ready to go
    page.click("#cancel-bill")  # returns once the dialog is handled and any navigation started
    # A round trip through the page: whatever the click set off has been dispatched by now.
    assert page.evaluate("document.readyState") == "complete"
    assert asked == ["Cancel this bill? The till will decline its code."]
    assert posts == []
    assert page.url == f"{live_url}/admin/bills/{bill_id}"
    session.expire_all()
    unchanged = session.get(Bill, bill_id)
    assert unchanged is not None and unchanged.state == BillState.UNPAID
    session.commit()


def _follow_job(page: Any) -> None:
    """The job consumer does the work; its page reloads itself until done, then links on."""
    page.wait_for_selector("#job-run[data-state=done]", timeout=30_000)
    page.click("#job-result-page")


def test_staff_imports_a_csv_after_checking_it(
    page: Any, live_url: str, session: Session, tmp_path: Path, console_errors: list[str]
) -> None:
    email = make_staff(session, StaffRole.ADMIN).email
    session.commit()
    bad = tmp_path / "bad.csv"
    bad.write_text(
        ",".join(HEADER) + "\n7070701,Jiwa,Dewi,aktif,Dewi,dewi@example.com,INV-E2E-1,"
        "150.000,2031-05-21,,,,\n",
        encoding="utf-8",
    )
    good = tmp_path / "bills.csv"
    good.write_text(
        ",".join(HEADER) + "\n"
        "7070701,Jiwa,Dewi,aktif,Dewi Lestari,dewi@example.com,INV-E2E-1,150000,2031-05-21,,,,\n"
        "7070701,Jiwa,Dewi,aktif,Dewi Lestari,dewi@example.com,INV-E2E-2,175000,2031-06-21,,,"
        "Premi Juni,Terima kasih\n",
        encoding="utf-8",
    )
    log_in(page, live_url, email)
    page.click("nav.mainnav >> text=Import")
    page.set_input_files("#csv_file", str(bad))
    page.click("#check-import")
    _follow_job(page)
    page.wait_for_selector("#import-rejected")
    assert "Whole rupiah in digits only" in page.locator("#import-errors").inner_text()
    screenshot(page, "admin-import-rejected")

    page.goto(f"{live_url}/admin/import")
    page.set_input_files("#csv_file", str(good))
    page.click("#check-import")
    _follow_job(page)
    page.wait_for_selector("#import-ok")
    screenshot(page, "admin-import-check")
    assert session.scalar(select(func.count(Bill.id))) == 0
    session.commit()
    page.click("#confirm-import")
    # The job consumer applies the file; its page reloads itself until the job is done.
    page.wait_for_selector("#job-run[data-state=done]", timeout=30_000)
    assert "Imported 2 rows from bills.csv" in page.locator("#job-run").inner_text()
    screenshot(page, "admin-import-job-done")
    page.click("#job-result-page")
    assert "created 2" in page.locator("#import-run").inner_text()
    screenshot(page, "admin-import-done")
    page.click("nav.mainnav >> text=Bills")
    assert page.locator("#bills tbody tr").count() == 2
    invoices = set(session.scalars(select(Bill.invoice_number)))
    session.commit()
    assert invoices == {"INV-E2E-1", "INV-E2E-2"}
    assert console_errors == []


def test_staff_resolves_an_exception_with_a_note(
    page: Any, live_url: str, session: Session, client: FlaskClient
) -> None:
    email = make_staff(session, StaffRole.ADMIN).email
    bill = make_bill(session, amount=200_000)
    assert notify(client, notification_body_for(bill, amount=1_000)).status_code == 200
    exception_id = session.scalar(select(PaymentException.id))
    session.commit()
    log_in(page, live_url, email)
    page.click("nav.mainnav >> text=Exceptions")
    assert "Wrong amount" in page.locator("#exceptions").inner_text()
    screenshot(page, "admin-exceptions")
    page.click(f"text=#{exception_id}")
    page.check("input[name=outcome][value=refunded]")
    page.fill("#note", "Customer paid the rest at the branch; Rp 1.000 refunded")
    page.click("#resolve")
    page.wait_for_selector(".flash-success")
    assert "Nothing here." in page.locator("#exceptions").inner_text()
    page.goto(f"{live_url}/admin/exceptions/{exception_id}")
    assert "Rp 1.000 refunded" in page.locator("#resolution").inner_text()
    screenshot(page, "admin-exception-resolved")
    session.expire_all()
    item = session.get(PaymentException, exception_id)
    assert item is not None and item.resolved_by == email
    session.commit()


def test_the_receipt_preview_follows_typing_like_the_till(
    page: Any, live_url: str, session: Session, console_errors: list[str]
) -> None:
    email = make_staff(session, StaffRole.ADMIN).email
    session.commit()
    log_in(page, live_url, email)
    page.goto(f"{live_url}/admin/receipt")
    page.fill("#footer_message", "Terima kasih atas pembayaran premi Anda. Simpan struk ini.")
    lines = page.locator("#default-footer [data-till-lines]").inner_text().splitlines()
    assert lines == [
        "|Terima kasih atas pembayaran premi Anda.|",
        "| Simpan struk ini.                      |",
    ]
    assert page.locator("#default-footer [data-till-count]").inner_text() == "58"
    page.fill("#info", "Premi Bulanan")
    assert page.locator("#default-footer [data-till-info]").inner_text() == "Premi Bulanan"
    screenshot(page, "admin-receipt-preview")
    page.fill("#footer_message", "x" * 121)
    assert "at most 120" in page.locator("#default-footer [data-till-error]").inner_text()
    page.fill("#footer_message", "Hubungi 1500-123")
    page.click("button[value=save]")
    page.wait_for_selector(".flash-success")
    assert page.locator("#current-footer").inner_text() == "Hubungi 1500-123"
    assert console_errors == []


def test_a_viewer_browses_without_change_buttons(
    page: Any, live_url: str, session: Session
) -> None:
    email = make_staff(session, StaffRole.VIEWER).email
    bill = make_bill(session)
    bill_id = bill.id
    live_code(bill)
    log_in(page, live_url, email)
    page.goto(f"{live_url}/admin/bills/{bill_id}")
    assert page.locator("#cancel-bill").count() == 0
    assert page.locator("nav.mainnav >> text=Import").count() == 0
    screenshot(page, "admin-viewer-bill")


def test_a_paid_bill_with_a_second_payment_shows_the_open_exception_on_its_page(
    page: Any, live_url: str, session: Session, client: FlaskClient
) -> None:
    email = make_staff(session, StaffRole.ADMIN).email
    bill = make_bill(session, amount=200_000, customer_name="Dewi Lestari")
    bill_id = bill.id
    assert notify(client, notification_body_for(bill)).status_code == 200
    second = notification_body_for(bill, agent_trx_id="9911", original_request_id=str(uuid.uuid4()))
    assert notify(client, second).status_code == 200
    exception_id = session.scalar(
        select(PaymentException.id).where(PaymentException.kind == "second_payment")
    )
    session.commit()
    log_in(page, live_url, email)
    page.goto(f"{live_url}/admin/bills?exceptions=open")
    row = page.locator("#bills tbody tr")
    assert row.count() == 1
    assert "paid" in row.inner_text() and "1 open exception" in row.inner_text()
    row.locator("a").first.click()
    page.wait_for_url(f"{live_url}/admin/bills/{bill_id}")
    assert "already paid" in page.locator("#till-verdict").inner_text()
    assert "Second payment" in page.locator("#open-exceptions").inner_text()
    assert page.locator("#bill-notifications tbody tr").count() == 2
    screenshot(page, "admin-bill-with-open-exception")
    page.click(f"#open-exceptions >> text=#{exception_id}")
    page.wait_for_url(f"{live_url}/admin/exceptions/{exception_id}")
