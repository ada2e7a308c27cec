"""Badly signed requests cannot fill the database: refused deliveries are kept small, a peer
that keeps failing is answered 429 unseen, and `flask doku prune` ages traffic out (never
payments or authenticated notifications)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.extensions import limiter
from portal.models import Inquiry, Payment, ReceivedNotification
from tests.factories import (
    CLIENT_ID,
    INQUIRY_TARGET,
    NOTIFICATION_TARGET,
    inquiry_body,
    make_bill,
    notification_body_for,
    notify,
)

HUGE_HEADERS = {f"X-Padding-{i}": "p" * 200 for i in range(90)}


def _unsigned(client: FlaskClient, target: str, body: bytes, request_id: str) -> Any:
    headers = {
        "Client-Id": CLIENT_ID,
        "Request-Id": request_id,
        "Request-Timestamp": "2026-12-01T00:00:00Z",
        "Signature": "HMACSHA256=bm90IGEgc2lnbmF0dXJl",
        **HUGE_HEADERS,
    }
    return client.post(target, data=body, headers=headers, content_type="application/json")


def test_a_flood_of_large_unsigned_notifications_keeps_a_few_hundred_bytes_each(
    client: FlaskClient, session: Session
) -> None:
    body = b'{"order": {"invoice_number": "' + b"A" * (16 * 1024 - 40) + b'"}}'
    for n in range(40):
        assert _unsigned(client, NOTIFICATION_TARGET, body, f"flood-{n}").status_code == 401
    session.expire_all()
    rows = list(session.scalars(select(ReceivedNotification).order_by(ReceivedNotification.id)))
    assert len(rows) == 40
    stored = sum(len(r.body) + len(r.headers) + len(r.response_body or "") for r in rows)
    assert stored < 40 * 600, stored  # not 40 x (16 KiB + 18 KiB of headers)
    row = rows[0]
    assert row.headers == "{}"
    assert row.body_bytes == len(body)
    assert row.body_sha256 == hashlib.sha256(body).hexdigest()
    assert body.startswith(row.body.encode()) and 0 < len(row.body) <= 256
    assert (row.client_id, row.request_id, row.remote_addr) == (CLIENT_ID, "flood-0", "127.0.0.1")
    assert row.error == "Signature does not match."


def test_a_peer_over_its_failure_budget_is_answered_429_and_nothing_more_is_kept(
    make_app: Any, session: Session
) -> None:
    app = make_app(DOKU_AUTH_FAILURE_LIMIT="3 per minute")
    limiter.reset()
    client = app.test_client()
    bill = make_bill(session)
    body = notification_body_for(bill)
    answers = [_unsigned(client, NOTIFICATION_TARGET, body, f"bad-{n}").status_code
               for n in range(6)]  # fmt: skip
    assert answers == [401, 401, 401, 429, 429, 429]
    inquiry = _unsigned(client, INQUIRY_TARGET, inquiry_body("8896000000000000"), "bad-inq")
    assert inquiry.status_code == 429
    assert inquiry.headers["Request-Id"] == "bad-inq"  # still answered as DOKU expects
    session.expire_all()
    assert session.scalar(select(func.count(ReceivedNotification.id))) == 3
    session.commit()  # on SQLite a transaction holds the write lock: let the app write
    # Only failures count: DOKU's genuine notification from the same address goes through.
    assert notify(client, body).status_code == 200
    session.expire_all()
    assert session.scalar(select(func.count(Payment.id))) == 1
    limiter.reset()


def test_prune_drops_old_refused_deliveries_and_inquiries_but_never_payments(
    client: FlaskClient, session: Session, runner: Any
) -> None:
    bill = make_bill(session)
    assert notify(client, notification_body_for(bill)).status_code == 200  # applied, kept
    _unsigned(client, NOTIFICATION_TARGET, b"{}", "old-refused")
    _unsigned(client, NOTIFICATION_TARGET, b"{}", "new-refused")
    session.add(Inquiry(received_at=datetime.now(UTC) - timedelta(days=120), client_id=CLIENT_ID,
                        request_id="old-inquiry", request_timestamp="x", request_sha256="0" * 64,
                        verdict="success", http_status=200, request_body="{}",
                        response_body="{}"))  # fmt: skip
    session.commit()
    long_ago = datetime.now(UTC) - timedelta(days=120)
    session.execute(
        ReceivedNotification.__table__.update()
        .where(ReceivedNotification.request_id.in_(["old-refused"]))
        .values(received_at=long_ago)
    )
    # The applied delivery is as old: it is the record of money received and stays.
    session.execute(
        ReceivedNotification.__table__.update()
        .where(ReceivedNotification.verdict == "authenticated")
        .values(received_at=long_ago)
    )
    session.commit()
    result = runner.invoke(args=["doku", "prune", "--older-than", "90d"])
    assert result.exit_code == 0, result.output
    assert "Deleted 1 refused deliveries and 1 inquiry records" in result.output
    session.expire_all()
    kept = set(session.scalars(select(ReceivedNotification.request_id)))
    assert "old-refused" not in kept and "new-refused" in kept
    assert session.scalar(
        select(func.count(ReceivedNotification.id)).where(
            ReceivedNotification.verdict == "authenticated"
        )
    ) == 1
    assert session.scalar(select(func.count(Payment.id))) == 1
    assert session.scalar(select(Inquiry.id).where(Inquiry.request_id == "old-inquiry")) is None


def test_the_nightly_prune_job_ages_refused_deliveries_out(
    client: FlaskClient, session: Session, app: Any
) -> None:
    from portal.extensions import jobs

    _unsigned(client, NOTIFICATION_TARGET, b"{}", "ancient")
    days = app.config["DOKU_TRAFFIC_RETENTION_DAYS"] + 1
    session.execute(
        ReceivedNotification.__table__.update().values(
            received_at=datetime.now(UTC) - timedelta(days=days)
        )
    )
    session.commit()
    with app.app_context():
        prune = jobs.state(app).tasks["doku.prune"]
        jobs.huey(app).execute(prune.s())
    session.expire_all()
    assert session.scalar(select(func.count(ReceivedNotification.id))) == 0
