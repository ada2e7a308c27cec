"""The reconciliation report: payments in WIB days, totals per day and store, open exceptions."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from portal.models import Bill, ExceptionKind
from portal.services.payments import PaymentReport, apply_report, exception_result
from portal.services.reports import payments_csv, payments_report
from tests.factories import live_code, make_bill


def _pay(session: Session, bill: Bill, paid_at: datetime, store: str | None) -> None:
    amount, invoice = bill.amount, bill.invoice_number
    report = PaymentReport(
        status="SUCCESS", paid_at=paid_at, invoice_number=invoice, amount=amount,
        payment_code=live_code(bill), agent_store_id=store, agent_trx_id=f"trx-{invoice}",
        transaction_date=paid_at.isoformat(),
    )  # fmt: skip
    assert apply_report(session, report, now=paid_at).outcome == "applied"
    session.commit()


def test_report_groups_by_wib_day_and_store_and_lists_open_exceptions(session: Session) -> None:
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
    )  # fmt: skip
    exception_result(session, ExceptionKind.UNKNOWN_CODE, stray, "no bill", now=stray.paid_at)
    session.commit()

    report = payments_report(session, date(2026, 11, 27), date(2026, 11, 27))
    assert [p.invoice_number for p in report.payments] == [
        a.invoice_number,
        b.invoice_number,
        c.invoice_number,
    ]
    assert report.payments[0].paid_at.strftime("%Y-%m-%d %H:%M") == "2026-11-27 01:30"
    assert [(t.key, t.count, t.amount) for t in report.per_day] == [("2026-11-27", 3, 600_000)]
    assert [(t.key, t.count, t.amount) for t in report.per_store] == [
        ("(unknown)", 1, 300_000),
        ("TZ01", 2, 300_000),
    ]
    assert (report.total.count, report.total.amount) == (3, 600_000)
    assert [e.kind for e in report.open_exceptions] == ["unknown_code"]

    two_days = payments_report(session, date(2026, 11, 27), date(2026, 11, 28))
    assert [(t.key, t.count) for t in two_days.per_day] == [("2026-11-27", 3), ("2026-11-28", 1)]


def test_resolved_exceptions_are_not_open(session: Session) -> None:
    stray = PaymentReport(
        status="FAILED", paid_at=datetime(2026, 11, 27, tzinfo=UTC), invoice_number="X",
        amount=5_000, payment_code="1", transaction_date="t",
    )  # fmt: skip
    result = exception_result(session, ExceptionKind.UNKNOWN_CODE, stray, "x", now=stray.paid_at)
    from portal.models import PaymentException

    exception = session.get(PaymentException, result.exception_id)
    assert exception is not None
    exception.resolved_at = datetime.now(UTC)
    session.commit()
    assert payments_report(session, date(2026, 11, 1), date(2026, 11, 30)).open_exceptions == []


def test_csv_has_one_line_per_payment_in_wib(session: Session) -> None:
    bill = make_bill(session, amount=150_000)
    _pay(session, bill, datetime(2026, 11, 27, 1, 51, tzinfo=UTC), "TZ01")
    lines = payments_csv(
        payments_report(session, date(2026, 11, 27), date(2026, 11, 27))
    ).splitlines()
    assert lines[0].startswith("paid_at_wib,invoice_number,payment_code,amount")
    assert lines[1].startswith("2026-11-27 08:51:00,INV-TEST-")
    assert ",150000,Budi Santoso," in lines[1]
    assert len(lines) == 2


def test_end_before_start_is_refused(session: Session) -> None:
    with pytest.raises(ValueError, match="before"):
        payments_report(session, date(2026, 11, 2), date(2026, 11, 1))
