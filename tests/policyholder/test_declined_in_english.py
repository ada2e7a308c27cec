"""A bill the till would decline says why in the policyholder's own language: English here
(tests/policyholder/test_pages.py covers Indonesian, the default)."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.policyholder.conftest import add_bill, log_in, make_holder, page_text


def test_a_declined_bill_says_why_and_whom_to_call_in_english(
    client: FlaskClient, session: Session
) -> None:
    holder = make_holder(session, language="en")
    bill = add_bill(session, holder, amount=7_500_000)
    log_in(client, holder.email)
    for path in (f"/bills/{bill.id}", "/"):
        html = page_text(client.get(path))
        assert '<html lang="en">' in html, path
        assert "Alfa Group stores take at most Rp 5.000.000 in one payment" in html, path
        assert "Please contact PT Asuransi Demo Sejahtera:" in html, path
        assert "paling banyak" not in html and "How to pay" not in html, path
        assert bill.code[:4] + "</span>" not in html and 'class="barcode"' not in html, path
