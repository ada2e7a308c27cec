"""Login and reset-link requests are rate-limited per account and per address (429 page)."""

from __future__ import annotations

import socket
import time
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from portal.extensions import limiter
from tests.policyholder.conftest import csrf_token, log_in, make_holder, page_text


def test_an_address_guessing_one_account_is_paused_but_the_owner_still_gets_in(
    client: FlaskClient, other_client: FlaskClient, session: Session
) -> None:
    holder = make_holder(session)  # LOGIN_LIMIT_PER_ACCOUNT: 5 per 10 minutes (per address)
    pages = [page_text(log_in(client, holder.email, "wrong-password")) for _ in range(5)]
    assert "3 percobaan lagi sebelum jeda." in pages[1]
    assert "1 percobaan lagi sebelum jeda." in pages[3]
    response = log_in(client, holder.email, holder.password)  # this address now waits
    assert response.status_code == 429
    html = page_text(response)
    assert "Terlalu banyak percobaan" in html and "tunggu 10 menit" in html
    assert 'href="/forgot"' in html
    assert "Traceback" not in html
    assert client.get("/").status_code == 302
    # The owner, from their own address, is not locked out by someone else's guesses.
    owner = other_client.post(
        "/login",
        data={"csrf_token": csrf_token(other_client), "email": holder.email.upper(),
              "password": holder.password},
        environ_base={"REMOTE_ADDR": "10.9.8.7"},
    )  # fmt: skip
    assert owner.status_code == 302


def test_the_waits_grow_with_repeated_failures(
    make_app: Any, app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    strict = make_app(LOGIN_LIMIT_PER_ACCOUNT="2 per minute; 3 per hour")
    limiter.reset()
    holder = make_holder(session)
    client = strict.test_client()
    for _ in range(2):
        log_in(client, holder.email, "wrong-password")
    first = log_in(client, holder.email, holder.password)
    assert first.status_code == 429 and "tunggu 1 menit" in page_text(first)
    # Two minutes later the minute's window is over, the hour's is not: one more failure
    # and the wait is the rest of the hour.
    later = time.time() + 120
    monkeypatch.setattr(time, "time", lambda: later)
    log_in(client, holder.email, "wrong-password")
    second = log_in(client, holder.email, holder.password)
    assert second.status_code == 429
    assert "tunggu 58 menit" in page_text(second) or "tunggu 1 jam" in page_text(second)


def test_failed_logins_from_one_address_are_stopped_across_accounts(
    make_app: Any, app: Flask, session: Session
) -> None:
    strict = make_app(LOGIN_LIMIT_PER_ADDRESS="3 per 10 minutes")
    limiter.reset()
    client = strict.test_client()
    holder = make_holder(session)
    for n in range(3):
        assert log_in(client, f"guess{n}@example.com", "wrong-password").status_code == 200
    assert log_in(client, holder.email, holder.password).status_code == 429
    # Another address is not affected.
    other = strict.test_client()
    response = other.post(
        "/login",
        data={"csrf_token": csrf_token(other), "email": holder.email, "password": holder.password},
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    assert response.status_code == 302


def test_successful_logins_do_not_count_towards_the_limits(
    client: FlaskClient, session: Session
) -> None:
    holder = make_holder(session)
    for _ in range(7):
        assert log_in(client, holder.email).status_code == 302
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})


def test_the_429_page_speaks_the_chosen_language(client: FlaskClient, session: Session) -> None:
    holder = make_holder(session)
    client.set_cookie("lang", "en")
    for _ in range(5):
        log_in(client, holder.email, "wrong-password")
    response = log_in(client, holder.email, "wrong-password")
    assert response.status_code == 429
    assert "Too many attempts" in page_text(response)
    assert "wait 10 minutes" in page_text(response)


def test_reset_link_requests_are_limited_per_account(client: FlaskClient, session: Session) -> None:
    make_holder(session)
    statuses = [
        client.post(
            "/forgot",
            data={"csrf_token": csrf_token(client, "/forgot"), "email": "budi@example.com"},
        ).status_code
        for _ in range(6)
    ]
    assert statuses == [200] * 5 + [429]


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def test_two_deployments_sharing_one_redis_keep_their_own_login_counts(
    make_app: Any, app: Flask, session: Session
) -> None:
    if not _redis_answers():
        pytest.skip("needs Redis at 127.0.0.1:6379, the storage both deployments share")
    holder = make_holder(session)
    shared = {"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
              "LOGIN_LIMIT_PER_ACCOUNT": "2 per 10 minutes"}  # fmt: skip
    first = make_app(RATELIMIT_KEY_PREFIX=f"first-{uuid.uuid4().hex}", **shared)
    first_client = first.test_client()
    for _ in range(2):
        log_in(first_client, holder.email, "wrong-password")
    assert log_in(first_client, holder.email, holder.password).status_code == 429
    second = make_app(RATELIMIT_KEY_PREFIX=f"second-{uuid.uuid4().hex}", **shared)
    assert log_in(second.test_client(), holder.email, holder.password).status_code == 302
