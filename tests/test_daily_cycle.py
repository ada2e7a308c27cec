"""The daily cycle with the core system, from the command line: import, a payment at the till,
the same file again, time passing an expiry, and the payments feed, each payment once."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import cli
from portal.models import Bill, BillState
from portal.services.billing.payment_codes import WIB
from tests.factories import notification_body_for, notify
from tests.services.test_bill_import import csv_text, row

START = datetime.now(UTC).replace(microsecond=0)


def _csv_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def _pay(client: FlaskClient, session: Session, invoice: str) -> None:
    session.expire_all()
    bill = session.scalars(select(Bill).where(Bill.invoice_number == invoice)).one()
    response = notify(client, notification_body_for(bill))
    assert response.status_code == 200, response.get_data(as_text=True)


def test_the_daily_cycle_imports_pays_reimports_and_hands_each_payment_over_once(
    runner: Any, client: FlaskClient, session: Session, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    moment = [START]
    monkeypatch.setattr(cli, "clock", lambda: moment[0])
    soon = (START + timedelta(days=1)).isoformat()
    due = (START + timedelta(days=10)).date().isoformat()
    overdue = (START - timedelta(days=90)).date().isoformat()
    daily = tmp_path / "bills.csv"
    daily.write_text(
        csv_text(
            row(invoice_number="INV-A", due_date=due),
            row(invoice_number="INV-B", due_date=due, expires_at=soon),
            row(invoice_number="INV-C", due_date=overdue),
        ),
        encoding="utf-8",
    )

    def run(*args: str) -> str:
        result = runner.invoke(args=list(args))
        assert result.exit_code == 0, result.output
        return str(result.output)

    first = run("bills", "import", str(daily))
    assert "created 3, updated 0, unchanged 0" in first
    assert "overdue_new" in first

    _pay(client, session, "INV-A")
    again = run("bills", "import", str(daily))
    assert "created 0, updated 0, unchanged 3, skipped 0, conflicts 0" in again
    assert "paid_unchanged" in again

    moment[0] = START + timedelta(days=2)  # INV-B's code has expired
    later = run("bills", "import", str(daily))
    assert "unchanged 3, skipped 0, conflicts 0" in later

    feed = tmp_path / "payments-1.csv"
    run("payments", "export", "--since-last", "--output", str(feed))
    assert [r["invoice_number"] for r in _csv_rows(feed)] == ["INV-A"]
    empty = tmp_path / "payments-2.csv"
    assert "No new payments" in run("payments", "export", "--since-last", "--output", str(empty))
    assert _csv_rows(empty) == []

    _pay(client, session, "INV-C")
    workbook = tmp_path / "payments-3.xlsx"
    run("payments", "export", "--since-last", "--format", "xlsx", "--output", str(workbook))
    sheet = load_workbook(workbook, read_only=True).worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    assert [v[1] for v in values[1:]] == ["INV-C"]
    code = values[1][3]
    assert isinstance(code, str) and len(code) == 16  # the code stays text

    # A period again, without moving the feed.
    day = START.astimezone(WIB).date()
    period = tmp_path / "period.csv"
    run("payments", "export", "--from", (day - timedelta(days=1)).isoformat(),
        "--to", (day + timedelta(days=1)).isoformat(), "--output", str(period))  # fmt: skip
    assert sorted(r["invoice_number"] for r in _csv_rows(period)) == ["INV-A", "INV-C"]
    assert "No new payments" in run("payments", "export", "--since-last", "--output",
                                    str(tmp_path / "payments-4.csv"))  # fmt: skip

    bills = tmp_path / "bills-out.csv"
    run("bills", "export", "--state", "unpaid", "--output", str(bills))
    [open_bill] = _csv_rows(bills)
    assert open_bill["invoice_number"] == "INV-B" and len(open_bill["payment_code"]) == 16
    session.expire_all()
    states = dict(session.execute(select(Bill.invoice_number, Bill.state)).all())
    assert states == {"INV-A": BillState.PAID, "INV-B": BillState.UNPAID,
                      "INV-C": BillState.PAID}  # fmt: skip
