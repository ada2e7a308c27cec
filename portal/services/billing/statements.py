"""What a policyholder sees in the portal: their policies, bills and payments.

Every read takes the policyholder's id and returns only what belongs to them: another
policyholder's bill or payment is ``None``, which the pages answer with 404. The results are
plain values, so templates never load anything lazily.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from portal.models import Bill, Payment, Policy, Policyholder, ReceiptDefaults
from portal.services.billing.payability import PayabilityRules, Refusal, refusal
from portal.services.billing.receipt import ReceiptFooter, effective_text, layout_footer
from portal.services.session import Session
from portal.services.traffic.inquiries import InquiryRules


class BillStatus(StrEnum):
    """A bill as the policyholder sees it: an unpaid bill whose code has expired is expired."""

    UNPAID = "unpaid"
    PAID = "paid"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


_STATUS_OF_REFUSAL = {
    Refusal.PAID: BillStatus.PAID,
    Refusal.CANCELLED: BillStatus.CANCELLED,
    Refusal.EXPIRED: BillStatus.EXPIRED,
}


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    id: int
    bill_id: int
    invoice_number: str
    policy_number: str
    policy_type: str
    customer_name: str
    amount: int
    paid_at: datetime
    payment_code: str
    agent_id: str | None
    store: str | None  # AGENT_STORE_ID
    transaction_reference: str | None  # AGENT_TRX_ID


@dataclass(frozen=True, slots=True)
class BillSummary:
    id: int
    invoice_number: str
    amount: int
    due_date: date
    status: BillStatus
    # Why the till would decline it now (the one rule, services/payability); None: payable.
    refusal: Refusal | None
    payment_code: str | None
    expires_at: datetime | None
    payment: PaymentRecord | None

    @property
    def can_pay(self) -> bool:
        return self.refusal is None


@dataclass(frozen=True, slots=True)
class PolicySummary:
    number: str
    type: str
    account_name: str
    status: str
    bills: tuple[BillSummary, ...]


@dataclass(frozen=True, slots=True)
class BillDetail:
    summary: BillSummary
    customer_name: str
    policy_number: str
    policy_type: str
    policy_account_name: str
    policy_status: str
    # What the till shows and prints for this bill (its own text, else the defaults).
    info: str
    footer: ReceiptFooter

    @property
    def can_pay(self) -> bool:
        return self.summary.can_pay

    @property
    def refusal(self) -> Refusal | None:
        return self.summary.refusal


def bill_refusal(bill: Bill, *, now: datetime, rules: PayabilityRules) -> Refusal | None:
    """The one rule, for a loaded bill (its policy and codes loaded with it)."""
    code = bill.current_code
    return refusal(
        state=bill.state, amount=bill.amount, policy_status=bill.policy.status,
        expires_at=code.expires_at if code is not None else None, now=now, rules=rules,
    )  # fmt: skip


def _payment_record(payment: Payment, bill: Bill) -> PaymentRecord:
    return PaymentRecord(
        id=payment.id,
        bill_id=bill.id,
        invoice_number=bill.invoice_number,
        policy_number=bill.policy.number,
        policy_type=bill.policy.type,
        customer_name=bill.policy.policyholder.name,
        amount=payment.amount,
        paid_at=payment.paid_at,
        payment_code=payment.payment_code,
        agent_id=payment.agent_id,
        store=payment.agent_store_id,
        transaction_reference=payment.agent_trx_id,
    )


def _summary(
    bill: Bill, payment: Payment | None, now: datetime, rules: PayabilityRules
) -> BillSummary:
    code = bill.current_code
    refused = bill_refusal(bill, now=now, rules=rules)
    return BillSummary(
        id=bill.id,
        invoice_number=bill.invoice_number,
        amount=bill.amount,
        due_date=bill.due_date,
        status=_STATUS_OF_REFUSAL.get(refused, BillStatus.UNPAID),  # type: ignore[arg-type]
        refusal=refused,
        payment_code=code.code if code is not None else None,
        expires_at=code.expires_at if code is not None else None,
        payment=_payment_record(payment, bill) if payment is not None else None,
    )


def _payments_by_bill(session: Session, bill_ids: list[int]) -> dict[int, Payment]:
    if not bill_ids:
        return {}
    payments = session.scalars(select(Payment).where(Payment.bill_id.in_(bill_ids)))
    return {p.bill_id: p for p in payments}


def policies_of(
    session: Session, holder_id: int, *, now: datetime, rules: PayabilityRules
) -> list[PolicySummary]:
    """The policyholder's policies by number, each with its bills, latest due date first."""
    policies = session.scalars(
        select(Policy)
        .where(Policy.policyholder_id == holder_id)
        .options(
            selectinload(Policy.policyholder),
            selectinload(Policy.bills).selectinload(Bill.payment_codes),
        )
        .order_by(Policy.number)
    ).all()
    payments = _payments_by_bill(session, [b.id for p in policies for b in p.bills])
    return [
        PolicySummary(
            number=policy.number,
            type=policy.type,
            account_name=policy.account_name,
            status=policy.status,
            bills=tuple(
                _summary(bill, payments.get(bill.id), now, rules)
                for bill in sorted(policy.bills, key=lambda b: (b.due_date, b.id), reverse=True)
            ),
        )
        for policy in policies
    ]


