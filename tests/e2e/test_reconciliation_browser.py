"""The reconciliation page in a real browser: a resolved exception's money is still there,
with what became of it, beside the applied payments. Screenshot:
test-artifacts/screenshots/admin-reconciliation.png."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import PaymentException, StaffRole
from portal.services.billing.payment_codes import WIB
from tests.admin.conftest import make_staff
from tests.e2e.conftest import screenshot
from tests.e2e.test_admin_browser import log_in
from tests.factories import make_bill, notification_body_for, notify

pytestmark = pytest.mark.live


def test_the_reconciliation_shows_money_held_in_an_exception_after_it_is_resolved(
    page: Any, live_url: str, session: Session, client: FlaskClient
) -> None:
    email = make_staff(session, StaffRole.ADMIN).email
    paid = make_bill(session, amount=150_000, customer_name="Anton Budiman")
    twice = make_bill(session, amount=200_000, customer_name="Rina Wati",
                      customer_email="rina@example.com")  # fmt: skip
    assert notify(client, notification_body_for(paid)).status_code == 200
    assert notify(client, notification_body_for(twice, agent_trx_id="1")).status_code == 200
    assert notify(client, notification_body_for(twice, agent_trx_id="2")).status_code == 200
    exception_id = session.scalar(select(PaymentException.id))
    session.commit()

    log_in(page, live_url, email)
    page.goto(f"{live_url}/admin/exceptions/{exception_id}")
    assert "rina@example.com" in page.locator("#contact").inner_text()
    assert "Refund this payment through DOKU" in page.locator("#guide").inner_text()
    screenshot(page, "admin-exception-guide")
    page.check("input[name=outcome][value=refunded]")
    page.fill("#note", "Second payment refunded through DOKU's back office")
    page.click("#resolve")
    page.wait_for_selector(".flash-success")

    page.click("nav.mainnav >> text=Reconciliation")
    total = page.locator("#report-total").inner_text()
    assert "3 payments reported paid by DOKU, Rp 550.000" in total
    assert "Held in exceptions: Rp 200.000, of which Rp 0 still open" in total
    rows = page.locator("#payments tbody tr").all_inner_texts()
    refunded = [row for row in rows if "Refunded" in row]
    assert len(refunded) == 1 and "Rp 200.000" in refunded[0] and f"#{exception_id}" in refunded[0]
    today = datetime.now(WIB).date().isoformat()
    day = page.locator("#per-day tbody tr").first.inner_text()
    assert today in day and "Rp 550.000" in day
    screenshot(page, "admin-reconciliation")
