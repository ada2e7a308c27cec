"""What DOKU sent us and what we answered: inquiries and payment notifications, for staff."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar, TypeVarTuple

from sqlalchemy import Select, false, func, select

from portal.models import (
    Bill,
    Inquiry,
    Payment,
    PaymentCode,
    PaymentException,
    ReceivedNotification,
)
from portal.services.billing.chains import chain_name
from portal.services.billing.payment_codes import WIB
from portal.services.messages import N_
from portal.services.paging import Page, paginate_rows
from portal.services.reporting.reconciliation import wib_day_bounds
from portal.services.reporting.spreadsheets import Table
from portal.services.session import Session
from portal.services.sorting import Sort, SortColumns

_Ts = TypeVarTuple("_Ts")
L = TypeVar("L")


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
    # The list's order (INQUIRY_SORTS or NOTIFICATION_SORTS); None or an unknown key: newest
    # first.
    sort: Sort | None = None


# The columns a list may be sorted by. Received is the default and uses its index; the others
# sort the rows the filters match, which the count and the total read anyway (offset paging,
# as every list here; bounded by the filters, e.g. the dates).
INQUIRY_SORTS = SortColumns(
    columns={
        "received": Inquiry.received_at,
        "code": Inquiry.payment_code,
        "invoice": Bill.invoice_number,
        # The bill's amount: what the answer carried unless the bill changed since (the row
        # shows the answer's).
        "amount": Bill.amount,
        "http": Inquiry.http_status,
    },
    default="received",
    tie=Inquiry.id,
    descending_first=frozenset({"received"}),
    nulls_last=frozenset({"code", "invoice", "amount"}),
)
NOTIFICATION_SORTS = SortColumns(
    columns={
        "received": ReceivedNotification.received_at,
        "code": ReceivedNotification.payment_code,
        "invoice": ReceivedNotification.invoice_number,
        "amount": ReceivedNotification.amount,
        "status": ReceivedNotification.transaction_status,
        "http": ReceivedNotification.http_status,
    },
    default="received",
    tie=ReceivedNotification.id,
    descending_first=frozenset({"received"}),
    nulls_last=frozenset({"code", "invoice", "amount", "status", "http"}),
)


@dataclass(frozen=True, slots=True)
class TrafficListing(Generic[L]):
    page: Page[L]
    amount: int  # the rupiah total of every matching row, not only this page's


def _dates(statement: Select[*_Ts], column: Any, filters: TrafficFilter) -> Select[*_Ts]:
    if filters.start is not None:
        statement = statement.where(column >= wib_day_bounds(filters.start, filters.start)[0])
    if filters.end is not None:
        statement = statement.where(column < wib_day_bounds(filters.end, filters.end)[1])
    return statement


def _code(text: str) -> str:
    return text.replace(" ", "").strip()


@dataclass(frozen=True, slots=True)
class InquiryLine:
    """One inquiry as the list shows it: what was asked, what we answered and why."""

    inquiry: Inquiry
    invoice_number: str | None  # as answered, else the bill's
    amount: int | None
    chain: str  # the store chain's name (AGENT_ID), "-" when the till sent none
    reason: str  # why it was declined; "" for a success


@dataclass(frozen=True, slots=True)
class NotificationLine:
    notification: ReceivedNotification
    chain: str
    # What became of it, in a line: the exception's kind and detail, the error, or "".
    exception_kind: str | None
    reason: str


def _answered_order(response_body: str) -> tuple[str | None, int | None]:
    """The invoice and amount our inquiry answer carried (DOKU shows them at the till)."""
    try:
        answer = json.loads(response_body)
    except ValueError:
        return None, None
    order = answer.get("order") if isinstance(answer, dict) else None
    if not isinstance(order, dict):
        return None, None
    invoice, amount = order.get("invoice_number"), order.get("amount")
    return (
        invoice if isinstance(invoice, str) else None,
        amount if isinstance(amount, int) and not isinstance(amount, bool) else None,
    )


def _agent_id_in(body: str) -> str | None:
    """AGENT_ID from a notification body's identifier list (either spelling DOKU uses)."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    stack: list[Any] = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("name") == "AGENT_ID" and isinstance(item.get("value"), str):
                return str(item["value"])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def _inquiry_statement(filters: TrafficFilter) -> Select[Inquiry, str, int]:
    statement = _dates(
        select(Inquiry, Bill.invoice_number, Bill.amount).outerjoin(
            Bill, Bill.id == Inquiry.bill_id
        ),
        Inquiry.received_at,
        filters,
    )
    if filters.payment_code:
        statement = statement.where(Inquiry.payment_code == _code(filters.payment_code))
    if filters.status:
        if not filters.status.isdigit():
            return statement.where(false())  # no HTTP status looks like that
        statement = statement.where(Inquiry.http_status == int(filters.status))
    if filters.verdict:
        statement = statement.where(Inquiry.verdict == filters.verdict)
    return statement.order_by(*INQUIRY_SORTS.order_by(filters.sort))


