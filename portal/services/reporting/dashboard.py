"""The numbers on the back office's first page: what is owed, paid, asked and open."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, or_, select

from portal.models import Bill, BillState, Inquiry, Payment, PaymentCode, PaymentException, Policy
from portal.services.billing.chains import chain_name
from portal.services.billing.payability import (
    PayabilityRules,
    Refusal,
    Standing,
    live_code_join,
    refusal_sql,
    standing,
)
from portal.services.billing.payment_codes import WIB
from portal.services.reporting.charts import Chart, bar_chart, column_chart, line_chart
from portal.services.reporting.reconciliation import wib_day_bounds
from portal.services.session import Session

TREND_DAYS = 30


@dataclass(frozen=True, slots=True)
class Tally:
    count: int
    amount: int


@dataclass(frozen=True, slots=True)
class Dashboard:
    today: datetime  # WIB
    unpaid: Tally
    # The unpaid bills by what the till would do with them now (payable, declined, expired).
    unpaid_by_standing: dict[Standing, Tally]
    paid_today: Tally
    paid_this_month: Tally
    inquiries_today: int
    inquiry_verdicts_today: dict[str, int]
    open_exceptions: int
    open_exceptions_by_kind: dict[str, int]
    trends: Trends  # the last 30 days, for the charts


def _paid_between(session: Session, since: datetime, until: datetime) -> Tally:
    count, amount = session.execute(
        select(func.count(Payment.id), func.coalesce(func.sum(Payment.amount), 0)).where(
            Payment.paid_at >= since, Payment.paid_at < until
        )
    ).one()
    return Tally(int(count), int(amount))


def _unpaid_by_standing(
    session: Session, *, now: datetime, rules: PayabilityRules
) -> dict[Standing, Tally]:
    refused = refusal_sql(now=now, rules=rules).label("refusal")
    tallies: dict[Standing, list[int]] = {
        s: [0, 0] for s in (Standing.PAYABLE, Standing.DECLINED, Standing.EXPIRED)
    }
    for refusal, count, amount in session.execute(
        select(refused, func.count(Bill.id), func.coalesce(func.sum(Bill.amount), 0))
        .join(Policy, Policy.id == Bill.policy_id)
        .outerjoin(PaymentCode, live_code_join())
        .where(Bill.state == BillState.UNPAID.value)
        .group_by(refused)
    ):
        tally = tallies[standing(Refusal(refusal) if refusal is not None else None)]
        tally[0] += int(count)
        tally[1] += int(amount)
    return {s: Tally(count, amount) for s, (count, amount) in tallies.items()}


def summary(session: Session, *, now: datetime, rules: PayabilityRules) -> Dashboard:
    """Days and months are WIB ones: "today" is the cashier's today in Jakarta."""
    local = now.astimezone(WIB)
    day_start, day_end = wib_day_bounds(local.date(), local.date())
    month_start, _ = wib_day_bounds(local.date().replace(day=1), local.date())
    by_standing = _unpaid_by_standing(session, now=now, rules=rules)
    unpaid_count = sum(t.count for t in by_standing.values())
    unpaid_amount = sum(t.amount for t in by_standing.values())
    verdicts: dict[str, int] = {
        verdict: int(count)
        for verdict, count in session.execute(
            select(Inquiry.verdict, func.count(Inquiry.id))
            .where(Inquiry.received_at >= day_start, Inquiry.received_at < day_end)
            .group_by(Inquiry.verdict)
            .order_by(Inquiry.verdict)
        )
    }
    kinds: dict[str, int] = {
        kind: int(count)
        for kind, count in session.execute(
            select(PaymentException.kind, func.count(PaymentException.id))
            .where(PaymentException.resolved_at.is_(None))
            .group_by(PaymentException.kind)
            .order_by(PaymentException.kind)
        )
    }
    return Dashboard(
        today=local,
        unpaid=Tally(unpaid_count, unpaid_amount),
        unpaid_by_standing=by_standing,
        paid_today=_paid_between(session, day_start, day_end),
        paid_this_month=_paid_between(session, month_start, day_end),
        inquiries_today=sum(verdicts.values()),
        inquiry_verdicts_today=verdicts,
        open_exceptions=sum(kinds.values()),
        open_exceptions_by_kind=kinds,
        trends=trends(session, now=now),
    )


# The last 30 days, for the charts (WIB days, today included).


@dataclass(frozen=True, slots=True)
class DayTally:
    day: date
    count: int
    amount: int


@dataclass(frozen=True, slots=True)
class Share:
    label: str
    count: int
    amount: int = 0


@dataclass(frozen=True, slots=True)
class DayCount:
    day: date
    count: int  # open at the end of the day (for today: now)


