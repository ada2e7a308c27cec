"""The DOKU traffic lists sorted by amount, with their totals, in Debian's Chromium against
gunicorn on a desktop (1366x768) and a phone (390x844). Screenshots go to
test-artifacts/screenshots/admin-traffic-sorted-*.png."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from portal.models import StaffRole
from tests.admin.conftest import make_staff
from tests.e2e.conftest import axe_violations, screenshot
from tests.e2e.test_admin_lists_browser import DESKTOP, SIZES, _log_in, _no_sideways_scroll
from tests.factories import inquire, live_code, make_bill, notification_body_for, notify

pytestmark = pytest.mark.live


@pytest.fixture
def traffic(session: Session, client: FlaskClient) -> str:
    """Three answered inquiries (90.000, 150.000, 420.000), one for an unknown code, and two
    notifications (50.000, 125.000); the staff member's email."""
    for amount in (150_000, 90_000, 420_000):
        inquire(client, live_code(make_bill(session, amount=amount)))
    inquire(client, "8896000000000000")
    for amount in (125_000, 50_000):
        assert (
            notify(client, notification_body_for(make_bill(session, amount=amount))).status_code
            == 200
        )
    email = make_staff(session, StaffRole.ADMIN).email
    session.commit()  # on SQLite a read transaction would hold the server's write lock
    return email


def _sort(page: Any, size: dict[str, int], direction: str) -> None:
    """Sort by amount: on a desktop with the column header, on a phone (one card per row, no
    header row) with the filter form."""
    if size == DESKTOP:
        page.click("#sort-amount")
    else:
        page.select_option("#sort", "amount")
        page.select_option("#dir", direction)
        page.click("#traffic-filters button[type=submit]")
    page.wait_for_url(f"**sort=amount**dir={direction}**")


def _amounts(page: Any, table: str) -> list[str]:
    return page.locator(f"#{table} tbody td[data-label=Amount]").all_inner_texts()


@pytest.mark.parametrize("size", SIZES)
def test_sorting_inquiries_by_amount_flips_the_order_and_keeps_totals_and_export(
    page: Any, live_url: str, traffic: str, size: dict[str, int], console_errors: list[str],
) -> None:  # fmt: skip
    name = "desktop" if size == DESKTOP else "phone"
    _log_in(page, live_url, traffic, size)
    page.goto(f"{live_url}/admin/traffic/inquiries?verdict=success")
    totals = page.locator("#traffic-totals")
    assert totals.inner_text() == "3 inquiries · Rp 660.000"  # every filtered row
    assert page.locator("th[aria-sort=descending] #sort-received").count() == 1

    _sort(page, size, "asc")
    assert _amounts(page, "inquiries") == ["Rp 90.000", "Rp 150.000", "Rp 420.000"]
    assert page.locator("th[aria-sort=ascending] #sort-amount").count() == 1
    assert page.locator("th[aria-sort]").count() == 1
    assert "verdict=success" in page.url  # the filter stays
    _sort(page, size, "desc")
    assert _amounts(page, "inquiries") == ["Rp 420.000", "Rp 150.000", "Rp 90.000"]
    assert page.locator("th[aria-sort=descending] #sort-amount").count() == 1
    assert totals.inner_text() == "3 inquiries · Rp 660.000"
    assert page.locator("#sort").input_value() == "amount"
    assert page.locator("#dir").input_value() == "desc"

    export = page.locator("#export-csv").get_attribute("href") or ""
    assert "sort=amount" in export and "dir=desc" in export and "verdict=success" in export
    with page.expect_download() as download:
        page.click("#export-csv")
    lines = download.value.path().read_text(encoding="utf-8-sig").splitlines()
    assert [line.split(",")[3] for line in lines[1:]] == ["420000", "150000", "90000"]

    _no_sideways_scroll(page)
    assert axe_violations(page) == []
    screenshot(page, f"admin-traffic-sorted-inquiries-{name}")

    # A filter submitted from the form keeps the order.
    page.select_option("#verdict", "")
    page.click("#traffic-filters button[type=submit]")
    page.wait_for_url("**sort=amount**")
    assert totals.inner_text() == "4 inquiries · Rp 660.000"  # the unknown code adds nothing
    assert _amounts(page, "inquiries")[-1] == "-"  # no amount goes last
    assert console_errors == []


@pytest.mark.parametrize("size", SIZES)
def test_sorting_notifications_by_amount_with_their_total(
    page: Any, live_url: str, traffic: str, size: dict[str, int], console_errors: list[str],
) -> None:  # fmt: skip
    name = "desktop" if size == DESKTOP else "phone"
    _log_in(page, live_url, traffic, size)
    page.goto(f"{live_url}/admin/traffic/notifications")
    assert page.locator("#traffic-totals").inner_text() == "2 notifications · Rp 175.000"
    _sort(page, size, "asc")
    assert _amounts(page, "notifications") == ["Rp 50.000", "Rp 125.000"]
    _sort(page, size, "desc")
    assert _amounts(page, "notifications") == ["Rp 125.000", "Rp 50.000"]
    assert page.locator("th[aria-sort=descending] #sort-amount").count() == 1
    assert "sort=amount" in (page.locator("#export-xlsx").get_attribute("href") or "")
    _no_sideways_scroll(page)
    assert axe_violations(page) == []
    screenshot(page, f"admin-traffic-sorted-notifications-{name}")
    assert console_errors == []
