"""The reconciliation report: every payment DOKU reported, once, applied or held in an
exception, in WIB days, per chain and store; open exceptions listed."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Bill, ExceptionKind, PaymentException, StaffRole
from portal.models.payments import Resolution
from portal.services.reporting.reconciliation import (
    MoneyState,
    chain_name,
    payments_report,
    report_table,
)
from portal.services.reporting.spreadsheets import render, to_csv
from portal.services.traffic import cases
from portal.services.traffic.payments import PaymentReport, apply_report, exception_result
from tests.admin.conftest import make_staff
from tests.factories import live_code, make_bill

DAY = date(2026, 11, 27)


def _report(
    bill: Bill,
    paid_at: datetime,
    *,
    store: str | None = "TZ01",
    amount: int | None = None,
    status: str = "SUCCESS",
    trx: str | None = None,
    agent_id: str | None = "ALFAMART",
) -> PaymentReport:
    invoice = bill.invoice_number
    return PaymentReport(
        status=status, paid_at=paid_at, invoice_number=invoice,
        amount=bill.amount if amount is None else amount, payment_code=live_code(bill),
        agent_id=agent_id, agent_store_id=store, agent_trx_id=trx or f"trx-{invoice}",
        transaction_date=paid_at.isoformat(),
    )  # fmt: skip


def _apply(session: Session, report: PaymentReport) -> str:
    outcome = apply_report(session, report, now=report.paid_at).outcome.value
    session.commit()
    return outcome


def _pay(session: Session, bill: Bill, paid_at: datetime, store: str | None) -> None:
    assert _apply(session, _report(bill, paid_at, store=store)) == "applied"


def test_report_groups_by_wib_day_chain_and_store_and_lists_open_exceptions(
    session: Session,
) -> None:
    a, b, c, d = (
        make_bill(session, amount=amount) for amount in (100_000, 200_000, 300_000, 400_000)
    )
    # 18:30 UTC on the 26th is 01:30 WIB on the 27th: it belongs to the 27th.
    _pay(session, a, datetime(2026, 11, 26, 18, 30, tzinfo=UTC), "TZ01")
    _pay(session, b, datetime(2026, 11, 27, 3, 0, tzinfo=UTC), "TZ01")
    _pay(session, c, datetime(2026, 11, 27, 16, 59, 59, tzinfo=UTC), None)  # 23:59:59 WIB
    _pay(session, d, datetime(2026, 11, 27, 17, 0, tzinfo=UTC), "TZ02")  # 00:00 WIB on the 28th
    stray = PaymentReport(
        status="SUCCESS", paid_at=datetime(2026, 11, 27, 4, 0, tzinfo=UTC), invoice_number="X",
        amount=5_000, payment_code="8896000000000000", transaction_date="2026-11-27T04:00:00Z",
        agent_id="100001", agent_store_id="10000232",
    )  # fmt: skip
    exception_result(session, ExceptionKind.UNKNOWN_CODE, stray, "no bill", now=stray.paid_at)
    session.commit()

    report = payments_report(session, DAY, DAY)
    assert [p.invoice_number for p in report.payments] == [
        a.invoice_number,
        b.invoice_number,
        c.invoice_number,
    ]
    assert report.payments[0].paid_at.strftime("%Y-%m-%d %H:%M") == "2026-11-27 01:30"
    [held] = report.held
    assert (held.kind, held.amount, held.state) == ("unknown_code", 5_000, MoneyState.OPEN)
    assert [(t.key, t.count, t.amount) for t in report.per_day] == [("2026-11-27", 4, 605_000)]
    assert [(t.key, t.count, t.amount, t.held) for t in report.per_chain] == [
        ("100001", 1, 5_000, 5_000),  # a numeric AGENT_ID names no chain we know
        ("Alfamart", 3, 600_000, 0),
    ]
    assert [(t.key, t.count, t.amount) for t in report.per_store] == [
        ("(unknown)", 1, 300_000),
        ("10000232", 1, 5_000),
        ("TZ01", 2, 300_000),
    ]
    assert (report.total.count, report.total.amount) == (4, 605_000)
    assert report.total.amount_in(MoneyState.APPLIED) == 600_000
    assert [e.kind for e in report.open_exceptions] == ["unknown_code"]

    two_days = payments_report(session, DAY, DAY + timedelta(days=1))
    assert [(t.key, t.count) for t in two_days.per_day] == [("2026-11-27", 4), ("2026-11-28", 1)]


def test_chain_names_come_from_the_agent_id_when_it_names_a_chain() -> None:
    assert [chain_name(a) for a in ("ALFAMART", "alfamidi", "Dan+Dan", "LAWSON", "100001")] == [
        "Alfamart", "Alfamidi", "Dan+Dan", "Lawson", "100001",
    ]  # fmt: skip
    assert chain_name(None) == chain_name("  ") == "(unknown)"


def test_a_resolved_exception_keeps_its_money_in_the_report_with_what_became_of_it(
    session: Session,
) -> None:
    paid, cancelled = make_bill(session, amount=100_000), make_bill(session, amount=70_000)
    at = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
    _pay(session, paid, at, "TZ01")
    assert _apply(session, _report(paid, at + timedelta(hours=1), trx="again")) == "exception"
    cancelled.state = "cancelled"
    session.commit()
    assert _apply(session, _report(cancelled, at)) == "exception"
    second, cancel = session.scalars(select(PaymentException).order_by(PaymentException.id))
    admin = make_staff(session, StaffRole.ADMIN)
    cases.resolve(session, second, actor=admin, note="refunded at DOKU",
                             outcome=Resolution.REFUNDED, now=at)  # fmt: skip
    cases.resolve(session, cancel, actor=admin, note="moved to the new bill",
                             outcome=Resolution.APPLIED, now=at)  # fmt: skip
    session.commit()

    report = payments_report(session, DAY, DAY)
    assert sorted((line.kind, line.amount, line.state.value) for line in report.lines) == [
        ("cancelled_bill", 70_000, "applied_by_staff"),
        ("payment", 100_000, "applied"),
        ("second_payment", 100_000, "refunded"),
    ]
    assert report.total.amount == 270_000
    assert report.total.amount_in(MoneyState.REFUNDED) == 100_000
    assert report.open_exceptions == []


def test_one_payment_that_opened_two_exceptions_is_counted_once(session: Session) -> None:
    bill = make_bill(session, amount=150_000)
    at = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
    wrong = _report(bill, at, amount=15_000, trx="wrong")
    assert _apply(session, wrong) == "exception"  # amount_mismatch, the bill stays unpaid
    _pay(session, bill, at + timedelta(minutes=5), "TZ01")
    assert _apply(session, wrong) == "exception"  # re-delivered: now a "second payment"
    kinds = session.scalars(select(PaymentException.kind).order_by(PaymentException.id)).all()
    assert kinds == ["amount_mismatch", "second_payment"]

    report = payments_report(session, DAY, DAY)
    assert sorted((line.kind, line.amount) for line in report.lines) == [
        ("amount_mismatch", 15_000),
        ("payment", 150_000),
    ]
    assert report.total.amount == 165_000
    assert len(report.held[0].exception_ids) == 2


def test_failed_and_unknown_status_payments_are_not_money(session: Session) -> None:
    bill = make_bill(session, amount=150_000)
    at = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
    assert _apply(session, _report(bill, at, status="FAILED")) == "exception"
    assert _apply(session, _report(bill, at, status="PENDING")) == "exception"
    unknown = PaymentReport(
        status="FAILED", paid_at=at, invoice_number="X", amount=5_000,
        payment_code="8896000000000000", transaction_date="t",
    )  # fmt: skip
    assert _apply(session, unknown) == "exception"  # an unknown code, but FAILED
    report = payments_report(session, DAY, DAY)
    assert report.lines == []
    assert report.total.amount == 0
    assert len(report.open_exceptions) == 3
    assert not any(e.holds_money for e in report.open_exceptions)


def test_the_download_has_one_row_per_payment_with_codes_as_text(session: Session) -> None:
    bill = make_bill(session, amount=150_000)
    _pay(session, bill, datetime(2026, 11, 27, 1, 51, tzinfo=UTC), "TZ01")
    table = report_table(payments_report(session, DAY, DAY))
    rows = list(csv.DictReader(io.StringIO(to_csv(table))))
    assert len(rows) == 1
    assert rows[0]["paid_at_wib"] == "2026-11-27 08:51:00"
    assert (rows[0]["amount"], rows[0]["state"], rows[0]["chain"]) == (
        "150000", "applied", "Alfamart",
    )  # fmt: skip
    assert rows[0]["customer_name"] == "Budi Santoso"


def test_a_store_id_that_looks_like_a_formula_stays_text_in_csv_and_xlsx(
    session: Session,
) -> None:
    hostile = '=HYPERLINK("http://evil.example","x")'
    bill = make_bill(session, amount=150_000)
    code_text = live_code(bill)
    _pay(session, bill, datetime(2026, 11, 27, 1, 51, tzinfo=UTC), hostile)
    table = report_table(payments_report(session, DAY, DAY))
    content, _ = render(table, "csv")
    [row] = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    assert row["agent_store_id"] == "'" + hostile
    assert row["payment_code"] == code_text

    content, _ = render(report_table(payments_report(session, DAY, DAY)), "xlsx")
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    store = sheet.cell(row=2, column=header.index("agent_store_id") + 1)
    code = sheet.cell(row=2, column=header.index("payment_code") + 1)
    assert (store.value, store.data_type) == (hostile, "s")
    assert (code.value, code.data_type) == (code_text, "s")


def test_end_before_start_is_refused(session: Session) -> None:
    with pytest.raises(ValueError, match="before"):
        payments_report(session, date(2026, 11, 2), date(2026, 11, 1))


def test_an_exception_without_a_known_amount_is_listed_but_counts_no_rupiah(
    session: Session,
) -> None:
    # DOKU's status answer without an amount is applied as -1: a mismatch staff must look up.
    bill = make_bill(session, amount=150_000)
    at = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
    assert _apply(session, _report(bill, at, amount=-1)) == "exception"
    report = payments_report(session, DAY, DAY)
    assert report.lines == []
    assert [(e.kind, e.holds_money) for e in report.open_exceptions] == [
        ("amount_mismatch", False)
    ]
