"""Payment codes: prefix, length, CSPRNG digits, Luhn check digit, never reused."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.models import PaymentCode
from portal.services.billing.payment_codes import (
    CodeSettings,
    PaymentCodeError,
    default_expiry,
    expiry_refusal,
    generate_code,
    issue_code,
    luhn_check_digit,
    luhn_valid,
    new_code_expiry,
)
from tests.factories import CODE_SETTINGS, make_bill


@pytest.mark.parametrize("number", ["79927398713", "4539578763621486", "0", "18"])
def test_known_luhn_numbers_are_valid(number: str) -> None:
    assert luhn_valid(number) is (len(number) >= 2)


def test_luhn_check_digit_of_the_textbook_example() -> None:
    assert luhn_check_digit("7992739871") == "3"


def test_generated_code_has_prefix_length_and_valid_check_digit() -> None:
    code = generate_code(CODE_SETTINGS)
    assert code.startswith("8896")
    assert len(code) == 16
    assert code.isdigit()
    assert luhn_valid(code)


def test_generated_codes_are_not_sequential() -> None:
    codes = sorted(int(generate_code(CODE_SETTINGS)[4:-1]) for _ in range(200))
    assert len(set(codes)) == 200
    gaps = [b - a for a, b in itertools.pairwise(codes)]
    # 200 draws from 10^11: sequential issuing would give gaps of 1; random draws give a gap
    # of 10 or less with a probability of about 4 in a million.
    assert min(gaps) > 10


@given(st.data())
def test_any_single_mistyped_digit_is_caught_by_the_check_digit(data: st.DataObject) -> None:
    code = generate_code(CODE_SETTINGS)
    position = data.draw(st.integers(0, len(code) - 1))
    wrong = data.draw(st.sampled_from([d for d in "0123456789" if d != code[position]]))
    typo = code[:position] + wrong + code[position + 1 :]
    assert not luhn_valid(typo)


def test_default_expiry_is_end_of_day_wib_after_the_grace_days() -> None:
    settings = CodeSettings(prefix="8896", length=16, grace_days=30)
    assert default_expiry(date(2026, 1, 1), settings) == datetime(
        2026, 1, 31, 16, 59, 59, tzinfo=UTC
    )


def test_a_new_code_of_an_overdue_bill_gets_the_grace_days_from_today_in_jakarta() -> None:
    settings = CodeSettings(prefix="8896", length=16, grace_days=3)
    on_time = datetime(2026, 1, 2, 0, 0, tzinfo=UTC)
    assert new_code_expiry(date(2026, 1, 1), settings, now=on_time) == datetime(
        2026, 1, 4, 16, 59, 59, tzinfo=UTC
    )
    # 2026-02-09 18:00 UTC is already 2026-02-10 in Jakarta: three days from the 10th.
    late = datetime(2026, 2, 9, 18, 0, tzinfo=UTC)
    assert new_code_expiry(date(2026, 1, 1), settings, now=late) == datetime(
        2026, 2, 13, 16, 59, 59, tzinfo=UTC
    )


def test_an_expiry_must_lie_in_the_future_for_the_import_and_staff_alike() -> None:
    now = datetime(2026, 1, 2, 0, 0, tzinfo=UTC)
    assert str(expiry_refusal(now, now=now)) == (
        "The payment code would expire in the past (2026-01-02 00:00 UTC)."
    )
    assert expiry_refusal(now.replace(second=1), now=now) is None


def test_supplied_code_must_pass_its_check_digit(session: Session) -> None:
    bill = make_bill(session)
    with pytest.raises(PaymentCodeError, match="check digit"):
        issue_code(
            session,
            bill,
            expires_at=datetime(2031, 1, 1, tzinfo=UTC),
            settings=CODE_SETTINGS,
            code="8896000000000001",
        )


def test_a_code_once_issued_is_never_issued_again(session: Session) -> None:
    first = make_bill(session)
    code = first.current_code
    assert code is not None
    code.retired_at = datetime.now(UTC)
    session.commit()
    second = make_bill(session)
    with pytest.raises(PaymentCodeError, match="never reused"):
        issue_code(
            session,
            second,
            expires_at=datetime(2031, 1, 1, tzinfo=UTC),
            settings=CODE_SETTINGS,
            code=code.code,
        )


def test_database_refuses_a_duplicate_code(session: Session) -> None:
    first = make_bill(session)
    second = make_bill(session)
    session.add(
        PaymentCode(
            bill_id=second.id, code=first.current_code.code,  # type: ignore[union-attr]
            expires_at=datetime(2031, 1, 1, tzinfo=UTC),
        )
    )  # fmt: skip
    with pytest.raises(IntegrityError):
        session.flush()


def test_database_refuses_non_digit_codes(session: Session) -> None:
    bill = make_bill(session)
    bill.current_code.retired_at = datetime.now(UTC)  # type: ignore[union-attr]
    session.add(
        PaymentCode(bill_id=bill.id, code="12a45", expires_at=datetime(2031, 1, 1, tzinfo=UTC))
    )
    with pytest.raises(IntegrityError):
        session.flush()


def test_database_allows_only_one_live_code_per_bill(session: Session) -> None:
    bill = make_bill(session)
    session.add(
        PaymentCode(bill_id=bill.id, code=generate_code(CODE_SETTINGS),
                    expires_at=datetime(2031, 1, 1, tzinfo=UTC))
    )  # fmt: skip
    with pytest.raises(IntegrityError):
        session.flush()


def test_issuing_draws_again_when_a_generated_code_is_taken(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = make_bill(session)
    taken_code = taken.current_code.code  # type: ignore[union-attr]
    fresh = generate_code(CODE_SETTINGS)
    draws = iter([taken_code, fresh])
    monkeypatch.setattr(
        "portal.services.billing.payment_codes.generate_code", lambda _s: next(draws)
    )
    bill = make_bill(session)  # the factory's own code comes from the patched generator
    assert bill.current_code.code == fresh  # type: ignore[union-attr]
    assert session.scalar(select(func.count()).select_from(PaymentCode)) == 2
