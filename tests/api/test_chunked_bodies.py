"""Chunked bodies (no Content-Length) on real gunicorn: too long is 413, never a truncated
body checked as if it were the message; within the limit it is read whole."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from portal.models import Payment, ReceivedNotification
from tests.factories import NOTIFICATION_TARGET, doku_headers, make_bill, notification_body_for
from tests.live import gunicorn

pytestmark = pytest.mark.live


def _chunks(body: bytes, size: int = 1000) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def _post_chunked(url: str, path: str, body: bytes, headers: dict[str, str]) -> Any:
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request("POST", path, body=_chunks(body), encode_chunked=True,
                       headers={**headers, "Content-Type": "application/json"})  # fmt: skip
    response = connection.getresponse()
    answer = (response.status, response.read(), dict(response.getheaders()))
    connection.close()
    return answer


def test_an_oversized_chunked_body_is_413_and_a_whole_one_is_applied(
    session: Session, database_url_for_tests: str
) -> None:
    bill = make_bill(session)
    body = notification_body_for(bill)
    session.commit()
    # Signed over the first 16 KiB only: a server that truncates would find it valid.
    padded = body[:-1] + b', "padding": "' + b"x" * (17 * 1024) + b'"}'
    truncated_signature = doku_headers(padded[: 16 * 1024], target=NOTIFICATION_TARGET)
    with gunicorn(database_url_for_tests, workers=1) as url:
        for path in (NOTIFICATION_TARGET, "/doku/inquiry"):
            status, answer, _ = _post_chunked(url, path, padded, truncated_signature)
            assert status == 413, (path, answer)
        status, answer, _ = _post_chunked(
            url, NOTIFICATION_TARGET, body, doku_headers(body, target=NOTIFICATION_TARGET)
        )
        assert status == 200, answer
    session.expire_all()
    assert session.scalar(select(func.count(Payment.id))) == 1
    assert session.scalar(select(func.count(ReceivedNotification.id))) == 1  # nothing else


def test_the_development_server_answers_at_once_a_body_with_a_content_length(
    make_app: Any, app: Any
) -> None:
    """``flask run`` hands over the raw socket: reading past Content-Length would wait for
    bytes that never come (the demo's `flask doku pay` timed out so)."""
    server = make_server("127.0.0.1", 0, make_app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        connection = http.client.HTTPConnection(str(host), int(port), timeout=5)
        started = time.monotonic()
        connection.request("POST", "/doku/inquiry", body=b"{}",
                           headers={"Content-Type": "application/json"})  # fmt: skip
        response = connection.getresponse()
        response.read()
        connection.close()
    finally:
        server.shutdown()
    assert response.status == 401
    assert time.monotonic() - started < 3
