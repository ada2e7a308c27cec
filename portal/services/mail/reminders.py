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
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, delete, exists, select

from portal.models import Bill, Payment, PaymentCode, Policy, Policyholder, ReminderSent
from portal.services.billing.chains import known_chain, short_reference
from portal.services.billing.money import format_rupiah
from portal.services.billing.payability import PayabilityRules, live_code_join, payable_sql
from portal.services.billing.payment_codes import WIB, grouped_code
from portal.services.contact import InsurerContact
from portal.services.mail import layout
from portal.services.mail.layout import Message
from portal.services.mail.outbox import Email
from portal.services.session import Session
from portal.services.sql import insert_unless_exists
from portal.services.wording import duration, long_date, wib_time


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
    policy_number: str = ""
    policy_type: str = ""
    # Receipts: which payment, and where it was made (DOKU's AGENT_ID and AGENT_STORE_ID).
    payment_id: int | None = None
    agent_id: str | None = None
    store: str | None = None
    reference: str | None = None


def _bill_columns() -> tuple[Any, ...]:
    return (
        Bill.id, Policyholder.email, Policyholder.name, Policyholder.language,
        Bill.invoice_number, Bill.amount, Bill.due_date, Policy.number, Policy.type,
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
        select(
            *_bill_columns(),
            Payment.payment_code,
            Payment.paid_at,
            Payment.id,
            Payment.agent_id,
            Payment.agent_store_id,
            Payment.agent_trx_id,
        )
        .join(Bill, Bill.id == Payment.bill_id)
        .join(Policy, Policy.id == Bill.policy_id)
        .join(Policyholder, Policyholder.id == Policy.policyholder_id)
        .where(
            Payment.recorded_at >= now - settings.receipt_window,
            _not_sent(NoticeKind.PAYMENT_RECEIVED),
        )
    ):
        (bill_id, email, name, language, invoice, amount, _due, number, kind, code, paid_at,
         payment_id, agent_id, store, reference) = row  # fmt: skip
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
                policy_number=number,
                policy_type=kind,
                payment_id=payment_id,
                agent_id=agent_id,
                store=store,
                reference=reference,
            )
        )
    return notices


def _notice(kind: NoticeKind, row: tuple) -> Notice:  # type: ignore[type-arg]
    (bill_id, email, name, language, invoice, amount, due, number, type_, code, expires_at) = row
    return Notice(
        kind, bill_id, email, name, language or "id", invoice, amount, code, due, expires_at,
        policy_number=number, policy_type=type_,
    )  # fmt: skip


def claim(session: Session, notice: Notice, *, now: datetime) -> bool:
    """Take the right to send ``notice``; False if another run has it (or sent it)."""
    values = {"bill_id": notice.bill_id, "kind": notice.kind.value, "sent_at": now}
    table = cast(Table, ReminderSent.__table__)
    return insert_unless_exists(session, table, values, ["bill_id", "kind"]) is not None


def release(session: Session, notice: Notice) -> None:
    """Give a claim back after a failed send, so the next run tries again."""
    session.execute(
        delete(ReminderSent).where(
            ReminderSent.bill_id == notice.bill_id, ReminderSent.kind == notice.kind.value
        )
    )


def _link(base_url: str, path: str) -> str:
    return f"{base_url.rstrip('/')}{path}"


