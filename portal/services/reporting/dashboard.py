"""The numbers on the back office's first page: what is owed, paid, asked and open."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from portal.models import Bill, BillState, Inquiry, Payment, PaymentCode, PaymentException, Policy
from portal.services.billing.payability import (
    PayabilityRules,
    Refusal,
    Standing,
    live_code_join,
    refusal_sql,
    standing,
)
from portal.services.billing.payment_codes import WIB
from portal.services.reporting.reconciliation import wib_day_bounds
from portal.services.session import Session


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
    )
