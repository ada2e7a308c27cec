"""Exports to the core system: bills with live codes, and the payments feed, each payment once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from portal.models import BillState, PaymentSource
from portal.services.billing import exports
from portal.services.billing.payment_codes import WIB
from portal.services.traffic.payments import PaymentReport, apply_report
from tests.factories import make_bill

NOW = datetime.now(UTC)


def _pay(session: Session, *, paid_at: datetime = NOW) -> int:
    bill = make_bill(session)
    code = bill.current_code
    assert code is not None
    result = apply_report(
        session,
        PaymentReport(status="SUCCESS", paid_at=paid_at, invoice_number=bill.invoice_number,
                      amount=bill.amount, payment_code=code.code,
                      transaction_date=paid_at.isoformat()),
        now=NOW, source=PaymentSource.NOTIFICATION,
    )  # fmt: skip
    session.commit()
    assert result.payment_id is not None
    return result.payment_id


def _ids(export: exports.PaymentsExport) -> list[object]:
    return [row[0] for row in export.table.rows]


def test_the_feed_hands_each_payment_over_once(session: Session) -> None:
    first, second = _pay(session), _pay(session)
    export = exports.payments_since_last(session, now=NOW)
    session.commit()
    assert _ids(export) == [first, second]
    assert exports.payments_since_last(session, now=NOW).count == 0
    session.commit()
    third = _pay(session)
    assert _ids(exports.payments_since_last(session, now=NOW)) == [third]
    session.commit()
    cursor = exports.feed_status(session)
    assert cursor is not None and cursor.exported_total == 3


def test_a_feed_run_rolled_back_hands_the_payments_over_again(session: Session) -> None:
    paid = _pay(session)
    assert exports.pending_count(session) == 1
    exports.payments_since_last(session, now=NOW)
    session.rollback()  # e.g. the file could not be written
    assert _ids(exports.payments_since_last(session, now=NOW)) == [paid]


def test_a_period_is_exported_again_without_moving_the_feed(session: Session) -> None:
    old = _pay(session, paid_at=NOW - timedelta(days=3))
    exports.payments_since_last(session, now=NOW)
    session.commit()
    day = (NOW - timedelta(days=3)).astimezone(WIB).date()
    assert _ids(exports.payments_between(session, day, day)) == [old]
    assert exports.pending_count(session) == 0


def test_the_bills_export_has_live_codes_and_filters_by_state(session: Session) -> None:
    unpaid = make_bill(session)
    make_bill(session, state=BillState.CANCELLED)
    code = unpaid.current_code
    assert code is not None
    rows = list(exports.bills_table(session, ["unpaid"]).rows)
    assert [(r[0], r[9]) for r in rows] == [(unpaid.invoice_number, code.code)]
    assert str(rows[0][10]).endswith("+07:00")
    assert len(list(exports.bills_table(session).rows)) == 2
