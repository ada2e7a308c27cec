"""The queue of payment notifications that did not fit, and how staff resolve them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from portal.models import PaymentException, StaffUser
from portal.services import audit
from portal.services.paging import Page, paginate

NOTE_MAX = 2000


class ExceptionError(ValueError):
    """A resolution that cannot be recorded; the message says why."""


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


def resolve(
    session: Session, item: PaymentException, *, actor: StaffUser, note: str, now: datetime
) -> PaymentException:
    """Close an exception with a note saying what was done (refund, manual match ...)."""
    note = note.strip()
    if item.resolved_at is not None:
        raise ExceptionError(f"Exception #{item.id} was resolved already by {item.resolved_by}.")
    if not note:
        raise ExceptionError("Say what was done in a note.")
    if len(note) > NOTE_MAX:
        raise ExceptionError(f"The note is {len(note)} characters; at most {NOTE_MAX}.")
    before = {"resolved_at": None, "resolved_by": None, "resolution_note": None}
    item.resolved_at = now
    item.resolved_by = actor.email
    item.resolution_note = note
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="exception.resolve",
        entity="payment_exception",
        entity_id=item.id,
        before=before | {"kind": item.kind},
        after={"resolved_at": now, "resolved_by": actor.email, "resolution_note": note,
               "kind": item.kind},
        now=now,
    )  # fmt: skip
    return item
