"""The payment rules as staff meet them: what becomes of each report, and what each case carries.

Every misfit is a case staff must be able to trace to a bill, a payment code, an invoice, an
amount, a moment and a store (to refund or chase it); two different misfits are two cases; the
same one delivered again is still one. The reports go straight to ``apply_report``, the one set
of rules behind notifications and reconciliation.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.doku.signature import format_timestamp
from portal.models import (
    Bill,
    BillState,
    ExceptionKind,
    Payment,
    PaymentException,
    PaymentSource,
    ReceivedNotification,
)
from portal.services.messages import read_back
from portal.services.traffic import payments
from portal.services.traffic.payments import Outcome, PaymentReport, Result
from tests.factories import make_bill

EXPIRES_AT = datetime(2026, 12, 31, 16, 59, 59, tzinfo=UTC)
PAID_AT = datetime(2026, 12, 30, 3, 15, 7, tzinfo=UTC)
NOW = PAID_AT + timedelta(minutes=2)


def _bill(session: Session, **kwargs: Any) -> Bill:
    return make_bill(session, expires_at=kwargs.pop("expires_at", EXPIRES_AT), **kwargs)


def _code(bill: Bill) -> str:
    assert bill.current_code is not None
    return bill.current_code.code


def report_for(bill: Bill, **changes: Any) -> PaymentReport:
    """What DOKU reports when ``bill`` is paid at store TZ01 (fields overridable)."""
    paid_at = changes.pop("paid_at", PAID_AT)
    report = PaymentReport(
        status="SUCCESS",
        paid_at=paid_at,
        invoice_number=bill.invoice_number,
        amount=bill.amount,
        payment_code=_code(bill),
        request_id="req-0001",
        original_request_id="orig-0001",
        agent_id="ALFAMART",
        agent_store_id="TZ01",
        agent_trx_id="trx-0001",
        transaction_date=format_timestamp(paid_at),
    )
    return dataclasses.replace(report, **changes)


def apply(session: Session, report: PaymentReport, **kwargs: Any) -> Result:
    result = payments.apply_report(session, report, now=kwargs.pop("now", NOW), **kwargs)
    session.flush()
    return result


def cases(session: Session) -> list[PaymentException]:
    return list(session.scalars(select(PaymentException).order_by(PaymentException.id)))


def payments_of(session: Session, bill: Bill) -> list[Payment]:
    return list(session.scalars(select(Payment).where(Payment.bill_id == bill.id)))


def _state(session: Session, bill: Bill) -> str:
    session.expire_all()
    state = session.execute(select(Bill.state).where(Bill.id == bill.id)).scalar_one()
    return str(state)


# A report applied.


def test_a_matching_report_records_the_payment_with_everything_doku_said(
    session: Session,
) -> None:
    bill = _bill(session)
    report = report_for(bill)
    result = apply(session, report, source=PaymentSource.RECONCILIATION)
    [payment] = payments_of(session, bill)
    assert result == Result(Outcome.APPLIED, "payment applied", payment_id=payment.id)
    assert (payment.amount, payment.paid_at, payment.recorded_at) == (bill.amount, PAID_AT, NOW)
    assert payment.payment_code == _code(bill)
    assert (payment.request_id, payment.original_request_id) == ("req-0001", "orig-0001")
    assert (payment.agent_id, payment.agent_store_id, payment.agent_trx_id) == (
        "ALFAMART",
        "TZ01",
        "trx-0001",
    )
    assert payment.source == "reconciliation"
    assert payment.late is False
    assert payment.fingerprint == report.fingerprint
    assert _state(session, bill) == BillState.PAID
    assert cases(session) == []


def test_a_payment_comes_from_a_notification_unless_told_otherwise(session: Session) -> None:
    bill = _bill(session)
    apply(session, report_for(bill))
    assert [p.source for p in payments_of(session, bill)] == ["notification"]


def test_a_bill_the_session_already_holds_reads_as_paid_once_its_payment_is_applied(
    session: Session,
) -> None:
    """The payment is applied with Core statements, not through the ORM: the copy of the bill
    that the caller's session holds (reconciliation reads it back) is told as well, without
    a fresh read of the row."""
    bill = _bill(session)
    assert bill.state == BillState.UNPAID  # loaded: the session holds this copy
    apply(session, report_for(bill))
    assert bill.state == BillState.PAID
    assert session.get(Bill, bill.id) is bill


# The moment of expiry: a payment at the very second the code expires is on time.


def test_a_payment_at_the_moment_the_code_expires_is_on_time(session: Session) -> None:
    bill = _bill(session)
    result = apply(session, report_for(bill, paid_at=EXPIRES_AT), now=EXPIRES_AT)
    assert result.outcome is Outcome.APPLIED
    assert result.exception_id is None
    assert [p.late for p in payments_of(session, bill)] == [False]
    assert cases(session) == []


def test_a_payment_one_second_after_expiry_is_applied_and_flagged_late_for_staff(
    session: Session,
) -> None:
    bill = _bill(session)
    paid_at = EXPIRES_AT + timedelta(seconds=1)
    result = apply(session, report_for(bill, paid_at=paid_at), now=paid_at)
    [payment] = payments_of(session, bill)
    [case] = cases(session)
    assert payment.late is True
    assert _state(session, bill) == BillState.PAID
    assert result == Result(
        Outcome.APPLIED,
        "payment applied (late)",
        payment_id=payment.id,
        exception_id=case.id,
        exception_kind=ExceptionKind.LATE_PAYMENT,
    )
    assert (case.kind, case.payment_id, case.bill_id) == ("late_payment", payment.id, bill.id)
    assert case.detail == (
        "paid at 2026-12-31T17:00:00Z, after the code expired at 2026-12-31T16:59:59Z; "
        "accepted and marked paid"
    )


# Every kind of case names its bill and what was paid, where and when.


def _failed(session: Session) -> tuple[Bill, PaymentReport]:
    bill = _bill(session)
    return bill, report_for(bill, status="FAILED")


def _unknown_status(session: Session) -> tuple[Bill, PaymentReport]:
    bill = _bill(session)
    return bill, report_for(bill, status="PENDING")


def _second_payment(session: Session) -> tuple[Bill, PaymentReport]:
    bill = _bill(session)
    apply(session, report_for(bill))
    return bill, report_for(bill, agent_trx_id="trx-0002", paid_at=PAID_AT + timedelta(hours=1))


def _retired_code(session: Session) -> tuple[Bill, PaymentReport]:
    bill = _bill(session)
    report = report_for(bill)
    assert bill.current_code is not None
    bill.current_code.retired_at = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    session.flush()
    return bill, report


def _cancelled_bill(session: Session) -> tuple[Bill, PaymentReport]:
    bill = _bill(session, state=BillState.CANCELLED)
    return bill, report_for(bill)


def _invoice_mismatch(session: Session) -> tuple[Bill, PaymentReport]:
    bill = _bill(session)
    return bill, report_for(bill, invoice_number="INV-SOMEONE-ELSE")


def _amount_mismatch(session: Session) -> tuple[Bill, PaymentReport]:
    bill = _bill(session)
    return bill, report_for(bill, amount=bill.amount - 1)


def _late(session: Session) -> tuple[Bill, PaymentReport]:
    bill = _bill(session, expires_at=PAID_AT - timedelta(days=1))
    return bill, report_for(bill)


CASE_KINDS = {
    "failed_payment": _failed,
    "unknown_status": _unknown_status,
    "second_payment": _second_payment,
    "retired_code": _retired_code,
    "cancelled_bill": _cancelled_bill,
    "invoice_mismatch": _invoice_mismatch,
    "amount_mismatch": _amount_mismatch,
    "late_payment": _late,
}


@pytest.mark.parametrize("kind", list(CASE_KINDS))
def test_each_kind_of_case_carries_its_bill_and_the_payments_code_invoice_amount_time_and_store(
    session: Session, kind: str
) -> None:
    bill, report = CASE_KINDS[kind](session)
    result = apply(session, report)
    [case] = [c for c in cases(session) if c.kind == kind]
    assert result.exception_id == case.id
    assert result.exception_kind == kind
    assert result.unknown_code is False
    assert case.bill_id == bill.id
    assert case.payment_code == report.payment_code
    assert case.invoice_number == report.invoice_number
    assert case.amount == report.amount
    assert case.paid_at == report.paid_at
    assert case.agent_store_id == "TZ01"
    # The till's own ids and DOKU's status: what staff quote to DOKU for a refund, and what
    # reconciliation counts each payment by.
    assert (case.agent_id, case.agent_trx_id) == (report.agent_id, report.agent_trx_id)
    assert case.transaction_status == report.status
    assert case.report_fingerprint == report.fingerprint
    assert case.created_at == NOW
    assert case.resolved_at is None


@pytest.mark.parametrize("kind", [k for k in CASE_KINDS if k != "late_payment"])
def test_a_case_that_is_not_a_late_payment_leaves_the_bill_as_it_was_and_records_nothing(
    session: Session, kind: str
) -> None:
    bill, report = CASE_KINDS[kind](session)
    before = _state(session, bill)
    payments_before = len(payments_of(session, bill))
    result = apply(session, report)
    assert result.outcome is Outcome.EXCEPTION
    assert result.payment_id is None
    assert result.message.startswith(f"{kind}: ")
    assert _state(session, bill) == before
    assert len(payments_of(session, bill)) == payments_before


def test_a_payment_code_no_bill_has_is_a_case_without_a_bill_and_answered_as_unknown(
    session: Session,
) -> None:
    bill = _bill(session)
    report = report_for(bill, payment_code="8896000000000000")
    result = apply(session, report)
    [case] = cases(session)
    assert result == Result(
        Outcome.EXCEPTION,
        "unknown_code: no bill has payment code 8896000000000000",
        exception_id=case.id,
        exception_kind=ExceptionKind.UNKNOWN_CODE,
        unknown_code=True,
    )
    assert (case.kind, case.bill_id, case.payment_id) == ("unknown_code", None, None)
    assert (case.payment_code, case.invoice_number, case.amount, case.paid_at) == (
        "8896000000000000",
        bill.invoice_number,
        bill.amount,
        PAID_AT,
    )
    assert case.agent_store_id == "TZ01"


def test_what_staff_read_on_each_case_names_the_problem(session: Session) -> None:
    failed_bill, failed = _failed(session)
    apply(session, failed)
    _, pending = _unknown_status(session)
    apply(session, pending)
    paid_bill, second = _second_payment(session)
    apply(session, second)
    _, retired = _retired_code(session)
    apply(session, retired)
    cancelled_bill, cancelled = _cancelled_bill(session)
    apply(session, cancelled)
    mismatched_bill, other_invoice = _invoice_mismatch(session)
    apply(session, other_invoice)
    short_bill, short = _amount_mismatch(session)
    apply(session, short)
    [first_payment] = payments_of(session, paid_bill)
    details = {c.kind: c.detail for c in cases(session)}
    assert details == {
        "failed_payment": "DOKU reports the payment FAILED; the bill stays unpaid",
        "unknown_status": "transaction status 'PENDING' is neither SUCCESS nor FAILED",
        "second_payment": f"bill {paid_bill.invoice_number} was already paid "
        f"(payment {first_payment.id}); this second payment needs a refund",
        "retired_code": f"payment code {retired.payment_code} was replaced on 2026-12-01",
        "cancelled_bill": f"bill {cancelled_bill.invoice_number} is cancelled; "
        "the money needs a refund",
        "invoice_mismatch": f"invoice 'INV-SOMEONE-ELSE' but code {_code(mismatched_bill)} "
        f"belongs to {mismatched_bill.invoice_number!r}",
        "amount_mismatch": f"paid {short_bill.amount - 1} but bill {short_bill.invoice_number} "
        f"is {short_bill.amount}",
    }
    assert failed_bill.id != paid_bill.id


def test_what_staff_read_on_a_case_is_read_back_as_the_message_that_wrote_it(
    session: Session,
) -> None:
    """The back office shows a case's detail in the reader's language: the English sentence
    kept on the case reads back as its message, values and money included; a detail no
    template wrote (an older row, a note by hand) is shown as it is."""
    bill, short = _amount_mismatch(session)
    apply(session, short)
    [case] = cases(session)
    assert read_back(case.detail, payments.DETAILS) == payments.AMOUNT_MISMATCH(
        paid=bill.amount - 1, invoice=bill.invoice_number, amount=bill.amount
    )
    assert read_back("refunded by hand", payments.DETAILS) == "refunded by hand"


def test_an_overlong_invoice_number_is_kept_cut_to_what_the_case_can_hold(
    session: Session,
) -> None:
    bill = _bill(session)
    apply(session, report_for(bill, invoice_number="I" * 64 + "overflow"))
    [case] = cases(session)
    assert case.invoice_number == "I" * 64


# A second payment of a paid bill is a refund case, unless it is the same payment again.


def test_a_second_payment_at_the_same_moment_for_another_amount_is_a_refund_case(
    session: Session,
) -> None:
    bill = _bill(session)
    apply(session, report_for(bill))
    result = apply(session, report_for(bill, amount=bill.amount + 1, agent_trx_id="trx-0002"))
    assert result.exception_kind is ExceptionKind.SECOND_PAYMENT
    assert [c.kind for c in cases(session)] == ["second_payment"]
    assert len(payments_of(session, bill)) == 1


@pytest.mark.parametrize("identifiers", ["the same till identifiers", "no till identifiers"])
def test_another_amount_at_the_same_moment_is_never_taken_for_the_payment_recorded(
    session: Session, identifiers: str
) -> None:
    # Whether DOKU resends the till's transaction or its status API reports it without the
    # till's identifiers: another amount is another payment, and the money needs a refund.
    bill = _bill(session)
    apply(session, report_for(bill))
    other = report_for(bill, amount=bill.amount + 50_000)
    if identifiers == "no till identifiers":
        other = dataclasses.replace(
            other, original_request_id=None, agent_id=None, agent_store_id=None, agent_trx_id=None
        )
    result = apply(session, other)
    assert result.outcome is Outcome.EXCEPTION
    assert [(c.kind, c.amount) for c in cases(session)] == [
        ("second_payment", bill.amount + 50_000)
    ]
    assert [p.amount for p in payments_of(session, bill)] == [bill.amount]


def test_a_second_payment_of_the_same_amount_at_another_moment_is_a_refund_case(
    session: Session,
) -> None:
    bill = _bill(session)
    apply(session, report_for(bill))
    later = PAID_AT + timedelta(seconds=1)
    result = apply(session, report_for(bill, paid_at=later, original_request_id="orig-0002"))
    assert result.exception_kind is ExceptionKind.SECOND_PAYMENT
    assert [(c.kind, c.paid_at) for c in cases(session)] == [("second_payment", later)]


@pytest.mark.parametrize(
    "identifier", ["original_request_id", "agent_trx_id", "agent_store_id", "agent_id"]
)
def test_same_amount_and_moment_but_another_till_transaction_is_a_refund_case(
    session: Session, identifier: str
) -> None:
    bill = _bill(session)
    apply(session, report_for(bill))
    result = apply(session, report_for(bill, **{identifier: "something-else"}))
    assert result.exception_kind is ExceptionKind.SECOND_PAYMENT
    assert len(cases(session)) == 1


def test_the_status_apis_account_without_till_identifiers_is_the_payment_already_recorded(
    session: Session,
) -> None:
    bill = _bill(session)
    apply(session, report_for(bill))
    [payment] = payments_of(session, bill)
    check_status = report_for(
        bill, request_id=None, original_request_id=None, agent_id=None, agent_store_id=None,
        agent_trx_id=None, transaction_date="2026-12-30 10:15:07",
    )  # fmt: skip
    result = apply(session, check_status, source=PaymentSource.RECONCILIATION)
    assert result == Result(Outcome.DUPLICATE, "payment already recorded", payment_id=payment.id)
    assert cases(session) == []


def test_the_same_delivery_again_is_the_payment_already_recorded(session: Session) -> None:
    bill = _bill(session)
    apply(session, report_for(bill))
    again = apply(session, report_for(bill, request_id="req-0002"))
    assert again.outcome is Outcome.DUPLICATE
    assert cases(session) == []


# Two different misfits of one kind are two cases; the same misfit again is one.


def test_two_unknown_codes_are_two_cases(session: Session) -> None:
    bill = _bill(session)
    first = apply(session, report_for(bill, payment_code="8896000000000001"))
    second = apply(session, report_for(bill, payment_code="8896000000000002"))
    assert first.exception_id != second.exception_id
    assert [c.payment_code for c in cases(session)] == ["8896000000000001", "8896000000000002"]


def test_two_late_payments_of_two_bills_are_two_cases(session: Session) -> None:
    expired = PAID_AT - timedelta(days=1)
    one, two = _bill(session, expires_at=expired), _bill(session, expires_at=expired)
    apply(session, report_for(one))
    apply(session, report_for(two))
    assert [(c.kind, c.bill_id) for c in cases(session)] == [
        ("late_payment", one.id),
        ("late_payment", two.id),
    ]


@pytest.mark.parametrize(
    "change",
    [
        {"status": "EXPIRED"},
        {"invoice_number": "INV-OTHER"},
        {"amount": 1},
        {"transaction_date": "2026-12-30T03:15:08Z"},
        {"original_request_id": "orig-0002"},
        {"agent_id": "ALFAMIDI"},
        {"agent_store_id": "TZ02"},
        {"agent_trx_id": "trx-0002"},
    ],
    ids=lambda change: next(iter(change)),
)
def test_two_reports_that_differ_in_anything_doku_says_about_the_payment_are_two_cases(
    session: Session, change: dict[str, Any]
) -> None:
    bill = _bill(session)
    first = report_for(bill, status="PENDING")
    apply(session, first)
    apply(session, dataclasses.replace(first, **change))
    assert len(cases(session)) == 2


def test_a_failed_payment_tried_again_at_the_till_is_a_second_case(session: Session) -> None:
    bill = _bill(session)
    apply(session, report_for(bill, status="FAILED"))
    apply(session, report_for(bill, status="FAILED", agent_trx_id="trx-0002"))
    assert [c.kind for c in cases(session)] == ["failed_payment", "failed_payment"]


def test_the_same_misfit_delivered_again_under_another_request_id_stays_one_case(
    session: Session,
) -> None:
    bill = _bill(session)
    first = apply(session, report_for(bill, amount=1))
    again = apply(
        session, report_for(bill, amount=1, request_id="req-0002"), now=NOW + timedelta(1)
    )
    [case] = cases(session)
    assert first.exception_id == again.exception_id == case.id
    assert case.created_at == NOW


def test_one_payment_can_be_a_case_of_two_kinds(session: Session) -> None:
    # The fingerprint is per kind: the same report unreadable and reused is two cases.
    bill = _bill(session)
    report = report_for(bill)
    one = payments.exception_result(
        session, ExceptionKind.REQUEST_ID_REUSED, report, "reused", now=NOW
    )
    two = payments.exception_result(session, ExceptionKind.UNREADABLE, report, "odd", now=NOW)
    assert one.exception_id != two.exception_id
    assert [c.kind for c in cases(session)] == ["request_id_reused", "unreadable"]


def test_a_case_without_a_report_is_found_again_by_the_fingerprint_given(
    session: Session,
) -> None:
    first = payments.exception_result(
        session, ExceptionKind.UNREADABLE, None, "not json", now=NOW, fingerprint="a" * 64
    )
    again = payments.exception_result(
        session, ExceptionKind.UNREADABLE, None, "not json", now=NOW, fingerprint="a" * 64
    )
    other = payments.exception_result(
        session, ExceptionKind.UNREADABLE, None, "not json", now=NOW, fingerprint="b" * 64
    )
    assert first.exception_id == again.exception_id != other.exception_id
    assert first.message == "unreadable: not json"
    [case, _] = cases(session)
    assert (case.payment_code, case.amount, case.paid_at, case.bill_id) == (None, None, None, None)


def test_fingerprints_keep_their_value_across_releases(session: Session) -> None:
    # Stored payments and cases are matched against re-deliveries by this value, so it must
    # not change between releases (known answer for a fixed report).
    report = PaymentReport(
        status="SUCCESS",
        paid_at=PAID_AT,
        invoice_number="INV-1",
        amount=150000,
        payment_code="8896000000000001",
        original_request_id="orig",
        agent_id="ALFAMART",
        agent_store_id="TZ01",
        agent_trx_id="1246",
        transaction_date="2026-12-30T03:15:07Z",
    )
    assert report.fingerprint == (
        "c2a04092126af1b12e7af9731a5fa2efe9705bb1fe12a9ca1f4a82a63b1f9a43"
    )
    bare = dataclasses.replace(
        report, original_request_id=None, agent_id=None, agent_store_id=None, agent_trx_id=None
    )
    assert bare.fingerprint == ("fe16744c738cad5269064a06786df3cfa691b38fc0cd357163fc95b79e228e1f")


# What becomes of a delivery is written onto it.


def _delivery(session: Session) -> int:
    return payments.store_delivery(
        session,
        received_at=NOW,
        client_id="MCH-1",
        request_id="req-0001",
        request_timestamp="2026-12-30T03:17:07Z",
        headers="{}",
        body="{}",
        body_sha256="0" * 64,
        verdict="authenticated",
    )


def test_the_outcome_of_a_delivery_is_written_onto_it(session: Session) -> None:
    bill = _bill(session)
    delivery = _delivery(session)
    report = report_for(bill, status="S" * 40)
    result = Result(Outcome.EXCEPTION, "unknown_status: ...", exception_id=None, payment_id=None)
    payments.record_error(
        session, delivery, "boom", now=NOW, http_status=500, response_body="{}"
    )
    payments.record_result(
        session, delivery, result, report, now=NOW + timedelta(seconds=1), http_status=200,
        response_body='{"status":"exception"}', verdict="checked",
    )  # fmt: skip
    session.flush()
    session.expire_all()
    stored = session.get(ReceivedNotification, delivery)
    assert stored is not None
    assert stored.verdict == "checked"
    assert stored.transaction_status == "S" * 32
    assert (stored.payment_code, stored.invoice_number, stored.amount) == (
        _code(bill),
        bill.invoice_number,
        bill.amount,
    )
    assert stored.outcome == "exception"
    assert stored.error is None
    assert stored.processed_at == NOW + timedelta(seconds=1)
    assert (stored.http_status, stored.response_body) == (200, '{"status":"exception"}')


def test_a_delivery_without_a_report_keeps_its_verdict(session: Session) -> None:
    delivery = _delivery(session)
    payments.record_result(
        session, delivery, Result(Outcome.INVALID, "bad"), None, now=NOW, http_status=400,
        response_body="{}",
    )  # fmt: skip
    session.flush()
    session.expire_all()
    stored = session.get(ReceivedNotification, delivery)
    assert stored is not None
    assert (stored.verdict, stored.outcome, stored.payment_code) == (
        "authenticated",
        "invalid",
        None,
    )


def test_a_failed_processing_is_written_onto_the_delivery_with_its_error_cut_short(
    session: Session,
) -> None:
    delivery = _delivery(session)
    payments.record_error(
        session, delivery, "x" * 5000, now=NOW, http_status=500, response_body='{"e":1}'
    )
    session.flush()
    session.expire_all()
    stored = session.get(ReceivedNotification, delivery)
    assert stored is not None
    assert (stored.outcome, stored.error, stored.processed_at) == ("error", "x" * 4000, NOW)
    assert (stored.http_status, stored.response_body) == (500, '{"e":1}')


# A Request-Id is "reused" only if an authenticated delivery had it with another body.


def test_a_request_id_is_reused_only_by_an_authenticated_delivery_with_another_body(
    session: Session,
) -> None:
    _delivery(session)
    assert payments.request_id_reused(session, "req-0001", "1" * 64) is True
    assert payments.request_id_reused(session, "req-0001", "0" * 64) is False
    assert payments.request_id_reused(session, "req-0002", "1" * 64) is False
    payments.store_delivery(
        session, received_at=NOW, client_id="MCH-1", request_id="forged", headers="{}",
        body="{}", body_sha256="2" * 64, verdict="unauthenticated",
    )  # fmt: skip
    assert payments.request_id_reused(session, "forged", "3" * 64) is False


def test_a_case_with_nothing_to_tell_it_apart_is_refused(session: Session) -> None:
    with pytest.raises(AssertionError) as refused:
        payments.exception_result(session, ExceptionKind.UNREADABLE, None, "?", now=NOW)
    assert str(refused.value) == "an exception needs a report or a fingerprint"
    assert cases(session) == []


def test_a_long_unknown_status_is_kept_cut_to_its_column(session: Session) -> None:
    bill = _bill(session)
    status = "PENDING_SETTLEMENT_AT_THE_ACQUIRER_BANK"  # 39 characters: the column holds 32
    apply(session, report_for(bill, status=status))
    [case] = cases(session)
    assert (case.kind, case.transaction_status) == ("unknown_status", status[:32])
