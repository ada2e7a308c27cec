"""Exceptions staff can act on: a name and a guide per kind, whom to call, and a resolution
that says what became of the money, which the reconciliation keeps counting."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import PaymentException
from portal.services.billing.payment_codes import WIB
from tests.admin.conftest import audit_rows, post, text
from tests.factories import make_bill, notification_body_for, notify


def _exception(session: Session) -> PaymentException:
    session.expire_all()
    item = session.scalars(select(PaymentException).order_by(PaymentException.id.desc())).first()
    assert item is not None
    session.commit()
    return item


def _second_payment(client: FlaskClient, session: Session) -> tuple[int, int]:
    bill = make_bill(
        session, amount=150_000, customer_name="Dewi Saraswati", customer_email="dewi@example.com"
    )
    bill_id = bill.id
    assert notify(client, notification_body_for(bill, agent_trx_id="1")).status_code == 200
    assert notify(client, notification_body_for(bill, agent_trx_id="2")).status_code == 200
    item = _exception(session)
    assert item.kind == "second_payment"
    return item.id, bill_id


def test_the_queue_names_each_kind_for_people_and_links_the_bill(
    admin_client: FlaskClient, session: Session
) -> None:
    exception_id, bill_id = _second_payment(admin_client, session)
    page = text(admin_client.get("/admin/exceptions"))
    assert "Second payment" in page
    assert f'href="/admin/bills/{bill_id}"' in page
    assert f'href="/admin/exceptions/{exception_id}"' in page


def test_an_exception_page_says_what_to_do_and_whom_to_call(
    admin_client: FlaskClient, session: Session
) -> None:
    exception_id, bill_id = _second_payment(admin_client, session)
    page = text(admin_client.get(f"/admin/exceptions/{exception_id}"))
    assert "Refund this payment through DOKU" in page
    assert "Rp 150.000 paid at the till is on no bill." in page
    assert 'id="customer-name">Dewi Saraswati<' in page
    assert 'href="mailto:dewi@example.com"' in page
    assert f'href="/admin/bills/{bill_id}"' in page
    assert "Refunded to the customer through DOKU" in page
    assert "No money to act on" not in page  # not a choice when money was taken


def test_a_failed_payment_is_resolved_as_no_money_and_needs_a_note(
    admin_client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session)
    assert notify(admin_client, notification_body_for(bill, status="FAILED")).status_code == 200
    item = _exception(session)
    page = text(admin_client.get(f"/admin/exceptions/{item.id}"))
    assert "no money moved" in page and "Failed payment" in page
    path = f"/admin/exceptions/{item.id}/resolve"
    empty = post(admin_client, path, {"outcome": "no_money", "note": ""})
    assert empty.status_code == 400
    assert "Say what was done in a note." in text(empty)
    refund = post(admin_client, path, {"outcome": "refunded", "note": "refunded?"})
    assert refund.status_code == 400
    assert "refunded does not fit a failed_payment exception" in text(refund)
    assert _exception(session).resolved_at is None
    done = post(admin_client, path, {"outcome": "no_money", "note": "checked with DOKU"})
    assert done.status_code == 302
    resolved = _exception(session)
    assert (resolved.resolution, resolved.resolution_note) == ("no_money", "checked with DOKU")


def test_resolving_needs_an_outcome_and_records_it_in_the_audit_log(
    admin_client: FlaskClient, session: Session
) -> None:
    exception_id, _ = _second_payment(admin_client, session)
    path = f"/admin/exceptions/{exception_id}/resolve"
    missing = post(admin_client, path, {"note": "done"})
    assert missing.status_code == 400
    assert "Say what happened to the money." in text(missing)
    done = post(admin_client, path, {"note": "refunded at DOKU", "outcome": "refunded"})
    assert done.status_code == 302
    [entry] = audit_rows(session, "exception.resolve")
    assert json.loads(entry.after or "{}")["resolution"] == "refunded"
    page = text(admin_client.get(f"/admin/exceptions/{exception_id}"))
    assert "Refunded to the customer through DOKU." in page
    assert "refunded at DOKU" in page


def test_a_resolved_exceptions_money_stays_on_the_reconciliation_page_and_downloads(
    admin_client: FlaskClient, session: Session
) -> None:
    exception_id, _ = _second_payment(admin_client, session)
    post(admin_client, f"/admin/exceptions/{exception_id}/resolve",
         {"note": "refunded", "outcome": "refunded"})  # fmt: skip
    today = datetime.now(WIB).date()
    page = text(admin_client.get(f"/admin/reconciliation?from={today}&to={today}"))
    assert "2 payments reported paid by DOKU, Rp 300.000" in page
    assert "Applied to their bills: Rp 150.000. Held in exceptions: Rp 150.000" in page
    assert f'href="/admin/exceptions/{exception_id}"' in page
    assert "Refunded" in page.split('id="payments"')[1]
    export = admin_client.get(f"/admin/reconciliation?from={today}&to={today}&format=xlsx")
    assert export.status_code == 200
    assert export.headers["Content-Disposition"] == (
        f'attachment; filename="reconciliation-{today}-to-{today}.xlsx"'
    )
    sheet = load_workbook(io.BytesIO(export.get_data())).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    states = sorted(sheet.cell(row=r, column=header.index("state") + 1).value for r in (2, 3))
    assert states == ["applied", "refunded"]


def test_a_late_payment_is_confirmed_with_nothing_to_refund(
    admin_client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session, expires_at=datetime.now(UTC) - timedelta(days=1))
    assert notify(admin_client, notification_body_for(bill)).status_code == 200
    item = _exception(session)
    assert item.kind == "late_payment"
    page = text(admin_client.get(f"/admin/exceptions/{item.id}"))
    assert "Nothing to refund: confirm it." in page
    assert "is on no bill" not in page
    only_choice = '<input checked id="outcome-0" name="outcome" required type="radio" '
    only_choice += 'value="no_money">'
    assert only_choice in page


def test_kind_names_and_guides_are_translated_for_staff_reading_indonesian(
    admin_client: FlaskClient, session: Session
) -> None:
    exception_id, _ = _second_payment(admin_client, session)
    admin_client.set_cookie("lang", "id")
    page = text(admin_client.get(f"/admin/exceptions/{exception_id}"))
    assert "Pembayaran kedua" in page
    assert "Kembalikan pembayaran ini melalui back office DOKU" in page
