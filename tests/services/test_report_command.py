"""``flask payments report``: totals that tie out, and the download in CSV or XLSX."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlalchemy.orm import Session

from portal.services.traffic.payments import PaymentReport, apply_report
from tests.factories import live_code, make_bill

DAY = "2026-11-27"


def _traffic(session: Session) -> None:
    """A payment, and Rp 1.000 paid against a bill of Rp 200.000."""
    paid_at = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
    for amount, paid in ((150_000, 150_000), (200_000, 1_000)):
        bill = make_bill(session, amount=amount)
        report = PaymentReport(
            status="SUCCESS", paid_at=paid_at, invoice_number=bill.invoice_number, amount=paid,
            payment_code=live_code(bill), agent_id="ALFAMART", agent_store_id="TZ01",
            transaction_date=paid_at.isoformat(),
        )  # fmt: skip
        apply_report(session, report, now=paid_at)
    session.commit()


def test_report_prints_applied_and_held_money_and_the_open_exception(
    runner: Any, session: Session
) -> None:
    _traffic(session)
    result = runner.invoke(args=["payments", "report", "--from", DAY, "--to", DAY])
    assert result.exit_code == 0, result.output
    assert "Total: 2 payments, Rp 151.000" in result.output
    assert "applied Rp 150.000, held in exceptions Rp 1.000 (open Rp 1.000" in result.output
    assert "Per store chain:\n  Alfamart" in result.output
    assert "Open exceptions: 1" in result.output


def test_report_writes_xlsx_with_format_and_csv_with_the_old_option(
    runner: Any, session: Session, tmp_path: Path
) -> None:
    _traffic(session)
    xlsx, old_csv = tmp_path / "out.xlsx", tmp_path / "out.csv"
    args = ["payments", "report", "--from", DAY, "--to", DAY]
    result = runner.invoke(
        args=[*args, "--format", "xlsx", "--output", str(xlsx), "--csv", str(old_csv)]
    )
    assert result.exit_code == 0, result.output
    sheet = load_workbook(io.BytesIO(xlsx.read_bytes())).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    amounts = sorted(sheet.cell(row=r, column=header.index("amount") + 1).value for r in (2, 3))
    assert amounts == [1_000, 150_000]
    lines = old_csv.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("paid_at_wib,state,kind,invoice_number,payment_code,amount")
    assert len(lines) == 3


def test_report_refuses_an_output_without_a_format(runner: Any, tmp_path: Path) -> None:
    result = runner.invoke(
        args=["payments", "report", "--from", DAY, "--to", DAY, "--output", str(tmp_path / "x")]
    )
    assert result.exit_code == 2
    assert "--format" in result.output
