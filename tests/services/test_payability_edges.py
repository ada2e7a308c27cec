"""The edges of the one payability rule: what staff are told, start-up checks, and the standings
the back office filters by, each pinned to its exact words and boundaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Bill, BillState, PaymentCode, Policy
from portal.services.billing.payability import (
    PayabilityRules,
    PolicyStatusError,
    Refusal,
    Standing,
    config_problems,
    live_code_join,
    payable_sql,
    reason,
    refusal,
    refusal_sql,
    standing,
    standing_sql,
)
from tests.factories import make_bill

NOW = datetime(2031, 5, 20, 5, 0, tzinfo=UTC)
RULES = PayabilityRules(
    min_amount=10_000,
    max_amount=5_000_000,
    policy_statuses=("aktif", "lapse"),
    payable_statuses=frozenset({"aktif"}),
)


def test_rules_from_configuration_keep_the_vocabulary_in_order_and_normalised() -> None:
    rules = PayabilityRules.from_config({
        "ALFA_MIN_AMOUNT": 5,
        "ALFA_MAX_AMOUNT": 50,
        "POLICY_STATUSES": (" Masa  Tenggang", "AKTIF", "lapse"),
        "ACTIVE_POLICY_STATUSES": ("Aktif ", "masa tenggang"),
    })  # fmt: skip
    assert rules == PayabilityRules(
        5, 50, ("masa tenggang", "aktif", "lapse"), frozenset({"aktif", "masa tenggang"})
    )


def test_an_unknown_status_names_what_was_typed_cut_short_and_every_allowed_status() -> None:
    with pytest.raises(PolicyStatusError) as refused:
        RULES.policy_status("  " + "x" * 50 + "  ")
    assert str(refused.value) == f"Unknown policy status {'x' * 40!r}; use one of: aktif, lapse."


def test_a_sound_configuration_has_no_problems() -> None:
    config = {"POLICY_STATUSES": ("aktif", "lapse"), "ACTIVE_POLICY_STATUSES": ("Aktif",)}
    assert list(config_problems(config)) == []


def test_an_empty_vocabulary_and_payable_strays_are_both_named() -> None:
    config = {"POLICY_STATUSES": (), "ACTIVE_POLICY_STATUSES": ("Aktif", "berlaku")}
    assert list(config_problems(config)) == [
        "POLICY_STATUSES is empty: list the statuses a policy may have",
        "ACTIVE_POLICY_STATUSES has aktif, berlaku, which POLICY_STATUSES lacks",
    ]


def test_a_bill_without_a_live_code_cannot_be_paid() -> None:
    assert refusal(state="unpaid", amount=150_000, policy_status="aktif", expires_at=None,
                   now=NOW, rules=RULES) is Refusal.NO_CODE  # fmt: skip


@pytest.mark.parametrize(
    ("refused", "kwargs", "line"),
    [
        (Refusal.PAID, {}, "bill is paid"),
        (Refusal.CANCELLED, {}, "bill is cancelled"),
        (Refusal.NO_CODE, {}, "bill has no live payment code"),
        (Refusal.EXPIRED, {}, "code expired"),
        (Refusal.EXPIRED, {"expires_at": NOW}, "code expired at 2031-05-20T05:00:00Z"),
        (Refusal.POLICY_NOT_PAYABLE, {"policy_status": "lapse"}, "policy status is 'lapse'"),
        (Refusal.AMOUNT_TOO_SMALL, {"amount": 1},
         "amount 1 is outside the Alfa limits 10000-5000000"),
        (Refusal.AMOUNT_TOO_LARGE, {"amount": 5_000_001},
         "amount 5000001 is outside the Alfa limits 10000-5000000"),
    ],
)  # fmt: skip
def test_staff_are_told_why_in_one_line(refused: Refusal, kwargs: dict, line: str) -> None:  # type: ignore[type-arg]
    assert reason(refused, rules=RULES, **kwargs) == line


@pytest.mark.parametrize(
    ("refused", "expected"),
    [
        (None, Standing.PAYABLE),
        (Refusal.PAID, Standing.PAID),
        (Refusal.CANCELLED, Standing.CANCELLED),
        (Refusal.EXPIRED, Standing.EXPIRED),
        (Refusal.NO_CODE, Standing.DECLINED),
        (Refusal.POLICY_NOT_PAYABLE, Standing.DECLINED),
        (Refusal.AMOUNT_TOO_SMALL, Standing.DECLINED),
        (Refusal.AMOUNT_TOO_LARGE, Standing.DECLINED),
    ],
)
def test_each_refusal_has_the_standing_staff_see(
    refused: Refusal | None, expected: Standing
) -> None:
    assert standing(refused) is expected


def _matching(session: Session, where: object) -> set[int]:
    return set(
        session.scalars(
            select(Bill.id)
            .join(Policy, Policy.id == Bill.policy_id)
            .outerjoin(PaymentCode, live_code_join())
            .where(where)  # type: ignore[arg-type]
        )
    )


def test_the_back_office_filters_find_each_bill_under_its_standing_only(session: Session) -> None:
    later = NOW + timedelta(days=1)
    bills = {
        Standing.PAYABLE: make_bill(session, expires_at=later),
        Standing.DECLINED: make_bill(session, expires_at=later, policy_status="lapse"),
        Standing.EXPIRED: make_bill(session, expires_at=NOW),
        Standing.PAID: make_bill(session, expires_at=later, state=BillState.PAID),
        Standing.CANCELLED: make_bill(session, expires_at=later, state=BillState.CANCELLED),
    }
    for wanted, bill in bills.items():
        assert _matching(session, standing_sql(wanted, now=NOW, rules=RULES)) == {bill.id}
    assert _matching(session, payable_sql(now=NOW, rules=RULES)) == {bills[Standing.PAYABLE].id}


def test_with_no_payable_status_configured_no_bill_is_payable(session: Session) -> None:
    make_bill(session, expires_at=NOW + timedelta(days=1))
    rules = PayabilityRules(10_000, 5_000_000, ("aktif",), frozenset())
    found = session.scalar(
        select(refusal_sql(now=NOW, rules=rules))
        .select_from(Bill)
        .join(Policy, Policy.id == Bill.policy_id)
        .outerjoin(PaymentCode, live_code_join())
    )
    assert found == Refusal.POLICY_NOT_PAYABLE.value
