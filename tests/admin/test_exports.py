"""The Exports page: every member of staff downloads; only admins take the feed's payments."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from portal.services.billing import exports
from tests.admin.conftest import post, text
from tests.factories import make_bill
from tests.services.test_exports import _pay


def test_a_viewer_downloads_bills_as_csv_and_xlsx(
    viewer_client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session)
    invoice = bill.invoice_number
    session.commit()
    assert "Exports" in text(viewer_client.get("/admin/exports"))
    response = viewer_client.get("/admin/exports/bills?state=unpaid&format=csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert invoice in text(response)
    assert "attachment" in response.headers["Content-Disposition"]
    workbook = viewer_client.get("/admin/exports/bills?format=xlsx")
    assert workbook.data.startswith(b"PK")


def test_a_period_needs_both_days(viewer_client: FlaskClient) -> None:
    response = viewer_client.get("/admin/exports/payments?from=2026-12-01")
    assert response.status_code == 302
    ok = viewer_client.get("/admin/exports/payments?from=2026-12-01&to=2026-12-01")
    assert ok.status_code == 200 and text(ok).startswith("\ufeffpayment_id,")


def test_a_viewer_cannot_take_the_feed(viewer_client: FlaskClient) -> None:
    response = post(viewer_client, "/admin/exports/payments/new", {"format": "csv"})
    assert response.status_code == 403


def test_an_admin_takes_the_new_payments_once(admin_client: FlaskClient, session: Session) -> None:
    payment_id = _pay(session)
    first = post(admin_client, "/admin/exports/payments/new", {"format": "csv"})
    assert first.status_code == 200
    assert text(first).splitlines()[1].startswith(f"{payment_id},")
    second = post(admin_client, "/admin/exports/payments/new", {"format": "csv"})
    assert len(text(second).splitlines()) == 1  # the header only
    cursor = exports.feed_status(session)
    assert cursor is not None and cursor.exported_total == 1
    session.commit()
