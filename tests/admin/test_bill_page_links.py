"""A bill's page gathers what happened to it (codes, inquiries, notifications, the payment,
exceptions) and each of those pages links back to the bill."""

from __future__ import annotations

import uuid

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Inquiry, PaymentException, ReceivedNotification
from tests.admin.conftest import text
from tests.factories import inquire, live_code, make_bill, notification_body_for, notify


def test_the_bill_page_and_its_traffic_link_to_each_other(
    admin_client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session, amount=200_000)
    bill_id, code = bill.id, live_code(bill)
    assert inquire(admin_client, code).status_code == 200
    assert notify(admin_client, notification_body_for(bill)).status_code == 200
    second = notification_body_for(bill, agent_trx_id="9911", original_request_id=str(uuid.uuid4()))
    assert notify(admin_client, second).status_code == 200
    inquiry_id = session.scalar(select(Inquiry.id).where(Inquiry.bill_id == bill_id))
    notification_ids = session.scalars(select(ReceivedNotification.id)).all()
    exception_id = session.scalar(
        select(PaymentException.id).where(PaymentException.kind == "second_payment")
    )
    session.commit()
    assert inquiry_id and len(notification_ids) == 2 and exception_id

    page = text(admin_client.get(f"/admin/bills/{bill_id}"))
    assert code[:4] + " " + code[4:8] in page  # the code's history
    assert f'href="/admin/traffic/inquiries/{inquiry_id}"' in page
    for notification_id in notification_ids:
        assert f'href="/admin/traffic/notifications/{notification_id}"' in page
    assert "Rp 200.000" in page  # the payment
    assert f'href="/admin/exceptions/{exception_id}"' in page
    assert 'id="open-exceptions"' in page

    back = f'href="/admin/bills/{bill_id}"'
    assert back in text(admin_client.get(f"/admin/traffic/inquiries/{inquiry_id}"))
    for notification_id in notification_ids:
        assert back in text(admin_client.get(f"/admin/traffic/notifications/{notification_id}"))
    assert back in text(admin_client.get(f"/admin/exceptions/{exception_id}"))
