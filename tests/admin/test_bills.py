"""Bills from the back office: search, create, edit while unpaid, cancel, extend, reissue."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import AuditEntry, Bill, BillState, PaymentCode, Policy
from portal.services.accounts import audit
from portal.services.billing.payment_codes import new_code_expiry
from portal.web import code_settings
from tests.admin.conftest import audit_rows, post, text
from tests.factories import check_response_signature, inquire, live_code, make_bill


def _verdict(client: FlaskClient, code: str) -> tuple[int, str]:
    request_id = str(uuid.uuid4())
    response = inquire(client, code, request_id=request_id)
    body = check_response_signature(response, request_id)
    return response.status_code, body["online_to_offline_inquiry"]["status"]


def _reload(session: Session, bill_id: int) -> Bill:
    session.expire_all()
    bill = session.get(Bill, bill_id)
    assert bill is not None
    return bill


# Search and paging.


@pytest.mark.parametrize(
    "query",
    ["Anton", "anton@example", "INV-TEST", "{policy}", "{code}", "{code_spaced}"],
)
def test_bills_are_found_by_name_email_policy_invoice_or_payment_code(
    admin_client: FlaskClient, session: Session, query: str
) -> None:
    bill = make_bill(session, customer_name="Anton Budiman", customer_email="anton@example.com")
    other = make_bill(session, customer_name="Rina", customer_email="rina@example.com")
    invoice, other_invoice, policy = bill.invoice_number, other.invoice_number, bill.policy.number
    code = live_code(bill)
    spaced = " ".join(code[i : i + 4] for i in range(0, 16, 4))
    query = query.format(policy=policy, code=code, code_spaced=spaced)
    page = text(admin_client.get("/admin/bills", query_string={"q": query}))
    assert invoice in page
    if query not in ("INV-TEST",):
        assert other_invoice not in page


def test_a_retired_code_still_finds_its_bill(admin_client: FlaskClient, session: Session) -> None:
    bill = make_bill(session)
    old = live_code(bill)
    assert post(admin_client, f"/admin/bills/{bill.id}/reissue").status_code == 302
    assert bill.invoice_number in text(admin_client.get("/admin/bills", query_string={"q": old}))


def test_bill_list_pages_through_many_bills(admin_client: FlaskClient, session: Session) -> None:
    for _ in range(30):
        make_bill(session)
    session.commit()
    first = text(admin_client.get("/admin/bills"))
    assert "Page 1 of 2" in first
    assert 'rel="next"' in first
    second = text(admin_client.get("/admin/bills?page=2"))
    assert "Page 2 of 2" in second
    assert len(re.findall(r'href="/admin/bills/\d+"', second)) == 5


def test_bill_list_filters_by_state(admin_client: FlaskClient, session: Session) -> None:
    paid = make_bill(session, state=BillState.PAID)
    unpaid = make_bill(session)
    paid_invoice, unpaid_invoice = paid.invoice_number, unpaid.invoice_number
    session.commit()
    page = text(admin_client.get("/admin/bills?state=paid"))
    assert paid_invoice in page
    assert unpaid_invoice not in page


def test_bill_page_shows_its_codes_and_actions(admin_client: FlaskClient, session: Session) -> None:
    bill = make_bill(session, footer_message="Terima kasih")
    code = live_code(bill)
    page = text(admin_client.get(f"/admin/bills/{bill.id}"))
    assert code[:4] + " " + code[4:8] in page
    assert "Cancel the bill" in page
    assert "|Terima kasih" in page


# Creating and editing.


def _bill_form(**overrides: Any) -> dict[str, Any]:
    form = {
        "invoice_number": "INV-NEW-0001",
        "amount": "250000",
        "due_date": "2031-06-30",
        "expires_on": "",
        "info": "Premi Juni",
        "footer_message": "Terima kasih",
        "action": "save",
    }
    form.update(overrides)
    return form


def test_admin_creates_a_bill_with_a_generated_code_and_an_audit_row(
    admin_client: FlaskClient, session: Session
) -> None:
    policy_id = make_bill(session).policy_id
    session.commit()
    response = post(admin_client, f"/admin/policies/{policy_id}/bills/new", _bill_form())
    assert response.status_code == 302
    bill = session.scalar(select(Bill).where(Bill.invoice_number == "INV-NEW-0001"))
    assert bill is not None
    assert (bill.amount, bill.due_date, bill.info) == (250_000, date(2031, 6, 30), "Premi Juni")
    code = bill.current_code
    assert code is not None and code.code.startswith("8896") and len(code.code) == 16
    bill_id = bill.id
    session.commit()
    [entry] = audit_rows(session, "bill.create")
    assert entry.entity_id == str(bill_id)
    assert entry.actor == "admin@insurer.example"
    assert json.loads(entry.after or "{}")["amount"] == 250_000
    assert json.loads(entry.after or "{}")["payment_code"] == code.code
    assert _verdict(admin_client, code.code) == (200, "success")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("amount", "150.000", "Whole rupiah in digits only"),
        ("amount", "1_000", "Whole rupiah in digits only"),
        ("amount", "0", "Must be between 1 and 999999999999."),
        ("amount", "1000000000000", "Must be between 1 and 999999999999."),
        ("footer_message", "x" * 121, "at most 120"),
        ("info", "Premi é", "printable ASCII"),
        ("invoice_number", "INV 1", "Printable ASCII without spaces only."),
        ("expires_on", "2020-01-01", "would expire in the past"),
    ],
)
def test_bill_form_refuses_what_the_field_rules_refuse(
    admin_client: FlaskClient, session: Session, field: str, value: str, message: str
) -> None:
    policy_id = make_bill(session).policy_id
    session.commit()
    response = post(
        admin_client, f"/admin/policies/{policy_id}/bills/new", _bill_form(**{field: value})
    )
    assert response.status_code == 200
    assert message in text(response)
    assert session.scalar(select(Bill).where(Bill.invoice_number == "INV-NEW-0001")) is None


def test_an_overdue_bill_made_by_staff_gets_the_grace_days_from_today_as_the_import_gives(
    admin_client: FlaskClient, session: Session
) -> None:
    policy_id = make_bill(session).policy_id
    session.commit()
    response = post(
        admin_client, f"/admin/policies/{policy_id}/bills/new", _bill_form(due_date="2020-01-01")
    )
    assert response.status_code == 302
    session.expire_all()
    bill = session.scalar(select(Bill).where(Bill.invoice_number == "INV-NEW-0001"))
    assert bill is not None and bill.current_code is not None
    moment = datetime.now(UTC)
    with admin_client.application.app_context():
        settings = code_settings()
    assert bill.current_code.expires_at == new_code_expiry(date(2020, 1, 1), settings, now=moment)
    assert bill.current_code.expires_at > moment


def test_an_invoice_number_cannot_be_used_twice(
    admin_client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session)
    policy_id, invoice = bill.policy_id, bill.invoice_number
    session.commit()
    response = post(
        admin_client,
        f"/admin/policies/{policy_id}/bills/new",
        _bill_form(invoice_number=invoice),
    )
    assert f"Invoice {invoice} exists already." in text(response)


def test_admin_edits_an_unpaid_bill_and_the_inquiry_answers_the_new_values(
    admin_client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session, amount=150_000)
    code = live_code(bill)
    response = post(
        admin_client,
        f"/admin/bills/{bill.id}/edit",
        {"amount": "175000", "due_date": "2031-07-01", "info": "", "footer_message": "Halo"},
    )
    assert response.status_code == 302
    bill = _reload(session, bill.id)
    assert (bill.amount, bill.due_date, bill.footer_message, bill.info) == (
        175_000, date(2031, 7, 1), "Halo", None,
    )  # fmt: skip
    session.commit()
    [entry] = audit_rows(session, "bill.update")
    assert json.loads(entry.before or "{}")["amount"] == 150_000
    assert json.loads(entry.after or "{}")["amount"] == 175_000
    request_id = str(uuid.uuid4())
    body = check_response_signature(inquire(admin_client, code, request_id=request_id), request_id)
    assert body["order"]["amount"] == 175_000
    assert body["alfa_info"]["receipt"]["footer_message"] == "Halo"


def test_preview_shows_the_footer_as_printed_without_saving(
    admin_client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session, footer_message="Lama")
    session.commit()
    footer = "Terima kasih atas pembayaran premi Anda. Simpan struk ini."
    response = post(
        admin_client,
        f"/admin/bills/{bill.id}/edit",
        {"amount": "150000", "due_date": "2031-05-21", "footer_message": footer,
         "action": "preview"},
    )  # fmt: skip
    page = text(response)
    assert response.status_code == 200
    assert "|Terima kasih atas pembayaran premi Anda.|" in page
    assert "| Simpan struk ini.                      |" in page
    assert _reload(session, bill.id).footer_message == "Lama"


@pytest.mark.parametrize("action", ["edit", "cancel", "extend", "reissue"])
def test_a_paid_bill_cannot_be_changed(
    admin_client: FlaskClient, session: Session, action: str
) -> None:
    bill = make_bill(session, state=BillState.PAID)
    before = (
        bill.amount,
        bill.state,
        [(c.code, c.expires_at, c.retired_at) for c in bill.payment_codes],
    )
    bill_id = bill.id
    session.commit()
    data = {
        "edit": {"amount": "1000000", "due_date": "2031-05-21"},
        "cancel": {"note": "oops"},
        "extend": {"expires_on": "2032-01-01"},
        "reissue": {},
    }[action]
    response = post(admin_client, f"/admin/bills/{bill_id}/{action}", data)
    assert response.status_code == 409
    assert "is paid; it cannot be" in text(response)
    bill = _reload(session, bill_id)
    assert (
        bill.amount,
        bill.state,
        [(c.code, c.expires_at, c.retired_at) for c in bill.payment_codes],
    ) == before
    session.commit()
    assert audit_rows(session, f"bill.{action}") == []


def test_the_edit_page_of_a_paid_bill_is_refused(
    admin_client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session, state=BillState.PAID)
    session.commit()
    response = admin_client.get(f"/admin/bills/{bill.id}/edit")
    assert response.status_code == 409


# Cancel, extend, reissue: what the till is told afterwards.


def test_cancelling_a_bill_makes_the_inquiry_answer_decline(
    admin_client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session)
    code = live_code(bill)
    assert _verdict(admin_client, code) == (200, "success")
    response = post(admin_client, f"/admin/bills/{bill.id}/cancel", {"note": "policy ended"})
    assert response.status_code == 302
    assert _reload(session, bill.id).state == BillState.CANCELLED
    session.commit()
    assert _verdict(admin_client, code) == (400, "decline")
    [entry] = audit_rows(session, "bill.cancel")
    assert json.loads(entry.before or "{}")["state"] == "unpaid"
    assert json.loads(entry.after or "{}")["state"] == "cancelled"
    assert json.loads(entry.after or "{}")["note"] == "policy ended"


def test_cancelling_requires_a_reason_that_the_bill_page_then_shows(
    admin_client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session)
    session.commit()
    refused = post(admin_client, f"/admin/bills/{bill.id}/cancel", {"note": "  "})
    assert refused.status_code == 400
    session.expire_all()
    assert session.get(Bill, bill.id).state == BillState.UNPAID  # type: ignore[union-attr]
    post(admin_client, f"/admin/bills/{bill.id}/cancel", {"note": "Policy surrendered early"})
    page = text(admin_client.get(f"/admin/bills/{bill.id}"))
    assert "Policy surrendered early" in page


def test_a_cancel_note_with_a_bidi_override_or_a_c1_control_is_refused(
    admin_client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session)
    session.commit()
    for note, named in (("Policy \u202eended", "U+202E"), ("Policy\u009b31m ended", "U+009B")):
        refused = post(admin_client, f"/admin/bills/{bill.id}/cancel", {"note": note})
        assert refused.status_code == 400
        assert named in text(refused)
    session.expire_all()
    assert session.get(Bill, bill.id).state == BillState.UNPAID  # type: ignore[union-attr]


def test_a_cancelled_bill_cannot_be_cancelled_again(
    admin_client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session, state=BillState.CANCELLED)
    session.commit()
    response = post(admin_client, f"/admin/bills/{bill.id}/cancel", {"note": "again"})
    assert response.status_code == 409
    assert "is cancelled" in text(response)


def test_reissuing_retires_the_old_code_for_good_and_the_new_one_works(
    admin_client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session)
    old = live_code(bill)
    response = post(admin_client, f"/admin/bills/{bill.id}/reissue", {"expires_on": ""})
    assert response.status_code == 302
    bill = _reload(session, bill.id)
    new_code = bill.current_code
    assert new_code is not None and new_code.code != old
    new = new_code.code
    codes = {c.code: c.retired_at for c in bill.payment_codes}
    assert codes[old] is not None  # kept, retired: never issued again
    session.commit()
    assert _verdict(admin_client, old) == (404, "billing_not_found")
    assert _verdict(admin_client, new) == (200, "success")
    [entry] = audit_rows(session, "bill.reissue_code")
    assert json.loads(entry.before or "{}")["payment_code"] == old
    assert json.loads(entry.after or "{}")["payment_code"] == new
    assert json.loads(entry.after or "{}")["retired_code"] == old


def test_extending_the_expiry_lets_an_expired_code_be_paid_again(
    admin_client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session, expires_at=datetime.now(UTC) + timedelta(seconds=2))
    code = live_code(bill)
    row = session.scalar(select(PaymentCode).where(PaymentCode.code == code))
    assert row is not None
    row.expires_at = datetime.now(UTC) - timedelta(days=1)
    session.commit()
    assert _verdict(admin_client, code) == (400, "billing_was_expired")
    until = (datetime.now(UTC) + timedelta(days=10)).date()
    response = post(
        admin_client, f"/admin/bills/{bill.id}/extend", {"expires_on": until.isoformat()}
    )
    assert response.status_code == 302
    session.expire_all()
    row = session.scalar(select(PaymentCode).where(PaymentCode.code == code))
    assert row is not None
    # The end of that day in Jakarta (UTC+7), stored in UTC.
    assert row.expires_at == datetime(until.year, until.month, until.day, 16, 59, 59, tzinfo=UTC)
    session.commit()
    assert _verdict(admin_client, code) == (200, "success")
    assert len(audit_rows(session, "bill.extend_code")) == 1


def test_an_extension_must_be_later_than_the_current_expiry(
    admin_client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session, expires_at=datetime.now(UTC) + timedelta(days=60))
    session.commit()
    sooner = (datetime.now(UTC) + timedelta(days=5)).date().isoformat()
    response = post(admin_client, f"/admin/bills/{bill.id}/extend", {"expires_on": sooner})
    assert response.status_code == 409
    assert "Must be later than the current expiry" in text(response)


# One transaction: the change and its audit row.


def test_a_change_is_not_kept_when_its_audit_row_cannot_be_written(
    admin_client: FlaskClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    bill = make_bill(session)
    bill_id = bill.id
    session.commit()

    def broken(*args: Any, **kwargs: Any) -> AuditEntry:
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(audit, "record", broken)
    with pytest.raises(RuntimeError, match="audit log unavailable"):
        post(admin_client, f"/admin/bills/{bill_id}/cancel", {"note": "x"})
    session.rollback()  # what the request's teardown does
    assert _reload(session, bill_id).state == BillState.UNPAID


def test_the_audit_row_is_committed_with_the_change(
    admin_client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session)
    session.commit()
    post(admin_client, f"/admin/bills/{bill.id}/cancel", {"note": "x"})
    session.rollback()  # nothing left pending: both are in the database
    [entry] = audit_rows(session, "bill.cancel")
    assert _reload(session, bill.id).state == BillState.CANCELLED
    assert entry.at == _reload(session, bill.id).updated_at


def test_policy_page_lists_its_bills(admin_client: FlaskClient, session: Session) -> None:
    bill = make_bill(session)
    policy = session.get(Policy, bill.policy_id)
    assert policy is not None
    make_bill(session, policyholder=policy.policyholder)
    session.commit()
    assert bill.invoice_number in text(admin_client.get(f"/admin/policies/{bill.policy_id}"))


def test_bill_list_filters_by_what_the_till_would_do(
    admin_client: FlaskClient, session: Session
) -> None:
    payable = make_bill(session).invoice_number
    expired = make_bill(session, expires_at=datetime.now(UTC) - timedelta(seconds=1)).invoice_number
    lapsed = make_bill(session, policy_status="lapse").invoice_number
    paid = make_bill(session, state=BillState.PAID).invoice_number
    session.commit()
    found = {
        state: text(admin_client.get(f"/admin/bills?state={state}"))
        for state in ("payable", "expired", "declined", "paid")
    }
    for state, invoice in (("payable", payable), ("expired", expired), ("declined", lapsed),
                           ("paid", paid)):  # fmt: skip
        assert invoice in found[state]
        others = {payable, expired, lapsed, paid} - {invoice}
        assert not any(other in found[state] for other in others), state
    # An expired code is not "unpaid" any more on the bill's own page either.
    bill_id = session.scalar(select(Bill.id).where(Bill.invoice_number == expired))
    page = text(admin_client.get(f"/admin/bills/{bill_id}"))
    assert "state-expired" in page and "has expired" in page
