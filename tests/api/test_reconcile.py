"""``flask doku reconcile``: payments whose notification never came, found through DOKU's
Check Status API (a local server that checks our signature as DOKU does), applied once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.doku.signature import format_timestamp
from portal.models import Bill, BillState, Inquiry, Payment, PaymentException
from tests.factories import (
    CLIENT_ID,
    SECRET_KEY,
    inquire,
    live_code,
    make_bill,
    notification_body_for,
    notify,
)
from tests.fake_doku import fake_doku, status_answer

PAID_AT = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=20)


def _asked_at_till(client: FlaskClient, session: Session, bill: Bill, minutes_ago: float) -> str:
    """A successful inquiry for ``bill``, dated ``minutes_ago``; returns the invoice number."""
    invoice = bill.invoice_number
    code = live_code(bill)
    assert inquire(client, code).status_code == 200
    session.execute(
        update(Inquiry)
        .where(Inquiry.payment_code == code)
        .values(received_at=datetime.now(UTC) - timedelta(minutes=minutes_ago))
    )
    session.commit()
    return invoice


def _reconcile(make_app: Any, url: str, *args: str) -> Any:
    app = make_app(DOKU_API_BASE_URL=url, DOKU_RECONCILE_DELAY_SECONDS=120)
    # Flask's CLI reuses an app context already pushed (the session fixture holds the default
    # app's): push this app's.
    with app.app_context():
        return app.test_cli_runner().invoke(args=["doku", "reconcile", *args])


def _payments(session: Session) -> list[Payment]:
    session.expire_all()
    result = list(session.scalars(select(Payment)))
    session.commit()
    return result


def test_success_reported_by_doku_is_applied_once_and_marked_as_reconciliation(
    make_app: Any, client: FlaskClient, session: Session
) -> None:
    paid, pending, fresh, silent = (make_bill(session) for _ in range(4))
    paid_invoice = _asked_at_till(client, session, paid, minutes_ago=30)
    pending_invoice = _asked_at_till(client, session, pending, minutes_ago=30)
    fresh_invoice = _asked_at_till(client, session, fresh, minutes_ago=0.1)  # under the delay
    amount = session.get(Bill, paid.id).amount  # type: ignore[union-attr]
    session.commit()
    with fake_doku(CLIENT_ID, SECRET_KEY) as doku:
        doku.answers[paid_invoice] = status_answer(
            paid_invoice, "SUCCESS", amount, format_timestamp(PAID_AT)
        )
        doku.answers[pending_invoice] = status_answer(
            pending_invoice, "PENDING", amount, format_timestamp(PAID_AT)
        )
        first = _reconcile(make_app, doku.url)
        second = _reconcile(make_app, doku.url)
    assert first.exit_code == 0, first.output
    assert f"{paid_invoice}: DOKU says SUCCESS: payment applied" in first.output
    assert f"{pending_invoice}: DOKU says PENDING: nothing to apply" in first.output
    assert fresh_invoice not in doku.asked  # too recent: DOKU may not know yet
    assert doku.asked.count(paid_invoice) == 1  # paid now: not asked again
    assert second.exit_code == 0
    [payment] = _payments(session)
    assert (payment.bill_id, payment.source, payment.paid_at) == (
        paid.id,
        "reconciliation",
        PAID_AT,
    )
    assert session.get(Bill, silent.id).state == BillState.UNPAID  # type: ignore[union-attr]


def test_a_late_notification_for_a_reconciled_payment_is_a_duplicate_not_a_refund_case(
    make_app: Any, client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session)
    invoice = _asked_at_till(client, session, bill, minutes_ago=30)
    amount = session.get(Bill, bill.id).amount  # type: ignore[union-attr]
    session.commit()
    with fake_doku(CLIENT_ID, SECRET_KEY) as doku:
        doku.answers[invoice] = status_answer(
            invoice, "SUCCESS", amount, format_timestamp(PAID_AT),
            original_request_id="5b8e438f-fac1-4103-9e0e-ebfdc38b5acb",
        )  # fmt: skip
        assert _reconcile(make_app, doku.url).exit_code == 0
    late = notify(
        client, notification_body_for(session.get(Bill, bill.id), transaction_date=PAID_AT)
    )  # type: ignore[arg-type]
    assert late.get_json()["status"] == "duplicate"
    assert len(_payments(session)) == 1
    assert session.scalars(select(PaymentException)).all() == []


def test_an_amount_doku_reports_differently_is_kept_as_an_exception(
    make_app: Any, client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session, amount=150_000)
    invoice = _asked_at_till(client, session, bill, minutes_ago=30)
    with fake_doku(CLIENT_ID, SECRET_KEY) as doku:
        doku.answers[invoice] = status_answer(invoice, "SUCCESS", 15_000, format_timestamp(PAID_AT))
        _reconcile(make_app, doku.url)
    assert _payments(session) == []
    assert [e.kind for e in session.scalars(select(PaymentException))] == ["amount_mismatch"]


def test_doku_refusing_our_signature_applies_nothing_and_fails_the_command(
    make_app: Any, client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session)
    invoice = _asked_at_till(client, session, bill, minutes_ago=30)
    amount = session.get(Bill, bill.id).amount  # type: ignore[union-attr]
    session.commit()
    with fake_doku(CLIENT_ID, "SK-what-doku-holds") as doku:
        doku.answers[invoice] = status_answer(invoice, "SUCCESS", amount, format_timestamp(PAID_AT))
        result = _reconcile(make_app, doku.url)
    assert result.exit_code == 1
    assert "DOKU answered HTTP 401" in result.output
    assert doku.refused == 1
    assert _payments(session) == []


def test_since_limits_how_far_back_bills_are_checked(
    make_app: Any, client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session)
    invoice = _asked_at_till(client, session, bill, minutes_ago=180)
    with fake_doku(CLIENT_ID, SECRET_KEY) as doku:
        assert "Checked 0 bill(s)" in _reconcile(make_app, doku.url, "--since", "2h").output
        assert "Checked 1 bill(s)" in _reconcile(make_app, doku.url, "--since", "1d").output
    assert doku.asked == [invoice]


def _reconcile_signed(
    make_app: Any, client: FlaskClient, session: Session, signing: str
) -> Any:
    """Reconcile one paid bill against a DOKU that signs its answer the way ``signing`` says."""
    bill = make_bill(session)
    invoice = _asked_at_till(client, session, bill, minutes_ago=30)
    amount = session.get(Bill, bill.id).amount  # type: ignore[union-attr]
    session.commit()
    with fake_doku(CLIENT_ID, SECRET_KEY) as doku:
        doku.answer_signing = signing
        doku.answers[invoice] = status_answer(invoice, "SUCCESS", amount, format_timestamp(PAID_AT))
        return _reconcile(make_app, doku.url)


@pytest.mark.parametrize("signing", ["no_digest", "digest"])
def test_an_answer_signed_either_way_doku_documents_is_applied(
    make_app: Any, client: FlaskClient, session: Session, signing: str
) -> None:
    assert _reconcile_signed(make_app, client, session, signing).exit_code == 0
    assert len(_payments(session)) == 1


@pytest.mark.parametrize("signing, problem", [
    ("none", "the answer is not signed"),
    ("wrong", "the answer's signature does not verify"),
])  # fmt: skip
def test_an_unsigned_or_wrongly_signed_answer_applies_nothing(
    make_app: Any, client: FlaskClient, session: Session, signing: str, problem: str
) -> None:
    result = _reconcile_signed(make_app, client, session, signing)
    assert result.exit_code == 1
    assert problem in result.output
    assert _payments(session) == []
