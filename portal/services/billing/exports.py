"""Files back to the core system: bills with their live payment codes, and the payments.

The payments feed is incremental: each run hands over the payments no earlier run of the feed
handed over, and records them (``exported_payments``) in the caller's transaction, so each
payment reaches the core system exactly once however often the feed runs. Runs take the
feed's row lock first, so two at once queue instead of both handing over the same payment. A
period (``payments_between``) can be exported again at any time without touching the feed.

Every file is a ``spreadsheets.Table``: CSV or XLSX, codes kept as text.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, and_, exists, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from portal.models import (
    Bill,
    BillState,
    ExportCursor,
    ExportedPayment,
    Payment,
    PaymentCode,
    Policy,
    Policyholder,
)
from portal.services.billing.payment_codes import WIB
from portal.services.reporting.reconciliation import wib_day_bounds
from portal.services.reporting.spreadsheets import Cell, Table
from portal.services.session import Session

PAYMENTS_FEED = "payments"
STATES = tuple(s.value for s in BillState)

BILL_HEADER = (
    "invoice_number", "policy_number", "policy_type", "policy_status", "customer_name",
    "customer_email", "amount", "due_date", "state", "payment_code", "expires_at", "info",
    "footer_message",
)  # fmt: skip
PAYMENT_HEADER = (
    "payment_id", "invoice_number", "policy_number", "payment_code", "amount", "paid_at",
    "recorded_at", "agent_id", "agent_store_id", "agent_trx_id", "source", "late",
)  # fmt: skip


def _moment(value: datetime | None) -> str:
    """ISO 8601 with the WIB offset: what a person reads and a machine parses exactly."""
    return value.astimezone(WIB).isoformat(timespec="seconds") if value else ""


def bills_table(session: Session, states: Sequence[str] = ()) -> Table:
    """Bills (of ``states``; all when empty) with their live payment code, oldest first."""
    statement = (
        select(Bill, Policy, Policyholder, PaymentCode)
        .join(Policy, Policy.id == Bill.policy_id)
        .join(Policyholder, Policyholder.id == Policy.policyholder_id)
        .outerjoin(
            PaymentCode, and_(PaymentCode.bill_id == Bill.id, PaymentCode.retired_at.is_(None))
        )
        .order_by(Bill.id)
    )
    if states:
        statement = statement.where(Bill.state.in_(list(states)))

    def rows() -> Iterator[Sequence[Cell]]:
        streamed = statement.execution_options(yield_per=1000)
        for bill, policy, holder, code in session.execute(streamed):
            yield (
                bill.invoice_number, policy.number, policy.type, policy.status, holder.name,
                holder.email, bill.amount, bill.due_date.isoformat(), bill.state,
                code.code if code else None, _moment(code.expires_at if code else None),
                bill.info, bill.footer_message,
            )  # fmt: skip

    return Table(title="Bills", header=BILL_HEADER, rows=rows())


def _payments_query() -> Select[Payment, str, str]:
    return (
        select(Payment, Bill.invoice_number, Policy.number)
        .join(Bill, Bill.id == Payment.bill_id)
        .join(Policy, Policy.id == Bill.policy_id)
        .order_by(Payment.id)
    )


def _payment_row(payment: Payment, invoice: str, policy_number: str) -> tuple[Cell, ...]:
    return (
        payment.id, invoice, policy_number, payment.payment_code, payment.amount,
        _moment(payment.paid_at), _moment(payment.recorded_at), payment.agent_id,
        payment.agent_store_id, payment.agent_trx_id, payment.source,
        "yes" if payment.late else "no",
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class PaymentsExport:
    table: Table
    count: int
    first_id: int | None
    last_id: int | None


def _export(rows: list[tuple[Cell, ...]], title: str) -> PaymentsExport:
    ids = [int(r[0]) for r in rows if r[0] is not None]
    return PaymentsExport(
        table=Table(title=title, header=PAYMENT_HEADER, rows=rows),
        count=len(rows),
        first_id=ids[0] if ids else None,
        last_id=ids[-1] if ids else None,
    )


def payments_between(session: Session, start: date, end: date) -> PaymentsExport:
    """Payments paid on ``start`` .. ``end`` (WIB days), whether exported before or not."""
    if end < start:
        raise ValueError("the end date is before the start date")
    since, until = wib_day_bounds(start, end)
    statement = _payments_query().where(Payment.paid_at >= since, Payment.paid_at < until)
    rows = [_payment_row(p, invoice, number) for p, invoice, number in session.execute(statement)]
    return _export(rows, "Payments")


def _lock_feed(session: Session, feed: str) -> ExportCursor:
    dialect = session.connection().dialect.name
    make_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        make_insert(ExportCursor)
        .values(name=feed, last_payment_id=0, exported_total=0)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    return session.execute(
        select(ExportCursor).where(ExportCursor.name == feed).with_for_update()
    ).scalar_one()


def payments_since_last(
    session: Session, *, now: datetime, feed: str = PAYMENTS_FEED
) -> PaymentsExport:
    """The payments this feed has not handed over yet, marked as handed over (flushed).

    Commit only once the file is safely written: rolling back hands them over again next time.
    """
    cursor = _lock_feed(session, feed)
    handed_over = exists().where(
        ExportedPayment.feed == feed, ExportedPayment.payment_id == Payment.id
    )
    statement = _payments_query().where(~handed_over)
    rows = [_payment_row(p, invoice, number) for p, invoice, number in session.execute(statement)]
    export = _export(rows, "Payments")
    if rows:
        session.execute(
            insert(ExportedPayment),
            [{"feed": feed, "payment_id": r[0], "exported_at": now} for r in rows],
        )
        cursor.last_payment_id = max(cursor.last_payment_id, export.last_id or 0)
        cursor.exported_total += len(rows)
    cursor.last_run_at = now
    session.flush()
    return export


def feed_status(session: Session, feed: str = PAYMENTS_FEED) -> ExportCursor | None:
    return session.get(ExportCursor, feed)


def pending_count(session: Session, feed: str = PAYMENTS_FEED) -> int:
    """Payments the feed's next run would hand over."""
    handed_over = exists().where(
        ExportedPayment.feed == feed, ExportedPayment.payment_id == Payment.id
    )
    return session.scalar(select(func.count(Payment.id)).where(~handed_over)) or 0


def file_name(kind: str, now: datetime, file_format: str) -> str:
    return f"{kind}-{now.astimezone(WIB):%Y%m%d-%H%M%S}.{file_format}"