def _inquiry_line(
    inquiry: Inquiry, bill_invoice: str | None, bill_amount: int | None
) -> InquiryLine:
    invoice, amount = _answered_order(inquiry.response_body)
    return InquiryLine(
        inquiry=inquiry,
        invoice_number=invoice or bill_invoice,
        amount=amount if amount is not None else bill_amount,
        chain=chain_name(inquiry.agent_id),
        reason=inquiry.reason or "",
    )


def _listing(
    session: Session,
    statement: Select[*_Ts],
    columns: SortColumns,
    amount: Any,
    to_line: Callable[..., L],
    page: int,
    per_page: int,
) -> TrafficListing[L]:
    """A page of ``statement`` with the count and the sum of ``amount`` over every matching
    row, both from one pass over them.

    The page is found on the ids alone, then its rows are read: sorting by a column without an
    index sorts narrow (id, key) pairs, not whole rows with their bodies (measured on
    PostgreSQL with 100k rows: about half the time, more on deep pages)."""
    matching = statement.order_by(None).with_only_columns(amount.label("amount")).subquery()
    count, total = session.execute(
        select(func.count(), func.coalesce(func.sum(matching.c.amount), 0))
    ).one()
    found = paginate_rows(
        session, statement.with_only_columns(columns.tie), page, per_page, total=int(count)
    )
    ids = [row[0] for row in found.items]
    rows = session.execute(statement.where(columns.tie.in_(ids))).all() if ids else []
    return TrafficListing(
        page=Page(
            items=[to_line(*row) for row in rows],
            number=found.number,
            per_page=found.per_page,
            total=found.total,
        ),
        amount=int(total),
    )


def inquiries(
    session: Session, filters: TrafficFilter, page: int = 1, per_page: int = 50
) -> TrafficListing[InquiryLine]:
    """A page of inquiries, newest first unless ``filters.sort`` says otherwise; the total is
    the bills' amounts (see INQUIRY_SORTS)."""
    return _listing(
        session,
        _inquiry_statement(filters),
        INQUIRY_SORTS,
        Bill.amount,
        _inquiry_line,
        page,
        per_page,
    )


def _notification_reason(
    notification: ReceivedNotification, kind: str | None, detail: str | None
) -> str:
    if kind is not None:
        return detail or ""
    if notification.error:
        return notification.error
    if notification.outcome == "duplicate":
        return N_("already applied: the payment is recorded once")
    return ""


def _notification_statement(
    filters: TrafficFilter,
) -> Select[ReceivedNotification, str, str, str]:
    statement = _dates(
        select(
            ReceivedNotification,
            func.coalesce(Payment.agent_id, PaymentException.agent_id),
            PaymentException.kind,
            PaymentException.detail,
        )
        .outerjoin(Payment, Payment.id == ReceivedNotification.payment_id)
        .outerjoin(PaymentException, PaymentException.id == ReceivedNotification.exception_id),
        ReceivedNotification.received_at,
        filters,
    )
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
    return statement.order_by(*NOTIFICATION_SORTS.order_by(filters.sort))


