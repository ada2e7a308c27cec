"""The queue of payment notifications that did not fit, and how staff resolve them.

Resolving says what became of the money (``Resolution``): refunded through DOKU, applied by
staff, or no money to act on. The reconciliation report reads it back, so money held in an
exception never disappears from the books when the exception is closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from portal.models import Bill, ExceptionKind, Payment, PaymentException, StaffUser
from portal.models.payments import Resolution
from portal.services.accounts import audit
from portal.services.billing.text_rules import unsafe_character
from portal.services.messages import N_, Message, MessageError
from portal.services.paging import Page, paginate
from portal.services.session import Session

NOTE_MAX = 2000

# Kinds where nothing is known about the money until a person has looked it up at DOKU.
_UNCERTAIN_KINDS = frozenset(
    {ExceptionKind.UNKNOWN_STATUS, ExceptionKind.UNREADABLE, ExceptionKind.REQUEST_ID_REUSED}
)


class ExceptionError(MessageError):
    """A resolution that cannot be recorded; the message says why."""


class AlreadyResolved(ExceptionError):
    """Somebody resolved it first."""


def exceptions(
    session: Session, *, status: str = "open", kind: str = "", page: int = 1, per_page: int = 50
) -> Page[PaymentException]:
    """``status``: open (oldest first, as a queue), resolved (latest first) or all."""
    statement: Select[Any] = select(PaymentException)
    if status == "open":
        statement = statement.where(PaymentException.resolved_at.is_(None)).order_by(
            PaymentException.created_at, PaymentException.id
        )
    else:
        if status == "resolved":
            statement = statement.where(PaymentException.resolved_at.is_not(None))
        statement = statement.order_by(
            PaymentException.created_at.desc(), PaymentException.id.desc()
        )
    if kind:
        statement = statement.where(PaymentException.kind == kind)
    return paginate(session, statement, page, per_page)


def outcomes(item: PaymentException) -> list[Resolution]:
    """What may have happened to the money of ``item``, the likeliest first.

    Money DOKU took and no bill holds is refunded or applied by staff; a late payment is on
    its bill already and a FAILED one moved nothing; what staff must first look up at DOKU
    may be any of the three.
    """
    if item.holds_money:
        return [Resolution.REFUNDED, Resolution.APPLIED]
    if item.kind in _UNCERTAIN_KINDS:
        return [Resolution.NO_MONEY, Resolution.REFUNDED, Resolution.APPLIED]
    return [Resolution.NO_MONEY]


@dataclass(frozen=True, slots=True)
class Context:
    """What staff need at hand to act: the bill, whom to call, what the bill already got."""

    bill_id: int | None
    invoice_number: str | None
    bill_amount: int | None
    bill_state: str | None
    customer_name: str | None
    customer_email: str | None
    policy_number: str | None
    payment_id: int | None  # the payment on the bill, if it has one
    payment_amount: int | None


def context(session: Session, item: PaymentException) -> Context:
    bill = session.get(Bill, item.bill_id) if item.bill_id is not None else None
    if bill is None:
        return Context(None, None, None, None, None, None, None, None, None)
    holder = bill.policy.policyholder
    payment = session.scalars(select(Payment).where(Payment.bill_id == bill.id)).first()
    return Context(
        bill_id=bill.id,
        invoice_number=bill.invoice_number,
        bill_amount=bill.amount,
        bill_state=bill.state,
        customer_name=holder.name,
        customer_email=holder.email,
        policy_number=bill.policy.number,
        payment_id=payment.id if payment is not None else None,
        payment_amount=payment.amount if payment is not None else None,
    )


def resolve(
    session: Session,
    item: PaymentException,
    *,
    actor: StaffUser,
    note: str,
    outcome: str,
    now: datetime,
) -> PaymentException:
    """Close an exception with what became of the money and a note saying what was done."""
    note = note.strip()
    if item.resolved_at is not None:
        raise AlreadyResolved(
            Message.of(
                N_("Exception #%(id)s was resolved already by %(who)s."),
                id=item.id,
                who=item.resolved_by or "",
            )
        )
    allowed = outcomes(item)
    if outcome not in allowed:
        choose = ", ".join(o.value for o in allowed)
        raise ExceptionError(
            Message.of(
                N_("%(outcome)s does not fit a %(kind)s exception; choose %(allowed)s."),
                outcome=outcome,
                kind=item.kind,
                allowed=choose,
            )
            if outcome
            else Message.of(
                N_("No outcome does not fit a %(kind)s exception; choose %(allowed)s."),
                kind=item.kind,
                allowed=choose,
            )
        )
    if not note:
        raise ExceptionError(N_("Say what was done in a note."))
    if len(note) > NOTE_MAX:
        raise ExceptionError(
            Message.of(
                N_("The note is %(length)s characters; at most %(max)s."),
                length=len(note),
                max=NOTE_MAX,
            )
        )
    problem = unsafe_character(note, multiline=True)
    if problem is not None:
        raise ExceptionError(
            Message(
                N_("The note: Character %(position)s (%(character)s) is not allowed."),
                problem.params,
            )
        )
    before = {"resolved_at": None, "resolved_by": None, "resolution_note": None, "resolution": None}
    item.resolved_at = now
    item.resolved_by = actor.email
    item.resolution_note = note
    item.resolution = Resolution(outcome).value
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="exception.resolve",
        entity="payment_exception",
        entity_id=item.id,
        before=before | {"kind": item.kind},
        after={
            "resolved_at": now,
            "resolved_by": actor.email,
            "resolution_note": note,
            "resolution": item.resolution,
            "kind": item.kind,
            "amount": item.amount,
        },
        now=now,
    )
    return item
