"""The daily cycle through the back office in a real browser, with real processes: the app
under gunicorn, the job consumer checking and applying each upload. Import, a payment at the
till (DOKU's notification to gunicorn), the same file again, a code passing its expiry, the
file again, and the Exports page's feed taken twice: each payment once.
tests/test_daily_cycle_live.py does the same from the command line, with a mail server."""

from __future__ import annotations

import csv
import io
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Bill, BillState, StaffRole
from tests.admin.conftest import make_staff
from tests.e2e.conftest import screenshot
from tests.e2e.test_admin_browser import _follow_job, log_in
from tests.factories import NOTIFICATION_TARGET, doku_headers, notification_body_for
from tests.services.test_bill_import import csv_text, row

pytestmark = pytest.mark.live


def _import(page: Any, live_url: str, path: Path) -> tuple[str, str]:
    """Upload, check and confirm ``path``; the check's page and the applied run's page."""
    page.goto(f"{live_url}/admin/import")
    page.set_input_files("#csv_file", str(path))
    page.click("#check-import")
    _follow_job(page)
    page.wait_for_selector("#import-ok")
    checked = page.content()
    page.click("#confirm-import")
    _follow_job(page)
    page.wait_for_selector("#import-run")
    return checked, page.content()


def _take_feed(page: Any, live_url: str) -> list[dict[str, str]]:
    page.goto(f"{live_url}/admin/exports")
    with page.expect_download() as download:
        page.click("#download-feed")
    data = Path(download.value.path()).read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(data)))


def test_the_daily_cycle_in_the_back_office_with_the_app_and_the_consumer(
    page: Any, live_url: str, session: Session, tmp_path: Path, console_errors: list[str]
) -> None:
    email = make_staff(session, StaffRole.ADMIN).email
    session.commit()
    due = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
    expiring = (datetime.now(UTC) + timedelta(seconds=30)).replace(microsecond=0)
    daily = tmp_path / "bills.csv"
    daily.write_text(csv_text(
        row(invoice_number="INV-BR-A", due_date=due),
        row(invoice_number="INV-BR-B", due_date=due, expires_at=expiring.isoformat()),
    ), encoding="utf-8")  # fmt: skip
    log_in(page, live_url, email)

    checked, applied = _import(page, live_url, daily)
    assert "created 2, updated 0, unchanged 0" in checked
    assert "created 2, updated 0, unchanged 0, skipped 0, conflicts 0" in applied

    # Paid at the till: DOKU's notification reaches gunicorn.
    bill = session.scalars(select(Bill).where(Bill.invoice_number == "INV-BR-A")).one()
    body = notification_body_for(bill)  # ends the session's read
    request = urllib.request.Request(
        live_url + NOTIFICATION_TARGET, data=body,
        headers=doku_headers(body, target=NOTIFICATION_TARGET),
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200

    checked, applied = _import(page, live_url, daily)
    assert "paid_unchanged" in checked
    assert "created 0, updated 0, unchanged 2, skipped 0, conflicts 0" in applied
    screenshot(page, "admin-daily-cycle-reimport")

    while datetime.now(UTC) <= expiring:  # INV-BR-B's code expires
        time.sleep(0.5)
    checked, applied = _import(page, live_url, daily)
    assert "created 0, updated 0, unchanged 2, skipped 0, conflicts 0" in applied

    assert [r["invoice_number"] for r in _take_feed(page, live_url)] == ["INV-BR-A"]
    assert _take_feed(page, live_url) == []  # each payment once
    session.expire_all()
    states = dict(session.execute(select(Bill.invoice_number, Bill.state)).all())
    session.commit()
    assert states == {"INV-BR-A": BillState.PAID, "INV-BR-B": BillState.UNPAID}
    assert console_errors == []
