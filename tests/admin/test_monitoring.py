"""DOKU traffic, the exceptions queue, reconciliation, the dashboard and the audit log."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import BillState, Inquiry, Payment, PaymentException, ReceivedNotification
from portal.services.billing.payment_codes import WIB
from portal.services.reporting.reconciliation import payments_report, report_table
from portal.services.reporting.spreadsheets import to_csv
from tests.admin.conftest import audit_rows, post, text
from tests.factories import inquire, live_code, make_bill, notification_body_for, notify


@pytest.fixture
def traffic(admin_client: FlaskClient, session: Session) -> dict[str, object]:
    """A paid bill, an amount mismatch, an inquiry for each and one for an unknown code."""
    paid = make_bill(session, amount=150_000)
    mismatch = make_bill(session, amount=200_000)
    paid_code, mismatch_code = live_code(paid), live_code(mismatch)
    inquire(admin_client, paid_code)
    inquire(admin_client, mismatch_code)
    inquire(admin_client, "8896000000000000")
    assert notify(admin_client, notification_body_for(paid)).status_code == 200
    assert notify(admin_client, notification_body_for(mismatch, amount=1_000)).status_code == 200
    exception = session.scalar(select(PaymentException))
    assert exception is not None
    result = {"paid_code": paid_code, "mismatch_code": mismatch_code, "exception": exception.id,
              "paid": paid.id}  # fmt: skip
    session.commit()
    return result


def test_inquiries_are_listed_and_filtered(
    admin_client: FlaskClient, traffic: dict[str, str]
) -> None:
    everything = text(admin_client.get("/admin/traffic/inquiries"))
    assert everything.count("verdict-success") == 2
    assert "billing_not_found" in everything
    not_found = text(admin_client.get("/admin/traffic/inquiries?verdict=billing_not_found"))
    assert not_found.count('class="badge verdict-') == 1
    by_status = text(admin_client.get("/admin/traffic/inquiries?status=404"))
    assert by_status.count('class="badge verdict-') == 1
    code = traffic["paid_code"]
    by_code = text(admin_client.get("/admin/traffic/inquiries", query_string={"code": code}))
    assert by_code.count('class="badge verdict-') == 1
    today = datetime.now(WIB).date()
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert (
        text(admin_client.get(f"/admin/traffic/inquiries?from={today}&to={today}")).count(
            'class="badge verdict-'
        )
        == 3
    )
    assert "No inquiry matches." in text(
        admin_client.get(f"/admin/traffic/inquiries?from={tomorrow}")
    )


def test_an_inquiry_shows_its_headers_raw_body_and_our_exact_response(
    admin_client: FlaskClient, traffic: dict[str, str], session: Session
) -> None:
    inquiry = session.scalar(select(Inquiry).where(Inquiry.verdict == "billing_not_found"))
    assert inquiry is not None
    request_id, response_body, inquiry_id = inquiry.request_id, inquiry.response_body, inquiry.id
    session.commit()
    page = text(admin_client.get(f"/admin/traffic/inquiries/{inquiry_id}"))
    assert f"Request-Id: {request_id}" in page
    assert "Client-Id: MCH-0001" in page
    assert "&#34;billing_not_found&#34;" in page or "&quot;billing_not_found&quot;" in page
    assert response_body.replace('"', "&#34;") in page
    assert "HTTP 404" in page


def test_notifications_are_listed_filtered_and_shown_raw(
    admin_client: FlaskClient, traffic: dict[str, str], session: Session
) -> None:
    page = text(admin_client.get("/admin/traffic/notifications"))
    assert "outcome-applied" in page and "outcome-exception" in page
    applied = text(admin_client.get("/admin/traffic/notifications?status=applied"))
    assert applied.count('class="badge outcome-') == 1
    by_code = admin_client.get(
        "/admin/traffic/notifications", query_string={"code": traffic["mismatch_code"]}
    )
    assert text(by_code).count('class="badge outcome-') == 1
    assert "No notification matches." in text(
        admin_client.get("/admin/traffic/notifications?verdict=unauthenticated")
    )
    notification = session.scalar(
        select(ReceivedNotification).where(ReceivedNotification.outcome == "applied")
    )
    assert notification is not None
    notification_id, request_id = notification.id, notification.request_id
    bill_id = session.scalar(select(Payment.bill_id).where(Payment.id == notification.payment_id))
    session.commit()
    detail = text(admin_client.get(f"/admin/traffic/notifications/{notification_id}"))
    assert f"Request-Id: {request_id}" in detail
    # Linked both ways: the notification to its bill, the bill to its notifications.
    assert f'id="notification-bill" href="/admin/bills/{bill_id}"' in detail
    bill_page = text(admin_client.get(f"/admin/bills/{bill_id}"))
    assert f"/admin/traffic/notifications/{notification_id}" in bill_page
    assert "Signature" not in detail.split("Request headers")[1].split("Request body")[0]
    assert "online_to_offline_info" in detail
    assert "Our response (HTTP 200)" in detail


def test_the_exception_queue_lists_open_exceptions(
    admin_client: FlaskClient, traffic: dict[str, object]
) -> None:
    page = text(admin_client.get("/admin/exceptions"))
    assert "Wrong amount" in page
    assert "paid Rp 1.000 but bill" in page  # money as staff read it
    assert "Nothing here." in text(admin_client.get("/admin/exceptions?status=resolved"))


def test_resolving_an_exception_records_who_when_and_the_note(
    admin_client: FlaskClient, traffic: dict[str, object], session: Session
) -> None:
    exception_id = traffic["exception"]
    response = post(
        admin_client,
        f"/admin/exceptions/{exception_id}/resolve",
        {"note": "Refunded Rp 1.000 at the store", "outcome": "refunded"},
    )
    assert response.status_code == 302
    session.expire_all()
    item = session.get(PaymentException, exception_id)
    assert item is not None
    assert item.resolved_by == "admin@insurer.example"
    assert item.resolution_note == "Refunded Rp 1.000 at the store"
    assert item.resolution == "refunded"
    assert item.resolved_at is not None
    session.commit()
    [entry] = audit_rows(session, "exception.resolve")
    assert entry.entity_id == str(exception_id)
    after = json.loads(entry.after or "{}")
    assert after["resolution_note"] == "Refunded Rp 1.000 at the store"
    assert after["resolution"] == "refunded"
    assert "Nothing here." in text(admin_client.get("/admin/exceptions"))
    assert "Refunded Rp 1.000" in text(admin_client.get(f"/admin/exceptions/{exception_id}"))


def test_an_exception_needs_a_note_and_is_resolved_once(
    admin_client: FlaskClient, traffic: dict[str, object], session: Session
) -> None:
    exception_id = traffic["exception"]
    empty = post(
        admin_client, f"/admin/exceptions/{exception_id}/resolve",
        {"note": "  ", "outcome": "refunded"},
    )  # fmt: skip
    assert empty.status_code == 400
    assert "Say what was done in a note." in text(empty)
    session.expire_all()
    item = session.get(PaymentException, exception_id)
    assert item is not None and item.resolved_at is None
    session.commit()
    path = f"/admin/exceptions/{exception_id}/resolve"
    post(admin_client, path, {"note": "first", "outcome": "refunded"})
    second = post(admin_client, path, {"note": "second", "outcome": "refunded"})
    assert second.status_code == 409
    assert "resolved already" in text(second)
    assert len(audit_rows(session, "exception.resolve")) == 1


def test_a_resolution_note_with_a_bidi_override_is_refused_and_the_exception_stays_open(
    admin_client: FlaskClient, traffic: dict[str, object], session: Session
) -> None:
    exception_id = traffic["exception"]
    refused = post(
        admin_client, f"/admin/exceptions/{exception_id}/resolve",
        {"note": "Refunded \u202e000.1 pR", "outcome": "refunded"},
    )  # fmt: skip
    assert refused.status_code == 400
    assert "U+202E" in text(refused)
    session.expire_all()
    item = session.get(PaymentException, exception_id)
    assert item is not None and item.resolved_at is None
    assert audit_rows(session, "exception.resolve") == []


def test_reconciliation_shows_the_report_and_exports_the_same_csv(
    admin_client: FlaskClient, traffic: dict[str, object], session: Session
) -> None:
    today = datetime.now(WIB).date()
    page = text(admin_client.get(f"/admin/reconciliation?from={today}&to={today}"))
    # The paid bill and the Rp 1.000 paid against the wrong amount, held in its exception.
    assert "2 payments reported paid by DOKU, Rp 151.000" in page
    assert "Applied to their bills: Rp 150.000. Held in exceptions: Rp 1.000" in page
    assert "TZ01" in page and "Alfamart" in page
    assert "Open exceptions: 1" in page
    export = admin_client.get(f"/admin/reconciliation?from={today}&to={today}&format=csv")
    assert export.headers["Content-Disposition"] == (
        f'attachment; filename="reconciliation-{today}-to-{today}.csv"'
    )
    expected = to_csv(report_table(payments_report(session, today, today)))
    session.commit()
    assert export.get_data(as_text=True) == "\ufeff" + expected
    rows = list(csv.DictReader(io.StringIO(expected)))
    assert sorted((r["amount"], r["state"]) for r in rows) == [
        ("1000", "open"),
        ("150000", "applied"),
    ]


def test_the_dashboard_counts_in_wib_days(
    admin_client: FlaskClient, traffic: dict[str, object], session: Session
) -> None:
    make_bill(session, amount=50_000, state=BillState.CANCELLED)
    session.commit()
    page = text(admin_client.get("/admin/"))
    # Unpaid: only the mismatch bill (the paid one is paid, the cancelled one owes nothing).
    assert 'id="tile-unpaid"' in page
    unpaid = page.split('id="tile-unpaid"')[1].split("</a>")[0]
    assert "Rp 200.000" in unpaid and "1 bill<" in unpaid
    paid_today = page.split('id="tile-paid-today"')[1].split("</a>")[0]
    assert "Rp 150.000" in paid_today
    assert 'id="inquiries-today">3<' in page
    assert "billing_not_found" in page
    exceptions = page.split('id="tile-exceptions"')[1].split("</a>")[0]
    assert "<strong>1</strong>" in exceptions and "Wrong amount 1" in exceptions


def test_a_payment_yesterday_in_jakarta_is_not_paid_today(
    admin_client: FlaskClient, session: Session
) -> None:
    from portal.services.billing.payability import PayabilityRules
    from portal.services.reporting.dashboard import summary

    bill = make_bill(session)
    now = datetime.now(UTC)
    start_of_today_wib = datetime.combine(now.astimezone(WIB).date(), datetime.min.time(), WIB)
    notify(
        admin_client,
        notification_body_for(bill, transaction_date=start_of_today_wib - timedelta(minutes=1)),
    )
    rules = PayabilityRules.from_config(admin_client.application.config)
    board = summary(session, now=now, rules=rules)
    session.commit()
    assert board.paid_today.count == 0
    expected_month = 1 if start_of_today_wib.day != 1 else 0
    assert board.paid_this_month.count == expected_month


def test_the_audit_log_is_read_only(admin_client: FlaskClient, session: Session) -> None:
    [entry] = audit_rows(session)  # the admin's own creation
    for method in ("post", "put", "delete"):
        response = getattr(admin_client, method)(f"/admin/audit/{entry.id}")
        assert response.status_code == 405  # no such route: not a CSRF refusal
    assert post(admin_client, f"/admin/audit/{entry.id}").status_code == 405  # even with a token
    assert len(audit_rows(session)) == 1


def test_the_dashboard_splits_unpaid_bills_by_what_the_till_would_do(
    admin_client: FlaskClient, session: Session
) -> None:
    make_bill(session, amount=100_000)
    make_bill(session, amount=7_500_000)  # above the Alfa limit: declined
    make_bill(session, amount=120_000, policy_status="lapse")  # declined
    make_bill(session, amount=130_000, expires_at=datetime.now(UTC) - timedelta(minutes=1))
    session.commit()
    page = text(admin_client.get("/admin/"))

    def line(standing: str) -> str:
        return page.split(f'id="unpaid-{standing}"')[1].split("</li>")[0]

    assert "1 bill," in line("payable") and "Rp 100.000" in line("payable")
    assert "2 bills" in line("declined") and "Rp 7.620.000" in line("declined")
    assert "1 bill," in line("expired") and "Rp 130.000" in line("expired")
    # Each links to the bill list filtered the same way.
    listed = text(admin_client.get("/admin/bills?state=declined"))
    assert listed.count("declined at the till</span>") == 2