@dataclass(frozen=True, slots=True)
class Trends:
    first_day: date
    last_day: date
    payments_per_day: list[DayTally]
    money_per_chain: list[Share]  # largest amount first
    inquiries_by_verdict: list[Share]  # most frequent first
    open_exceptions: list[DayCount]

    @property
    def paid(self) -> Tally:
        return Tally(
            sum(d.count for d in self.payments_per_day),
            sum(d.amount for d in self.payments_per_day),
        )

    @property
    def inquiries(self) -> int:
        return sum(s.count for s in self.inquiries_by_verdict)

    # Where the bars and lines go (services/reporting/charts); the template draws them.

    def payments_chart(self) -> Chart:
        return column_chart(
            [d.amount for d in self.payments_per_day],
            [d.day.isoformat() for d in self.payments_per_day],
        )

    def chains_chart(self) -> Chart:
        return bar_chart(
            [s.amount for s in self.money_per_chain],
            [s.label for s in self.money_per_chain],
            width=300,
        )

    def verdicts_chart(self) -> Chart:
        return bar_chart(
            [s.count for s in self.inquiries_by_verdict],
            [s.label for s in self.inquiries_by_verdict],
            width=300,
        )

    def exceptions_chart(self) -> Chart:
        return line_chart(
            [d.count for d in self.open_exceptions],
            [d.day.isoformat() for d in self.open_exceptions],
        )


def _days(last_day: date, days: int) -> list[date]:
    return [last_day - timedelta(days=days - 1 - i) for i in range(days)]


def _day_index(column: Any, days: Sequence[date]) -> Any:
    """Which of ``days`` (WIB) ``column`` falls on, as 0..n-1, in portable SQL (a CASE of
    day boundaries rather than a database's own date functions)."""
    return case(
        *[(column < wib_day_bounds(day, day)[1], i) for i, day in enumerate(days)],
        else_=None,
    )


def _payments_per_day(session: Session, days: Sequence[date]) -> list[DayTally]:
    since, until = wib_day_bounds(days[0], days[-1])
    index = _day_index(Payment.paid_at, days).label("day")
    found = {
        int(i): (int(count), int(amount))
        for i, count, amount in session.execute(
            select(index, func.count(Payment.id), func.coalesce(func.sum(Payment.amount), 0))
            .where(Payment.paid_at >= since, Payment.paid_at < until)
            .group_by(index)
        )
        if i is not None
    }
    return [DayTally(day, *found.get(i, (0, 0))) for i, day in enumerate(days)]


def _money_per_chain(session: Session, days: Sequence[date]) -> list[Share]:
    since, until = wib_day_bounds(days[0], days[-1])
    merged: dict[str, list[int]] = {}
    for agent_id, count, amount in session.execute(
        select(Payment.agent_id, func.count(Payment.id), func.coalesce(func.sum(Payment.amount), 0))
        .where(Payment.paid_at >= since, Payment.paid_at < until)
        .group_by(Payment.agent_id)
    ):
        # "ALFAMART" and "Alfamart " are one chain.
        tally = merged.setdefault(chain_name(agent_id), [0, 0])
        tally[0] += int(count)
        tally[1] += int(amount)
    return sorted(
        (Share(label, count, amount) for label, (count, amount) in merged.items()),
        key=lambda s: (-s.amount, s.label),
    )


def _inquiries_by_verdict(session: Session, days: Sequence[date]) -> list[Share]:
    since, until = wib_day_bounds(days[0], days[-1])
    rows = session.execute(
        select(Inquiry.verdict, func.count(Inquiry.id))
        .where(Inquiry.received_at >= since, Inquiry.received_at < until)
        .group_by(Inquiry.verdict)
    )
    return sorted((Share(str(v), int(n)) for v, n in rows), key=lambda s: (-s.count, s.label))


def _open_exceptions(session: Session, days: Sequence[date], now: datetime) -> list[DayCount]:
    """How many exceptions were open at the end of each day (today: at ``now``)."""
    ends = [min(wib_day_bounds(day, day)[1], now) for day in days]
    created, resolved = PaymentException.created_at, PaymentException.resolved_at
    columns = [
        func.coalesce(
            func.sum(
                case((created < end, case((or_(resolved.is_(None), resolved >= end), 1))), else_=0)
            ),
            0,
        )
        for end in ends
    ]
    row = session.execute(
        select(*columns).where(
            or_(resolved.is_(None), resolved >= wib_day_bounds(days[0], days[0])[0])
        )
    ).one()
    return [DayCount(day, int(n or 0)) for day, n in zip(days, row, strict=True)]


def trends(session: Session, *, now: datetime, days: int = TREND_DAYS) -> Trends:
    """The last ``days`` WIB days up to today's, for the dashboard's charts and tables."""
    window = _days(now.astimezone(WIB).date(), days)
    return Trends(
        first_day=window[0],
        last_day=window[-1],
        payments_per_day=_payments_per_day(session, window),
        money_per_chain=_money_per_chain(session, window),
        inquiries_by_verdict=_inquiries_by_verdict(session, window),
        open_exceptions=_open_exceptions(session, window, now),
    )
