"""Reconciliation: every rupiah DOKU reported as paid, once, per WIB day, chain and store.

DOKU's settlement counts what customers paid at the tills. Here each of those payments appears
exactly once: as a payment applied to its bill (late ones included), or as cash held in an
exception (a second payment, a wrong amount or invoice, a cancelled bill, a replaced or unknown
code), with what became of it: still open, refunded, applied by staff. A FAILED payment or an
unknown status is no money. One payment that opened two exceptions (a wrong amount, later
re-delivered once the bill was paid) is counted once, by the fingerprint of what DOKU said.

The command line and the admin screens both read it from here.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import select

from portal.models import Bill, Payment, PaymentException, Policy, Policyholder
from portal.models.payments import MONEY_HELD_KINDS, Resolution
from portal.services.billing.payment_codes import WIB
from portal.services.reporting.spreadsheets import Table
from portal.services.session import Session

UNKNOWN_STORE = "(unknown)"

# AGENT_ID as DOKU passes it on from the till. DOKU's plugins show the chain's name
# ("ALFAMART"); its guide shows a number ("100001") with no published list, so a number
# stays as it is.
_CHAINS = {
    "ALFAMART": "Alfamart",
    "ALFAMIDI": "Alfamidi",
    "ALFAEXPRESS": "Alfaexpress",
    "LAWSON": "Lawson",
    "DANDAN": "Dan+Dan",
}


def chain_name(agent_id: str | None) -> str:
    """The store chain behind DOKU's AGENT_ID: its name when it names one, else the id."""
    if not agent_id or not agent_id.strip():
        return UNKNOWN_STORE
    return _CHAINS.get(re.sub(r"[^A-Z]", "", agent_id.upper()), agent_id.strip())


class MoneyState(StrEnum):
    """Where a payment DOKU reported stands."""

    APPLIED = "applied"  # a payment on its bill
    OPEN = "open"  # held in an exception nobody has resolved
    REFUNDED = "refunded"  # returned to the customer through DOKU
    APPLIED_BY_STAFF = "applied_by_staff"
    NO_MONEY = "no_money"  # staff found no money to act on
    RESOLVED = "resolved"  # resolved before outcomes were recorded


_STATE_OF_RESOLUTION = {
    Resolution.REFUNDED.value: MoneyState.REFUNDED,
    Resolution.APPLIED.value: MoneyState.APPLIED_BY_STAFF,
    Resolution.NO_MONEY.value: MoneyState.NO_MONEY,
}


@dataclass(frozen=True, slots=True)
class MoneyLine:
    """One payment DOKU reported, where it stands."""

    paid_at: datetime  # WIB
    amount: int
    state: MoneyState
    kind: str  # "payment", or the exception's kind
    invoice_number: str | None
    payment_code: str | None
    customer_name: str | None
    policy_number: str | None
    chain: str
    agent_id: str | None
    agent_store_id: str | None
    agent_trx_id: str | None
    source: str  # notification or reconciliation
    late: bool = False
    payment_id: int | None = None
    bill_id: int | None = None
    exception_ids: tuple[int, ...] = ()

    @property
    def applied(self) -> bool:
        return self.state is MoneyState.APPLIED


@dataclass(frozen=True, slots=True)
class Total:
    key: str
    count: int
    amount: int
    by_state: dict[MoneyState, int] = field(default_factory=dict)

    def amount_in(self, state: MoneyState) -> int:
        return self.by_state.get(state, 0)

    @property
    def held(self) -> int:
        """Money not on its bill by itself: everything in exceptions, whatever their state."""
        return self.amount - self.amount_in(MoneyState.APPLIED)


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
    holds_money: bool


@dataclass(frozen=True, slots=True)
class PaymentsReport:
    start: date
    end: date
    lines: list[MoneyLine]
    per_day: list[Total]
    per_chain: list[Total]
    per_store: list[Total]
    open_exceptions: list[OpenException]

    @property
    def payments(self) -> list[MoneyLine]:
        """The payments applied to their bills."""
        return [line for line in self.lines if line.applied]

    @property
    def held(self) -> list[MoneyLine]:
        """Money held in exceptions."""
        return [line for line in self.lines if not line.applied]

    @property
    def total(self) -> Total:
        return _total("total", self.lines)


def wib_day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """From the start of ``start`` to the end of ``end``, WIB days, as UTC-aware datetimes."""
    return (
        datetime.combine(start, time(0), tzinfo=WIB),
        datetime.combine(end + timedelta(days=1), time(0), tzinfo=WIB),
    )


def _total(key: str, lines: Iterable[MoneyLine]) -> Total:
    count = amount = 0
    by_state: dict[MoneyState, int] = defaultdict(int)
    for line in lines:
        count += 1
        amount += line.amount
        by_state[line.state] += line.amount
    return Total(key, count, amount, dict(by_state))


def _totals(lines: list[MoneyLine], key: Callable[[MoneyLine], str]) -> list[Total]:
    groups: dict[str, list[MoneyLine]] = defaultdict(list)
    for line in lines:
        groups[key(line)].append(line)
    return [_total(name, group) for name, group in sorted(groups.items())]


def _payment_lines(session: Session, since: datetime, until: datetime) -> list[MoneyLine]:
    rows = session.execute(
        select(Payment, Bill.invoice_number, Policyholder.name, Policy.number)
        .join(Bill, Bill.id == Payment.bill_id)
        .join(Policy, Policy.id == Bill.policy_id)
        .join(Policyholder, Policyholder.id == Policy.policyholder_id)
        .where(Payment.paid_at >= since, Payment.paid_at < until)
        .order_by(Payment.paid_at, Payment.id)
    ).all()
    return [
        MoneyLine(
            paid_at=payment.paid_at.astimezone(WIB),
            amount=payment.amount,
            state=MoneyState.APPLIED,
            kind="payment",
            invoice_number=invoice,
            payment_code=payment.payment_code,
            customer_name=name,
            policy_number=policy_number,
            chain=chain_name(payment.agent_id),
            agent_id=payment.agent_id,
            agent_store_id=payment.agent_store_id,
            agent_trx_id=payment.agent_trx_id,
            source=payment.source,
            late=payment.late,
            payment_id=payment.id,
            bill_id=payment.bill_id,
        )
        for payment, invoice, name, policy_number in rows
    ]


