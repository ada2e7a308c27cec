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
from typing import Protocol, cast

from sqlalchemy import Connection, Table, bindparam, insert, select, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

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
from portal.services.messages import N_, Template
from portal.services.session import Session
from portal.services.sql import insert_unless_exists, locked_for_writing


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


_DELIVERIES = cast(Table, ReceivedNotification.__table__)


def store_delivery(session: Session, **columns: object) -> int:
    """Keep a delivery as received and return its id (one INSERT ... RETURNING, no ORM object
    to refresh after the commit). The caller commits before processing it."""
    stored: int = session.connection().execute(_STORE_DELIVERY, columns).scalar_one()
    return stored


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
    updated = session.connection().execute(_UPDATE_DELIVERY, {**values, "_id": notification_id})
    assert updated.rowcount == 1, f"no stored delivery {notification_id}"


# Built once; the columns set are those of the parameters given.
_UPDATE_DELIVERY = update(_DELIVERIES).where(_DELIVERIES.c.id == bindparam("_id"))
_STORE_DELIVERY = insert(_DELIVERIES).returning(_DELIVERIES.c.id)
_OTHER_BODY_UNDER_REQUEST_ID = (
    select(_DELIVERIES.c.body_sha256)
    .where(
        _DELIVERIES.c.request_id == bindparam("request_id"),
        _DELIVERIES.c.verdict == "authenticated",
        _DELIVERIES.c.body_sha256 != bindparam("body_sha256"),
    )
    .limit(1)
)


# What an exception's detail says. The detail is kept as its English sentence (the command
# line, the reconciliation file and the API's answer show it so); the back office reads it
# back with these templates and shows it in the reader's language, old rows included.
UNKNOWN_CODE = Template(N_("no bill has payment code %(code)s"))
FAILED = Template(N_("DOKU reports the payment FAILED; the bill stays unpaid"))
UNKNOWN_STATUS = Template(N_("transaction status %(status)s is neither SUCCESS nor FAILED"))
SECOND_PAYMENT = Template(
    N_(
        "bill %(invoice)s was already paid (payment %(payment)s); this second payment needs a "
        "refund"
    )
)
RETIRED_CODE = Template(N_("payment code %(code)s was replaced on %(day)s"))
CANCELLED_BILL = Template(N_("bill %(invoice)s is cancelled; the money needs a refund"))
INVOICE_MISMATCH = Template(N_("invoice %(reported)s but code %(code)s belongs to %(invoice)s"))
AMOUNT_MISMATCH = Template(
    N_("paid %(paid)s but bill %(invoice)s is %(amount)s"), money=("paid", "amount")
)
LATE_PAYMENT = Template(
    N_("paid at %(paid_at)s, after the code expired at %(expired_at)s; accepted and marked paid")
)
# Filed by the DOKU blueprint (portal/api/notifications.py) in these very words.
REQUEST_ID_REUSED = Template(N_("Request-Id %(request_id)s came before with another body"))
DETAILS = (
    UNKNOWN_CODE,
    FAILED,
    UNKNOWN_STATUS,
    SECOND_PAYMENT,
    RETIRED_CODE,
    CANCELLED_BILL,
    INVOICE_MISMATCH,
    AMOUNT_MISMATCH,
    LATE_PAYMENT,
    REQUEST_ID_REUSED,
)


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
    # Rows, not ORM objects, on the session's connection: this runs for every notification.
    connection = session.connection()
    code = connection.execute(_CODE, {"code": report.payment_code}).first()
    if code is None:
        return exception_result(
            session, ExceptionKind.UNKNOWN_CODE, report,
            str(UNKNOWN_CODE(code=report.payment_code)), now=now, unknown_code=True,
        )  # fmt: skip
    # Lock the bill: simultaneous deliveries of one payment queue here, one after the other.
    bill = connection.execute(_LOCKED_BILL, {"bill_id": code.bill_id}).one()
    if report.status == "FAILED":
        return exception_result(
            session, ExceptionKind.FAILED_PAYMENT, report,
            FAILED.text, now=now, bill_id=bill.id,
        )  # fmt: skip
    if report.status != "SUCCESS":
        return exception_result(
            session, ExceptionKind.UNKNOWN_STATUS, report,
            str(UNKNOWN_STATUS(status=repr(report.status))),
            now=now, bill_id=bill.id,
        )  # fmt: skip
    # Read after the lock: a payment committed by the delivery we waited for is seen here.
    existing = connection.execute(_PAYMENT_OF_BILL, {"bill_id": bill.id}).first()
    if existing is not None:
        if same_payment(existing, report):
            return Result(Outcome.DUPLICATE, "payment already recorded", payment_id=existing.id)
        return exception_result(
            session, ExceptionKind.SECOND_PAYMENT, report,
            str(SECOND_PAYMENT(invoice=bill.invoice_number, payment=existing.id)),
            now=now, bill_id=bill.id,
        )  # fmt: skip
    if code.retired_at is not None:
        return exception_result(
            session, ExceptionKind.RETIRED_CODE, report,
            str(RETIRED_CODE(code=code.code, day=f"{code.retired_at:%Y-%m-%d}")),
            now=now, bill_id=bill.id,
        )  # fmt: skip
    if bill.state == BillState.CANCELLED:
        return exception_result(
            session, ExceptionKind.CANCELLED_BILL, report,
            str(CANCELLED_BILL(invoice=bill.invoice_number)),
            now=now, bill_id=bill.id,
        )  # fmt: skip
    if report.invoice_number != bill.invoice_number:
        return exception_result(
            session, ExceptionKind.INVOICE_MISMATCH, report,
            str(INVOICE_MISMATCH(
                reported=repr(report.invoice_number), code=code.code,
                invoice=repr(bill.invoice_number),
            )), now=now, bill_id=bill.id,
        )  # fmt: skip
    if report.amount != bill.amount:
        return exception_result(
            session, ExceptionKind.AMOUNT_MISMATCH, report,
            str(AMOUNT_MISMATCH(
                paid=report.amount, invoice=bill.invoice_number, amount=bill.amount
            )),
            now=now, bill_id=bill.id,
        )  # fmt: skip
    late = report.paid_at > code.expires_at
    payment_id: int = connection.execute(
        _NEW_PAYMENT,
        {
            "bill_id": bill.id,
            "amount": report.amount,
            "paid_at": report.paid_at,
            "recorded_at": now,
            "payment_code": code.code,
            "request_id": report.request_id,
            "original_request_id": report.original_request_id,
            "agent_id": report.agent_id,
            "agent_store_id": report.agent_store_id,
            "agent_trx_id": report.agent_trx_id,
            "source": source.value,
            "late": late,
            "fingerprint": report.fingerprint,
        },
    ).scalar_one()
    _mark_paid(session, connection, bill.id)
    if late:
        exception_id = file_case(
            session, ExceptionKind.LATE_PAYMENT, report,
            detail=str(LATE_PAYMENT(
                paid_at=f"{report.paid_at:%Y-%m-%dT%H:%M:%SZ}",
                expired_at=f"{code.expires_at:%Y-%m-%dT%H:%M:%SZ}",
            )),
            fingerprint=report.fingerprint, bill_id=bill.id, payment_id=payment_id, now=now,
        )  # fmt: skip
        return Result(
            Outcome.APPLIED, "payment applied (late)", payment_id=payment_id,
            exception_id=exception_id, exception_kind=ExceptionKind.LATE_PAYMENT,
        )  # fmt: skip
    return Result(Outcome.APPLIED, "payment applied", payment_id=payment_id)


