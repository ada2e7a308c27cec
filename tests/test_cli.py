"""``flask bills import`` and ``flask demo seed``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import Bill
from tests.services.test_bill_import import csv_text, row


def _bills(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Bill)) or 0


def test_import_command_says_how_many_rows_it_imported(
    runner: Any, session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "bills.csv"
    path.write_text(csv_text(row(), row(invoice_number="INV-2")), encoding="utf-8")
    result = runner.invoke(args=["bills", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "Imported 2 rows: created 2, updated 0, unchanged 0, skipped 0, conflicts 0" in (
        result.output
    )
    assert "WIB" in result.output
    assert _bills(session) == 2


def test_import_command_lists_every_bad_row_and_writes_nothing(
    runner: Any, session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "bills.csv"
    path.write_text(
        csv_text(
            row(),
            row(invoice_number="INV-2", amount="1,5"),
            row(invoice_number="INV-3", due_date="x"),
        ),
        encoding="utf-8",
    )
    result = runner.invoke(args=["bills", "import", str(path)])
    assert result.exit_code == 1
    assert "amount: Whole rupiah in digits only" in result.output
    assert '(e.g. "1,5"): 1 row(s), line 3' in result.output
    assert "due_date:" in result.output and "line 4" in result.output
    assert "2 error(s)" in result.output and "nothing was imported" in result.output
    assert _bills(session) == 0


def test_demo_seed_creates_one_bill_per_answer_once(runner: Any, session: Session) -> None:
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    assert "Demo data created." in first.output
    second = runner.invoke(args=["demo", "seed"])
    assert "already present" in second.output
    assert _bills(session) == 7
    for expected in ("success", "billing_already_paid", "billing_was_expired", "decline"):
        assert f"expect {expected}" in second.output


def test_every_demo_code_gets_the_answer_it_promises(runner: Any) -> None:
    output = runner.invoke(args=["demo", "seed"]).output
    lines = [line.split() for line in output.splitlines() if "expect" in line]
    assert len(lines) == 7
    for code, _invoice, _expect, expected, *_ in lines:
        answer = runner.invoke(args=["doku", "inquire", code]).output
        assert f"Status        : {expected}" in answer, answer


def test_payments_report_command_prints_totals_and_writes_csv(
    runner: Any, session: Session, tmp_path: Path
) -> None:
    runner.invoke(args=["demo", "seed"])  # one demo bill is paid two hours before now
    from datetime import UTC, datetime, timedelta

    today = (datetime.now(UTC) - timedelta(hours=2) + timedelta(hours=7)).date().isoformat()
    path = tmp_path / "payments.csv"
    result = runner.invoke(
        args=["payments", "report", "--from", today, "--to", today, "--csv", str(path)]
    )
    assert result.exit_code == 0, result.output
    assert "DEMO-INV-0003" in result.output
    assert "Total: 1 payments, Rp 150.000" in result.output
    assert "Open exceptions: 0" in result.output
    assert path.read_text().count("\n") == 2


def test_payments_report_refuses_a_reversed_range(runner: Any) -> None:
    result = runner.invoke(
        args=["payments", "report", "--from", "2026-11-02", "--to", "2026-11-01"]
    )
    assert result.exit_code == 2
    assert "before the start" in result.output


def test_demo_logins_printed_by_the_seed_work_and_depend_on_the_secret_key(
    runner: Any, session: Session
) -> None:
    import re
    from datetime import UTC, datetime

    from portal.services.accounts.credentials import authenticate_policyholder, authenticate_staff

    output = runner.invoke(args=["demo", "seed"]).output
    logins = dict(re.findall(r"/login\s+(\S+@example\.com) / (\S+)", output))
    assert set(logins) == {
        "budi@example.com",
        "siti@example.com",
        "admin@example.com",
        "viewer@example.com",
    }
    now = datetime.now(UTC)
    assert authenticate_policyholder(
        session, "budi@example.com", logins["budi@example.com"], now=now
    )
    assert authenticate_staff(session, "admin@example.com", logins["admin@example.com"], now=now)
    assert "test-secret-key" not in output
    assert not authenticate_staff(session, "admin@example.com", "demo-admin", now=now)


def test_import_command_reads_an_xlsx_workbook(
    runner: Any, session: Session, tmp_path: Path
) -> None:
    from openpyxl import Workbook

    from portal.services.billing.imports import HEADER

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(HEADER))
    for invoice in ("INV-X1", "INV-X2"):
        values = row(invoice_number=invoice)
        sheet.append([values[name] for name in HEADER])
    path = tmp_path / "bills.xlsx"
    workbook.save(path)
    result = runner.invoke(args=["bills", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "created 2" in result.output
    assert _bills(session) == 2


def test_import_command_refuses_a_file_it_cannot_read_in_one_line(
    runner: Any, session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "bills.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    result = runner.invoke(args=["bills", "import", str(path)])
    assert result.exit_code == 1
    assert "Old Excel .xls workbooks cannot be read" in result.output
    assert "Traceback" not in result.output
    assert _bills(session) == 0


def test_import_command_shows_a_progress_bar_while_it_applies(
    runner: Any, session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "bills.csv"
    path.write_text(csv_text(row(), row(invoice_number="INV-2")), encoding="utf-8")
    result = runner.invoke(args=["bills", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "Checking bills.csv" in result.output
    assert "Importing" in result.output
    assert result.output.index("Importing") < result.output.index("Imported 2 rows")