def _state(group: list[PaymentException]) -> MoneyState:
    resolved = [e for e in group if e.resolved_at is not None]
    if not resolved:
        return MoneyState.OPEN
    last = max(resolved, key=lambda e: (e.resolved_at, e.id))
    return _STATE_OF_RESOLUTION.get(last.resolution or "", MoneyState.RESOLVED)


def _held_lines(session: Session, since: datetime, until: datetime) -> list[MoneyLine]:
    rows = session.execute(
        select(PaymentException, Policyholder.name, Policy.number)
        .outerjoin(Bill, Bill.id == PaymentException.bill_id)
        .outerjoin(Policy, Policy.id == Bill.policy_id)
        .outerjoin(Policyholder, Policyholder.id == Policy.policyholder_id)
        .where(
            PaymentException.kind.in_([k.value for k in MONEY_HELD_KINDS]),
            PaymentException.paid_at >= since,
            PaymentException.paid_at < until,
        )
        .order_by(PaymentException.paid_at, PaymentException.id)
    ).all()
    # One payment DOKU reported may have opened exceptions of two kinds: count it once.
    groups: dict[str, list[tuple[PaymentException, str | None, str | None]]] = {}
    for item, name, policy_number in rows:
        if item.holds_money and item.amount is not None and item.paid_at is not None:
            key = item.report_fingerprint or f"exception:{item.fingerprint}"
            groups.setdefault(key, []).append((item, name, policy_number))
    # ... and once only if it became a payment after all (the bill was corrected, the code
    # imported): the payment carries the money then.
    applied = (
        set(session.scalars(select(Payment.fingerprint).where(Payment.fingerprint.in_(groups))))
        if groups
        else set()
    )
    lines = []
    for key, group in groups.items():
        if key in applied:
            continue
        first, holder_name, holder_policy = group[0]
        assert first.amount is not None and first.paid_at is not None
        lines.append(
            MoneyLine(
                paid_at=first.paid_at.astimezone(WIB),
                amount=first.amount,
                state=_state([e for e, _, _ in group]),
                kind=first.kind,
                invoice_number=first.invoice_number,
                payment_code=first.payment_code,
                customer_name=holder_name,
                policy_number=holder_policy,
                chain=chain_name(first.agent_id),
                agent_id=first.agent_id,
                agent_store_id=first.agent_store_id,
                agent_trx_id=first.agent_trx_id,
                source="exception",
                bill_id=first.bill_id,
                exception_ids=tuple(e.id for e, _, _ in group),
            )
        )
    return lines


def _open_exceptions(session: Session) -> list[OpenException]:
    return [
        OpenException(
            id=e.id,
            kind=e.kind,
            created_at=e.created_at.astimezone(WIB),
            invoice_number=e.invoice_number,
            payment_code=e.payment_code,
            amount=e.amount,
            agent_store_id=e.agent_store_id,
            detail=e.detail,
            holds_money=e.holds_money,
        )
        for e in session.scalars(
            select(PaymentException)
            .where(PaymentException.resolved_at.is_(None))
            .order_by(PaymentException.created_at, PaymentException.id)
        )
    ]


def payments_report(session: Session, start: date, end: date) -> PaymentsReport:
    """Everything DOKU reported paid between two WIB days (by when the customer paid)."""
    if end < start:
        raise ValueError("the end date is before the start date")
    since, until = wib_day_bounds(start, end)
    lines = _payment_lines(session, since, until) + _held_lines(session, since, until)
    lines.sort(key=lambda line: (line.paid_at, not line.applied, line.payment_id or 0,
                                 line.exception_ids))  # fmt: skip
    return PaymentsReport(
        start=start,
        end=end,
        lines=lines,
        per_day=_totals(lines, lambda line: line.paid_at.date().isoformat()),
        per_chain=_totals(lines, lambda line: line.chain),
        per_store=_totals(lines, lambda line: line.agent_store_id or UNKNOWN_STORE),
        open_exceptions=_open_exceptions(session),
    )


HEADER = (
    "paid_at_wib", "state", "kind", "invoice_number", "payment_code", "amount", "customer_name",
    "policy_number", "chain", "agent_id", "agent_store_id", "agent_trx_id", "source", "late",
    "payment_id", "exception_ids",
)  # fmt: skip


def report_table(report: PaymentsReport) -> Table:
    """One row per payment DOKU reported, for :func:`.spreadsheets.render`."""
    return Table(
        title="Reconciliation",
        header=HEADER,
        rows=[
            (
                line.paid_at.strftime("%Y-%m-%d %H:%M:%S"),
                line.state.value,
                line.kind,
                line.invoice_number,
                line.payment_code,  # text: a code keeps every digit
                line.amount,
                line.customer_name,
                line.policy_number,
                line.chain,
                line.agent_id,
                line.agent_store_id,
                line.agent_trx_id,
                line.source,
                "yes" if line.late else "no",
                line.payment_id,
                " ".join(str(i) for i in line.exception_ids) or None,
            )
            for line in report.lines
        ],
    )


def report_filename(report: PaymentsReport, file_format: str) -> str:
    return f"reconciliation-{report.start}-to-{report.end}.{file_format}"