def _notification_line(
    item: ReceivedNotification, agent_id: str | None, kind: str | None, detail: str | None
) -> NotificationLine:
    return NotificationLine(
        notification=item,
        chain=chain_name(agent_id or _agent_id_in(item.body)),
        exception_kind=kind,
        reason=_notification_reason(item, kind, detail),
    )


def notifications(
    session: Session, filters: TrafficFilter, page: int = 1, per_page: int = 50
) -> TrafficListing[NotificationLine]:
    return _listing(
        session,
        _notification_statement(filters),
        NOTIFICATION_SORTS,
        ReceivedNotification.amount,
        _notification_line,
        page,
        per_page,
    )


# The same lists as files (services/reporting/spreadsheets): every matching row, in the list's
# order.

EXPORT_LIMIT = 100_000
Cell = str | int | None


def _wib_text(moment: datetime | None) -> str | None:
    return moment.astimezone(WIB).strftime("%Y-%m-%d %H:%M:%S") if moment else None


def _cells(line: Any, columns: Sequence[tuple[str, Callable[[Any], Cell]]]) -> list[Cell]:
    return [value(line) for _, value in columns]


def _export(
    session: Session,
    title: str,
    statement: Select[*_Ts],
    to_line: Callable[..., Any],
    columns: Sequence[tuple[str, Callable[[Any], Cell]]],
) -> Table:
    """Every matching row (at most EXPORT_LIMIT), one column per (header, value) pair."""
    rows = [
        _cells(to_line(*row), columns)
        for row in session.execute(statement.limit(EXPORT_LIMIT).execution_options(yield_per=1000))
    ]
    return Table(title, tuple(header for header, _ in columns), rows)


_INQUIRY_COLUMNS: tuple[tuple[str, Callable[[Any], Cell]], ...] = (
    ("received_at_wib", lambda line: _wib_text(line.inquiry.received_at)),
    ("payment_code", lambda line: line.inquiry.payment_code),
    ("invoice_number", lambda line: line.invoice_number),
    ("amount", lambda line: line.amount),
    ("chain", lambda line: line.chain),
    ("agent_store_id", lambda line: line.inquiry.agent_store_id),
    ("verdict", lambda line: line.inquiry.verdict),
    ("reason", lambda line: line.reason),
    ("http_status", lambda line: line.inquiry.http_status),
    ("request_id", lambda line: line.inquiry.request_id),
)

_NOTIFICATION_COLUMNS: tuple[tuple[str, Callable[[Any], Cell]], ...] = (
    ("received_at_wib", lambda line: _wib_text(line.notification.received_at)),
    ("payment_code", lambda line: line.notification.payment_code),
    ("invoice_number", lambda line: line.notification.invoice_number),
    ("amount", lambda line: line.notification.amount),
    ("chain", lambda line: line.chain),
    ("transaction_status", lambda line: line.notification.transaction_status),
    ("verdict", lambda line: line.notification.verdict),
    ("outcome", lambda line: line.notification.outcome),
    ("exception_kind", lambda line: line.exception_kind),
    ("reason", lambda line: line.reason),
    ("http_status", lambda line: line.notification.http_status),
    ("request_id", lambda line: line.notification.request_id),
)


def inquiry_table(session: Session, filters: TrafficFilter) -> Table:
    return _export(
        session, "Inquiries", _inquiry_statement(filters), _inquiry_line, _INQUIRY_COLUMNS
    )


def notification_table(session: Session, filters: TrafficFilter) -> Table:
    return _export(
        session,
        "Notifications",
        _notification_statement(filters),
        _notification_line,
        _NOTIFICATION_COLUMNS,
    )


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
