"""The dashboard's order, the PDF downloads, the login refusal and the insurer's brand, through
the test client (the browser tests in tests/e2e/test_portal_level.py show them on screen)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from portal.models import BillState
from tests.policyholder.conftest import add_bill, csrf_token, log_in, make_holder, page_text, pay


def test_dashboard_lists_payable_bills_by_deadline_then_declined_then_folds_the_rest(
    client: FlaskClient, session: Session
) -> None:
    holder = make_holder(session)
    now = datetime.now(UTC)
    late = add_bill(session, holder, amount=111_000, expires_at=now + timedelta(days=30),
                    due_date=date.today() + timedelta(days=3))  # fmt: skip
    early = add_bill(session, holder, amount=222_000, expires_at=now + timedelta(days=2),
                     due_date=date.today() + timedelta(days=20))  # fmt: skip
    declined = add_bill(session, holder, amount=9_000_000)
    cancelled = add_bill(session, holder, state=BillState.CANCELLED, amount=333_000)
    paid = add_bill(session, holder, amount=444_000)
    pay(session, paid, paid_at=now - timedelta(days=1))
    log_in(client, holder.email)
    html = page_text(client.get("/"))
    positions = [html.index(f"/bills/{b.id}") for b in (early, late, declined)]
    assert positions == sorted(positions)  # soonest deadline first, then the declined one
    folded = html[html.index('<details class="settled">') :]
    assert "Rp 333.000" in folded and "Rp 444.000" in folded
    assert "Rp 333.000" not in html[: html.index('<details class="settled">')]
    assert 'data-copy="222000"' in html and "Salin jumlah" in html
    assert re.search(r'href="/"\s+aria-current="page"', html)
    assert cancelled.code  # the cancelled bill had a code: it is still not offered


def test_pdf_slip_and_receipt_download_only_for_their_owner_and_only_while_payable(
    client: FlaskClient, other_client: FlaskClient, session: Session
) -> None:
    budi = make_holder(session)
    siti = make_holder(session, name="Siti Rahayu", email="siti@example.com")
    payable = add_bill(session, budi)
    too_big = add_bill(session, budi, amount=9_000_000)
    paid = add_bill(session, budi)
    payment_id = pay(session, paid, paid_at=datetime.now(UTC), reference="TRX-77")
    log_in(client, budi.email)
    log_in(other_client, siti.email)
    slip = client.get(f"/bills/{payable.id}/slip.pdf")
    assert slip.status_code == 200 and slip.mimetype == "application/pdf"
    assert slip.data.startswith(b"%PDF-")
    assert "attachment" in slip.headers["Content-Disposition"]
    assert slip.headers["Cache-Control"] == "no-store"
    receipt = client.get(f"/payments/{payment_id}/receipt.pdf")
    assert receipt.status_code == 200 and receipt.data.startswith(b"%PDF-")
    assert client.get(f"/bills/{too_big.id}/slip.pdf").status_code == 404
    assert client.get(f"/bills/{paid.id}/slip.pdf").status_code == 404
    assert other_client.get(f"/bills/{payable.id}/slip.pdf").status_code == 404
    assert other_client.get(f"/payments/{payment_id}/receipt.pdf").status_code == 404
    assert client.get("/bills/999999/slip.pdf").status_code == 404


def test_a_refused_login_links_to_forgot_password_and_the_field_can_reveal(
    client: FlaskClient, session: Session
) -> None:
    holder = make_holder(session)
    first = page_text(client.get("/login"))
    assert 'id="refused"' not in first
    assert 'data-reveal=""' in first and 'data-show="Tampilkan kata sandi"' in first
    response = client.post(
        "/login",
        data={"csrf_token": csrf_token(client), "email": holder.email, "password": "salah"},
    )
    html = page_text(response)
    refused = html[html.index('id="refused"') :]
    assert 'href="/forgot"' in refused[:300]


def test_every_page_carries_the_insurers_brand_and_contacts(
    client: FlaskClient, session: Session
) -> None:
    for path in ("/login", "/forgot", "/activate/nonsense"):
        html = page_text(client.get(path))
        assert 'src="/static/img/insurer-logo.svg"' in html, path
        assert "PT Asuransi Demo Sejahtera" in html and 'href="tel:1500123"' in html, path
        assert "Berizin dan diawasi oleh Otoritas Jasa Keuangan (OJK)" in html, path
    html = page_text(client.get("/activate/nonsense"))
    assert "Butuh bantuan? Hubungi PT Asuransi Demo Sejahtera:" in html  # a dead end says whom
