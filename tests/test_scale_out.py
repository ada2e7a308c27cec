"""Two app servers on one PostgreSQL and one Redis behave as one: a login rate limit counted
on one server holds on the other, and a payment applied through one is known to the other."""

from __future__ import annotations

import http.cookiejar
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import Payment
from portal.services.accounts.credentials import set_password
from tests.conftest import postgres_url
from tests.factories import doku_headers, inquiry_body, live_code, make_bill, notification_body_for
from tests.live import gunicorn

pytestmark = pytest.mark.live

REDIS = ("127.0.0.1", 6379)


def _redis_answers() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def shared_services() -> None:
    if postgres_url() is None:
        pytest.skip("needs PostgreSQL shared by both servers: set TEST_DATABASE_URL")
    if not _redis_answers():
        pytest.skip("needs Redis at 127.0.0.1:6379 for the shared rate-limit counters")


def _browser() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )


def _failed_login(opener: urllib.request.OpenerDirector, url: str, email: str) -> int:
    """GET the form (for its CSRF token), POST a wrong password; returns the HTTP status."""
    with opener.open(url + "/login", timeout=10) as page:
        html = page.read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert token, "the login form carries a CSRF token"
    data = urllib.parse.urlencode(
        {"csrf_token": token.group(1), "email": email, "password": "wrong password 123"}
    ).encode()
    try:
        with opener.open(urllib.request.Request(url + "/login", data=data), timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def _post(url: str, path: str, body: bytes) -> tuple[int, bytes]:
    request = urllib.request.Request(url + path, data=body, headers=doku_headers(body, target=path))
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status), answer.read()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read()


def test_two_servers_share_a_login_rate_limit_and_a_payment(
    shared_services: None, session: Session, database_url_for_tests: str
) -> None:
    bill = make_bill(session)
    holder = bill.policy.policyholder
    set_password(holder, "the right password 1", now=datetime.now(UTC))
    email = holder.email
    code = live_code(bill)  # commits
    notification = notification_body_for(bill)
    shared = {
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
        "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        "LOGIN_LIMIT_PER_ACCOUNT": "3 per 10 minutes",
        "LOGIN_LIMIT_PER_ADDRESS": "100 per 10 minutes",
    }
    with gunicorn(database_url_for_tests, workers=2, **shared) as first, \
         gunicorn(database_url_for_tests, workers=2, **shared) as second:  # fmt: skip
        opener = _browser()
        statuses = [_failed_login(opener, url, email) for url in (first, second, first)]
        assert 429 not in statuses, statuses  # three failures allowed, spread over both
        assert _failed_login(opener, second, email) == 429  # the fourth, on either server
        assert _failed_login(opener, first, email) == 429

        assert _post(first, "/doku/notification", notification)[0] == 200
        status, answer = _post(second, "/doku/notification", notification)
        assert (status, b'"duplicate"' in answer) == (200, True)
        status, answer = _post(second, "/doku/inquiry", inquiry_body(code))
        assert (status, b"billing_already_paid" in answer) == (400, True)
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Payment)) == 1
