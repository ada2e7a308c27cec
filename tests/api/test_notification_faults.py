"""Races, crashes and a lost database: payments still applied exactly once, nothing lost.

These start the app as real gunicorn server processes on the test database.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.models import Bill, BillState, Payment, ReceivedNotification
from tests.conftest import postgres_url
from tests.factories import (
    NOTIFICATION_TARGET,
    doku_headers,
    inquire,
    make_bill,
    notification_body_for,
    notify,
)
from tests.live import gunicorn
from tests.proxy import TcpProxy

pytestmark = pytest.mark.live


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float = 30) -> int | str:
    """HTTP status, or what went wrong when no answer came."""
    request = urllib.request.Request(
        url + NOTIFICATION_TARGET,
        data=body,
        method="POST",
        headers={**headers, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
        return f"no answer: {error}"


def _payments_per_bill(session: Session) -> Counter[int]:
    session.expire_all()
    return Counter(session.scalars(select(Payment.bill_id)))


def test_simultaneous_duplicates_on_several_processes_give_one_payment_per_bill(
    session: Session, database_url_for_tests: str
) -> None:
    bills = [make_bill(session) for _ in range(5)]
    contested, others = bills[0], bills[1:]
    contested_body = notification_body_for(contested)
    contested_headers = doku_headers(contested_body, target=NOTIFICATION_TARGET, request_id="dup")
    jobs: list[tuple[bytes, dict[str, str]]] = [(contested_body, contested_headers)] * 24
    for bill in others:
        body = notification_body_for(bill)
        # Each of the other bills: three deliveries of its payment with fresh Request-Ids.
        jobs += [(body, doku_headers(body, target=NOTIFICATION_TARGET)) for _ in range(3)]

    with gunicorn(database_url_for_tests, workers=2) as first, \
         gunicorn(database_url_for_tests, workers=2) as second:  # fmt: skip
        start = threading.Barrier(len(jobs))

        def deliver(index: int) -> int | str:
            body, headers = jobs[index]
            start.wait()
            return _post((first, second)[index % 2], body, headers)

        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            statuses = list(pool.map(deliver, range(len(jobs))))

    assert Counter(statuses) == Counter({200: len(jobs)}), statuses
    assert _payments_per_bill(session) == Counter({bill.id: 1 for bill in bills})
    assert session.scalar(select(func.count()).select_from(ReceivedNotification)) == len(jobs)
    outcomes = Counter(session.scalars(select(ReceivedNotification.outcome)))
    assert outcomes == Counter({"applied": 5, "duplicate": len(jobs) - 5})


def _worker_pids(master_pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == master_pid:
                children.append(int(entry.name))
    return children


def _master_pid(port: int) -> int:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().split(b"\0")
                environ = (entry / "environ").read_bytes()
            except OSError:
                continue
            if b"gunicorn" in b" ".join(command) and f"127.0.0.1:{port}".encode() in environ:
                status = (entry / "status").read_text()
                parent = int(
                    next(ln for ln in status.splitlines() if ln.startswith("PPid:")).split()[1]
                )
                if parent == os.getpid():
                    return int(entry.name)
    raise LookupError("gunicorn master not found")


def test_a_worker_killed_mid_stream_loses_no_payment_and_applies_none_twice(
    session: Session, database_url_for_tests: str
) -> None:
    bills = [make_bill(session) for _ in range(40)]
    deliveries = [(bill.id, notification_body_for(bill)) for bill in bills]
    results: dict[int, int | str] = {}
    with gunicorn(database_url_for_tests, workers=2) as url:
        master = _master_pid(urlsplit(url).port or 0)

        def deliver(item: tuple[int, bytes]) -> None:
            bill_id, body = item
            results[bill_id] = _post(url, body, doku_headers(body, target=NOTIFICATION_TARGET))

        with ThreadPoolExecutor(max_workers=6) as pool:
            futures = [pool.submit(deliver, item) for item in deliveries]
            deadline = time.monotonic() + 60
            while len(results) < 10:  # kill a worker once deliveries are under way
                assert not all(f.done() for f in futures), f"deliveries failed: {results}"
                assert time.monotonic() < deadline, f"only {len(results)} answered in 60 s"
                time.sleep(0.005)
            victim = _worker_pids(master)[0]
            os.kill(victim, signal.SIGKILL)
            for future in futures:
                future.result()

        answered = {bill_id for bill_id, status in results.items() if status == 200}
        unanswered = set(results) - answered
        assert all(isinstance(results[b], str) or results[b] >= 500 for b in unanswered), results
        session.expire_all()
        paid = set(session.scalars(select(Payment.bill_id)))
        assert answered <= paid, "a payment acknowledged with 2xx was not applied"
        stored = Counter(session.scalars(select(ReceivedNotification.payment_code)))
        assert len(stored) >= len(answered)
        session.rollback()  # end the read: on SQLite it holds the write lock

        # DOKU re-sends whatever was not acknowledged: each is applied, once.
        for bill_id, body in deliveries:
            if bill_id in unanswered:
                assert _post(url, body, doku_headers(body, target=NOTIFICATION_TARGET)) == 200

    assert _payments_per_bill(session) == Counter({bill.id: 1 for bill in bills})
    session.expire_all()
    assert set(session.scalars(select(Bill.state))) == {BillState.PAID}


def _both_endpoints(client: Any, code: str, body: bytes) -> tuple[int, int]:
    return inquire(client, code).status_code, notify(client, body).status_code


def test_postgresql_lost_and_back_503_then_recovery_without_a_restart(
    make_app: Any, session: Session, database_url_for_tests: str
) -> None:
    if postgres_url() is None:
        pytest.skip("needs PostgreSQL: set TEST_DATABASE_URL (the SQLite variant runs below)")
    bill = make_bill(session)
    body = notification_body_for(bill)
    code = session.scalar(select(Bill).where(Bill.id == bill.id)).current_code.code  # type: ignore[union-attr]
    session.commit()
    real = make_url(database_url_for_tests)
    proxy = TcpProxy(real.host or "127.0.0.1", real.port or 5432)
    proxy.start()
    try:
        proxied = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        client = make_app(SQLALCHEMY_DATABASE_URI=proxied).test_client()
        assert inquire(client, code).status_code == 200
        proxy.stop()
        assert _both_endpoints(client, code, body) == (503, 503)
        proxy.start()
        assert _both_endpoints(client, code, body) == (200, 200)
    finally:
        proxy.stop()
    assert _payments_per_bill(session) == Counter({bill.id: 1})


def test_sqlite_file_missing_503_then_recovery_once_it_exists(
    make_app: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "data"
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder}/portal.sqlite3")
    client = app.test_client()
    with app.app_context():
        assert _both_endpoints(client, "8896000000000000", b"{}") == (503, 503)
        folder.mkdir()
        upgrade()
        bill = make_bill(db.session)
        body = notification_body_for(bill)
        code = db.session.scalar(select(Bill)).current_code.code  # type: ignore[union-attr]
        db.session.commit()
        assert _both_endpoints(client, code, body) == (200, 200)
        db.session.remove()
