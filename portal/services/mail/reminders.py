"""Emails to policyholders: a receipt when a payment arrives, reminders before the due date
and before the payment code expires. Each is sent once per bill and kind.

``flask notify due`` runs from cron (every few minutes). Sending is claimed first: a row in
``reminders_sent`` whose unique key (bill, kind) lets only one run send it, even when two runs
overlap. A failed send releases the claim so the next run tries again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, select
from sqlalchemy.orm import InstrumentedAttribute

from portal.models import Bill, Payment, PaymentCode, Policy, Policyholder, ReminderSent
from portal.services.billing.money import format_rupiah
from portal.services.billing.payability import PayabilityRules, live_code_join, payable_sql
from portal.services.billing.payment_codes import WIB, grouped_code
from portal.services.mail.outbox import Email
from portal.services.session import Session
from portal.services.sql import insert_unless_exists


class NoticeKind(StrEnum):
    PAYMENT_RECEIVED = "payment_received"
    DUE_SOON = "due_soon"
    CODE_EXPIRING = "code_expiring"


@dataclass(frozen=True, slots=True)
class ReminderSettings:
    days_before_due: int
    days_before_expiry: int
    # Reminders tell people to pay at the store: only for bills the till would take.
    payability: PayabilityRules
    # A receipt is not sent for payments older than this (e.g. on first deployment).
    receipt_window: timedelta = timedelta(days=3)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ReminderSettings:
        return cls(
            days_before_due=config["REMINDER_DAYS_BEFORE_DUE"],
            days_before_expiry=config["REMINDER_DAYS_BEFORE_EXPIRY"],
            payability=PayabilityRules.from_config(config),
        )


@dataclass(frozen=True, slots=True)
class Notice:
    kind: NoticeKind
    bill_id: int
    email: str
    name: str
    language: str
    invoice_number: str
    amount: int
    payment_code: str | None
    due_date: datetime | None
    expires_at: datetime | None
    paid_at: datetime | None = None


_BillColumns = tuple[
    InstrumentedAttribute[int],
    InstrumentedAttribute[str],
    InstrumentedAttribute[str],
    InstrumentedAttribute[str | None],
    InstrumentedAttribute[str],
    InstrumentedAttribute[int],
    InstrumentedAttribute[date],
]


def _bill_columns() -> _BillColumns:
    return (
        Bill.id, Policyholder.email, Policyholder.name, Policyholder.language,
        Bill.invoice_number, Bill.amount, Bill.due_date,
    )  # fmt: skip


def _not_sent(kind: NoticeKind) -> ColumnElement[bool]:
    return ~exists().where(ReminderSent.bill_id == Bill.id, ReminderSent.kind == kind.value)


def due_notices(session: Session, *, now: datetime, settings: ReminderSettings) -> list[Notice]:
    """Every notice that should go out now and has not gone out before."""
    notices: list[Notice] = []
    joined = (
        select(*_bill_columns(), PaymentCode.code, PaymentCode.expires_at)
        .join(Policy, Policy.id == Bill.policy_id)
        .join(Policyholder, Policyholder.id == Policy.policyholder_id)
        .join(PaymentCode, live_code_join())
        .where(payable_sql(now=now, rules=settings.payability))
    )
    today = now.astimezone(WIB).date()
    for row in session.execute(
        joined.where(
            Bill.due_date >= today,
            Bill.due_date <= today + timedelta(days=settings.days_before_due),
            _not_sent(NoticeKind.DUE_SOON),
        )
    ):
        notices.append(_notice(NoticeKind.DUE_SOON, row))
    for row in session.execute(
        joined.where(
            PaymentCode.expires_at <= now + timedelta(days=settings.days_before_expiry),
            _not_sent(NoticeKind.CODE_EXPIRING),
        )
    ):
        notices.append(_notice(NoticeKind.CODE_EXPIRING, row))
    for row in session.execute(
        select(*_bill_columns(), Payment.payment_code, Payment.paid_at)
        .join(Bill, Bill.id == Payment.bill_id)
        .join(Policy, Policy.id == Bill.policy_id)
        .join(Policyholder, Policyholder.id == Policy.policyholder_id)
        .where(
            Payment.recorded_at >= now - settings.receipt_window,
            _not_sent(NoticeKind.PAYMENT_RECEIVED),
        )
    ):
        (bill_id, email, name, language, invoice, amount, _due, code, paid_at) = row
        notices.append(
            Notice(
                NoticeKind.PAYMENT_RECEIVED,
                bill_id,
                email,
                name,
                language or "id",
                invoice,
                amount,
                code,
                None,
                None,
                paid_at,
            )
        )
    return notices


def _notice(kind: NoticeKind, row: tuple) -> Notice:  # type: ignore[type-arg]
    (bill_id, email, name, language, invoice, amount, due, code, expires_at) = row
    return Notice(
        kind, bill_id, email, name, language or "id", invoice, amount, code, due, expires_at
    )


def claim(session: Session, notice: Notice, *, now: datetime) -> bool:
    """Take the right to send ``notice``; False if another run has it (or sent it)."""
    values = {"bill_id": notice.bill_id, "kind": notice.kind.value, "sent_at": now}
    return (
        insert_unless_exists(session, ReminderSent.__table__, values, ["bill_id", "kind"])
        is not None
    )


def release(session: Session, notice: Notice) -> None:
    """Give a claim back after a failed send, so the next run tries again."""
    session.execute(
        delete(ReminderSent).where(
            ReminderSent.bill_id == notice.bill_id, ReminderSent.kind == notice.kind.value
        )
    )


_MONTHS_ID = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
              "September", "Oktober", "November", "Desember")  # fmt: skip
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")  # fmt: skip


def _day(moment: object, language: str) -> str:
    months = _MONTHS_EN if language == "en" else _MONTHS_ID
    day = moment.astimezone(WIB) if isinstance(moment, datetime) else moment
    text = f"{day.day} {months[day.month - 1]} {day.year}"  # type: ignore[attr-defined]
    if isinstance(day, datetime):
        text += f" {day:%H:%M} WIB"
    return text


def compose(notice: Notice) -> Email:
    """The email for a notice, in the policyholder's language (Bahasa Indonesia by default)."""
    en = notice.language == "en"
    amount = format_rupiah(notice.amount)
    code = grouped_code(notice.payment_code)
    if notice.kind is NoticeKind.PAYMENT_RECEIVED:
        subject = (
            f"Payment received: {notice.invoice_number}"
            if en
            else f"Pembayaran diterima: {notice.invoice_number}"
        )
        body = (
            f"Hello {notice.name},\n\nWe received {amount} for bill {notice.invoice_number} on "
            f"{_day(notice.paid_at, 'en')}. Thank you.\n"
            if en
            else f"Halo {notice.name},\n\nKami telah menerima {amount} untuk tagihan "
            f"{notice.invoice_number} pada {_day(notice.paid_at, 'id')}. Terima kasih.\n"
        )
    elif notice.kind is NoticeKind.DUE_SOON:
        subject = (
            f"Premium due {_day(notice.due_date, 'en')}"
            if en
            else f"Premi jatuh tempo {_day(notice.due_date, 'id')}"
        )
        body = (
            f"Hello {notice.name},\n\nBill {notice.invoice_number} of {amount} is due on "
            f"{_day(notice.due_date, 'en')}. Pay it at any Alfamart, Alfamidi, Alfaexpress, "
            f"Lawson or Dan+Dan with payment code {code}.\n"
            if en
            else f"Halo {notice.name},\n\nTagihan {notice.invoice_number} sebesar {amount} jatuh "
            f"tempo pada {_day(notice.due_date, 'id')}. Bayar di Alfamart, Alfamidi, "
            f"Alfaexpress, Lawson atau Dan+Dan dengan kode bayar {code}.\n"
        )
    else:
        subject = "Your payment code expires soon" if en else "Kode bayar Anda segera berakhir"
        body = (
            f"Hello {notice.name},\n\nPayment code {code} for bill {notice.invoice_number} "
            f"({amount}) can be used until {_day(notice.expires_at, 'en')}.\n"
            if en
            else f"Halo {notice.name},\n\nKode bayar {code} untuk tagihan {notice.invoice_number} "
            f"({amount}) berlaku sampai {_day(notice.expires_at, 'id')}.\n"
        )
    return Email(to=notice.email, subject=subject, text=body)
