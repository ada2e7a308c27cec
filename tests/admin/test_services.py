"""The staff services on their own: one transaction for a change and its audit row, the rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import AuditEntry, Bill, BillState, PaymentCode, StaffRole, StaffUser
from portal.services.billing import changes, receipt_defaults
from portal.services.billing.changes import BillingError, BillLocked
from portal.services.billing.imports import BillRowSchema
from portal.services.billing.payment_codes import code_was_issued
from portal.services.billing.validation import InvalidFields, field_problems
from tests.admin.conftest import make_staff
from tests.factories import CODE_SETTINGS, make_bill

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


@pytest.fixture
def actor(session: Session) -> StaffUser:
    return make_staff(session, StaffRole.ADMIN)


def _audit_count(session: Session) -> int:
    return session.scalar(select(func.count(AuditEntry.id))) or 0


def test_a_rolled_back_change_leaves_no_audit_row_and_no_change(
    session: Session, actor: StaffUser
) -> None:
    bill = make_bill(session)
    audit_before = _audit_count(session)
    changes.cancel_bill(session, bill, actor=actor, note="duplicate", now=NOW)
    assert _audit_count(session) == audit_before + 1  # flushed, in the same transaction
    session.rollback()
    assert _audit_count(session) == audit_before
    assert session.get(Bill, bill.id).state == BillState.UNPAID  # type: ignore[union-attr]


def test_services_flush_but_never_commit(session: Session, actor: StaffUser) -> None:
    bill = make_bill(session)
    changes.update_bill(
        session, bill, actor=actor, amount=99_000, due_date=date(2031, 1, 1), info="",
        footer_message="", now=NOW,
    )  # fmt: skip
    assert session().in_transaction()
    session.rollback()
    assert session.get(Bill, bill.id).amount == 150_000  # type: ignore[union-attr]


def test_a_reissued_code_is_never_issued_again(session: Session, actor: StaffUser) -> None:
    bill = make_bill(session)
    old = bill.current_code
    assert old is not None
    old_code = old.code
    new = changes.reissue_code(
        session, bill, actor=actor, expires_at=None, settings=CODE_SETTINGS, now=NOW
    )
    assert new.code != old_code
    assert bill.current_code is new
    assert code_was_issued(session, old_code)
    retired = session.scalar(select(PaymentCode).where(PaymentCode.code == old_code))
    assert retired is not None and retired.retired_at == NOW
    # The reissued code keeps at least the old code's validity.
    assert new.expires_at >= old.expires_at


@pytest.mark.parametrize("state", [BillState.PAID, BillState.CANCELLED])
def test_a_settled_bill_is_locked(session: Session, actor: StaffUser, state: BillState) -> None:
    bill = make_bill(session, state=state)
    with pytest.raises(BillLocked):
        changes.update_bill(
            session, bill, actor=actor, amount=1, due_date=date(2031, 1, 1), info="",
            footer_message="", now=NOW,
        )  # fmt: skip
    with pytest.raises(BillLocked):
        changes.cancel_bill(session, bill, actor=actor, note="duplicate", now=NOW)
    with pytest.raises(BillLocked):
        changes.extend_code(
            session, bill, actor=actor, expires_at=NOW + timedelta(days=400), now=NOW
        )
    with pytest.raises(BillLocked):
        changes.reissue_code(
            session, bill, actor=actor, expires_at=None, settings=CODE_SETTINGS, now=NOW
        )
    assert issubclass(BillLocked, BillingError)


def test_services_check_fields_even_without_a_form(session: Session, actor: StaffUser) -> None:
    bill = make_bill(session)
    with pytest.raises(InvalidFields) as caught:
        changes.update_bill(
            session, bill, actor=actor, amount=150_000, due_date=date(2031, 1, 1),
            info="x" * 33, footer_message="é", now=NOW,
        )  # fmt: skip
    assert set(caught.value.errors) == {"info", "footer_message"}
    with pytest.raises(InvalidFields):
        receipt_defaults.update(session, actor=actor, info="", footer_message="x" * 121, now=NOW)


def test_field_rules_take_typed_values_and_the_import_applies_the_same_rules() -> None:
    assert field_problems(amount=150_000, info="Premi", footer_message="") == {}
    assert {k: list(map(str, v)) for k, v in field_problems(amount=0).items()} == {
        "amount": ["Must be between 1 and 999999999999."]
    }
    assert "amount" in field_problems(amount=10**12)
    assert "customer_email" in field_problems(customer_email="nope")
    assert "invoice_number" in field_problems(invoice_number="has space")
    # The import's schema reads the cell into an int, then asks the very same rule.
    schema = BillRowSchema(CODE_SETTINGS)
    row = {
        "policy_number": "P-1",
        "policy_type": "Jiwa",
        "policy_account_name": "Budi",
        "policy_status": "aktif",
        "customer_name": "Budi",
        "customer_email": "nope",
        "invoice_number": "has space",
        "amount": "0",
        "due_date": "2031-01-01",
        "info": "x" * 33,
    }
    errors = schema.validate(row)
    for name in ("amount", "customer_email", "invoice_number", "info"):
        assert errors[name] == field_problems(**{name: 0 if name == "amount" else row[name]})[name]
