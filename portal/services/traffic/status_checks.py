"""Payments that never go missing: ask DOKU about bills whose notification never came.

DOKU retries a notification only three times; some never arrive. A bill that had a successful
inquiry (so somebody stood at a till with it) but no payment after a delay is checked with
DOKU's Check Status API, and a SUCCESS is applied through the same rules as a notification,
recorded as coming from reconciliation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import exists, select

from portal.models import Bill, BillState, Inquiry, Payment, PaymentSource
from portal.services.session import Session
from portal.services.traffic.payments import PaymentReport, Result, apply_report


@dataclass(frozen=True, slots=True)
class Candidate:
    bill_id: int
    invoice_number: str
    payment_code: str


@dataclass(frozen=True, slots=True)
class StatusReport:
    """DOKU's answer about one invoice, in our terms."""

    status: str
    invoice_number: str
    amount: int | None
    paid_at: datetime | None
    transaction_date: str | None
    original_request_id: str | None = None
    payment_code: str | None = None
    identifiers: dict[str, str] = field(default_factory=dict)


def candidates(
    session: Session, *, now: datetime, since: timedelta, delay: timedelta
) -> list[Candidate]:
    """Unpaid bills with a successful inquiry between ``since`` ago and ``delay`` ago."""
    rows = session.execute(
        select(Bill.id, Bill.invoice_number, Inquiry.payment_code)
        .join(Inquiry, Inquiry.bill_id == Bill.id)
        .where(
            Inquiry.verdict == "success",
            Inquiry.received_at >= now - since,
            Inquiry.received_at <= now - delay,
            Bill.state == BillState.UNPAID,
            ~exists().where(Payment.bill_id == Bill.id),
        )
        .distinct()
        .order_by(Bill.id)
    ).all()
    seen: dict[int, Candidate] = {}
    for bill_id, invoice, code in rows:
        seen.setdefault(bill_id, Candidate(bill_id, invoice, code or ""))
    return list(seen.values())


def apply_status(
    session: Session, candidate: Candidate, status: StatusReport, *, now: datetime
) -> Result | None:
    """Apply a SUCCESS answer (flushed, not committed); anything else changes nothing."""
    if status.status != "SUCCESS":
        return None
    report = PaymentReport(
        status="SUCCESS",
        paid_at=status.paid_at or now,
        invoice_number=status.invoice_number,
        amount=status.amount if status.amount is not None else -1,  # missing: a mismatch
        payment_code=status.payment_code or candidate.payment_code,
        original_request_id=status.original_request_id,
        agent_id=status.identifiers.get("AGENT_ID"),
        agent_store_id=status.identifiers.get("AGENT_STORE_ID"),
        agent_trx_id=status.identifiers.get("AGENT_TRX_ID"),
        transaction_date=status.transaction_date or "",
    )
    return apply_report(session, report, now=now, source=PaymentSource.RECONCILIATION)
