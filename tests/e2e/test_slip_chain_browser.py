"""The bill page's chain choice reaches the PDF slip, without JavaScript, in Chromium on
gunicorn (laptop 1366x768, phone 390x844). Screenshots: portal-slip-chain-*.png."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.e2e.conftest import LAPTOP, PHONE_TALL, axe_violations, screenshot
from tests.policyholder.conftest import BillRef, Holder, add_bill, make_holder
from tests.policyholder.test_slip_chain_steps import _pdf_text

pytestmark = pytest.mark.live

VIEWPORTS = {"laptop": LAPTOP, "phone": PHONE_TALL}


@pytest.fixture
def payable(session: Session) -> tuple[Holder, BillRef]:
    holder = make_holder(session)
    bill = add_bill(session, holder, amount=150_000)
    session.commit()
    return holder, bill


@pytest.mark.parametrize("device", VIEWPORTS)
def test_the_chosen_chains_slip_link_downloads_its_steps_without_javascript(
    browser: Any, live_url: str, payable: tuple[Holder, BillRef], device: str
) -> None:
    holder, bill = payable
    for scripts in (False, True):
        context = browser.new_context(
            viewport=VIEWPORTS[device], locale="id-ID", java_script_enabled=scripts
        )
        page = context.new_page()
        try:
            page.goto(f"{live_url}/login")
            page.fill("#email", holder.email)
            page.fill("#password", holder.password)
            page.click("form[novalidate] button[type=submit]")
            page.wait_for_url(f"{live_url}/")
            page.goto(f"{live_url}/bills/{bill.id}")
            page.click("label[for=chain-alfaexpress]")
            link = page.locator("#slip-alfaexpress")
            assert link.is_visible() and not page.locator("#slip-alfamart").is_visible()
            if scripts:  # axe-core needs the page's JavaScript
                assert axe_violations(page) == []
                continue
            link.scroll_into_view_if_needed()
            screenshot(page, f"portal-slip-chain-{device}")
            with page.expect_download(timeout=20_000) as download:
                link.click()
            text = _pdf_text(Path(download.value.path()).read_bytes())
            assert "Cara membayar di Alfaexpress" in text
            assert "Gerai kecil mungkin hanya punya satu kasir" in text  # its own step
            assert "Lawson" not in text and "Alfamart" not in text
        finally:
            context.close()
