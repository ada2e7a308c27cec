"""Notification amounts are read exactly: a fraction is refused, never rounded into a payment."""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Bill, BillState, Payment, PaymentException, ReceivedNotification
from tests.factories import make_bill, notification_body_for, notify


def _with_amount(body: bytes, literal: str) -> bytes:
    """The notification with ``order.amount`` written exactly as ``literal`` in the JSON."""
    assert body.count(b'"amount":150000') == 1
    return body.replace(b'"amount":150000', b'"amount":' + literal.encode())


@pytest.mark.parametrize("literal", ["149999.99999999999", "150000.00000000001", "150000.5"])
def test_an_amount_with_a_fraction_is_refused_kept_and_shown_to_staff_not_paid(
    client: FlaskClient, session: Session, literal: str
) -> None:
    bill = make_bill(session, amount=150_000)
    bill_id = bill.id
    body = _with_amount(notification_body_for(bill), literal)
    response = notify(client, body, request_id="fractional")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_request"
    assert error["details"]["order"]["amount"] == [
        f"Must be whole rupiah without decimals; {literal} has a fraction."
    ]
    session.expire_all()
    assert list(session.scalars(select(Payment))) == []
    assert session.get(Bill, bill_id).state == BillState.UNPAID  # type: ignore[union-attr]
    [delivery] = session.scalars(select(ReceivedNotification))
    assert delivery.body.encode() == body  # stored first, exactly as received
    assert (delivery.verdict, delivery.http_status) == ("invalid", 400)
    [exception] = session.scalars(select(PaymentException))
    assert exception.kind == "unreadable"
    assert literal in exception.detail


@pytest.mark.parametrize("literal", ["150000", "150000.0", '"150000"', "1.5E5", "150000.000"])
def test_whole_rupiah_written_any_usual_way_is_applied(
    client: FlaskClient, session: Session, literal: str
) -> None:
    bill = make_bill(session, amount=150_000)
    body = _with_amount(notification_body_for(bill), literal)
    response = notify(client, body)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["status"] == "applied"
    session.expire_all()
    [payment] = session.scalars(select(Payment))
    assert payment.amount == 150_000


def test_a_fractional_amount_one_rupiah_off_is_an_amount_mismatch_only_when_whole(
    client: FlaskClient, session: Session
) -> None:
    # 149999.0 is whole: a wrong amount, kept for staff; it never becomes Rp 150.000.
    bill = make_bill(session, amount=150_000)
    body = _with_amount(notification_body_for(bill), "149999.0")
    assert notify(client, body).get_json()["status"] == "exception"
    session.expire_all()
    [exception] = session.scalars(select(PaymentException))
    assert (exception.kind, exception.amount) == ("amount_mismatch", 149_999)
    assert json.loads(body)["order"]["amount"] == 149999.0
