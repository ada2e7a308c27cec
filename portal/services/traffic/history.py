"""What DOKU sent us and what we answered: inquiries and payment notifications, for staff."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, select

from portal.models import Inquiry, PaymentCode, ReceivedNotification
from portal.services.paging import Page, paginate
from portal.services.reporting.reconciliation import wib_day_bounds
from portal.services.session import Session


@dataclass(frozen=True, slots=True)
class TrafficFilter:
    start: date | None = None  # WIB days, inclusive
    end: date | None = None
    payment_code: str = ""
    # Inquiries: the HTTP status we answered. Notifications: DOKU's transaction status
    # (SUCCESS, FAILED ...) or what we made of it (applied, duplicate, exception, error).
    status: str = ""
    # Inquiries: success, decline, billing_not_found ... Notifications: authenticated,
    # unauthenticated, invalid.
    verdict: str = ""


def _dates(statement: Select[Any], column: Any, filters: TrafficFilter) -> Select[Any]:
    if filters.start is not None:
        statement = statement.where(column >= wib_day_bounds(filters.start, filters.start)[0])
    if filters.end is not None:
        statement = statement.where(column < wib_day_bounds(filters.end, filters.end)[1])
    return statement


def _code(text: str) -> str:
    return text.replace(" ", "").strip()


def inquiries(
    session: Session, filters: TrafficFilter, page: int = 1, per_page: int = 50
) -> Page[Inquiry]:
    statement = _dates(select(Inquiry), Inquiry.received_at, filters)
    if filters.payment_code:
        statement = statement.where(Inquiry.payment_code == _code(filters.payment_code))
    if filters.status:
        if not filters.status.isdigit():
            return Page(items=[], number=1, per_page=per_page, total=0)
        statement = statement.where(Inquiry.http_status == int(filters.status))
    if filters.verdict:
        statement = statement.where(Inquiry.verdict == filters.verdict)
    statement = statement.order_by(Inquiry.received_at.desc(), Inquiry.id.desc())
    return paginate(session, statement, page, per_page)


def notifications(
    session: Session, filters: TrafficFilter, page: int = 1, per_page: int = 50
) -> Page[ReceivedNotification]:
    statement = _dates(select(ReceivedNotification), ReceivedNotification.received_at, filters)
    if filters.payment_code:
        statement = statement.where(
            ReceivedNotification.payment_code == _code(filters.payment_code)
        )
    if filters.status:
        statement = statement.where(
            (ReceivedNotification.transaction_status == filters.status.upper())
            | (ReceivedNotification.outcome == filters.status.lower())
        )
    if filters.verdict:
        statement = statement.where(ReceivedNotification.verdict == filters.verdict)
    statement = statement.order_by(
        ReceivedNotification.received_at.desc(), ReceivedNotification.id.desc()
    )
    return paginate(session, statement, page, per_page)


def inquiry_verdicts(session: Session) -> list[str]:
    return list(session.scalars(select(Inquiry.verdict).distinct().order_by(Inquiry.verdict)))


def notification_verdicts(session: Session) -> list[str]:
    return list(
        session.scalars(
            select(ReceivedNotification.verdict).distinct().order_by(ReceivedNotification.verdict)
        )
    )


def pretty_json(text: str | None) -> str:
    """``text`` indented for reading if it is JSON, else unchanged (it is shown raw too)."""
    if not text:
        return ""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False, sort_keys=False)
    except ValueError:
        return text


def inquiry_headers(inquiry: Inquiry) -> dict[str, str]:
    """The request headers kept for an inquiry (the signature is never stored)."""
    return {
        "Client-Id": inquiry.client_id,
        "Request-Id": inquiry.request_id,
        "Request-Timestamp": inquiry.request_timestamp,
    }


def notification_headers(notification: ReceivedNotification) -> dict[str, str]:
    try:
        headers = json.loads(notification.headers)
    except ValueError:
        return {"(unreadable)": notification.headers}
    return {str(k): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {}


def bill_id_for_code(session: Session, payment_code: str | None) -> int | None:
    """The bill a payment code (live or retired) belongs to, for links from DOKU's traffic."""
    if not payment_code:
        return None
    return session.scalar(select(PaymentCode.bill_id).where(PaymentCode.code == payment_code))
