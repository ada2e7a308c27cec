"""The dashboard's last 30 days: the figures (services/reporting/dashboard.trends), the chart
geometry (services/reporting/charts) and the page that draws them as SVG with tables."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Payment, PaymentException
from portal.services.billing.payment_codes import WIB
from portal.services.reporting import charts
from portal.services.reporting.dashboard import trends
from tests.admin.conftest import text
from tests.factories import inquire, live_code, make_bill, notification_body_for, notify

# Chart geometry.


@pytest.mark.parametrize(
    ("value", "top"),
    [(0, 1), (1, 1), (2, 2), (3, 5), (7, 10), (11, 20), (24, 25), (26, 50), (150_000, 200_000),
     (1_000_000, 1_000_000), (1_000_001, 2_000_000)],
)  # fmt: skip
def test_the_axis_top_is_a_round_number_at_or_above_the_largest_value(value: int, top: int) -> None:
    assert charts.nice_ceiling(value) == top


def test_columns_fill_their_slots_and_scale_to_the_axis_top() -> None:
    chart = charts.column_chart([0, 50, 100], ["a", "b", "c"], width=300, height=100, gap=0)
    assert chart.maximum == 100
    assert [b.x for b in chart.bars] == [0, 100, 200]
    assert [b.width for b in chart.bars] == [100, 100, 100]
    assert [b.height for b in chart.bars] == [0, 50, 100]
    # Bars stand on the bottom edge.
    assert all(b.y + b.height == 100 for b in chart.bars)
    assert [t.value for t in chart.ticks] == [0, 20, 40, 60, 80, 100]
    assert [t.position for t in chart.ticks] == [100, 80, 60, 40, 20, 0]


@pytest.mark.parametrize(
    ("top", "steps"),
    [(1, 1), (2, 2), (5, 5), (10, 5), (20, 4), (25, 5), (50, 5), (200_000, 4), (250_000, 5),
     (1_000_000, 5)],
)  # fmt: skip
def test_axis_steps_are_round(top: int, steps: int) -> None:
    assert charts.tick_count(top) == steps
    assert str(top // steps).rstrip("0") in ("1", "2", "5")


def test_a_chart_of_nothing_draws_flat_bars_and_one_tick() -> None:
    chart = charts.column_chart([0, 0], ["a", "b"], width=100, height=50)
    assert chart.maximum == 1 and all(b.height == 0 for b in chart.bars)
    assert [t.value for t in chart.ticks] == [0, 1]
    assert charts.bar_chart([], []).bars == ()


def test_small_counts_get_whole_ticks_only() -> None:
    chart = charts.line_chart([0, 2, 1], ["a", "b", "c"], width=200, height=100)
    assert [t.value for t in chart.ticks] == [0, 1, 2]
    assert chart.points == "0,100 100,0 200,50"


def test_rows_are_as_long_as_their_share() -> None:
    chart = charts.bar_chart([400, 100], ["Alfamart", "Lawson"], width=400, row=20, gap=0)
    assert chart.maximum == 500
    assert [b.width for b in chart.bars] == [320, 80]
    assert [b.y for b in chart.bars] == [0, 20] and chart.height == 40


def test_labels_and_values_must_pair() -> None:
    with pytest.raises(ValueError):
        charts.column_chart([1, 2], ["a"])


# The figures.


@pytest.fixture
def month(admin_client: FlaskClient, session: Session) -> datetime:
    """Three payments (two today, one 10 days ago at another chain), one more 31 days ago
    (outside the window), an amount mismatch that opened an exception 3 days ago and is still
    open, and three inquiries."""
    now = datetime.now(UTC)
    bills = [make_bill(session, amount=a) for a in (150_000, 250_000, 100_000, 90_000, 70_000)]
    codes = [live_code(b) for b in bills]
    inquire(admin_client, codes[0])
    inquire(admin_client, codes[1])
    inquire(admin_client, "8896000000000000")
    for bill, when in zip(bills[:4], (now, now, now - timedelta(days=10), now - timedelta(days=31)),
                          strict=True):  # fmt: skip
        assert (
            notify(admin_client, notification_body_for(bill, transaction_date=when)).status_code
            == 200
        )
    assert (
        notify(
            admin_client, notification_body_for(bills[4], amount=1_000, transaction_date=now)
        ).status_code
        == 200
    )
    # The payment 10 days ago was at Lawson; the exception opened 3 days ago.
    ten_days_ago = session.scalar(select(Payment).where(Payment.bill_id == bills[2].id))
    assert ten_days_ago is not None
    ten_days_ago.agent_id = "LAWSON"
    exception = session.scalar(select(PaymentException))
    assert exception is not None
    exception.created_at = now - timedelta(days=3)
    # One resolved exception that was open from 6 to 4 days ago.
    session.add(
        PaymentException(
            kind="unknown_code", fingerprint="f" * 64, detail="test", payment_code="8896",
            created_at=now - timedelta(days=6), resolved_at=now - timedelta(days=4),
        )
    )  # fmt: skip
    session.commit()
    return now


def test_thirty_days_of_payments_chains_verdicts_and_open_exceptions(
    session: Session, month: datetime
) -> None:
    found = trends(session, now=month)
    session.commit()
    today = month.astimezone(WIB).date()
    assert len(found.payments_per_day) == 30
    assert found.last_day == today and found.first_day == today - timedelta(days=29)
    by_day = {d.day: d for d in found.payments_per_day}
    assert (by_day[today].count, by_day[today].amount) == (2, 400_000)
    ten = (month - timedelta(days=10)).astimezone(WIB).date()
    assert (by_day[ten].count, by_day[ten].amount) == (1, 100_000)
    assert found.paid.count == 3 and found.paid.amount == 500_000  # not the one 31 days ago
    assert [(s.label, s.count, s.amount) for s in found.money_per_chain] == [
        ("Alfamart", 2, 400_000),
        ("Lawson", 1, 100_000),
    ]
    assert {s.label: s.count for s in found.inquiries_by_verdict} == {
        "success": 2,
        "billing_not_found": 1,
    }
    assert found.inquiries_by_verdict[0].label == "success"
    open_by_day = {d.day: d.count for d in found.open_exceptions}
    day = lambda n: (month - timedelta(days=n)).astimezone(WIB).date()  # noqa: E731
    assert open_by_day[today] == 1
    assert open_by_day[day(3)] == 1  # opened that day (before its end)
    assert open_by_day[day(5)] == 1  # the resolved one, still open then
    assert open_by_day[day(8)] == 0


def test_the_dashboard_draws_the_charts_and_gives_the_figures(
    admin_client: FlaskClient, month: datetime
) -> None:
    page = text(admin_client.get("/admin/"))
    for chart in ("chart-payments", "chart-chains", "chart-verdicts", "chart-exceptions"):
        assert '<svg class="chart' in page and f'id="{chart}"' in page
        assert f'aria-labelledby="{chart}-title"' in page
    # One column per day, one row per chain; titles carry the exact figure.
    payments_svg = page.split('id="chart-payments"')[1].split("</svg>")[0]
    assert payments_svg.count('<rect class="bar"') == 30
    assert "Rp 400.000</title>" in payments_svg
    chains_svg = page.split('id="chart-chains"')[1].split("</svg>")[0]
    assert chains_svg.count('<rect class="bar"') == 2 and "Lawson" in chains_svg
    assert page.count('<circle class="dot"') == 30
    table = page.split('id="table-chains"')[1].split("</table>")[0]
    assert re.search(
        r"<td>Alfamart</td><td class=\"num\">2</td><td class=\"num\">Rp 400\.000</td>", table
    )
    assert "3 payments, Rp 500.000" in page
    # No script and no inline style came with the charts.
    assert "<script>" not in page and "style=" not in page


def test_the_dashboard_of_an_empty_month(admin_client: FlaskClient) -> None:
    page = text(admin_client.get("/admin/"))
    assert "No payment in these 30 days." in page and "No inquiry in these 30 days." in page
    columns = page.split('id="chart-payments"')[1].split("</svg>")[0]
    heights = re.findall(r'<rect class="bar" [^>]*height="([0-9.]+)"', columns)
    assert len(heights) == 30 and all(float(h) == 0 for h in heights)
