"""The audit log in a real browser (Debian's Chromium) against gunicorn: staff edit a bill, then
find the change by its invoice number and read what changed. Screenshots go to
test-artifacts/screenshots/admin-audit-*.png."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from portal.models import StaffRole
from tests.admin.conftest import make_staff
from tests.e2e.conftest import screenshot
from tests.e2e.test_admin_browser import log_in
from tests.factories import live_code, make_bill

pytestmark = pytest.mark.live


def test_staff_find_a_bill_change_by_invoice_and_see_only_the_changed_field(
    page: Any, live_url: str, session: Session, console_errors: list[str]
) -> None:
    email = make_staff(session, StaffRole.ADMIN).email
    bill = make_bill(session, amount=150_000, footer_message="Terima kasih")
    invoice, bill_id = bill.invoice_number, bill.id
    live_code(bill)  # commits: the server must not wait for our transaction

    log_in(page, live_url, email)
    page.goto(f"{live_url}/admin/bills/{bill_id}/edit")
    page.fill("#amount", "175000")
    page.click("button[value=save]")
    page.wait_for_selector(".flash-success")

    page.click("nav.mainnav >> text=Audit log")
    assert email in page.locator("#audit").inner_text()  # the login itself is there
    page.fill("#q", invoice)
    page.click("#audit-filter button[type=submit]")
    page.wait_for_url(f"**q={invoice}**")
    rows = page.locator("#audit tbody tr")
    assert rows.count() == 1
    assert rows.locator("td.record").inner_text() == invoice
    assert "amount" in rows.inner_text()
    screenshot(page, "admin-audit-log")

    rows.locator("td >> nth=0 >> a").click()
    page.wait_for_selector("#diff")
    changed = page.locator("#diff tbody tr")
    assert changed.count() == 1
    assert changed.locator("th").inner_text() == "amount"
    assert changed.locator("td.before").inner_text() == "Rp 150.000"
    assert changed.locator("td.after").inner_text() == "Rp 175.000"
    page.click(f"#record >> text={invoice}")
    page.wait_for_url(f"{live_url}/admin/bills/{bill_id}")
    page.go_back()
    screenshot(page, "admin-audit-entry")
    assert console_errors == []
