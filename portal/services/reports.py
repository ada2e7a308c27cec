"""Reconciliation: what was paid, per day and per store (WIB), and what is still open.

Finance compares this with DOKU's settlement report. The command line and the admin screens
both read it from here.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Bill, Payment, PaymentException, Policy, Policyholder
from portal.services.payment_codes import WIB

UNKNOWN_STORE = "(unknown)"


@dataclass(frozen=True, slots=True)
class PaymentLine:
    payment_id: int
    paid_at: datetime  # WIB
    invoice_number: str
    payment_code: str
    amount: int
    customer_name: str
    policy_number: str
    agent_id: str | None
    agent_store_id: str | None
    agent_trx_id: str | None
    source: str
    late: bool


@dataclass(frozen=True, slots=True)
class Total:
    key: str
    count: int
    amount: int


@dataclass(frozen=True, slots=True)
class OpenException:
    id: int
    kind: str
    created_at: datetime  # WIB
    invoice_number: str | None
    payment_code: str | None
    amount: int | None
    agent_store_id: str | None
    detail: str


@dataclass(frozen=True, slots=True)
class PaymentsReport:
    start: date
    end: date
    payments: list[PaymentLine]
    per_day: list[Total]
    per_store: list[Total]
    open_exceptions: list[OpenException]

    @property
    def total(self) -> Total:
        return Total("total", len(self.payments), sum(p.amount for p in self.payments))


def wib_day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """From the start of ``start`` to the end of ``end``, WIB days, as UTC-aware datetimes."""
    return (
        datetime.combine(start, time(0), tzinfo=WIB),
        datetime.combine(end + timedelta(days=1), time(0), tzinfo=WIB),
    )


def _totals(lines: list[PaymentLine], key: str) -> list[Total]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for line in lines:
        name = line.paid_at.date().isoformat() if key == "day" else line.agent_store_id
        bucket = counts[name or UNKNOWN_STORE]
        bucket[0] += 1
        bucket[1] += line.amount
    return [Total(name, n, amount) for name, (n, amount) in sorted(counts.items())]


def payments_report(session: Session, start: date, end: date) -> PaymentsReport:
    if end < start:
        raise ValueError("the end date is before the start date")
    since, until = wib_day_bounds(start, end)
    rows = session.execute(
        select(Payment, Bill.invoice_number, Policyholder.name, Policy.number)
        .join(Bill, Bill.id == Payment.bill_id)
        .join(Policy, Policy.id == Bill.policy_id)
        .join(Policyholder, Policyholder.id == Policy.policyholder_id)
        .where(Payment.paid_at >= since, Payment.paid_at < until)
        .order_by(Payment.paid_at, Payment.id)
    ).all()
    lines = [
        PaymentLine(
            payment_id=payment.id,
            paid_at=payment.paid_at.astimezone(WIB),
            invoice_number=invoice,
            payment_code=payment.payment_code,
            amount=payment.amount,
            customer_name=name,
            policy_number=policy_number,
            agent_id=payment.agent_id,
            agent_store_id=payment.agent_store_id,
            agent_trx_id=payment.agent_trx_id,
            source=payment.source,
            late=payment.late,
        )
        for payment, invoice, name, policy_number in rows
    ]
    exceptions = [
        OpenException(
            id=e.id,
            kind=e.kind,
            created_at=e.created_at.astimezone(WIB),
            invoice_number=e.invoice_number,
            payment_code=e.payment_code,
            amount=e.amount,
            agent_store_id=e.agent_store_id,
            detail=e.detail,
        )
        for e in session.scalars(
            select(PaymentException)
            .where(PaymentException.resolved_at.is_(None))
            .order_by(PaymentException.created_at, PaymentException.id)
        )
    ]
    return PaymentsReport(
        start=start,
        end=end,
        payments=lines,
        per_day=_totals(lines, "day"),
        per_store=_totals(lines, "store"),
        open_exceptions=exceptions,
    )


CSV_HEADER = (
    "paid_at_wib", "invoice_number", "payment_code", "amount", "customer_name", "policy_number",
    "agent_id", "agent_store_id", "agent_trx_id", "source", "late",
)  # fmt: skip


def payments_csv(report: PaymentsReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for line in report.payments:
        writer.writerow(
            (
                line.paid_at.strftime("%Y-%m-%d %H:%M:%S"),
                line.invoice_number,
                line.payment_code,
                line.amount,
                line.customer_name,
                line.policy_number,
                line.agent_id or "",
                line.agent_store_id or "",
                line.agent_trx_id or "",
                line.source,
                "yes" if line.late else "no",
            )
        )
    return out.getvalue()
