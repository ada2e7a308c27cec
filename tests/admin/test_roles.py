"""Roles: admins change things, viewers look at everything and change nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import AuditEntry, Bill, BillState, PaymentException, Policyholder
from tests.admin.conftest import post, text
from tests.factories import make_bill


@pytest.fixture
def records(session: Session) -> dict[str, int]:
    """One of everything, for pages that show a record."""
    bill = make_bill(session)
    exception = PaymentException(
        kind="amount_mismatch", fingerprint="f" * 64, created_at=datetime.now(UTC),
        bill_id=bill.id, detail="paid 1000 but bill is 150000",
    )  # fmt: skip
    session.add(exception)
    session.commit()
    ids = {
        "bill": bill.id,
        "policy": bill.policy_id,
        "holder": bill.policy.policyholder_id,
        "exception": exception.id,
    }
    session.commit()
    return ids


WRITES = [
    ("/admin/bills/{bill}/edit", {"amount": "1", "due_date": "2031-01-01"}),
    ("/admin/bills/{bill}/cancel", {"note": "x"}),
    ("/admin/bills/{bill}/extend", {"expires_on": "2035-01-01"}),
    ("/admin/bills/{bill}/reissue", {}),
    ("/admin/policies/{policy}/bills/new", {"invoice_number": "X", "amount": "1"}),
    ("/admin/policies/{policy}/edit", {"policy_type": "x"}),
    ("/admin/policyholders/new", {"customer_name": "X", "customer_email": "x@example.com"}),
    ("/admin/policyholders/{holder}/edit", {"customer_name": "X"}),
    ("/admin/policyholders/{holder}/policies/new", {"policy_number": "1"}),
    ("/admin/policyholders/{holder}/activation", {}),
    ("/admin/receipt", {"info": "Hacked", "footer_message": ""}),
    ("/admin/import", {}),
    ("/admin/import/confirm", {"token": "0" * 32}),
    ("/admin/exceptions/{exception}/resolve", {"note": "done"}),
]


@pytest.mark.parametrize(("path", "data"), WRITES, ids=[w[0] for w in WRITES])
def test_a_viewer_is_refused_every_change(
    viewer_client: FlaskClient,
    session: Session,
    records: dict[str, int],
    path: str,
    data: dict[str, str],
) -> None:
    audit_before = session.scalar(select(func.count(AuditEntry.id)))
    session.commit()
    response = post(viewer_client, path.format(**records), data)
    assert response.status_code == 403
    assert "can look but not change" in text(response)
    session.expire_all()
    assert session.scalar(select(func.count(AuditEntry.id))) == audit_before
    bill = session.get(Bill, records["bill"])
    assert bill is not None and bill.state == BillState.UNPAID
    exception = session.get(PaymentException, records["exception"])
    assert exception is not None and exception.resolved_at is None


FORM_PAGES = [
    "/admin/bills/{bill}/edit",
    "/admin/policies/{policy}/bills/new",
    "/admin/policies/{policy}/edit",
    "/admin/policyholders/new",
    "/admin/policyholders/{holder}/edit",
    "/admin/policyholders/{holder}/policies/new",
    "/admin/import",
]


@pytest.mark.parametrize("path", FORM_PAGES)
def test_a_viewer_does_not_get_the_forms_that_change_things(
    viewer_client: FlaskClient, records: dict[str, int], path: str
) -> None:
    assert viewer_client.get(path.format(**records)).status_code == 403


READ_PAGES = [
    "/admin/",
    "/admin/bills",
    "/admin/bills?q=budi&state=unpaid",
    "/admin/bills/{bill}",
    "/admin/policyholders",
    "/admin/policyholders/{holder}",
    "/admin/policies",
    "/admin/policies/{policy}",
    "/admin/receipt",
    "/admin/traffic/inquiries",
    "/admin/traffic/notifications",
    "/admin/exceptions",
    "/admin/exceptions/{exception}",
    "/admin/reconciliation",
    "/admin/audit",
]


@pytest.mark.parametrize("path", READ_PAGES)
def test_a_viewer_sees_every_page_without_change_buttons(
    viewer_client: FlaskClient, records: dict[str, int], path: str
) -> None:
    response = viewer_client.get(path.format(**records))
    assert response.status_code == 200
    page = text(response)
    for button in ("Cancel the bill", "Reissue the payment code", "Mark resolved", "New bill"):
        assert button not in page
    assert 'href="/admin/import"' not in page


@pytest.mark.parametrize("path", READ_PAGES + FORM_PAGES)
def test_an_admin_opens_every_page(
    admin_client: FlaskClient, records: dict[str, int], path: str
) -> None:
    assert admin_client.get(path.format(**records)).status_code == 200


def test_a_viewer_may_log_out(viewer_client: FlaskClient) -> None:
    assert post(viewer_client, "/admin/logout").status_code == 302


def test_pages_load_scripts_and_styles_from_the_app_only(
    admin_client: FlaskClient, records: dict[str, int], app: Flask
) -> None:
    response = admin_client.get(f"/admin/bills/{records['bill']}")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    page = text(response)
    assert "<script>" not in page and "style=" not in page and " onclick" not in page
    assert '<script src="/static/js/admin.js"' in page
    for asset in ("/static/js/admin.js", "/static/css/admin.css"):
        served = admin_client.get(asset)
        assert served.status_code == 200
        served.close()


def test_unknown_records_answer_404(admin_client: FlaskClient, session: Session) -> None:
    assert session.scalar(select(func.count(Policyholder.id))) == 0
    session.commit()
    for path in ("/admin/bills/999", "/admin/policyholders/999", "/admin/exceptions/999"):
        assert admin_client.get(path).status_code == 404
