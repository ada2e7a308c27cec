"""DOKU traffic that explains itself: the inquiry and notification lists show the verdict's
reason, the invoice, the amount and the chain."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Inquiry
from portal.services.traffic import history
from tests.admin.conftest import text
from tests.factories import (
    INQUIRY_TARGET,
    inquire,
    inquiry_body,
    live_code,
    make_bill,
    notification_body_for,
    notify,
    post_signed,
)


def _inquire_at(client: FlaskClient, code: str, agent_id: str, store: str = "") -> None:
    identifiers = {"AGENT_ID": agent_id, "AGENT_TRX_ID": "T1"}
    if store:
        identifiers["AGENT_STORE_ID"] = store
    answer = post_signed(client, INQUIRY_TARGET, inquiry_body(code, **identifiers))
    assert answer.status_code in (200, 400, 404)  # answered (and recorded), whatever it said


def _row(page: str, marker: str) -> str:
    """The table row of the list that contains ``marker``."""
    before, _, after = page.partition(marker)
    return before.rsplit("<tr>", 1)[1] + marker + after.split("</tr>", 1)[0]


def test_three_declines_do_not_look_alike(admin_client: FlaskClient, session: Session) -> None:
    lapsed = make_bill(session, amount=120_000, policy_status="lapse")
    too_big = make_bill(session, amount=7_500_000)
    expired = make_bill(session, amount=130_000, expires_at=datetime.now(UTC) - timedelta(hours=1))
    invoices = [b.invoice_number for b in (lapsed, too_big, expired)]
    for bill in (lapsed, too_big, expired):
        _inquire_at(admin_client, live_code(bill), "LAWSON", "LW07")
    page = text(admin_client.get("/admin/traffic/inquiries"))
    rows = [_row(page, f">{invoice}</a>") for invoice in invoices]
    assert "policy status is &#39;lapse&#39;" in rows[0] and "Rp 120.000" in rows[0]
    assert "outside the Alfa limits" in rows[1] and "Rp 7.500.000" in rows[1]
    assert "code expired at" in rows[2] and "billing_was_expired" in rows[2]
    for row in rows:
        assert "Lawson" in row and "store LW07" in row
    assert len({r.split('<small class="reason">')[1].split("<")[0] for r in rows}) == 3


def test_an_inquiry_shows_the_invoice_and_amount_it_was_answered_with(
    admin_client: FlaskClient, session: Session
) -> None:
    """The bill may change later; the list shows what the till was told."""
    bill = make_bill(session, amount=150_000)
    inquire(admin_client, live_code(bill))
    bill.amount = 175_000
    session.commit()
    [line] = history.inquiries(session, history.TrafficFilter()).page.items
    session.commit()
    assert line.amount == 150_000 and line.invoice_number == bill.invoice_number
    assert line.chain == "Alfamart" and line.reason == ""
    assert json.loads(line.inquiry.response_body)["order"]["amount"] == 150_000


def test_an_unknown_code_has_no_invoice_and_says_why(
    admin_client: FlaskClient, session: Session
) -> None:
    _inquire_at(admin_client, "8896000000000000", "100001")
    page = text(admin_client.get("/admin/traffic/inquiries"))
    row = _row(page, "verdict-billing_not_found")
    assert "no live bill has this payment code" in row
    assert "100001" in row  # a number names no chain: shown as sent
    stored = session.scalar(select(Inquiry))
    assert stored is not None and stored.bill_id is None
    session.commit()


def test_notifications_show_the_chain_and_what_became_of_them(
    admin_client: FlaskClient, session: Session
) -> None:
    paid = make_bill(session, amount=150_000)
    wrong = make_bill(session, amount=200_000)
    assert notify(admin_client, notification_body_for(paid)).status_code == 200
    assert notify(admin_client, notification_body_for(paid)).status_code == 200  # again
    assert notify(admin_client, notification_body_for(wrong, amount=1_000)).status_code == 200
    lines = history.notifications(session, history.TrafficFilter()).page.items
    session.commit()
    assert [line.notification.outcome for line in lines] == ["exception", "duplicate", "applied"]
    assert all(line.chain == "Alfamart" for line in lines)
    assert lines[0].exception_kind == "amount_mismatch" and lines[0].reason
    assert "already applied" in lines[1].reason
    page = text(admin_client.get("/admin/traffic/notifications"))
    row = _row(page, f">{wrong.invoice_number}</td>")
    assert "Wrong amount" in row and "Rp 1.000" in row and "Alfamart" in row
    assert 'href="/admin/exceptions/' in row


def test_traffic_lists_filter_and_count(admin_client: FlaskClient, session: Session) -> None:
    bill = make_bill(session)
    code = live_code(bill)
    for _ in range(3):
        inquire(admin_client, code)
    inquire(admin_client, "8896000000000000")
    page = history.inquiries(session, history.TrafficFilter(verdict="success"), per_page=2).page
    session.commit()
    assert page.total == 3 and page.pages == 2 and len(page.items) == 2
    listed = text(admin_client.get("/admin/traffic/inquiries?verdict=billing_not_found"))
    assert listed.count('class="badge verdict-') == 1 and "1 in all" in listed


def test_traffic_lists_download_what_is_shown(admin_client: FlaskClient, session: Session) -> None:
    lapsed = make_bill(session, amount=120_000, policy_status="lapse")
    _inquire_at(admin_client, live_code(lapsed), "LAWSON", "LW07")
    _inquire_at(admin_client, "8896000000000000", "ALFAMART")
    wrong = make_bill(session, amount=200_000)
    assert notify(admin_client, notification_body_for(wrong, amount=1_000)).status_code == 200
    page = text(admin_client.get("/admin/traffic/inquiries?verdict=decline&page=1"))
    link = page.split('id="export-csv" ')[0].rsplit('href="', 1)[1].split('"')[0]
    assert link == "/admin/traffic/inquiries/export.csv?verdict=decline"  # no page: every page
    response = admin_client.get(link.replace("&amp;", "&"))
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0][:5] == ["received_at_wib", "payment_code", "invoice_number", "amount", "chain"]
    assert len(rows) == 2  # the unknown code is no decline
    assert rows[1][2] == lapsed.invoice_number and rows[1][3] == "120000"
    assert rows[1][4] == "Lawson" and "lapse" in rows[1][7]
    workbook = load_workbook(
        io.BytesIO(admin_client.get("/admin/traffic/notifications/export.xlsx").get_data())
    )
    [header, line] = list(workbook.active.iter_rows(values_only=True))
    assert header[8] == "exception_kind" and line[8] == "amount_mismatch"
    assert line[3] == 1_000 and line[4] == "Alfamart"
    assert admin_client.get("/admin/traffic/payments/export.csv").status_code == 404
    assert admin_client.get("/admin/traffic/inquiries/export.pdf").status_code == 404
