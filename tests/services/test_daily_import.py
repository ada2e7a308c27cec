"""The core system's daily file: moot rows applied around, malformed rows summed up, files as
staff save them, chunked and resumable apply, one audit entry per changed row."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import (
    AuditEntry,
    Bill,
    BillState,
    ImportConflict,
    ImportRun,
    ImportState,
    PaymentCode,
)
from portal.services.billing import imports
from portal.services.billing.imports import (
    HEADER,
    NoteKind,
    apply_import,
    check,
    create_run,
    import_bills,
    shown_value,
)
from portal.services.billing.payment_codes import WIB, default_expiry
from tests.factories import CODE_SETTINGS
from tests.services.test_bill_import import NOW, count, csv_text, row


def rows(n: int, **values: str) -> list[dict[str, str]]:
    return [row(invoice_number=f"INV-{i:05d}", **values) for i in range(1, n + 1)]


def imported(session: Session, data: str | bytes, now: datetime = NOW) -> Any:
    report = import_bills(session, data, settings=CODE_SETTINGS, now=now)
    session.commit()
    return report


def kinds(report: Any) -> dict[str, int]:
    return {s.key: s.count for s in report.note_summary()}


def bill(session: Session, invoice: str = "INV-2026-0001") -> Bill:
    session.expire_all()
    found = session.scalar(select(Bill).where(Bill.invoice_number == invoice))
    assert found is not None
    return found


def test_an_identical_reimport_is_unchanged_not_updated(session: Session) -> None:
    text = csv_text(*rows(5))
    first = imported(session, text)
    assert (first.created, first.updated, first.unchanged) == (5, 0, 0)
    again = imported(session, text)
    assert (again.created, again.updated, again.unchanged, again.conflicts) == (0, 0, 5, 0)
    assert "unchanged 5" in again.counts()


def test_a_paid_bill_whose_row_matches_is_unchanged_and_listed(session: Session) -> None:
    imported(session, csv_text(row(), row(invoice_number="INV-2")))
    bill(session).state = BillState.PAID
    session.commit()
    report = imported(session, csv_text(row(), row(invoice_number="INV-2", amount="175000")))
    assert (report.unchanged, report.updated, report.conflicts) == (1, 1, 0)
    assert kinds(report) == {NoteKind.PAID_UNCHANGED.value: 1}
    assert bill(session, "INV-2").amount == 175000


def test_a_cancelled_bill_whose_row_matches_is_unchanged_and_listed(session: Session) -> None:
    imported(session, csv_text(row()))
    bill(session).state = BillState.CANCELLED
    session.commit()
    report = imported(session, csv_text(row()))
    assert (report.unchanged, report.updated, report.conflicts) == (1, 0, 0)
    assert kinds(report) == {NoteKind.CANCELLED_UNCHANGED.value: 1}
    assert bill(session).state == BillState.CANCELLED


def test_a_paid_or_cancelled_bill_whose_row_differs_is_a_stored_conflict_and_the_rest_applies(
    session: Session,
) -> None:
    imported(session, csv_text(*rows(3)))
    bill(session, "INV-00001").state = BillState.PAID
    session.commit()
    bill(session, "INV-00002").state = BillState.CANCELLED
    session.commit()
    report = imported(session, csv_text(*rows(3, amount="99000")))
    assert (report.conflicts, report.updated) == (2, 1)
    assert kinds(report) == {"paid_conflict": 1, "cancelled_conflict": 1}
    assert bill(session, "INV-00001").amount == 150000  # not applied
    assert bill(session, "INV-00003").amount == 99000
    stored = session.scalars(select(ImportConflict).order_by(ImportConflict.line)).all()
    assert [(c.invoice_number, c.bill_state) for c in stored] == [
        ("INV-00001", "paid"),
        ("INV-00002", "cancelled"),
    ]
    assert "amount 150000 -> 99000" in stored[0].detail
    assert stored[0].run_id == report.run_id


def test_a_past_expires_at_leaves_the_live_codes_expiry_and_is_listed(session: Session) -> None:
    later = "2031-01-01T00:00:00Z"
    imported(session, csv_text(row(expires_at=later)))
    report = imported(session, csv_text(row(expires_at="2020-01-01T00:00:00Z")))
    assert report.ok and report.unchanged == 1
    assert kinds(report) == {NoteKind.EXPIRY_KEPT.value: 1}
    code = bill(session).current_code
    assert code is not None and code.expires_at == datetime(2031, 1, 1, tzinfo=UTC)


def test_an_unchanged_reimport_after_the_code_expired_is_accepted(session: Session) -> None:
    text = csv_text(row(expires_at=(NOW + timedelta(days=1)).isoformat()))
    imported(session, text)
    report = imported(session, text, now=NOW + timedelta(days=2))
    assert report.ok and report.unchanged == 1 and not report.notes


def test_a_new_overdue_bill_gets_a_code_for_the_grace_days_from_today(session: Session) -> None:
    due = (NOW - timedelta(days=90)).date().isoformat()
    report = imported(session, csv_text(row(due_date=due)))
    assert report.created == 1
    assert kinds(report) == {NoteKind.OVERDUE_NEW.value: 1}
    code = bill(session).current_code
    assert code is not None
    assert code.expires_at == default_expiry(NOW.astimezone(WIB).date(), CODE_SETTINGS)


def test_a_new_bill_whose_expires_at_is_past_is_not_created(session: Session) -> None:
    report = imported(
        session, csv_text(row(expires_at="2020-01-01T00:00:00Z"), row(invoice_number="INV-2"))
    )
    assert (report.created, report.skipped) == (1, 1)
    assert kinds(report) == {NoteKind.EXPIRED_NEW.value: 1}
    assert session.scalars(select(Bill.invoice_number)).all() == ["INV-2"]


def test_malformed_rows_are_summed_up_per_field_with_the_first_20_lines(
    session: Session,
) -> None:
    report = check(
        session, csv_text(*rows(50, amount="150.000")).encode(), filename="x.csv",
        settings=CODE_SETTINGS, now=NOW,
    )  # fmt: skip
    [summary] = report.error_summary()
    assert (summary.key, summary.count, summary.value) == ("amount", 50, "150.000")
    assert summary.lines == list(range(2, 22))
    assert "and 30 more" in str(summary)
    assert count(session, Bill) == 0


def test_an_offending_value_is_shortened_and_escaped() -> None:
    assert shown_value("a\x07b") == "a\\x07b"
    assert len(shown_value("x" * 500)) == 40


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (HEADER[:-1], "Missing column(s)"),
        ((*HEADER, "extra"), "Unknown column(s)"),
    ],
)
def test_a_missing_or_unknown_column_refuses_the_file(
    session: Session, header: tuple[str, ...], message: str
) -> None:
    text = ",".join(header) + "\n" + ",".join("x" for _ in header) + "\n"
    report = check(session, text.encode(), filename="x.csv", settings=CODE_SETTINGS, now=NOW)
    assert not report.ok
    assert any(message in str(e.message) for e in report.errors)


def _semicolons(text: str) -> str:
    return text.replace(",", ";")


@pytest.mark.parametrize(
    "encode",
    [
        lambda t: t.encode("utf-8"),
        lambda t: ("\ufeff" + t).encode("utf-8"),
        lambda t: _semicolons(t).encode("utf-8"),
        lambda t: t.replace(",", "\t").encode("utf-16"),
        lambda t: _semicolons(t).encode("cp1252"),
    ],
    ids=["utf8", "utf8-bom", "semicolon", "utf16-tab", "windows-1252-semicolon"],
)
def test_files_as_staff_save_them_are_read(session: Session, encode: Any) -> None:
    text = csv_text(row(customer_name="Dewi Léstari"))
    report = imported(session, encode(text))
    assert report.created == 1
    assert bill(session).policy.policyholder.name == "Dewi Léstari"


def test_an_xlsx_workbook_is_read(session: Session) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(HEADER))
    values = row(due_date="2031-05-21")
    cells: list[Any] = [values[name] for name in HEADER]
    cells[HEADER.index("amount")] = 150000  # a number cell
    cells[HEADER.index("due_date")] = datetime(2031, 5, 21)  # a date cell
    sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    report = import_bills(session, out.getvalue(), settings=CODE_SETTINGS, now=NOW,
                          filename="bills.xlsx")  # fmt: skip
    assert report.created == 1
    found = bill(session)
    assert (found.amount, found.due_date.isoformat()) == (150000, "2031-05-21")


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"\x81\x8d\x8f\x90 not text", "bills.csv", "not text in UTF-8 or Windows-1252"),
        (b"\xd0\xcf\x11\xe0 old excel", "bills.xls", "Old Excel"),
        (b"PK\x03\x04 broken zip", "bills.xlsx", "not a readable .xlsx"),
        (b"policy_number\x00,x\n", "bills.csv", "not text"),
    ],
)
def test_an_unreadable_file_is_refused_in_one_line(
    session: Session, data: bytes, filename: str, message: str
) -> None:
    report = check(session, data, filename=filename, settings=CODE_SETTINGS, now=NOW)
    [error] = report.errors
    assert error.field == "file" and message in str(error.message)


def test_apply_commits_in_chunks_and_reports_progress(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "CHUNK_ROWS", 4)
    run = create_run(session, csv_text(*rows(10)).encode(), filename="b.csv", actor="cli",
                     now=NOW)  # fmt: skip
    session.commit()
    commits: list[int] = []
    progress: list[tuple[int, int]] = []

    def commit() -> None:
        session.commit()
        commits.append(count(session, Bill))

    report = apply_import(session, run.id, now=NOW, settings=CODE_SETTINGS, commit=commit,
                          progress=lambda done, total: progress.append((done, total)))  # fmt: skip
    assert report.created == 10
    assert progress == [(4, 10), (8, 10), (10, 10)]
    assert [n for n in commits if n] == [4, 8, 10, 10]  # each chunk, then the end
    assert session.get_one(ImportRun, run.id).state == ImportState.DONE


class CutOff(Exception):
    pass


def test_a_run_cut_off_half_way_is_completed_by_the_same_file_and_says_so(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "CHUNK_ROWS", 4)
    data = csv_text(*rows(10)).encode()
    first = create_run(session, data, filename="b.csv", actor="cli", now=NOW)
    session.commit()

    def cut(done: int, total: int) -> None:
        raise CutOff

    with pytest.raises(CutOff):
        apply_import(session, first.id, now=NOW, settings=CODE_SETTINGS, commit=session.commit,
                     progress=cut)  # fmt: skip
    session.rollback()
    assert count(session, Bill) == 4
    second = create_run(session, data, filename="b.csv", actor="cli", now=NOW)
    session.commit()
    report = apply_import(session, second.id, now=NOW, settings=CODE_SETTINGS,
                          commit=session.commit)  # fmt: skip
    assert (report.created, report.unchanged) == (6, 4)
    assert report.completes_run_id == first.id
    assert count(session, Bill) == 10
    assert session.get_one(ImportRun, first.id).state == ImportState.SUPERSEDED


def test_each_changed_row_is_audited_with_before_and_after(session: Session) -> None:
    imported(session, csv_text(*rows(3)))
    report = imported(session, csv_text(*rows(2), row(invoice_number="INV-00003", amount="9000")))
    assert report.updated == 1
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "bill.import").order_by(AuditEntry.id)
    ).all()
    assert len(entries) == 4  # three created, one updated, none for the unchanged rows
    last = entries[-1]
    assert last.actor == "cli"
    assert json.loads(last.before or "{}")["amount"] == 150000
    assert json.loads(last.after or "{}")["amount"] == 9000
    assert count(session, PaymentCode) == 3


def test_an_unchanged_reimport_writes_no_audit_entries(session: Session) -> None:
    text = csv_text(*rows(3))
    imported(session, text)
    before = session.scalar(select(func.count(AuditEntry.id)))
    imported(session, text)
    # Only the run's own entry.
    assert session.scalar(select(func.count(AuditEntry.id))) == (before or 0) + 1


def test_between_chunks_the_import_holds_no_write_lock_on_sqlite(
    session: Session, monkeypatch: pytest.MonkeyPatch, database_url_for_tests: str,
    database_kind: str,
) -> None:  # fmt: skip
    """So DOKU's notifications (writers) get their turn during a long import."""
    if database_kind != "sqlite":
        pytest.skip("PostgreSQL locks rows, not the database")
    import sqlite3

    monkeypatch.setattr(imports, "CHUNK_ROWS", 3)
    run = create_run(session, csv_text(*rows(7)).encode(), filename="b.csv", actor="cli",
                     now=NOW)  # fmt: skip
    session.commit()
    other = sqlite3.connect(database_url_for_tests.removeprefix("sqlite:///"), timeout=0)
    writes: list[bool] = []

    def commit() -> None:
        session.commit()
        try:
            other.execute("BEGIN IMMEDIATE")  # what another writer's transaction does
            other.rollback()
            writes.append(True)
        except sqlite3.OperationalError:
            writes.append(False)

    apply_import(session, run.id, now=NOW, settings=CODE_SETTINGS, commit=commit)
    other.close()
    assert len(writes) >= 6 and all(writes)  # check chunks, apply chunks, the end


def test_a_bill_paid_while_the_import_runs_is_not_overwritten(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    imported(session, csv_text(*rows(4)))
    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)
    run = create_run(session, csv_text(*rows(4, amount="99000")).encode(), filename="b.csv",
                     actor="cli", now=NOW)  # fmt: skip
    session.commit()

    def paid_meanwhile(done: int, total: int) -> None:
        if done == 2:  # after the first chunk: the till pays INV-00004
            bill(session, "INV-00004").state = BillState.PAID
            session.commit()

    report = apply_import(session, run.id, now=NOW, settings=CODE_SETTINGS,
                          commit=session.commit, progress=paid_meanwhile)  # fmt: skip
    assert (report.updated, report.conflicts) == (3, 1)
    paid = bill(session, "INV-00004")
    assert (paid.state, paid.amount) == (BillState.PAID, 150000)
