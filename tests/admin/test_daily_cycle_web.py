"""The daily cycle with the core system through the back office: upload and confirm, a payment
at the till, the same file again, time passing an expiry, the file again, and the Exports
page's feed taken twice (each payment once). tests/test_daily_cycle.py does the same from the
command line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.admin import imports as admin_imports
from portal.models import Bill, BillState
from tests.admin.conftest import post, text
from tests.admin.test_import import _TOKEN, _confirmed, _upload
from tests.factories import notification_body_for, notify
from tests.services.test_bill_import import csv_text, row

START = datetime.now(UTC).replace(microsecond=0)


def _import(client: FlaskClient, content: bytes) -> tuple[str, str]:
    """Upload, check and confirm; returns the check's page and the confirmed run's pages."""
    checked = _upload(client, content)
    token = _TOKEN.search(checked)
    assert token is not None, checked
    return checked, _confirmed(client, post(client, "/admin/import/confirm",
                                            {"token": token.group(1)}))  # fmt: skip


def test_the_daily_cycle_through_the_back_office(
    admin_client: FlaskClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    moment = [START]
    monkeypatch.setattr(admin_imports, "now", lambda: moment[0])
    due = (START + timedelta(days=10)).date().isoformat()
    overdue = (START - timedelta(days=90)).date().isoformat()
    daily = csv_text(
        row(invoice_number="INV-W-A", due_date=due),
        row(invoice_number="INV-W-B", due_date=due,
            expires_at=(START + timedelta(days=1)).isoformat()),
        row(invoice_number="INV-W-C", due_date=overdue),
    ).encode()  # fmt: skip

    checked, applied = _import(admin_client, daily)
    assert "created 3, updated 0, unchanged 0" in checked and "overdue_new" in checked
    assert "created 3, updated 0, unchanged 0, skipped 0, conflicts 0" in applied

    # Paid at the till.
    bill = session.scalars(select(Bill).where(Bill.invoice_number == "INV-W-A")).one()
    assert notify(admin_client, notification_body_for(bill)).status_code == 200

    checked, applied = _import(admin_client, daily)
    assert "paid_unchanged" in checked
    assert "created 0, updated 0, unchanged 3, skipped 0, conflicts 0" in applied

    moment[0] = START + timedelta(days=2)  # INV-W-B's code has expired
    checked, applied = _import(admin_client, daily)
    assert "nothing was imported" not in applied
    assert "created 0, updated 0, unchanged 3, skipped 0, conflicts 0" in applied

    first = post(admin_client, "/admin/exports/payments/new", {"format": "csv"})
    assert first.status_code == 200
    lines = text(first).splitlines()
    assert len(lines) == 2 and "INV-W-A" in lines[1]
    again = post(admin_client, "/admin/exports/payments/new", {"format": "csv"})
    assert len(text(again).splitlines()) == 1  # the header only: each payment once

    unpaid = text(admin_client.get("/admin/exports/bills?state=unpaid&format=csv"))
    assert "INV-W-B" in unpaid and "INV-W-C" in unpaid and "INV-W-A" not in unpaid
    session.expire_all()
    states = dict(session.execute(select(Bill.invoice_number, Bill.state)).all())
    session.commit()
    assert states == {"INV-W-A": BillState.PAID, "INV-W-B": BillState.UNPAID,
                      "INV-W-C": BillState.UNPAID}  # fmt: skip
