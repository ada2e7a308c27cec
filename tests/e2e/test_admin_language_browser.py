"""In a real browser, the receipt editor's live preview speaks the page's language: admin.js
holds no sentence of its own, it fills in those the server rendered with the catalog."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from portal.models import StaffRole
from tests.admin.conftest import PASSWORD, make_staff
from tests.e2e.conftest import screenshot

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
