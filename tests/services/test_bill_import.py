"""The CSV bill import: creates or updates by key, all or nothing, a report naming every error."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import Bill, PaymentCode, Policy, Policyholder
from portal.services.billing.imports import HEADER, ImportRejected, import_bills
from portal.services.billing.payment_codes import generate_code, luhn_valid
from tests.factories import CODE_SETTINGS

NOW = datetime.now(UTC)
DUE = (NOW + timedelta(days=10)).date().isoformat()


def row(**values: str) -> dict[str, str]:
    base = {
        "policy_number": "9090901234",
        "policy_type": "Dana Pendidikan",
        "policy_account_name": "Andreas",
        "policy_status": "aktif",
        "customer_name": "Budi Santoso",
        "customer_email": "Budi@Example.com",
        "invoice_number": "INV-2026-0001",
        "amount": "150000",
        "due_date": DUE,
        "payment_code": "",
        "expires_at": "",
        "info": "",
        "footer_message": "",
    }
    return {**base, **values}


def csv_text(*rows: dict[str, str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADER, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def run(session: Session, *rows: dict[str, str]) -> Any:
    report = import_bills(session, csv_text(*rows), settings=CODE_SETTINGS, now=NOW)
    session.commit()
    return report


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def rejected(session: Session, text: str) -> list[tuple[int, str, str]]:
    with pytest.raises(ImportRejected) as caught:
        import_bills(session, text, settings=CODE_SETTINGS, now=NOW)
    session.rollback()
    return [(e.line, e.field, str(e.message)) for e in caught.value.report.errors]


def test_import_creates_policyholder_policy_bill_and_a_generated_code(session: Session) -> None:
    report = run(session, row(), row(invoice_number="INV-2026-0002", amount="200000"))
    assert (report.rows, report.created, report.policyholders_created) == (2, 2, 1)
    holder = session.scalars(select(Policyholder)).one()
    assert holder.email == "budi@example.com"
    bills = session.scalars(select(Bill).order_by(Bill.invoice_number)).all()
    assert [b.amount for b in bills] == [150000, 200000]
    for bill in bills:
        code = bill.current_code
        assert code is not None and code.code.startswith("8896") and luhn_valid(code.code)
        # Default expiry: end of the due date + 30 days grace, WIB.
        assert code.expires_at.date() == bill.due_date + timedelta(days=30)
        assert bill.info is None and bill.footer_message is None  # defaults apply at inquiry


def test_supplied_code_expiry_info_and_footer_are_kept(session: Session) -> None:
    code = generate_code(CODE_SETTINGS)
    run(session, row(payment_code=code, expires_at="2031-01-01T10:00:00+07:00",
                     info="Premi Mei", footer_message="Terima kasih"))  # fmt: skip
    bill = session.scalars(select(Bill)).one()
    assert bill.current_code is not None
    assert bill.current_code.code == code
    assert bill.current_code.expires_at == datetime(2031, 1, 1, 3, 0, tzinfo=UTC)
    assert (bill.info, bill.footer_message) == ("Premi Mei", "Terima kasih")


def test_expires_at_without_offset_is_utc(session: Session) -> None:
    run(session, row(expires_at="2031-01-01T10:00:00"))
    code = session.scalars(select(PaymentCode)).one()
    assert code.expires_at == datetime(2031, 1, 1, 10, 0, tzinfo=UTC)


def test_reimport_updates_by_key_without_new_codes(session: Session) -> None:
    run(session, row())
    first_code = session.scalars(select(PaymentCode.code)).one()
    report = run(
        session,
        row(customer_name="Budi S.", policy_status="lapse", amount="175000",
            expires_at="2031-06-01T00:00:00Z"),
    )  # fmt: skip
    assert (report.created, report.updated, report.policyholders_created) == (0, 1, 0)
    session.expire_all()
    bill = session.scalars(select(Bill)).one()
    assert bill.amount == 175000
    assert bill.policy.status == "lapse"
    assert bill.policy.policyholder.name == "Budi S."
    assert [c.code for c in bill.payment_codes] == [first_code]
    assert bill.payment_codes[0].expires_at == datetime(2031, 6, 1, tzinfo=UTC)


def test_one_bad_row_rejects_the_whole_file_and_names_every_problem(session: Session) -> None:
    errors = rejected(
        session,
        csv_text(
            row(),
            row(invoice_number="INV-2", amount="150.000", customer_email="not-an-email"),
            row(invoice_number="INV-3", due_date="21/05/2026", info="x" * 33),
            row(invoice_number="INV-4", footer_message="Terima kasih ✓", payment_code="12345"),
        ),
    )
    fields = {(line, field) for line, field, _ in errors}
    assert fields == {
        (3, "amount"),
        (3, "customer_email"),
        (4, "due_date"),
        (4, "info"),
        (5, "footer_message"),
        (5, "payment_code"),
    }
    assert count(session, Bill) == 0
    assert count(session, Policyholder) == 0


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"amount": "0"}, "amount", "between 1"),
        ({"amount": "1000000000000"}, "amount", "between 1"),
        ({"amount": "-5"}, "amount", "digits only"),
        ({"invoice_number": "INV 1"}, "invoice_number", "without spaces"),
        ({"invoice_number": "I" * 65}, "invoice_number", "64"),
        ({"customer_name": "N" * 65}, "customer_name", "64"),
        ({"policy_number": ""}, "policy_number", ""),
        ({"expires_at": "tomorrow"}, "expires_at", "ISO 8601"),
        ({"footer_message": "x" * 121}, "footer_message", "121 characters"),
        ({"payment_code": "12ab"}, "payment_code", "digits"),
        ({"customer_name": "Budi\x07"}, "customer_name", "control"),
    ],
)
def test_field_rules(session: Session, values: dict[str, str], field: str, message: str) -> None:
    [(line, got_field, got_message)] = rejected(session, csv_text(row(**values)))
    assert (line, got_field) == (2, field)
    assert message in got_message


def test_rows_that_contradict_each_other_are_reported(session: Session) -> None:
    errors = rejected(
        session,
        csv_text(
            row(),
            row(invoice_number="INV-2026-0001"),
            row(invoice_number="INV-3", policy_type="Kesehatan"),
            row(invoice_number="INV-4", customer_name="Someone Else"),
        ),
    )
    assert {(line, field) for line, field, _ in errors} == {
        (3, "invoice_number"),
        (4, "policy_number"),
        (5, "customer_name"),
    }


def test_code_issued_before_is_never_reused(session: Session) -> None:
    run(session, row())
    old = session.scalars(select(PaymentCode)).one()
    old.retired_at = NOW
    session.commit()
    [(_, field, message)] = rejected(
        session, csv_text(row(invoice_number="INV-9", payment_code=old.code))
    )
    assert (field, "never reused" in message) == ("payment_code", True)


def test_changing_the_code_of_an_existing_bill_is_refused(session: Session) -> None:
    run(session, row())
    [(_, field, _m)] = rejected(session, csv_text(row(payment_code=generate_code(CODE_SETTINGS))))
    assert field == "payment_code"


def test_policy_of_another_policyholder_is_refused(session: Session) -> None:
    run(session, row())
    [(_, field, _m)] = rejected(
        session, csv_text(row(invoice_number="INV-2", customer_email="other@example.com"))
    )
    assert field == "customer_email"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("a,b,c\n1,2,3\n", "Unknown column(s)"),
        (",".join(HEADER) + "\nx,y\n", "fields"),
    ],
)
def test_wrong_file_shape_is_reported(session: Session, text: str, message: str) -> None:
    errors = rejected(session, text)
    assert any(message in got for _, _f, got in errors)


def test_byte_order_mark_and_blank_lines_are_tolerated(session: Session) -> None:
    text = "\ufeff" + csv_text(row()) + "\n\n"
    assert import_bills(session, text, settings=CODE_SETTINGS, now=NOW).rows == 1
    assert count(session, Policy) == 1