def receipt_texts(session: Session, bill: Bill, rules: InquiryRules) -> tuple[str, str]:
    """The info and footer the till gets for ``bill`` (services.billing.receipt.effective_text)."""
    defaults = session.get(ReceiptDefaults, 1)
    return (
        effective_text(bill.info, defaults.info if defaults else None, rules.default_info),
        effective_text(
            bill.footer_message,
            defaults.footer_message if defaults else None,
            rules.default_footer_message,
        ),
    )


def bill_of(
    session: Session, holder_id: int, bill_id: int, *, now: datetime, rules: InquiryRules
) -> BillDetail | None:
    """The bill ``bill_id`` if it belongs to the policyholder, else ``None``."""
    bill = session.scalar(
        select(Bill)
        .join(Policy, Policy.id == Bill.policy_id)
        .where(Bill.id == bill_id, Policy.policyholder_id == holder_id)
        .options(
            selectinload(Bill.payment_codes),
            selectinload(Bill.policy).selectinload(Policy.policyholder),
        )
    )
    if bill is None:
        return None
    payment = _payments_by_bill(session, [bill.id]).get(bill.id)
    info, footer = receipt_texts(session, bill, rules)
    return BillDetail(
        summary=_summary(bill, payment, now, rules.payability),
        customer_name=bill.policy.policyholder.name,
        policy_number=bill.policy.number,
        policy_type=bill.policy.type,
        policy_account_name=bill.policy.account_name,
        policy_status=bill.policy.status,
        info=info,
        footer=layout_footer(footer),
    )


def _payments_query(holder_id: int) -> Select[Payment, Bill]:
    return (
        select(Payment, Bill)
        .join(Bill, Bill.id == Payment.bill_id)
        .join(Policy, Policy.id == Bill.policy_id)
        .where(Policy.policyholder_id == holder_id)
        .options(selectinload(Bill.policy).selectinload(Policy.policyholder))
    )


def payments_of(session: Session, holder_id: int) -> list[PaymentRecord]:
    """The policyholder's payments, latest first."""
    rows = session.execute(
        _payments_query(holder_id).order_by(Payment.paid_at.desc(), Payment.id.desc())
    ).all()
    return [_payment_record(payment, bill) for payment, bill in rows]


def payment_of(session: Session, holder_id: int, payment_id: int) -> PaymentRecord | None:
    """The payment ``payment_id`` if it paid one of the policyholder's bills, else ``None``."""
    row = session.execute(_payments_query(holder_id).where(Payment.id == payment_id)).first()
    if row is None:
        return None
    payment, bill = row
    return _payment_record(payment, bill)


def policyholder_by_email(session: Session, email: str) -> Policyholder | None:
    """The policyholder with this email (stored lower-cased), if any."""
    return session.scalar(select(Policyholder).where(Policyholder.email == email.strip().lower()))
