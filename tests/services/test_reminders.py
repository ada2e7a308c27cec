"""Receipts and reminders by email: which go out, in which language, and only once, even
when two runs of ``flask notify due`` overlap. Mail goes to a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from portal.models import BillState
from portal.services.billing.payability import PayabilityRules
from portal.services.billing.payment_codes import WIB
from portal.services.contact import InsurerContact
from portal.services.mail.reminders import (
    Notice,
    NoticeKind,
    ReminderSettings,
    claim,
    compose,
    due_notices,
)
from portal.services.traffic.payments import PaymentReport, apply_report
from tests.factories import live_code, make_bill
from tests.live import ROOT, server_environment
from tests.smtp import smtp_server

NOW = datetime.now(UTC)
TODAY = NOW.astimezone(WIB).date()
SETTINGS = ReminderSettings(
    days_before_due=3,
    days_before_expiry=2,
    payability=PayabilityRules(
        min_amount=10_000,
        max_amount=5_000_000,
        policy_statuses=("aktif", "lapse"),
        payable_statuses=frozenset({"aktif"}),
    ),
)


def _kinds(session: Session) -> set[tuple[str, str]]:
    return {
        (n.kind.value, n.invoice_number) for n in due_notices(session, now=NOW, settings=SETTINGS)
    }


def _pay(session: Session, bill: Any) -> None:
    report = PaymentReport(
        status="SUCCESS", paid_at=NOW, invoice_number=bill.invoice_number, amount=bill.amount,
        payment_code=live_code(bill), transaction_date="t",
    )  # fmt: skip
    apply_report(session, report, now=NOW)
    session.commit()


def test_which_bills_get_which_notice(session: Session) -> None:
    far = NOW + timedelta(days=60)
    soon = make_bill(session, due_date=TODAY + timedelta(days=2), expires_at=far)
    later = make_bill(session, due_date=TODAY + timedelta(days=10), expires_at=far)
    expiring = make_bill(
        session, due_date=TODAY + timedelta(days=30), expires_at=NOW + timedelta(days=1)
    )
    cancelled = make_bill(
        session, due_date=TODAY + timedelta(days=1), state=BillState.CANCELLED, expires_at=far
    )
    paid = make_bill(session, due_date=TODAY + timedelta(days=1), expires_at=far)
    _pay(session, paid)
    kinds = _kinds(session)
    assert ("due_soon", soon.invoice_number) in kinds
    assert ("code_expiring", expiring.invoice_number) in kinds
    assert ("payment_received", paid.invoice_number) in kinds
    assert not {k for k in kinds if k[1] in (later.invoice_number, cancelled.invoice_number)}
    assert ("due_soon", paid.invoice_number) not in kinds


def test_a_claimed_notice_is_not_due_again_and_cannot_be_claimed_twice(session: Session) -> None:
    bill = make_bill(session, due_date=TODAY + timedelta(days=1))
    [notice] = [
        n for n in due_notices(session, now=NOW, settings=SETTINGS) if n.kind is NoticeKind.DUE_SOON
    ]
    assert claim(session, notice, now=NOW) is True
    assert claim(session, notice, now=NOW) is False
    session.commit()
    assert ("due_soon", bill.invoice_number) not in _kinds(session)


def _run_notify(database_url: str, port: int) -> subprocess.CompletedProcess[bytes]:
    env = server_environment(database_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=str(port))
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "notify", "due"],
        cwd=ROOT, env=env, capture_output=True, timeout=120,
    )  # fmt: skip


def test_two_overlapping_runs_send_each_email_once_in_the_policyholders_language(
    session: Session, database_url_for_tests: str
) -> None:
    indonesian = make_bill(session, due_date=TODAY + timedelta(days=2), customer_name="Siti Rahayu")
    english = make_bill(session, due_date=TODAY + timedelta(days=2), customer_name="John Smith")
    english.policy.policyholder.language = "en"
    addresses = {indonesian.policy.policyholder.email, english.policy.policyholder.email}
    session.commit()
    with smtp_server() as inbox:
        env_runs = [
            subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "notify", "due"],
                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                env=server_environment(database_url_for_tests, MAIL_SERVER="127.0.0.1",
                                       MAIL_PORT=str(inbox.port)),
            )
            for _ in range(2)
        ]  # fmt: skip
        for run in env_runs:
            _, err = run.communicate(timeout=120)
            assert run.returncode == 0, err.decode()
        again = _run_notify(database_url_for_tests, inbox.port)
    assert b"Sent 0 email(s)" in again.stdout
    subjects = sorted((m["To"], m["Subject"]) for m in inbox.messages)
    assert len(subjects) == 2, subjects
    assert {to for to, _ in subjects} == addresses
    by_address = {m["To"]: m for m in inbox.messages}
    assert by_address[indonesian.policy.policyholder.email]["Subject"].startswith(
        "Premi jatuh tempo"
    )
    assert by_address[english.policy.policyholder.email]["Subject"].startswith("Premium due")
    english_text = by_address[english.policy.policyholder.email].get_body(("plain",))
    assert "Alfamart" in english_text.get_content()
    assert by_address[english.policy.policyholder.email].get_body(("html",)) is not None


def test_a_failed_send_is_retried_by_the_next_run(
    session: Session, database_url_for_tests: str
) -> None:
    make_bill(session, due_date=TODAY + timedelta(days=1))
    session.commit()
    failed = _run_notify(database_url_for_tests, port=9)  # nothing listens there
    assert failed.returncode == 1
    assert b"not sent" in failed.stderr
    with smtp_server() as inbox:
        assert _run_notify(database_url_for_tests, inbox.port).returncode == 0
    assert [m["Subject"].startswith("Premi jatuh tempo") for m in inbox.messages] == [True]


INSURER = InsurerContact(
    name="PT Asuransi Demo Sejahtera", phone="1500-123", email="layanan@asuransi-demo.example",
    whatsapp="+62 811-1500-123", licence="Berizin dan diawasi oleh OJK",
)  # fmt: skip
BASE = "https://premi.example.co.id/"


def _notice(kind: NoticeKind, **extra: Any) -> Notice:
    values: dict[str, Any] = {
        "kind": kind, "bill_id": 41, "email": "budi@example.com", "name": "Budi Santoso",
        "language": "id", "invoice_number": "INV-7", "amount": 150_000,
        "payment_code": "8896469706801443", "due_date": None, "expires_at": None,
        "policy_number": "9090900001", "policy_type": "Dana Pendidikan",
    }  # fmt: skip
    values.update(extra)
    return Notice(**values)


def test_a_reminder_is_a_branded_html_email_with_plain_text_link_and_words_for_time() -> None:
    moment = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    expires = moment + timedelta(days=7, hours=5)
    email = compose(_notice(NoticeKind.CODE_EXPIRING, expires_at=expires),
                    base_url=BASE, insurer=INSURER, now=moment)  # fmt: skip
    assert email.subject == "Kode bayar Anda segera berakhir"
    assert email.html is not None
    for part in (email.text, email.html):
        assert "8896 4697 0680 1443" in part and "Rp 150.000" in part
        assert "8 Desember 2026, 14.00 WIB" in part  # as the portal writes it
        assert "7 hari lagi" in part and "jam" not in part  # not "173 jam"
        assert "https://premi.example.co.id/bills/41" in part
        assert "Dana Pendidikan 9090900001" in part
        assert "PT Asuransi Demo Sejahtera" in part and "1500-123" in part
        assert "+62 811-1500-123" in part and "Berizin dan diawasi oleh OJK" in part
    assert email.html.startswith("<!doctype html>") and 'lang="id"' in email.html


def test_a_due_reminder_in_english_counts_the_days_to_the_due_date() -> None:
    moment = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    email = compose(
        _notice(NoticeKind.DUE_SOON, language="en", due_date=date(2026, 12, 4)),
        base_url=BASE, insurer=INSURER, now=moment,
    )  # fmt: skip
    assert email.subject == "Premium due 4 December 2026"
    assert "is due on 4 December 2026 (3 days)" in email.text
    assert "How to pay:\nhttps://premi.example.co.id/bills/41" in email.text


def test_a_receipt_email_names_the_policy_the_chain_and_the_store_and_links_the_receipt() -> None:
    paid = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
    email = compose(
        _notice(NoticeKind.PAYMENT_RECEIVED, paid_at=paid, payment_id=9, agent_id="ALFAMIDI",
                store="TZ01", reference="ALFA-20261128-TZ01-00012345"),
        base_url=BASE, insurer=INSURER, now=paid,
    )  # fmt: skip
    assert email.subject == "Pembayaran diterima: INV-7"
    assert email.html is not None
    for part in (email.text, email.html):
        assert "28 November 2026, 10.00 WIB" in part
        assert "Alfamidi (toko TZ01)" in part and "ALFAMIDI" not in part
        assert "Dana Pendidikan 9090900001" in part
        assert "…00012345" in part
        assert "https://premi.example.co.id/payments/9" in part


def test_what_the_email_quotes_is_escaped_in_its_html() -> None:
    email = compose(
        _notice(NoticeKind.CODE_EXPIRING, name="<b>Budi</b> & co",
                expires_at=datetime(2026, 12, 9, tzinfo=UTC)),
        base_url=BASE, insurer=INSURER, now=datetime(2026, 12, 1, tzinfo=UTC),
    )  # fmt: skip
    assert email.html is not None
    assert "<b>Budi</b>" not in email.html and "&lt;b&gt;Budi&lt;/b&gt; &amp; co" in email.html
    assert "Halo <b>Budi</b> & co," in email.text
