"""One payability rule: the inquiry, the portal, the reminders and the SQL lists always agree.

Hypothesis draws bill, policy and code states around every boundary (the amount limits, the
code's expiry, the statuses), stores them, and asks each consumer of the rule what it makes
of the bill at the same moment.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Bill, BillState, PaymentCode, Policy
from portal.services.billing import statements
from portal.services.billing.payability import (
    PayabilityRules,
    PolicyStatusError,
    Refusal,
    Standing,
    live_code_join,
    normalise_status,
    refusal,
    refusal_sql,
    standing,
    standing_sql,
)
from portal.services.billing.payment_codes import WIB
from portal.services.mail.reminders import NoticeKind, ReminderSettings, due_notices
from portal.services.traffic.inquiries import InquiryRules, Verdict, decide
from tests.factories import make_bill

NOW = datetime(2031, 5, 20, 5, 0, tzinfo=UTC)
RULES = PayabilityRules(
    min_amount=10_000,
    max_amount=5_000_000,
    policy_statuses=("aktif", "masa tenggang", "lapse", "batal"),
    payable_statuses=frozenset({"aktif", "masa tenggang"}),
)
INQUIRY_RULES = InquiryRules(payability=RULES, default_info="Premi", default_footer_message="")
REMINDERS = ReminderSettings(days_before_due=3, days_before_expiry=0, payability=RULES)
# Whatever the till would answer, by reason.
VERDICT = {None: Verdict.SUCCESS, Refusal.PAID: Verdict.BILLING_ALREADY_PAID,
           Refusal.EXPIRED: Verdict.BILLING_WAS_EXPIRED}  # fmt: skip

amounts = st.sampled_from([1, 9_999, 10_000, 10_001, 150_000, 4_999_999, 5_000_000, 5_000_001])
# Repeated entries weigh the draw towards bills that are otherwise payable, so each boundary
# (an amount at a limit, a code expiring now) meets the others often enough to be tested.
expiries = st.sampled_from([timedelta(seconds=-1), timedelta(0), timedelta(seconds=1),
                            timedelta(days=-40), *[timedelta(days=40)] * 4])  # fmt: skip
codes = st.sampled_from(["live", "live", "live", "retired", "none"])
states = st.sampled_from([BillState.UNPAID] * 4 + [BillState.PAID, BillState.CANCELLED])
statuses = st.sampled_from([*["aktif"] * 3, *RULES.policy_statuses, "Aktif"])


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    state=states,
    amount=amounts,
    status=statuses,
    expiry=expiries,
    code_kind=codes,
)
def test_inquiry_portal_reminders_and_sql_agree_on_every_bill(
    session: Session,
    state: BillState,
    amount: int,
    status: str,
    expiry: timedelta,
    code_kind: str,
) -> None:
    due = NOW.astimezone(WIB).date() + timedelta(days=1)  # inside the reminder window
    bill = make_bill(session, state=state, amount=amount, policy_status=status,
                     expires_at=NOW + expiry, due_date=due)  # fmt: skip
    code = bill.payment_codes[0]
    if code_kind != "live":
        code.retired_at = NOW - timedelta(days=1)
        if code_kind == "retired":  # replaced by a new live code that expires the same way
            replacement = PaymentCode(bill_id=bill.id, code=_other(code.code),
                                      expires_at=code.expires_at, issued_at=NOW)  # fmt: skip
            session.add(replacement)
    session.commit()
    live = session.scalar(
        select(PaymentCode).where(PaymentCode.bill_id == bill.id, PaymentCode.retired_at.is_(None))
    )

    expected = refusal(
        state=state, amount=amount, policy_status=status,
        expires_at=live.expires_at if live is not None else None, now=NOW, rules=RULES,
    )  # fmt: skip

    # The portal says the same as the rule.
    detail = statements.bill_of(
        session, bill.policy.policyholder_id, bill.id, now=NOW, rules=INQUIRY_RULES
    )
    assert detail is not None
    assert detail.refusal == expected
    assert detail.can_pay == (expected is None)

    # The till: the live code's inquiry answers accordingly; a retired code is unknown to it.
    connection = session.connection()
    if live is not None:
        decision = decide(connection, live.code, now=NOW, rules=INQUIRY_RULES)
        assert decision.verdict == VERDICT.get(expected, Verdict.DECLINE)
    if code_kind != "live":
        retired = decide(connection, code.code, now=NOW, rules=INQUIRY_RULES)
        assert retired.verdict == Verdict.BILLING_NOT_FOUND

    # Reminders to "pay at the store" go out exactly for the bills the till would take.
    reminded = {n.bill_id for n in due_notices(session, now=NOW, settings=REMINDERS)
                if n.kind is NoticeKind.DUE_SOON}  # fmt: skip
    assert (bill.id in reminded) == (expected is None)

    # The SQL form of the rule, as lists and counts use it.
    in_sql = session.scalar(
        select(refusal_sql(now=NOW, rules=RULES))
        .select_from(Bill)
        .join(Policy, Policy.id == Bill.policy_id)
        .outerjoin(PaymentCode, live_code_join())
        .where(Bill.id == bill.id)
    )
    assert in_sql == (expected.value if expected is not None else None)
    for wanted in Standing:
        matched = session.scalar(
            select(Bill.id)
            .join(Policy, Policy.id == Bill.policy_id)
            .outerjoin(PaymentCode, live_code_join())
            .where(Bill.id == bill.id, standing_sql(wanted, now=NOW, rules=RULES))
        )
        assert (matched is not None) == (standing(expected) is wanted)
    session.rollback()


def _other(code: str) -> str:
    return code[:-1] + ("1" if code[-1] != "1" else "2")


def test_a_payment_code_expiring_exactly_now_is_expired() -> None:
    kwargs = dict(state="unpaid", amount=150_000, policy_status="aktif", rules=RULES)
    assert refusal(expires_at=NOW, now=NOW, **kwargs) is Refusal.EXPIRED  # type: ignore[arg-type]
    assert refusal(expires_at=NOW + timedelta(microseconds=1), now=NOW, **kwargs) is None  # type: ignore[arg-type]


def test_the_amount_limits_are_inclusive() -> None:
    def at(amount: int) -> Refusal | None:
        return refusal(state="unpaid", amount=amount, policy_status="aktif",
                       expires_at=NOW + timedelta(days=1), now=NOW, rules=RULES)  # fmt: skip

    assert at(10_000) is None and at(5_000_000) is None
    assert at(9_999) is Refusal.AMOUNT_TOO_SMALL
    assert at(5_000_001) is Refusal.AMOUNT_TOO_LARGE


@pytest.mark.parametrize("typed, stored", [
    ("Aktif", "aktif"), (" AKTIF ", "aktif"), ("Masa   Tenggang", "masa tenggang"),
])  # fmt: skip
def test_policy_statuses_are_normalised_to_the_vocabulary(typed: str, stored: str) -> None:
    assert normalise_status(typed) == stored
    assert RULES.policy_status(typed) == stored


def test_an_unknown_policy_status_is_refused_with_the_allowed_list() -> None:
    with pytest.raises(PolicyStatusError) as refused:
        RULES.policy_status("Actve")
    assert "aktif, masa tenggang, lapse, batal" in str(refused.value)
