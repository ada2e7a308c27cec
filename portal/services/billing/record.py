"""Everything staff need on one bill's page: what the till would answer and why, its codes,
the inquiries and notifications that named it, its payment and every exception about it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from portal.models import Bill, Inquiry, Payment, PaymentException, Policy, ReceivedNotification
from portal.services.billing.payability import PayabilityRules, Refusal, Standing, reason, standing
from portal.services.billing.statements import bill_refusal
from portal.services.session import Session

RECENT = 20


@dataclass(frozen=True, slots=True)
class BillRecord:
    bill: Bill
    refusal: Refusal | None
    standing: Standing
    reason: str | None  # why the till would decline, in words for staff
    payment: Payment | None
    inquiries: list[Inquiry]
    notifications: list[ReceivedNotification]
    exceptions: list[PaymentException]  # open ones first

    @property
    def open_exceptions(self) -> list[PaymentException]:
        return [e for e in self.exceptions if e.resolved_at is None]


def bill_record(
    session: Session, bill_id: int, *, now: datetime, rules: PayabilityRules
) -> BillRecord | None:
    bill = session.scalar(
        select(Bill)
        .where(Bill.id == bill_id)
        .options(
            selectinload(Bill.payment_codes),
            selectinload(Bill.policy).selectinload(Policy.policyholder),
        )
    )
    if bill is None:
        return None
    refused = bill_refusal(bill, now=now, rules=rules)
    code = bill.current_code
    why = reason(
        refused, rules=rules, policy_status=bill.policy.status, amount=bill.amount,
        expires_at=code.expires_at if code is not None else None,
    ) if refused is not None else None  # fmt: skip
    codes = [c.code for c in bill.payment_codes]
    notifications = session.scalars(
        select(ReceivedNotification)
        .where(
            or_(
                ReceivedNotification.payment_code.in_(codes),
                ReceivedNotification.invoice_number == bill.invoice_number,
            )
        )
        .order_by(ReceivedNotification.received_at.desc(), ReceivedNotification.id.desc())
        .limit(RECENT)
    ).all()
    return BillRecord(
        bill=bill,
        refusal=refused,
        standing=standing(refused),
        reason=why,
        payment=session.scalar(select(Payment).where(Payment.bill_id == bill.id)),
        inquiries=list(
            session.scalars(
                select(Inquiry)
                .where(Inquiry.bill_id == bill.id)
                .order_by(Inquiry.received_at.desc(), Inquiry.id.desc())
                .limit(RECENT)
            )
        ),
        notifications=list(notifications),
        exceptions=list(
            session.scalars(
                select(PaymentException)
                .where(PaymentException.bill_id == bill.id)
                .order_by(
                    PaymentException.resolved_at.is_not(None),
                    PaymentException.created_at.desc(),
                    PaymentException.id.desc(),
                )
            )
        ),
    )


def open_exception_counts(session: Session, bill_ids: list[int]) -> dict[int, int]:
    """How many open exceptions each of these bills has (absent: none)."""
    if not bill_ids:
        return {}
    counts: dict[int, int] = {}
    for bill_id in session.scalars(
        select(PaymentException.bill_id).where(
            PaymentException.bill_id.in_(bill_ids), PaymentException.resolved_at.is_(None)
        )
    ):
        if bill_id is not None:
            counts[bill_id] = counts.get(bill_id, 0) + 1
    return counts
