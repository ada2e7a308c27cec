"""POST /doku/notification: every payment applied exactly once, everything else kept for staff."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.doku.signature import format_timestamp
from portal.models import (
    Bill,
    BillState,
    Payment,
    PaymentException,
    ReceivedNotification,
)
from tests.factories import (
    NOTIFICATION_TARGET,
    check_response_signature,
    doku_headers,
    make_bill,
    notification_body_for,
    notify,
)


def _payments(session: Session) -> list[Payment]:
    session.expire_all()
    return list(session.scalars(select(Payment)))


def _exceptions(session: Session) -> list[PaymentException]:
    session.expire_all()
    return list(session.scalars(select(PaymentException).order_by(PaymentException.id)))


def _deliveries(session: Session) -> list[ReceivedNotification]:
    session.expire_all()
    return list(session.scalars(select(ReceivedNotification).order_by(ReceivedNotification.id)))


def _state(session: Session, bill: Bill) -> str:
    session.expire_all()
    return session.get(Bill, bill.id).state  # type: ignore[union-attr]


def _paid_bill_fixture(session: Session) -> tuple[Bill, bytes]:
    bill = make_bill(session)
    paid_at = datetime(2026, 11, 27, 1, 51, 0, tzinfo=UTC)
    return bill, notification_body_for(bill, transaction_date=paid_at)


def test_success_for_an_unpaid_matching_bill_marks_it_paid_with_a_payment_record(
    client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session)
    code = bill.current_code.code  # type: ignore[union-attr]
    paid_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    body = notification_body_for(bill, transaction_date=paid_at)
    response = notify(client, body, request_id="notif-1")
    assert response.status_code == 200
    assert check_response_signature(response, "notif-1", target=NOTIFICATION_TARGET) == {
        "status": "applied",
        "message": "payment applied",
    }
    [payment] = _payments(session)
    assert payment.bill_id == bill.id
    assert payment.amount == bill.amount
    assert payment.paid_at == paid_at
    assert payment.payment_code == code
    assert payment.request_id == "notif-1"
    assert payment.original_request_id == "5b8e438f-fac1-4103-9e0e-ebfdc38b5acb"
    assert (payment.agent_id, payment.agent_store_id, payment.agent_trx_id) == (
        "ALFAMART",
        "TZ01",
        "1246",
    )
    assert payment.late is False
    assert _state(session, bill) == BillState.PAID
    [delivery] = _deliveries(session)
    assert (delivery.verdict, delivery.outcome, delivery.http_status) == (
        "authenticated",
        "applied",
        200,
    )
    assert delivery.payment_id == payment.id
    assert delivery.body.encode() == body
    assert delivery.request_id == "notif-1"
    assert "Signature" not in json.loads(delivery.headers)
    assert _exceptions(session) == []


def test_the_same_delivery_twice_is_acknowledged_and_changes_nothing(
    client: FlaskClient, session: Session
) -> None:
    _, body = _paid_bill_fixture(session)
    headers = doku_headers(body, target=NOTIFICATION_TARGET, request_id="same")
    first = client.post(NOTIFICATION_TARGET, data=body, headers=headers)
    second = client.post(NOTIFICATION_TARGET, data=body, headers=headers)
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.get_json()["status"] == "duplicate"
    assert len(_payments(session)) == 1
    assert [d.outcome for d in _deliveries(session)] == ["applied", "duplicate"]
    assert _exceptions(session) == []


def test_a_late_retry_with_new_request_id_and_old_timestamp_is_the_same_payment(
    client: FlaskClient, session: Session
) -> None:
    # DOKU's last retry comes 12 h after the first attempt: it must never be refused for age.
    _, body = _paid_bill_fixture(session)
    twelve_hours_ago = format_timestamp(datetime.now(UTC) - timedelta(hours=12))
    assert notify(client, body, request_id="retry-3", timestamp=twelve_hours_ago).status_code == 200
    assert notify(client, body, request_id="retry-4").get_json()["status"] == "duplicate"
    assert len(_payments(session)) == 1


@pytest.mark.parametrize(
    ("change", "kind"),
    [
        ({"amount": 149_999}, "amount_mismatch"),
        ({"invoice_number": "INV-OTHER"}, "invoice_mismatch"),
    ],
)
def test_mismatch_is_acknowledged_kept_as_an_exception_and_not_applied(
    client: FlaskClient, session: Session, change: dict[str, Any], kind: str
) -> None:
    bill = make_bill(session)
    response = notify(client, notification_body_for(bill, **change))
    assert response.status_code == 200
    assert response.get_json()["status"] == "exception"
    assert _payments(session) == []
    assert _state(session, bill) == BillState.UNPAID
    [exception] = _exceptions(session)
    assert (exception.kind, exception.bill_id, exception.resolved_at) == (kind, bill.id, None)
    assert _deliveries(session)[0].exception_id == exception.id


def test_unknown_payment_code_answers_404_and_is_kept(
    client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session)
    response = notify(client, notification_body_for(bill, payment_code="8896000000000000"))
    assert response.status_code == 404
    [exception] = _exceptions(session)
    assert exception.kind == "unknown_code"
    assert exception.payment_code == "8896000000000000"
    assert exception.amount == bill.amount


def test_a_second_different_payment_for_a_paid_bill_is_a_refund_case(
    client: FlaskClient, session: Session
) -> None:
    bill, body = _paid_bill_fixture(session)
    notify(client, body)
    second = notification_body_for(bill, agent_trx_id="9999")
    response = notify(client, second)
    assert response.status_code == 200
    assert len(_payments(session)) == 1
    [exception] = _exceptions(session)
    assert exception.kind == "second_payment"
    assert "refund" in exception.detail


def test_payment_after_the_code_expired_is_accepted_and_flagged_late(
    client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session, expires_at=datetime.now(UTC) - timedelta(hours=1))
    response = notify(client, notification_body_for(bill))
    assert response.status_code == 200
    [payment] = _payments(session)
    assert payment.late is True
    assert _state(session, bill) == BillState.PAID
    [exception] = _exceptions(session)
    assert (exception.kind, exception.payment_id) == ("late_payment", payment.id)


def test_failed_payment_leaves_the_bill_unpaid_and_is_kept(
    client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session)
    response = notify(client, notification_body_for(bill, status="FAILED"))
    assert response.status_code == 200
    assert _payments(session) == []
    assert _state(session, bill) == BillState.UNPAID
    assert [e.kind for e in _exceptions(session)] == ["failed_payment"]


def test_unknown_transaction_status_is_kept_not_applied(
    client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session)
    assert notify(client, notification_body_for(bill, status="PENDING")).status_code == 200
    assert _payments(session) == []
    assert [e.kind for e in _exceptions(session)] == ["unknown_status"]


def test_payment_for_a_cancelled_bill_is_a_refund_case(
    client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session, state=BillState.CANCELLED)
    notify(client, notification_body_for(bill))
    assert _payments(session) == []
    assert _state(session, bill) == BillState.CANCELLED
    assert [e.kind for e in _exceptions(session)] == ["cancelled_bill"]


def test_payment_with_a_replaced_code_is_kept_for_staff(
    client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session)
    body = notification_body_for(bill)
    bill.current_code.retired_at = datetime.now(UTC)  # type: ignore[union-attr]
    session.commit()
    assert notify(client, body).status_code == 200
    assert _payments(session) == []
    assert [e.kind for e in _exceptions(session)] == ["retired_code"]


def test_request_id_reused_for_another_payment_is_not_applied(
    client: FlaskClient, session: Session
) -> None:
    first, second = make_bill(session), make_bill(session)
    notify(client, notification_body_for(first), request_id="reused-id")
    response = notify(client, notification_body_for(second), request_id="reused-id")
    assert response.status_code == 200
    assert [p.bill_id for p in _payments(session)] == [first.id]
    assert [e.kind for e in _exceptions(session)] == ["request_id_reused"]


def test_repeated_deliveries_of_a_misfit_open_one_exception(
    client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session)
    body = notification_body_for(bill, amount=1)
    for _ in range(3):
        assert notify(client, body).status_code == 200
    assert len(_exceptions(session)) == 1
    assert len({d.exception_id for d in _deliveries(session)}) == 1


def test_bad_signature_is_401_kept_and_never_applied(client: FlaskClient, session: Session) -> None:
    bill = make_bill(session)
    body = notification_body_for(bill)
    response = notify(client, body, secret_key="SK-wrong", request_id="forged")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert _payments(session) == []
    assert _state(session, bill) == BillState.UNPAID
    [delivery] = _deliveries(session)
    assert (delivery.verdict, delivery.http_status, delivery.outcome) == (
        "unauthenticated",
        401,
        None,
    )
    assert delivery.payment_code is None  # the body was not read
    # Kept: what staff need to recognise it, not the whole body anyone can send.
    assert body.startswith(delivery.body.encode()) and delivery.body_bytes == len(body)
    assert delivery.error == "Signature does not match."


def test_signature_over_the_flask_path_fails_when_a_public_target_is_configured(
    make_app: Any, session: Session
) -> None:
    app = make_app(DOKU_NOTIFICATION_TARGET="/alfa/doku/notification")
    bill = make_bill(session)
    body = notification_body_for(bill)
    client = app.test_client()
    assert notify(client, body).status_code == 401
    ok = client.post(NOTIFICATION_TARGET, data=body,
                     headers=doku_headers(body, target="/alfa/doku/notification"))  # fmt: skip
    assert ok.status_code == 200


@pytest.mark.parametrize(
    ("remove", "field"),
    [
        ("order", "order"),
        ("transaction", "transaction"),
        ("online_to_offline_info", "online_to_offline_info"),
    ],
)
def test_notification_missing_what_we_need_is_400_kept_and_shown_to_staff(
    client: FlaskClient, session: Session, remove: str, field: str
) -> None:
    bill = make_bill(session)
    data = json.loads(notification_body_for(bill))
    del data[remove]
    response = notify(client, json.dumps(data).encode(), request_id="unreadable")
    assert response.status_code == 400
    assert (
        field
        in check_response_signature(response, "unreadable", target=NOTIFICATION_TARGET)["error"][
            "details"
        ]
    )
    [delivery] = _deliveries(session)
    assert (delivery.verdict, delivery.outcome) == ("invalid", "exception")
    assert [e.kind for e in _exceptions(session)] == ["unreadable"]
    assert _payments(session) == []


def test_lenient_parsing_accepts_unknown_fields_and_the_identifer_misspelling(
    client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session)
    data = json.loads(notification_body_for(bill))
    data["online_to_offline_payment"] = {"identifer": [{"name": "AGENT_STORE_ID", "value": "TZ77"}]}
    data["new_doku_field"] = {"added": "later"}
    data["order"]["amount"] = float(bill.amount)
    body = json.dumps(data).encode()
    session.commit()  # DOKU's request runs in a session of its own: hold no lock meanwhile
    assert notify(client, body).status_code == 200
    [payment] = _payments(session)
    assert payment.agent_store_id == "TZ77"
    assert "new_doku_field" in _deliveries(session)[0].body


def test_failed_processing_rolls_back_keeps_the_delivery_with_its_error_and_asks_for_a_retry(
    client: FlaskClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from portal.services.traffic import payments

    bill, body = _paid_bill_fixture(session)
    real_apply = payments.apply_report

    def apply_then_fail(*args: Any, **kwargs: Any) -> Any:
        real_apply(*args, **kwargs)  # the payment is written (flushed) ...
        raise RuntimeError("disk on fire")  # ... then processing fails

    monkeypatch.setattr(payments, "apply_report", apply_then_fail)
    response = notify(client, body, request_id="first-try")
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "processing_failed"
    assert _payments(session) == []
    assert _state(session, bill) == BillState.UNPAID
    [delivery] = _deliveries(session)
    assert delivery.outcome == "error"
    assert delivery.error is not None and "disk on fire" in delivery.error

    monkeypatch.setattr(payments, "apply_report", real_apply)
    session.commit()  # DOKU's request runs in a session of its own: hold no lock meanwhile
    assert notify(client, body, request_id="first-try").status_code == 200  # DOKU's retry
    assert len(_payments(session)) == 1
    assert [d.outcome for d in _deliveries(session)] == ["error", "applied"]


def test_database_unavailable_answers_503_json(
    make_app: Any, tmp_path: Any, session: Session
) -> None:
    bill = make_bill(session)
    body = notification_body_for(bill)
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/dir/db.sqlite3")
    response = notify(app.test_client(), body, request_id="db-down")
    assert response.status_code == 503
    assert (
        check_response_signature(response, "db-down", target=NOTIFICATION_TARGET)["error"]["code"]
        == "unavailable"
    )


def test_count_of_stored_deliveries_matches_what_was_sent(
    client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session)
    for i in range(5):
        notify(client, notification_body_for(bill, amount=bill.amount + (i % 2)))
    assert session.scalar(select(func.count()).select_from(ReceivedNotification)) == 5
