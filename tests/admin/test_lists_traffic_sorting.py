"""The DOKU traffic lists sort by their column headers and total what the filters match."""

from __future__ import annotations

import csv
import io

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from portal.services.sorting import Sort
from portal.services.traffic import history
from tests.admin.conftest import text
from tests.factories import inquire, live_code, make_bill, notification_body_for, notify


def _three_inquiries(client: FlaskClient, session: Session) -> list[int]:
    amounts = [150_000, 90_000, 420_000]
    for amount in amounts:
        inquire(client, live_code(make_bill(session, amount=amount)))
    inquire(client, "8896000000000000")  # no bill: no amount
    return amounts


def test_inquiries_sort_by_amount_both_ways_with_the_empty_one_last(
    admin_client: FlaskClient, session: Session
) -> None:
    _three_inquiries(admin_client, session)
    up = history.inquiries(session, history.TrafficFilter(sort=Sort("amount", False)))
    down = history.inquiries(session, history.TrafficFilter(sort=Sort("amount", True)))
    session.commit()
    assert [line.amount for line in up.page.items] == [90_000, 150_000, 420_000, None]
    assert [line.amount for line in down.page.items] == [420_000, 150_000, 90_000, None]


def test_the_total_is_every_filtered_row_not_only_the_page(
    admin_client: FlaskClient, session: Session
) -> None:
    _three_inquiries(admin_client, session)
    listing = history.inquiries(session, history.TrafficFilter(verdict="success"), per_page=2)
    everything = history.inquiries(session, history.TrafficFilter())
    session.commit()
    assert len(listing.page.items) == 2 and listing.page.total == 3
    assert listing.amount == 660_000
    assert everything.page.total == 4 and everything.amount == 660_000  # the unknown adds 0
    page = text(admin_client.get("/admin/traffic/inquiries?verdict=success"))
    totals = page.split('id="traffic-totals">', 1)[1].split("</p>", 1)[0]
    assert "3 inquiries" in totals and "Rp 660.000" in totals


def test_notifications_sort_by_amount_and_total_the_amounts(
    admin_client: FlaskClient, session: Session
) -> None:
    for amount in (200_000, 50_000, 125_000):
        bill = make_bill(session, amount=amount)
        assert notify(admin_client, notification_body_for(bill)).status_code == 200
    listing = history.notifications(session, history.TrafficFilter(sort=Sort("amount", False)))
    session.commit()
    assert [line.notification.amount for line in listing.page.items] == [
        50_000,
        125_000,
        200_000,
    ]
    assert listing.amount == 375_000 and listing.page.total == 3
    page = text(admin_client.get("/admin/traffic/notifications?status=applied"))
    assert "3 notifications · Rp 375.000" in page


def test_an_unknown_sort_key_is_ignored_never_an_error(
    admin_client: FlaskClient, session: Session
) -> None:
    _three_inquiries(admin_client, session)
    for path in ("/admin/traffic/inquiries", "/admin/traffic/notifications"):
        response = admin_client.get(f"{path}?sort=request_body&dir=sideways")
        assert response.status_code == 200
        assert 'aria-sort="descending"' in text(response)  # newest first, as by default
        assert 'id="sort-received"' in text(response)
    download = admin_client.get("/admin/traffic/inquiries/export.csv?sort=1;drop&dir=asc")
    assert download.status_code == 200
    # An unknown column reads as the default, whatever the direction asked.
    assert history.INQUIRY_SORTS.read("1;drop", "asc") == history.INQUIRY_SORTS.default_sort


def test_the_headers_mark_the_order_and_link_the_other_way_keeping_the_filters(
    admin_client: FlaskClient, session: Session
) -> None:
    _three_inquiries(admin_client, session)
    page = text(admin_client.get("/admin/traffic/inquiries?verdict=success&sort=amount&page=1"))
    header = page.split('id="sort-amount"', 1)[0].rsplit("<th", 1)[1]
    assert 'aria-sort="ascending"' in header
    link = page.split('id="sort-amount" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert link == "/admin/traffic/inquiries?verdict=success&sort=amount&dir=desc"
    received = page.split('id="sort-received" href="', 1)[1].split('"', 1)[0]
    assert received == "/admin/traffic/inquiries?verdict=success"  # the default needs no args
    # The filter form (the way to sort on a phone) and the downloads keep the order.
    assert '<option value="amount" selected>' in page
    assert '<option value="asc" selected>' in page
    export = page.split('id="export-csv"', 1)[0].rsplit('href="', 1)[1].split('"')[0]
    assert "sort=amount" in export and "page=" not in export


def test_the_download_is_in_the_shown_order(admin_client: FlaskClient, session: Session) -> None:
    _three_inquiries(admin_client, session)
    response = admin_client.get("/admin/traffic/inquiries/export.csv?sort=amount&dir=desc")
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert [row[3] for row in rows[1:]] == ["420000", "150000", "90000", ""]