def compose(notice: Notice, *, base_url: str, insurer: InsurerContact, now: datetime) -> Email:
    """The email for a notice, in the policyholder's language (Bahasa Indonesia by default):
    branded, with a plain-text part, a link to the bill (or receipt) in the portal, times as
    the portal writes them and durations in words."""
    en = notice.language == "en"
    language = "en" if en else "id"
    amount = format_rupiah(notice.amount)
    code = grouped_code(notice.payment_code)
    policy = f"{notice.policy_type} {notice.policy_number}".strip()
    hello = f"Hello {notice.name}," if en else f"Halo {notice.name},"
    if notice.kind is NoticeKind.PAYMENT_RECEIVED:
        paid_at = wib_time(notice.paid_at, language) if notice.paid_at else ""
        somewhere = "an Alfa Group store" if en else "gerai Alfa Group"
        chain = known_chain(notice.agent_id) or somewhere
        store = f"{chain} ({'store' if en else 'toko'} {notice.store})" if notice.store else chain
        message = Message(
            subject=(f"Payment received: {notice.invoice_number}" if en
                     else f"Pembayaran diterima: {notice.invoice_number}"),
            greeting=hello,
            paragraphs=[
                f"We received {amount} for bill {notice.invoice_number} on {paid_at}. Thank you."
                if en else
                f"Kami telah menerima {amount} untuk tagihan {notice.invoice_number} pada "
                f"{paid_at}. Terima kasih."
            ],
            facts=[
                ("Amount" if en else "Jumlah", amount),
                ("Policy" if en else "Polis", policy),
                ("Invoice" if en else "Nomor tagihan", notice.invoice_number),
                ("Paid at" if en else "Dibayar pada", paid_at),
                ("Store" if en else "Gerai", store),
                ("Reference" if en else "Referensi", short_reference(notice.reference) or "-"),
            ],
            action=(
                ("See the receipt" if en else "Lihat bukti bayar"),
                _link(base_url, f"/payments/{notice.payment_id}" if notice.payment_id
                      else f"/bills/{notice.bill_id}"),
            ),
        )  # fmt: skip
    elif notice.kind is NoticeKind.DUE_SOON:
        due = long_date(notice.due_date, language) if notice.due_date else ""
        left = _days_left(notice.due_date, now, language)
        message = Message(
            subject=f"Premium due {due}" if en else f"Premi jatuh tempo {due}",
            greeting=hello,
            paragraphs=[
                f"Bill {notice.invoice_number} of {amount} is due on {due}{left}. Pay it in cash "
                "at any Alfamart, Alfamidi, Alfaexpress, Lawson or Dan+Dan with the payment code "
                "below."
                if en else
                f"Tagihan {notice.invoice_number} sebesar {amount} jatuh tempo pada {due}{left}. "
                "Bayar tunai di Alfamart, Alfamidi, Alfaexpress, Lawson atau Dan+Dan dengan kode "
                "bayar di bawah ini."
            ],
            facts=_bill_facts(notice, code, amount, policy, language),
            action=(("How to pay" if en else "Cara membayar"),
                    _link(base_url, f"/bills/{notice.bill_id}")),
        )  # fmt: skip
    else:
        until = wib_time(notice.expires_at, language) if notice.expires_at else ""
        left = (
            duration(_whole_hours(notice.expires_at - now), language)
            if notice.expires_at is not None
            else ""
        )
        message = Message(
            subject="Your payment code expires soon" if en else "Kode bayar Anda segera berakhir",
            greeting=hello,
            paragraphs=[
                f"Payment code {code} for bill {notice.invoice_number} ({amount}) can be used "
                f"until {until}, {left} from now."
                if en else
                f"Kode bayar {code} untuk tagihan {notice.invoice_number} ({amount}) berlaku "
                f"sampai {until}, {left} lagi."
            ],
            facts=_bill_facts(notice, code, amount, policy, language),
            action=(("How to pay" if en else "Cara membayar"),
                    _link(base_url, f"/bills/{notice.bill_id}")),
        )  # fmt: skip
    return layout.email(notice.email, message, insurer=insurer, language=language)


def _bill_facts(
    notice: Notice, code: str, amount: str, policy: str, language: str
) -> list[tuple[str, str]]:
    en = language == "en"
    facts = [
        ("Payment code" if en else "Kode bayar", code),
        ("Amount" if en else "Jumlah", amount),
        ("Policy" if en else "Polis", policy),
        ("Invoice" if en else "Nomor tagihan", notice.invoice_number),
    ]
    if notice.expires_at is not None:
        until = wib_time(notice.expires_at, language)
        facts.append(("Pay before" if en else "Bayar sebelum", until))
    return facts


def _whole_hours(left: timedelta) -> timedelta:
    """Round down to whole hours (whole days when there is more than one): "2 hari", "5 jam"."""
    if left >= timedelta(days=1):
        return timedelta(days=left // timedelta(days=1))
    return max(timedelta(hours=left // timedelta(hours=1)), timedelta(minutes=1))


def _days_left(due: date | None, now: datetime, language: str) -> str:
    if due is None:
        return ""
    days = (due - now.astimezone(WIB).date()).days
    if days <= 0:
        return " (today)" if language == "en" else " (hari ini)"
    return f" ({duration(timedelta(days=days), language)})"
