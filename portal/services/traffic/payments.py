"""Turning DOKU's payment notifications into paid bills: exactly once, nothing lost.

Every delivery is stored before it is processed (``store_delivery``, committed by the caller);
processing (``apply_report``, then ``record_result`` on the stored delivery) runs in a second
transaction that locks the bill, so simultaneous deliveries of one payment on different
processes or machines apply it once: two transactions per delivery
(tests/api/test_transactions_per_request.py). The unique
``payments.bill_id`` is the last word if anything else went wrong.

What does not fit is never applied silently and never dropped: it becomes a
``PaymentException`` for staff, and DOKU gets its acknowledgement so it stops retrying.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import CursorResult, Table, select, update

from portal.models import (
    Bill,
    BillState,
    ExceptionKind,
    Payment,
    PaymentCode,
    PaymentException,
    PaymentSource,
    ReceivedNotification,
)
from portal.services.session import Session
from portal.services.sql import insert_unless_exists


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    EXCEPTION = "exception"
    INVALID = "invalid"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class PaymentReport:
    """What DOKU (or reconciliation) says was paid, in our terms."""

    status: str  # SUCCESS, FAILED, or whatever else DOKU sends
    paid_at: datetime
    invoice_number: str
    amount: int
    payment_code: str
    request_id: str | None = None
    original_request_id: str | None = None
    agent_id: str | None = None
    agent_store_id: str | None = None
    agent_trx_id: str | None = None
    transaction_date: str = ""  # as DOKU wrote it; part of the payment's identity

    @property
    def fingerprint(self) -> str:
        """What makes a re-delivery "the same payment": everything DOKU says about the
        transaction, not the Request-Id or timestamp of the delivery that carried it."""
        parts = (
            self.status,
            self.payment_code,
            self.invoice_number,
            str(self.amount),
            self.transaction_date,
            self.original_request_id or "",
            self.agent_id or "",
            self.agent_store_id or "",
            self.agent_trx_id or "",
        )
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Result:
    outcome: Outcome
    message: str
    payment_id: int | None = None
    exception_id: int | None = None
    exception_kind: ExceptionKind | None = None
    # DOKU's plugins answer an unknown payment code with 404.
    unknown_code: bool = False


def store_delivery(session: Session, **columns: object) -> ReceivedNotification:
    """Keep a delivery as received. The caller commits before processing it."""
    notification = ReceivedNotification(**columns)
    session.add(notification)
    session.flush()
    return notification


def record_result(
    session: Session,
    notification_id: int,
    result: Result,
    report: PaymentReport | None,
    *,
    now: datetime,
    http_status: int,
    response_body: str,
    verdict: str | None = None,
) -> None:
    """Write what became of a stored delivery onto it (one UPDATE, no read of the row)."""
    values: dict[str, object] = {
        "outcome": result.outcome.value,
        "payment_id": result.payment_id,
        "exception_id": result.exception_id,
        "error": None,
        "processed_at": now,
        "http_status": http_status,
        "response_body": response_body,
    }
    if verdict is not None:
        values["verdict"] = verdict
    if report is not None:
        values.update(
            transaction_status=report.status[:32],
            payment_code=report.payment_code,
            invoice_number=report.invoice_number,
            amount=report.amount,
        )
    _update_delivery(session, notification_id, values)


def record_error(
    session: Session,
    notification_id: int,
    error: str,
    *,
    now: datetime,
    http_status: int,
    response_body: str,
) -> None:
    """Processing failed and was rolled back: keep the delivery, with what went wrong."""
    _update_delivery(
        session,
        notification_id,
        {
            "outcome": Outcome.ERROR.value,
            "error": error[:4000],
            "processed_at": now,
            "http_status": http_status,
            "response_body": response_body,
        },
    )


def _update_delivery(session: Session, notification_id: int, values: dict[str, object]) -> None:
    updated = cast(
        "CursorResult[Any]",
        session.execute(
            update(ReceivedNotification)
            .where(ReceivedNotification.id == notification_id)
            .values(values)
            .execution_options(synchronize_session=False)
        ),
    )
    assert updated.rowcount == 1, f"no stored delivery {notification_id}"


def file_case(
    session: Session,
    kind: ExceptionKind,
    report: PaymentReport | None,
    *,
    detail: str,
    fingerprint: str,
    bill_id: int | None = None,
    payment_id: int | None = None,
    now: datetime,
) -> int:
    """File a case for staff (an exception row), once per kind and payment; returns its id."""
    key = hashlib.sha256(f"{kind.value}\x1f{fingerprint}".encode()).hexdigest()
    values: dict[str, object] = {
        "kind": kind.value,
        "fingerprint": key,
        "created_at": now,
        "bill_id": bill_id,
        "payment_id": payment_id,
        "detail": detail,
        "report_fingerprint": fingerprint,
    }
    if report is not None:
        values.update(
            transaction_status=report.status[:32],
            agent_id=report.agent_id,
            agent_trx_id=report.agent_trx_id,
            payment_code=report.payment_code,
            invoice_number=report.invoice_number[:64],
            amount=report.amount,
            paid_at=report.paid_at,
            agent_store_id=report.agent_store_id,
        )
    table = cast(Table, PaymentException.__table__)
    new_id = insert_unless_exists(session, table, values, ["fingerprint"])
    if new_id is not None:
        return new_id
    existing: int = session.execute(
        select(PaymentException.id).where(PaymentException.fingerprint == key)
    ).scalar_one()
    return existing


def exception_result(
    session: Session,
    kind: ExceptionKind,
    report: PaymentReport | None,
    detail: str,
    *,
    now: datetime,
    bill_id: int | None = None,
    unknown_code: bool = False,
    fingerprint: str | None = None,
) -> Result:
    """Open (or find) the exception for this payment and say so."""
    key = fingerprint or (report.fingerprint if report is not None else None)
    assert key is not None, "an exception needs a report or a fingerprint"
    exception_id = file_case(
        session, kind, report, detail=detail, fingerprint=key, bill_id=bill_id, now=now
    )
    return Result(
        Outcome.EXCEPTION,
        f"{kind.value}: {detail}",
        exception_id=exception_id,
        exception_kind=kind,
        unknown_code=unknown_code,
    )


def apply_report(
    session: Session,
    report: PaymentReport,
    *,
    now: datetime,
    source: PaymentSource = PaymentSource.NOTIFICATION,
) -> Result:
    """Decide what a payment report means for our bills, and make it so (flushed, not committed).

    Used for notifications and for reconciliation alike, so there is one set of rules.
    """
    code = session.execute(
        select(PaymentCode).where(PaymentCode.code == report.payment_code)
    ).scalar_one_or_none()
    if code is None:
        return exception_result(
            session, ExceptionKind.UNKNOWN_CODE, report,
            f"no bill has payment code {report.payment_code}", now=now, unknown_code=True,
        )  # fmt: skip
    # Lock the bill: simultaneous deliveries of one payment queue here, one after the other.
    bill = session.execute(
        select(Bill).where(Bill.id == code.bill_id).with_for_update()
    ).scalar_one()
    if report.status == "FAILED":
        return exception_result(
            session, ExceptionKind.FAILED_PAYMENT, report,
            "DOKU reports the payment FAILED; the bill stays unpaid", now=now, bill_id=bill.id,
        )  # fmt: skip
    if report.status != "SUCCESS":
        return exception_result(
            session, ExceptionKind.UNKNOWN_STATUS, report,
            f"transaction status {report.status!r} is neither SUCCESS nor FAILED",
            now=now, bill_id=bill.id,
        )  # fmt: skip
    existing = session.execute(
        select(Payment).where(Payment.bill_id == bill.id)
    ).scalar_one_or_none()
    if existing is not None:
        if same_payment(existing, report):
            return Result(Outcome.DUPLICATE, "payment already recorded", payment_id=existing.id)
        return exception_result(
            session, ExceptionKind.SECOND_PAYMENT, report,
            f"bill {bill.invoice_number} was already paid (payment {existing.id}); "
            "this second payment needs a refund", now=now, bill_id=bill.id,
        )  # fmt: skip
    if code.retired_at is not None:
        return exception_result(
            session, ExceptionKind.RETIRED_CODE, report,
            f"payment code {code.code} was replaced on {code.retired_at:%Y-%m-%d}",
            now=now, bill_id=bill.id,
        )  # fmt: skip
    if bill.state == BillState.CANCELLED:
        return exception_result(
            session, ExceptionKind.CANCELLED_BILL, report,
            f"bill {bill.invoice_number} is cancelled; the money needs a refund",
            now=now, bill_id=bill.id,
        )  # fmt: skip
    if report.invoice_number != bill.invoice_number:
        return exception_result(
            session, ExceptionKind.INVOICE_MISMATCH, report,
            f"invoice {report.invoice_number!r} but code {code.code} belongs to "
            f"{bill.invoice_number!r}", now=now, bill_id=bill.id,
        )  # fmt: skip
    if report.amount != bill.amount:
        return exception_result(
            session, ExceptionKind.AMOUNT_MISMATCH, report,
            f"paid {report.amount} but bill {bill.invoice_number} is {bill.amount}",
            now=now, bill_id=bill.id,
        )  # fmt: skip
    late = report.paid_at > code.expires_at
    payment = Payment(
        bill_id=bill.id,
        amount=report.amount,
        paid_at=report.paid_at,
        recorded_at=now,
        payment_code=code.code,
        request_id=report.request_id,
        original_request_id=report.original_request_id,
        agent_id=report.agent_id,
        agent_store_id=report.agent_store_id,
        agent_trx_id=report.agent_trx_id,
        source=source.value,
        late=late,
        fingerprint=report.fingerprint,
    )
    session.add(payment)
    bill.state = BillState.PAID
    session.flush()
    if late:
        exception_id = file_case(
            session, ExceptionKind.LATE_PAYMENT, report,
            detail=f"paid at {report.paid_at:%Y-%m-%dT%H:%M:%SZ}, after the code expired at "
            f"{code.expires_at:%Y-%m-%dT%H:%M:%SZ}; accepted and marked paid",
            fingerprint=report.fingerprint, bill_id=bill.id, payment_id=payment.id, now=now,
        )  # fmt: skip
        return Result(
            Outcome.APPLIED, "payment applied (late)", payment_id=payment.id,
            exception_id=exception_id, exception_kind=ExceptionKind.LATE_PAYMENT,
        )  # fmt: skip
    return Result(Outcome.APPLIED, "payment applied", payment_id=payment.id)


def same_payment(existing: Payment, report: PaymentReport) -> bool:
    """Whether ``report`` describes the payment already recorded, however it reached us.

    A notification and DOKU's Check Status answer describe one payment with different detail
    (the status API may omit the till's identifiers), so identifiers are compared only where
    both sides have them; the amount and the moment of payment must always agree.
    """
    if existing.fingerprint == report.fingerprint:
        return True
    if existing.amount != report.amount or existing.paid_at != report.paid_at:
        return False
    pairs = (
        (existing.original_request_id, report.original_request_id),
        (existing.agent_trx_id, report.agent_trx_id),
        (existing.agent_store_id, report.agent_store_id),
        (existing.agent_id, report.agent_id),
    )
    return all(ours == theirs for ours, theirs in pairs if ours and theirs)


def request_id_reused(session: Session, request_id: str, body_sha256: str) -> bool:
    """Whether an earlier authenticated delivery had this Request-Id and another body."""
    earlier = session.execute(
        select(ReceivedNotification.body_sha256)
        .where(
            ReceivedNotification.request_id == request_id,
            ReceivedNotification.verdict == "authenticated",
            ReceivedNotification.body_sha256 != body_sha256,
        )
        .limit(1)
    ).first()
    return earlier is not None
