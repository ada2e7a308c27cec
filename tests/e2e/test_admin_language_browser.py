"""In a real browser, what the services say reaches staff in Bahasa Indonesia: an import's
row errors and its job's progress, an exception's detail, and the receipt editor's live
preview (admin.js holds no sentence of its own, it fills in those the server rendered)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from portal.models import StaffRole
from portal.services.billing.imports import HEADER
from tests.admin.conftest import PASSWORD, make_staff
from tests.e2e.conftest import screenshot
from tests.factories import make_bill, notification_body_for, notify

pytestmark = pytest.mark.live


def _log_in(page: Any, live_url: str, email: str, language: str) -> None:
    page.context.add_cookies([{"name": "lang", "value": language, "url": live_url}])
    page.goto(f"{live_url}/admin/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_url}/admin/")


@pytest.mark.parametrize(
    ("language", "too_long", "unprintable"),
    [
        (
            "id",
            "Kaki struk berisi 121 karakter; struk memuat paling banyak 120.",
            'karakter ke-3 ("é") tidak dapat dicetak kasir',
        ),
        (
            "en",
            "Footer message is 121 characters; the receipt holds at most 120.",
            'character 3 ("é") cannot be printed at the till',
        ),
    ],
)
def test_the_receipt_preview_explains_itself_in_the_pages_language(
    page: Any,
    live_url: str,
    session: Session,
    console_errors: list[str],
    language: str,
    too_long: str,
    unprintable: str,
) -> None:
    email = make_staff(session, StaffRole.ADMIN, f"receipt-{language}@insurer.example").email
    session.commit()
    _log_in(page, live_url, email, language)
    page.goto(f"{live_url}/admin/receipt")
    error = page.locator("#default-footer [data-till-error]")
    page.fill("#footer_message", "x" * 121)
    assert error.inner_text() == too_long
    page.fill("#footer_message", "abé")
    assert unprintable in error.inner_text()
    screenshot(page, f"admin-receipt-preview-error-{language}")
    page.fill("#footer_message", "Terima kasih")
    assert error.is_hidden()
    assert console_errors == []


def test_an_indonesian_page_shows_import_errors_and_exception_details_in_indonesian(
    page: Any,
    live_url: str,
    session: Session,
    client: FlaskClient,
    tmp_path: Path,
    console_errors: list[str],
) -> None:
    email = make_staff(session, StaffRole.ADMIN, "bahasa@insurer.example").email
    bill = make_bill(session, amount=200_000)
    invoice = bill.invoice_number
    assert notify(client, notification_body_for(bill, amount=1_000)).status_code == 200
    session.commit()
    bad = tmp_path / "bad.csv"
    bad.write_text(
        ",".join(HEADER) + "\n7070701,Jiwa,Dewi,aktif,Dewi,dewi@example.com,INV-ID-1,"
        "150.000,2031-05-21,,,,\n",
        encoding="utf-8",
    )
    _log_in(page, live_url, email, "id")
    page.goto(f"{live_url}/admin/import")
    page.set_input_files("#csv_file", str(bad))
    page.click("#check-import")
    page.wait_for_selector("#job-run[data-state=done]", timeout=30_000)
    assert "1 masalah: tidak ada yang diimpor" in page.locator("#job-run").inner_text()
    page.click("#job-result-page")
    errors = page.locator("#import-errors").inner_text()
    assert "Rupiah bulat, hanya angka" in errors and "Whole rupiah" not in errors
    screenshot(page, "admin-import-rejected-id")
    page.goto(f"{live_url}/admin/exceptions")
    queue = page.locator("#exceptions").inner_text()
    assert f"dibayar Rp 1.000, padahal tagihan {invoice} sebesar Rp 200.000" in queue
    screenshot(page, "admin-exceptions-id")
    assert console_errors == []
