"""The dashboard, a bill to pay, payment history and receipts: what a policyholder sees."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from portal.models import ReceiptDefaults
from portal.models.billing import BillState
from portal.services.billing.barcodes import code128_modules
from tests.policyholder.conftest import add_bill, log_in, make_holder, page_text, pay

FAR = datetime(2031, 6, 20, 16, 59, 59, tzinfo=UTC)  # 20 June 2031, 23:59:59 WIB


def _bar_widths(svg: str) -> str:
    """The modules drawn by the barcode SVG, read back from its path."""
    path = re.search(r'<path fill="#000" d="([^"]+)"', svg)
    assert path
    modules, position = [], 10  # after the quiet zone
    for x, width in re.findall(r"M(\d+) 0h(\d+)v", path.group(1)):
        modules.append("0" * (int(x) - position) + "1" * int(width))
        position = int(x) + int(width)
    return "".join(modules)


def test_dashboard_lists_each_policy_and_its_bills_in_every_state(
    client: FlaskClient, session: Session
) -> None:
    holder = make_holder(session)
    unpaid = add_bill(session, holder, amount=150_000, expires_at=FAR, due_date=date(2031, 5, 21))
    paid = add_bill(session, holder, amount=275_000)
    add_bill(session, holder, amount=320_000, expires_at=datetime.now(UTC) - timedelta(days=1))
    add_bill(session, holder, amount=410_000, state=BillState.CANCELLED)
    pay(session, paid, paid_at=datetime(2031, 5, 1, 3, 15, tzinfo=UTC))
    log_in(client, holder.email)

    html = page_text(client.get("/"))
    assert html.count('class="policy card"') == 4
    assert "Dana Pendidikan" in html and "aktif" in html
    assert "Rp 150.000" in html and "Rp 275.000" in html
    assert "21 Mei 2031" in html
    assert "20 Juni 2031, 23.59 WIB" in html  # the code's expiry, in WIB
    assert "1 Mei 2031, 10.15 WIB" in html  # paid at 03:15 UTC
    for badge in ("Belum dibayar", "Lunas", "Kedaluwarsa", "Dibatalkan"):
        assert badge in html
    assert " ".join(unpaid.code[i : i + 4] for i in range(0, 16, 4)) in re.sub(
        r"</span><span>", " ", html
    )


def test_bill_page_shows_the_code_grouped_with_barcode_qr_amount_expiry_and_footer(
    client: FlaskClient, session: Session
) -> None:
    holder = make_holder(session)
    footer = "Terima kasih, Bapak Budi. Polis Anda tetap aktif.   Call Center 1500-123"
    bill = add_bill(session, holder, amount=150_000, expires_at=FAR, footer_message=footer)
    log_in(client, holder.email)

    response = client.get(f"/bills/{bill.id}")
    assert response.status_code == 200
    html = page_text(response)
    groups = [bill.code[i : i + 4] for i in range(0, 16, 4)]
    assert "".join(f"<span>{g}</span>" for g in groups) in html
    assert f'data-copy="{bill.code}"' in html
    barcode = re.search(r'<svg [^>]*class="barcode".*?</svg>', html, re.S)
    assert barcode, "no barcode SVG"
    assert _bar_widths(barcode.group(0)) == code128_modules(bill.code)
    assert re.search(r'<svg role="img" viewBox="0 0 \d+ \d+" class="qr">', html)
    assert "Rp 150.000" in html
    assert "20 Juni 2031, 23.59 WIB" in html
    assert "hari lagi" in html
    # The footer exactly as the till prints it: cut every 40 characters, lines padded.
    lines = re.findall(r"<span>([^<]*)</span>\n", html.split('class="till"')[1].split("</pre>")[0])
    assert lines == [
        "Terima kasih, Bapak Budi. Polis Anda tet",
        "ap aktif.   Call Center 1500-123        ",
    ]
    for store in ("Alfamart", "Alfamidi", "Alfaexpress", "Lawson", "Dan+Dan"):
        assert store in html
    assert response.headers["Cache-Control"] == "no-store"


def test_footer_is_the_bills_own_else_the_staff_default_else_the_configured_one(
    client: FlaskClient, session: Session, web: object
) -> None:
    holder = make_holder(session)
    configured = add_bill(session, holder, expires_at=FAR)
    log_in(client, holder.email)
    html = page_text(client.get(f"/bills/{configured.id}"))
    assert "Terima kasih. Simpan struk ini sebagai " in html  # DEFAULT_FOOTER_MESSAGE

    session.add(ReceiptDefaults(id=1, footer_message="Footer from the back office"))
    session.commit()
    html = page_text(client.get(f"/bills/{configured.id}"))
    assert "Footer from the back office             " in html

    own = add_bill(session, holder, expires_at=FAR, footer_message="Its own footer")
    html = page_text(client.get(f"/bills/{own.id}"))
    assert "Its own footer" in html and "Footer from the back office" not in html


def test_paid_bill_shows_when_it_was_paid_and_its_receipt_but_no_code(
    client: FlaskClient, session: Session
) -> None:
    holder = make_holder(session)
    bill = add_bill(session, holder)
    payment_id = pay(session, bill, paid_at=datetime(2031, 5, 1, 3, 15, tzinfo=UTC))
    log_in(client, holder.email)
    html = page_text(client.get(f"/bills/{bill.id}"))
    assert "Dibayar pada 1 Mei 2031, 10.15 WIB" in html
    assert f"/payments/{payment_id}" in html
    assert 'class="barcode"' not in html and bill.code[:4] + "</span>" not in html


@pytest.mark.parametrize("kind, message", [
    ("expired", "Kode pembayaran ini kedaluwarsa pada"),
    ("cancelled", "Tagihan ini dibatalkan"),
    ("lapsed", "tidak dapat dibayar di gerai selama polis tidak aktif (status: lapse)"),
    ("too_big", "Gerai Alfa Group menerima paling banyak Rp 5.000.000"),
    ("too_small", "Gerai Alfa Group menerima paling sedikit Rp 10.000"),
])  # fmt: skip
def test_bill_that_cannot_be_paid_at_the_store_says_why_and_shows_no_code(
    client: FlaskClient, session: Session, kind: str, message: str
) -> None:
    holder = make_holder(session)
    options: dict[str, object] = {
        "expired": {"expires_at": datetime.now(UTC) - timedelta(minutes=1)},
        "cancelled": {"state": BillState.CANCELLED},
        "lapsed": {"policy_status": "lapse"},
        "too_big": {"amount": 7_500_000},
        "too_small": {"amount": 9_999},
    }[kind]  # type: ignore[assignment]
    bill = add_bill(session, holder, **options)  # type: ignore[arg-type]
    log_in(client, holder.email)
    for page in (f"/bills/{bill.id}", "/"):  # the dashboard says the same as the bill page
        html = page_text(client.get(page))
        assert message in html, page
        assert 'class="barcode"' not in html and "data-copy" not in html
        # Neither the code nor the steps to pay it: the till would decline them.
        assert bill.code[:4] + "</span>" not in html and "Cara membayar" not in html, page
        if kind != "cancelled":
            # Whom to contact, with links to call, chat and write.
            assert "Silakan hubungi PT Asuransi Demo Sejahtera:" in html, page
            assert 'href="tel:1500123">1500-123</a>' in html, page
            assert 'href="https://wa.me/628111500123"' in html, page
            assert 'href="mailto:layanan@asuransi-demo.example"' in html, page


def test_payment_history_lists_paid_at_in_wib_store_and_transaction_reference(
    client: FlaskClient, session: Session
) -> None:
    holder = make_holder(session)
    first = add_bill(session, holder, amount=150_000)
    second = add_bill(session, holder, amount=275_000)
    add_bill(session, holder, amount=999_000)  # unpaid: not in the history
    pay(
        session,
        first,
        paid_at=datetime(2031, 1, 2, 1, 0, tzinfo=UTC),
        store="TZ01",
        reference="A-1",
    )
    pay(session, second, paid_at=datetime(2031, 3, 4, 17, 30, tzinfo=UTC), store="TZ77",
        reference="B-2")  # fmt: skip
    log_in(client, holder.email)

    html = page_text(client.get("/payments"))
    assert html.count('class="card payment"') == 2
    assert html.index("Rp 275.000") < html.index("Rp 150.000")  # latest first
    assert "5 Maret 2031, 00.30 WIB" in html  # 17:30 UTC is after midnight in Jakarta
    assert "2 Januari 2031, 08.00 WIB" in html
    assert "TZ77" in html and "B-2" in html and "TZ01" in html and "A-1" in html
    assert "Rp 999.000" not in html


def test_receipt_shows_the_payment_and_can_be_printed(
    client: FlaskClient, session: Session
) -> None:
    holder = make_holder(session)
    bill = add_bill(session, holder, amount=150_000)
    payment_id = pay(session, bill, paid_at=datetime(2031, 1, 2, 1, 0, tzinfo=UTC),
                     store="TZ01", reference="TRX-9")  # fmt: skip
    log_in(client, holder.email)
    html = page_text(client.get(f"/payments/{payment_id}"))
    assert "Bukti pembayaran" in html
    code = " ".join(bill.code[i : i + 4] for i in range(0, 16, 4))
    for text in ("Rp 150.000", "2 Januari 2031, 08.00 WIB", "toko TZ01", "TRX-9", code, "Alfamart"):
        assert text in html
    assert "ALFAMART" not in html  # the chain's name, not DOKU's agent id
    assert "data-print" in html


def test_another_policyholders_bill_and_receipt_are_not_found(
    client: FlaskClient, other_client: FlaskClient, session: Session
) -> None:
    budi = make_holder(session)
    siti = make_holder(session, name="Siti Rahayu", email="siti@example.com")
    budi_bill = add_bill(session, budi)
    siti_bill = add_bill(session, siti)
    siti_payment = pay(session, siti_bill, paid_at=datetime(2031, 1, 2, tzinfo=UTC))
    log_in(client, budi.email)
    log_in(other_client, siti.email)

    assert client.get(f"/bills/{budi_bill.id}").status_code == 200
    for path in (f"/bills/{siti_bill.id}", f"/payments/{siti_payment}"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Halaman tidak ditemukan" in page_text(response)
        assert siti_bill.code not in page_text(response)
    assert "Siti" not in page_text(client.get("/"))
    assert "Siti" not in page_text(client.get("/payments"))
    assert other_client.get(f"/bills/{siti_bill.id}").status_code == 200
    assert other_client.get(f"/bills/{budi_bill.id}").status_code == 404
    assert client.get("/bills/999999").status_code == 404
    assert client.get("/payments/999999").status_code == 404


@pytest.mark.parametrize("path", ["/", "/payments", "/bills/1", "/payments/1"])
def test_pages_of_a_policyholder_need_a_login(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_names_and_texts_from_the_database_are_escaped(
    client: FlaskClient, session: Session
) -> None:
    holder = make_holder(session, name="<script>alert(1)</script>")
    bill = add_bill(session, holder, expires_at=FAR, info="<b>x</b>")
    log_in(client, holder.email)
    for path in ("/", f"/bills/{bill.id}"):
        html = page_text(client.get(path))
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>x</b>" not in page_text(client.get(f"/bills/{bill.id}"))


def test_pages_carry_no_inline_script_or_style_and_send_a_strict_csp(
    client: FlaskClient, session: Session
) -> None:
    holder = make_holder(session)
    bill = add_bill(session, holder, expires_at=FAR)
    paid = add_bill(session, holder)
    payment_id = pay(session, paid, paid_at=datetime(2031, 1, 2, tzinfo=UTC))
    login_page = client.get("/login")
    log_in(client, holder.email)
    pages = [login_page, client.get("/forgot")] + [
        client.get(path)
        for path in ("/", f"/bills/{bill.id}", "/payments", f"/payments/{payment_id}")
    ]
    for response in pages:
        assert response.status_code == 200
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        html = page_text(response)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script"
        assert not re.search(r"\sstyle=", html), "inline style attribute"
        assert "<style" not in html
        # Nothing loads from another host; links out (WhatsApp) are not resources.
        assert not re.search(r'src="(https?:)?//', html), "external resource"
        assert not re.search(r'<link[^>]*href="(https?:)?//', html), "external stylesheet"
