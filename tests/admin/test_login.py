"""Staff login: who gets in, rate limits, separate sessions, CSRF."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from portal.models import Policyholder, StaffUser
from tests.admin.conftest import PASSWORD, csrf_token, log_in, post, text


def _login(client: FlaskClient, email: str, password: str, query: str = "") -> Any:
    return post(
        client,
        "/admin/login" + query,
        {"email": email, "password": password},
        token_from="/admin/login",
    )


def test_anonymous_visitor_is_sent_to_the_staff_login(client: FlaskClient) -> None:
    response = client.get("/admin/bills")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login?next=")


def test_staff_logs_in_with_email_and_password_and_lands_on_the_dashboard(
    client: FlaskClient, admin: StaffUser
) -> None:
    response = _login(client, "  ADMIN@insurer.example ", PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    page = client.get("/admin/")
    assert page.status_code == 200
    assert "Unpaid" in text(page)
    assert "admin@insurer.example" in text(page)


def test_login_goes_back_to_the_page_asked_for_but_never_off_site(
    client: FlaskClient, admin: StaffUser
) -> None:
    assert (
        _login(client, admin.email, PASSWORD, "?next=/admin/bills?q=x").headers["Location"]
        == "/admin/bills?q=x"
    )
    client.post("/admin/logout", data={"csrf_token": csrf_token(client) or ""})
    for target in ("//evil.example/admin", "https://evil.example/admin/", "/account", "/\\evil"):
        response = _login(client, admin.email, PASSWORD, f"?next={target}")
        assert response.headers["Location"] == "/admin/", target
        client.post("/admin/logout", data={"csrf_token": csrf_token(client) or ""})


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(
    client: FlaskClient, admin: StaffUser
) -> None:
    response = _login(client, admin.email, "not the password")
    assert response.status_code == 200
    assert "Wrong email or password." in text(response)
    assert client.get("/admin/").status_code == 302
    unknown = _login(client, "nobody@insurer.example", PASSWORD)
    assert "Wrong email or password." in text(unknown)


def test_deactivated_staff_cannot_log_in(
    client: FlaskClient, admin: StaffUser, session: Session
) -> None:
    admin.active = False
    session.commit()
    assert "Wrong email or password." in text(_login(client, admin.email, PASSWORD))


def test_logout_ends_the_staff_session(admin_client: FlaskClient) -> None:
    assert admin_client.get("/admin/").status_code == 200
    response = post(admin_client, "/admin/logout")
    assert response.headers["Location"] == "/admin/login"
    assert admin_client.get("/admin/").status_code == 302


def test_a_password_change_ends_existing_staff_sessions(
    admin_client: FlaskClient, admin: StaffUser, session: Session
) -> None:
    admin.session_version += 1
    session.commit()
    assert admin_client.get("/admin/").status_code == 302


def test_a_logged_in_policyholder_is_sent_to_the_staff_login(
    client: FlaskClient, session: Session
) -> None:
    holder = Policyholder(name="Siti", email="siti@example.com", password_hash="x")
    session.add(holder)
    session.commit()
    with client.session_transaction("/") as portal_session:  # the policyholder's cookie
        portal_session["_user_id"] = holder.get_id()
        portal_session["_fresh"] = True
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login")


def test_a_policyholder_id_in_the_staff_cookie_is_not_a_staff_login(
    client: FlaskClient, session: Session, admin: StaffUser
) -> None:
    # A policyholder whose row id equals a staff id must not become that staff member.
    holder = Policyholder(id=admin.id, name="Siti", email="siti@example.com", password_hash="x")
    session.add(holder)
    session.commit()
    with client.session_transaction("/admin/") as staff_session:
        staff_session["_user_id"] = holder.get_id()
    assert client.get("/admin/").headers["Location"].startswith("/admin/login")


def test_staff_and_policyholder_sessions_use_different_cookies(
    client: FlaskClient, admin: StaffUser
) -> None:
    _login(client, admin.email, PASSWORD)
    admin_cookie = client.get_cookie("admin_session", path="/admin")
    assert admin_cookie is not None
    assert client.get_cookie("session") is None


def test_logins_are_limited_per_account(
    client: FlaskClient,
    admin: StaffUser,
    viewer: StaffUser,
    app: Flask,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "3 per 10 minutes")
    for _ in range(3):
        assert _login(client, admin.email, "wrong password").status_code == 200
    refused = _login(client, admin.email, PASSWORD)
    assert refused.status_code == 429
    assert "Too many login attempts" in text(refused)
    # Another account from the same address is not blocked by this one's limit.
    assert _login(client, "viewer@insurer.example", PASSWORD).status_code == 302


def test_logins_are_limited_per_address(
    client: FlaskClient, admin: StaffUser, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ADDRESS", "4 per 10 minutes")
    for n in range(4):
        _login(client, f"guess{n}@insurer.example", "wrong password")
    refused = _login(client, admin.email, PASSWORD)
    assert refused.status_code == 429
    assert "Too many login attempts" in text(refused)
    assert client.get("/admin/").status_code == 302


def test_showing_the_login_page_does_not_count_as_an_attempt(
    client: FlaskClient, admin: StaffUser, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ADDRESS", "2 per 10 minutes")
    for _ in range(5):
        assert client.get("/admin/login").status_code == 200
    assert _login(client, admin.email, PASSWORD).status_code == 302


def test_a_form_without_its_csrf_token_is_refused(
    make_app: Any, app: Flask, session: Session, admin: StaffUser
) -> None:
    from tests.factories import live_code, make_bill

    bill = make_bill(session)
    bill_id = bill.id
    live_code(bill)  # commits: the other app must not wait for our transaction
    csrf_app = make_app(WTF_CSRF_ENABLED=True)
    client = log_in(csrf_app.test_client(), admin)
    refused = client.post(f"/admin/bills/{bill_id}/cancel", data={"note": "no token"})
    assert refused.status_code == 400
    assert "Reload the page" in text(refused)
    refused_login = csrf_app.test_client().post(
        "/admin/login", data={"email": admin.email, "password": PASSWORD}
    )
    assert refused_login.status_code == 400
    session.expire_all()
    assert session.get(type(bill), bill_id).state == "unpaid"
    session.commit()
    accepted = post(client, f"/admin/bills/{bill_id}/cancel", {"note": "with token"})
    assert accepted.status_code == 302
