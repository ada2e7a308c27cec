"""The daily cycle with real processes: the app under gunicorn, the job consumer, an SMTP
server and the `flask` commands operations staff run. Import, a payment at the till, its
receipt by email, the same file again, a code passing its expiry, the file again, the
payments feed twice (each payment once)."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Bill, BillState
from tests.factories import NOTIFICATION_TARGET, doku_headers, notification_body_for
from tests.live import ROOT, gunicorn, job_consumer, server_environment
from tests.services.test_bill_import import csv_text, row
from tests.smtp import smtp_server

pytestmark = pytest.mark.live


def _wait_until(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.2)
    return bool(condition())  # type: ignore[operator]


def test_the_daily_cycle_with_the_app_the_consumer_and_a_mail_server(
    session: Session, database_url_for_tests: str, tmp_path: Path
) -> None:
    due = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
    daily = tmp_path / "bills.csv"
    queue = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    with smtp_server() as inbox:
        mail = {"JOBS_URL": queue, "MAIL_SERVER": inbox.host, "MAIL_PORT": str(inbox.port)}
        env = server_environment(database_url_for_tests, **mail)

        def flask(*args: str) -> str:
            done = subprocess.run(
                [sys.executable, "-m", "flask", "--app", "wsgi", *args],
                cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            assert done.returncode == 0, done.stdout + done.stderr
            return done.stdout + done.stderr

        with gunicorn(database_url_for_tests, workers=2, **mail) as url, \
             job_consumer(database_url_for_tests, **mail):  # fmt: skip
            # Written once the servers are up, so a slow start cannot make the expiry past.
            expiring = (datetime.now(UTC) + timedelta(seconds=15)).replace(microsecond=0)
            daily.write_text(csv_text(
                row(invoice_number="INV-LIVE-A", due_date=due),
                row(invoice_number="INV-LIVE-B", due_date=due, expires_at=expiring.isoformat()),
            ), encoding="utf-8")  # fmt: skip
            assert "created 2, updated 0, unchanged 0" in flask("bills", "import", str(daily))

            # Paid at the till: DOKU's notification reaches the app.
            bill = session.scalars(select(Bill).where(Bill.invoice_number == "INV-LIVE-A")).one()
            body = notification_body_for(bill)  # commits the session's read
            request = urllib.request.Request(
                url + NOTIFICATION_TARGET, data=body,
                headers=doku_headers(body, target=NOTIFICATION_TARGET),
            )  # fmt: skip
            with urllib.request.urlopen(request, timeout=10) as answer:
                assert answer.status == 200

            # The receipt goes out through the queue: the consumer sends it.
            assert "Queued" in flask("notify", "due", "--queue")
            assert _wait_until(lambda: any(
                "INV-LIVE-A" in str(m["Subject"]) for m in inbox.messages), 30)  # fmt: skip

            again = flask("bills", "import", str(daily))
            assert "created 0, updated 0, unchanged 2" in again and "paid_unchanged" in again

            # INV-LIVE-B's code expires; the same file again changes nothing.
            assert _wait_until(lambda: datetime.now(UTC) > expiring, 30)
            later = flask("bills", "import", str(daily))
            assert "created 0, updated 0, unchanged 2, skipped 0, conflicts 0" in later

            first = tmp_path / "feed-1.csv"
            flask("payments", "export", "--since-last", "--output", str(first))
            rows = list(csv.DictReader(io.StringIO(first.read_text(encoding="utf-8-sig"))))
            assert [r["invoice_number"] for r in rows] == ["INV-LIVE-A"]
            assert "No new payments" in flask(
                "payments", "export", "--since-last", "--output", str(tmp_path / "feed-2.csv")
            )
    session.expire_all()
    states = dict(session.execute(select(Bill.invoice_number, Bill.state)).all())
    assert states == {"INV-LIVE-A": BillState.PAID, "INV-LIVE-B": BillState.UNPAID}
    session.commit()
