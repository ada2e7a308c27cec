"""Payments applied to bills, and the exceptions staff must resolve."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.doku.limits import (
    AMOUNT_MAX,
    IDENTIFIER_VALUE_MAX,
    INVOICE_NUMBER_MAX,
    PAYMENT_CODE_MAX,
    REQUEST_ID_MAX,
    STATUS_MAX,
)
from portal.models.base import Base, UTCDateTime, utcnow
from portal.models.billing import Bill


class PaymentSource(StrEnum):
    NOTIFICATION = "notification"
    RECONCILIATION = "reconciliation"


class Payment(Base):
    """Money received for a bill. At most one per bill: the database guarantees exactly once."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint(f"amount > 0 AND amount <= {AMOUNT_MAX}", name="amount_range"),
        Index("ix_payments_paid_at", "paid_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("bills.id"), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    # When the customer paid (DOKU's transaction.date), not when we heard of it.
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    payment_code: Mapped[str] = mapped_column(String(PAYMENT_CODE_MAX))
    request_id: Mapped[str | None] = mapped_column(String(REQUEST_ID_MAX))
    original_request_id: Mapped[str | None] = mapped_column(String(REQUEST_ID_MAX))
    agent_id: Mapped[str | None] = mapped_column(String(IDENTIFIER_VALUE_MAX))
    agent_store_id: Mapped[str | None] = mapped_column(String(IDENTIFIER_VALUE_MAX))
    agent_trx_id: Mapped[str | None] = mapped_column(String(IDENTIFIER_VALUE_MAX))
    source: Mapped[str] = mapped_column(String(16), default=PaymentSource.NOTIFICATION.value)
    # Paid after the code's expiry: accepted, and flagged for staff.
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    # What identifies this payment across re-deliveries (see services.traffic.payments.fingerprint).
    fingerprint: Mapped[str] = mapped_column(String(64))

    bill: Mapped[Bill] = relationship()


class ExceptionKind(StrEnum):
    UNKNOWN_CODE = "unknown_code"
    RETIRED_CODE = "retired_code"
    INVOICE_MISMATCH = "invoice_mismatch"
    AMOUNT_MISMATCH = "amount_mismatch"
    SECOND_PAYMENT = "second_payment"
    CANCELLED_BILL = "cancelled_bill"
    LATE_PAYMENT = "late_payment"
    FAILED_PAYMENT = "failed_payment"
    UNKNOWN_STATUS = "unknown_status"
    REQUEST_ID_REUSED = "request_id_reused"
    UNREADABLE = "unreadable"


# Kinds where DOKU says the customer paid and the money is not on any bill: cash held for
# staff to refund or apply. A late payment is applied (its payment carries the money); a
# FAILED one moved no money; the others need a person to find out.
MONEY_HELD_KINDS = frozenset(
    {
        ExceptionKind.SECOND_PAYMENT,
        ExceptionKind.AMOUNT_MISMATCH,
        ExceptionKind.INVOICE_MISMATCH,
        ExceptionKind.CANCELLED_BILL,
        ExceptionKind.RETIRED_CODE,
        ExceptionKind.UNKNOWN_CODE,
    }
)


class Resolution(StrEnum):
    """What happened to the money when staff resolved an exception."""

    REFUNDED = "refunded"  # returned to the customer through DOKU
    APPLIED = "applied"  # applied by staff to the bill or another bill
    NO_MONEY = "no_money"  # nothing to do: no money moved, or it is already on the bill


class PaymentException(Base):
    """A notification that did not fit: kept, never applied silently, resolved by a person."""

    __tablename__ = "payment_exceptions"
    __table_args__ = (Index("ix_payment_exceptions_open", "resolved_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    # One exception per kind and payment, however often DOKU delivers it.
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    bill_id: Mapped[int | None] = mapped_column(ForeignKey("bills.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    payment_code: Mapped[str | None] = mapped_column(String(PAYMENT_CODE_MAX))
    invoice_number: Mapped[str | None] = mapped_column(String(INVOICE_NUMBER_MAX))
    amount: Mapped[int | None] = mapped_column(BigInteger)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    agent_store_id: Mapped[str | None] = mapped_column(String(IDENTIFIER_VALUE_MAX))
    detail: Mapped[str] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(128))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    resolution: Mapped[str | None] = mapped_column(String(16))
    # What DOKU said about the payment behind it: its status, the chain (AGENT_ID) and the
    # payment's fingerprint, so one payment that opened two exceptions is counted once.
    transaction_status: Mapped[str | None] = mapped_column(String(STATUS_MAX))
    agent_id: Mapped[str | None] = mapped_column(String(IDENTIFIER_VALUE_MAX))
    agent_trx_id: Mapped[str | None] = mapped_column(String(IDENTIFIER_VALUE_MAX))
    report_fingerprint: Mapped[str | None] = mapped_column(String(64))

    @property
    def holds_money(self) -> bool:
        """DOKU reported this money paid and it is on no bill."""
        return (
            self.kind in MONEY_HELD_KINDS
            and self.transaction_status in (None, "SUCCESS")
            and (self.amount or 0) > 0  # reconciliation marks a missing amount with -1
        )

    bill: Mapped[Bill | None] = relationship()
