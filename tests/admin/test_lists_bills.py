"""The bill list staff work with: filters that combine, sorting, totals, search, and the same
rows as CSV and XLSX (services/billing/bill_list and the /admin/bills page)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Bill, Payment
from portal.services.billing.bill_list import BillQuery, bill_page, parse_query, parse_rupiah
from portal.services.billing.payability import PayabilityRules, Standing
from portal.services.billing.payment_codes import WIB
from tests.admin.conftest import text
from tests.factories import live_code, make_bill, notification_body_for, notify


@pytest.fixture
def rules(app: object) -> PayabilityRules:
    return PayabilityRules.from_config(app.config)  # type: ignore[attr-defined]


@pytest.fixture
def bills(admin_client: FlaskClient, session: Session) -> dict[str, Bill]:
    """Five bills: two paid (Alfamart, Lawson), one payable, one declined, one expired."""
    now = datetime.now(UTC)
    made = {
        "alfamart": make_bill(session, amount=150_000, due_date=date(2031, 1, 10),
                              customer_name="Ani Wijaya"),
        "lawson": make_bill(session, amount=320_000, due_date=date(2031, 2, 10),
                            customer_name="Budi Santoso"),
        "payable": make_bill(session, amount=90_000, due_date=date(2031, 3, 10),
                             customer_name="Citra 100% Lestari"),
        "declined": make_bill(session, amount=120_000, policy_status="lapse",
                              due_date=date(2031, 4, 10), customer_name="Dewi_Saraswati"),
        "expired": make_bill(session, amount=130_000, expires_at=now - timedelta(hours=1),
                             due_date=date(2031, 5, 10), customer_name="Eko Prasetyo"),
    }  # fmt: skip
    for key in ("alfamart", "lawson"):
        paid_at = now - timedelta(days=2 if key == "lawson" else 0)
        body = notification_body_for(made[key], transaction_date=paid_at)
        assert notify(admin_client, body).status_code == 200
    lawson = session.scalar(select(Payment).where(Payment.bill_id == made["lawson"].id))
    assert lawson is not None
    lawson.agent_id = "LAWSON"
    session.commit()
    return made


def _invoices(session: Session, query: BillQuery, rules: PayabilityRules, **kw: int) -> list[str]:
    listing = bill_page(session, query, now=datetime.now(UTC), rules=rules, **kw)
    session.commit()
    return [line.bill.invoice_number for line in listing.page.items]


def test_filters_combine(session: Session, bills: dict[str, Bill], rules: PayabilityRules) -> None:
    inv = {k: b.invoice_number for k, b in bills.items()}
    assert len(_invoices(session, BillQuery(), rules)) == 5
    assert _invoices(session, BillQuery(standing=Standing.PAID), rules) == [
        inv["lawson"], inv["alfamart"]
    ]  # fmt: skip
    assert _invoices(session, BillQuery(standing=Standing.PAID, chain="Lawson"), rules) == [
        inv["lawson"]
    ]
    assert _invoices(session, BillQuery(chain="Alfamart"), rules) == [inv["alfamart"]]
    unpaid = [inv[k] for k in ("expired", "declined", "payable")]
    assert _invoices(session, parse_query({"state": "unpaid"}).query, rules) == unpaid
    assert _invoices(session, BillQuery(chain="Indomaret"), rules) == []
    # Amounts: 120.000 to 150.000 holds the Alfamart, declined and expired bills.
    ranged = BillQuery(amount_min=120_000, amount_max=150_000, sort="amount", descending=False)
    assert _invoices(session, ranged, rules) == [inv["declined"], inv["expired"], inv["alfamart"]]
    # ... and with a due date up to April, the expired one (May) drops out.
    assert _invoices(session, replace_due(ranged, date(2031, 4, 30)), rules) == [
        inv["declined"], inv["alfamart"]
    ]  # fmt: skip
    today = datetime.now(WIB).date()
    paid_today = BillQuery(paid_from=today - timedelta(days=1), paid_to=today + timedelta(days=1))
    assert _invoices(session, paid_today, rules) == [inv["alfamart"]]


def replace_due(query: BillQuery, due_to: date) -> BillQuery:
    from dataclasses import replace

    return replace(query, due_to=due_to)


def test_search_is_literal(
    session: Session, bills: dict[str, Bill], rules: PayabilityRules
) -> None:
    """``%`` and ``_`` are letters here, not wildcards."""
    assert _invoices(session, BillQuery(text="100%"), rules) == [bills["payable"].invoice_number]
    assert _invoices(session, BillQuery(text="i_S"), rules) == [bills["declined"].invoice_number]
    assert _invoices(session, BillQuery(text="%"), rules) == [bills["payable"].invoice_number]
    code = live_code(bills["expired"])
    spaced = " ".join(code[i : i + 4] for i in range(0, 16, 4))
    assert _invoices(session, BillQuery(text=spaced), rules) == [bills["expired"].invoice_number]


def test_sorting_both_ways_and_totals_over_all_pages(
    session: Session, bills: dict[str, Bill], rules: PayabilityRules
) -> None:
    by_amount = [b.invoice_number for b in sorted(bills.values(), key=lambda b: b.amount)]
    up = BillQuery(sort="amount", descending=False)
    assert _invoices(session, up, rules) == by_amount
    assert _invoices(session, up.sorted_by("amount"), rules) == by_amount[::-1]
    assert _invoices(session, BillQuery(sort="policyholder", descending=False), rules)[0] == (
        bills["alfamart"].invoice_number
    )
    # Paid first (newest payment first), unpaid last, whichever way.
    for descending in (True, False):
        paid = _invoices(session, BillQuery(sort="paid", descending=descending), rules)
        assert set(paid[:2]) == {bills["alfamart"].invoice_number, bills["lawson"].invoice_number}
    listing = bill_page(session, BillQuery(), now=datetime.now(UTC), rules=rules, per_page=2)
    session.commit()
    assert listing.page.total == 5 and listing.page.pages == 3 and len(listing.page.items) == 2
    assert listing.amount == 810_000  # every matching bill, not only this page's
    assert listing.chains == ["Alfamart", "Lawson"]


@pytest.mark.parametrize(
    ("raw", "value"),
    [("150000", 150_000), ("150.000", 150_000), ("Rp 150.000", 150_000), ("150,000", 150_000),
     ("rp150.000,00", 150_000), ("-5", None), ("1e5", None), ("abc", None), ("١٢٣", None),
     ("150.5", None), ("150.00", 150), ("1.000", 1_000), ("150.000,00", 150_000),
     ("1.50.000", None)],
)  # fmt: skip
def test_amounts_are_read_as_staff_type_them(raw: str, value: int | None) -> None:
    assert parse_rupiah(raw) == value


def test_unreadable_arguments_are_problems_not_errors() -> None:
    parsed = parse_query(
        {
            "min": "lots",
            "due_from": "2031-13-01",
            "state": "odd",
            "sort": "x",
            "paid_to": "1999-12-31",
        }
    )
    assert {p.argument for p in parsed.problems} == {"min", "due_from", "state", "sort", "paid_to"}
    assert parsed.query == BillQuery()
    swapped = parse_query({"min": "200.000", "max": "100.000"})
    assert [p.argument for p in swapped.problems] == ["max"]


def test_a_query_round_trips_through_its_arguments() -> None:
    query = BillQuery(
        text="budi", standing=Standing.PAID, chain="Lawson", due_from=date(2031, 1, 1),
        paid_to=date(2031, 2, 1), amount_min=1_000, open_exception=True, sort="amount",
        descending=False,
    )  # fmt: skip
    assert parse_query(query.arguments()).query == query
    assert parse_query({}).query.arguments() == {}


# The page.


def test_the_page_filters_sorts_and_totals(
    admin_client: FlaskClient, bills: dict[str, Bill]
) -> None:
    page = text(admin_client.get("/admin/bills?state=paid&sort=amount&dir=asc"))
    table = page.split('id="bills"')[1].split("</table>")[0]
    assert table.index(bills["alfamart"].invoice_number) < table.index(
        bills["lawson"].invoice_number
    )
    assert bills["payable"].invoice_number not in table
    assert 'id="bill-totals"' in page
    totals = page.split('id="bill-totals"')[1].split("</p>")[0]
    assert "2 bills" in totals and "Rp 470.000" in totals
    # The Amount header sorts the other way next, keeping the filters; it says how it is sorted.
    header = page.split('id="sort-amount"')[0].rsplit("<th", 1)[1]
    assert 'aria-sort="ascending"' in header
    link = page.split('id="sort-amount"')[1].split(">")[0]
    assert "dir=desc" in link and "state=paid" in link
    assert "Lawson" in table and "Alfamart" in table


def test_bad_filters_say_what_is_wrong(admin_client: FlaskClient, bills: dict[str, Bill]) -> None:
    response = admin_client.get("/admin/bills?min=lots&due_to=31-12-2031")
    assert response.status_code == 400
    page = text(response)
    assert "lots" in page and "31-12-2031" in page
    assert 'aria-invalid="true"' in page
    # The other filters still apply; nothing is hidden behind an error page.
    assert page.count('<tr class="bill-row"') == 5


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_export_holds_what_the_list_shows(
    admin_client: FlaskClient, bills: dict[str, Bill], file_format: str
) -> None:
    response = admin_client.get(
        f"/admin/bills/export.{file_format}?min=120.000&sort=amount&dir=asc"
    )
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert f".{file_format}" in response.headers["Content-Disposition"]
    if file_format == "csv":
        rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    else:
        sheet = load_workbook(io.BytesIO(response.get_data())).active
        rows = [["" if v is None else str(v) for v in r] for r in sheet.iter_rows(values_only=True)]
    header, *lines = rows
    assert header[:5] == ["invoice_number", "policyholder", "email", "policy_number", "amount"]
    assert [line[0] for line in lines] == [
        bills[k].invoice_number for k in ("declined", "expired", "alfamart", "lawson")
    ]
    assert [line[4] for line in lines] == ["120000", "130000", "150000", "320000"]
    # Codes keep every digit; the paid ones say where.
    code = live_code(bills["declined"])
    assert lines[0][6] == code and lines[0][7] == "declined"
    assert lines[3][9] == "Lawson" and lines[2][9] == "Alfamart"


def test_unknown_export_format_is_404(admin_client: FlaskClient) -> None:
    assert admin_client.get("/admin/bills/export.pdf").status_code == 404


def test_viewers_may_export(viewer_client: FlaskClient, bills: dict[str, Bill]) -> None:
    assert viewer_client.get("/admin/bills/export.csv").status_code == 200