# The statements ``apply_report`` runs, built once (Core tables: rows, not objects).
_codes = cast(Table, PaymentCode.__table__)
_bills = cast(Table, Bill.__table__)
_payments = cast(Table, Payment.__table__)
_CODE = select(_codes.c.code, _codes.c.bill_id, _codes.c.retired_at, _codes.c.expires_at).where(
    _codes.c.code == bindparam("code")
)
_LOCKED_BILL = locked_for_writing(
    select(_bills.c.id, _bills.c.invoice_number, _bills.c.amount, _bills.c.state)
    .where(_bills.c.id == bindparam("bill_id"))
)
_PAYMENT_OF_BILL = select(
    _payments.c.id, _payments.c.fingerprint, _payments.c.amount, _payments.c.paid_at,
    _payments.c.original_request_id, _payments.c.agent_trx_id, _payments.c.agent_store_id,
    _payments.c.agent_id,
).where(_payments.c.bill_id == bindparam("bill_id"))  # fmt: skip
_NEW_PAYMENT = insert(_payments).returning(_payments.c.id)
_MARK_PAID = (
    update(_bills).where(_bills.c.id == bindparam("bill_id")).values(state=BillState.PAID.value)
)


def _mark_paid(session: Session, connection: Connection, bill_id: int) -> None:
    """The bill is paid: one UPDATE; a copy of the bill the session already holds says so too
    (the reconciliation and the tests read it back through the ORM)."""
    connection.execute(_MARK_PAID, {"bill_id": bill_id})
    held = session.identity_map.get(identity_key(Bill, bill_id))
    if held is not None:
        set_committed_value(held, "state", BillState.PAID.value)


class PaymentFacts(Protocol):
    """What ``same_payment`` compares of a recorded payment (a ``Payment`` or a row)."""

    @property
    def fingerprint(self) -> str: ...
    @property
    def amount(self) -> int: ...
    @property
    def paid_at(self) -> datetime: ...
    @property
    def original_request_id(self) -> str | None: ...
    @property
    def agent_trx_id(self) -> str | None: ...
    @property
    def agent_store_id(self) -> str | None: ...
    @property
    def agent_id(self) -> str | None: ...


def same_payment(existing: PaymentFacts, report: PaymentReport) -> bool:
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
    earlier = (
        session.connection()
        .execute(
            _OTHER_BODY_UNDER_REQUEST_ID, {"request_id": request_id, "body_sha256": body_sha256}
        )
        .first()
    )
    return earlier is not None
