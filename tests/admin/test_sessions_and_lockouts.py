"""Staff sessions end on the server (logout, idle time, age, a disabled account); login
limits stop the guesser, not the account's owner nor an office sharing one address."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from portal.models import ReceiptDefaults, StaffUser
from tests.admin.conftest import PASSWORD, csrf_token, post, text


def _login(client: FlaskClient, email: str, password: str, address: str = "127.0.0.1") -> Any:
    return post(
        client, "/admin/login", {"email": email, "password": password},
        token_from="/admin/login", environ_base={"REMOTE_ADDR": address},
    )  # fmt: skip


def _copied_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("admin_session", path="/admin")
    assert cookie is not None
    return cookie.value


def _with_cookie(app: Flask, value: str) -> FlaskClient:
    thief = app.test_client()
    thief.set_cookie("admin_session", value, path="/admin")
    return thief


def test_a_copied_session_cookie_stops_working_at_logout(
    client: FlaskClient, admin: StaffUser, app: Flask, session: Session
) -> None:
    assert _login(client, admin.email, PASSWORD).status_code == 302
    token = csrf_token(client)  # the form token of this very session, as a thief would have
    copied = _copied_cookie(client)
    assert _with_cookie(app, copied).get("/admin/bills").status_code == 200
    post(client, "/admin/logout")
    replay = _with_cookie(app, copied)
    assert replay.get("/admin/bills").status_code == 302  # to the login
    refused = replay.post(
        "/admin/receipt", data={"csrf_token": token, "info": "Hacked", "footer_message": "x"}
    )
    assert refused.status_code == 302 and "/admin/login" in refused.headers["Location"]
    assert session.get(ReceiptDefaults, 1) is None  # nothing was saved


def test_an_idle_staff_session_ends(
    client: FlaskClient, admin: StaffUser, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _login(client, admin.email, PASSWORD).status_code == 302
    assert client.get("/admin/bills").status_code == 200
    later = time.time() + app.config["STAFF_IDLE_MINUTES"] * 60 + 5
    monkeypatch.setattr(time, "time", lambda: later)
    response = client.get("/admin/bills")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_a_busy_staff_session_still_ends_at_its_absolute_lifetime(
    client: FlaskClient, admin: StaffUser, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _login(client, admin.email, PASSWORD).status_code == 302
    start = time.time()
    step = app.config["STAFF_IDLE_MINUTES"] * 60 - 60  # always active, never idle
    hours = app.config["STAFF_SESSION_HOURS"]
    moment = start
    statuses = []
    while moment < start + hours * 3600 + step:
        moment += step
        monkeypatch.setattr(time, "time", lambda at=moment: at)
        statuses.append(client.get("/admin/bills").status_code)
    assert statuses[0] == 200 and statuses[-1] == 302


def test_disabling_a_staff_account_ends_its_sessions_at_once(
    client: FlaskClient, admin: StaffUser, runner: Any, session: Session
) -> None:
    assert _login(client, admin.email, PASSWORD).status_code == 302
    assert client.get("/admin/bills").status_code == 200
    result = runner.invoke(args=["admin", "disable", admin.email])
    assert result.exit_code == 0, result.output
    assert client.get("/admin/bills").status_code == 302
    assert _login(client, admin.email, PASSWORD).status_code == 200  # cannot log in either
    assert runner.invoke(args=["admin", "enable", admin.email]).exit_code == 0
    assert _login(client, admin.email, PASSWORD).status_code == 302


def test_successful_logins_from_one_office_address_never_count(
    client: FlaskClient, admin: StaffUser, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ADDRESS", "3 per 10 minutes")
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "3 per 10 minutes")
    for _ in range(6):
        assert _login(client, admin.email, PASSWORD, "10.0.0.9").status_code == 302
        post(client, "/admin/logout")


def test_a_guesser_is_paused_but_the_owner_logs_in_from_elsewhere(
    client: FlaskClient, admin: StaffUser, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "3 per 10 minutes")
    pages = [text(_login(client, admin.email, "wrong", "198.51.100.66")) for _ in range(3)]
    assert "2 attempts left before a pause." in pages[0]
    assert "1 attempt left before a pause." in pages[1]
    locked = _login(client, admin.email, PASSWORD, "198.51.100.66")
    assert locked.status_code == 429
    assert "Wait 10 minutes and try again" in text(locked)
    assert "flask admin password" in text(locked)
    owner = app.test_client()
    assert _login(owner, admin.email, PASSWORD, "10.0.0.9").status_code == 302
