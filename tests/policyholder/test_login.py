"""Logging in and out: passwords, remember me, safe redirects, CSRF."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from portal.models import Policyholder
from tests.factories import OFF_SITE_TARGETS
from tests.policyholder.conftest import csrf_token, log_in, make_holder, page_text


def test_anonymous_visitor_of_the_dashboard_is_sent_to_login_and_back(
    client: FlaskClient, session: Session
) -> None:
    holder = make_holder(session)
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/"

    response = log_in(client, holder.email, next_page="/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Halo, Budi Santoso" in page_text(client.get("/"))


def test_login_with_the_right_password_opens_the_dashboard_and_records_the_time(
    client: FlaskClient, session: Session
) -> None:
    holder = make_holder(session)
    response = log_in(client, "  BUDI@example.com ")  # email is matched case-insensitively
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    row = session.get(Policyholder, holder.id)
    assert row is not None and row.last_login_at is not None
    session.commit()


@pytest.mark.parametrize("email, password", [
    ("budi@example.com", "not-the-password"),
    ("nobody@example.com", "kata-sandi-rahasia-1"),
])  # fmt: skip
def test_wrong_password_or_unknown_email_get_the_same_refusal(
    client: FlaskClient, session: Session, email: str, password: str
) -> None:
    make_holder(session)
    response = log_in(client, email, password)
    assert response.status_code == 200
    assert "Email atau kata sandi salah." in page_text(response)
    assert client.get("/").status_code == 302  # still not logged in


def test_account_that_was_never_activated_cannot_log_in(
    client: FlaskClient, session: Session
) -> None:
    make_holder(session, password=None)
    response = log_in(client, "budi@example.com", "")
    assert response.status_code == 200
    assert client.get("/").status_code == 302
    response = log_in(client, "budi@example.com", "anything-at-all")
    assert "Email atau kata sandi salah." in page_text(response)


def test_logout_ends_the_session(client: FlaskClient, session: Session) -> None:
    holder = make_holder(session)
    log_in(client, holder.email)
    assert client.get("/").status_code == 200
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert "Anda sudah keluar." in page_text(client.get("/login"))
    assert client.get("/").status_code == 302


def test_logout_is_a_post_with_a_csrf_token(client: FlaskClient, session: Session) -> None:
    holder = make_holder(session)
    log_in(client, holder.email)
    assert client.get("/logout").status_code == 405
    response = client.post("/logout")
    assert response.status_code == 400
    assert "Formulir ini sudah kedaluwarsa" in page_text(response)
    assert client.get("/").status_code == 200  # still logged in


def test_login_without_a_csrf_token_is_refused(client: FlaskClient, session: Session) -> None:
    holder = make_holder(session)
    response = client.post("/login", data={"email": holder.email, "password": holder.password})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_remember_me_keeps_the_policyholder_logged_in_after_the_browser_session(
    client: FlaskClient, other_client: FlaskClient, session: Session
) -> None:
    holder = make_holder(session)
    log_in(client, holder.email, remember=True)
    remember = client.get_cookie("remember_token")
    assert remember is not None and remember.expires is not None
    assert remember.http_only
    client.delete_cookie("session")  # the browser was closed: session cookie gone
    assert client.get("/").status_code == 200

    log_in(other_client, holder.email, remember=False)
    assert other_client.get_cookie("remember_token") is None
    other_client.delete_cookie("session")
    assert other_client.get("/").status_code == 302


def test_a_new_password_ends_remembered_logins(client: FlaskClient, session: Session) -> None:
    from datetime import UTC, datetime

    from portal.services.accounts.credentials import set_password

    holder = make_holder(session)
    log_in(client, holder.email, remember=True)
    row = session.get(Policyholder, holder.id)
    assert row is not None
    set_password(row, "another-long-password", now=datetime.now(UTC))
    session.commit()
    assert client.get("/").status_code == 302
    client.delete_cookie("session")
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("target", ["/payments", "/bills/1?x=1"])
def test_next_page_on_this_site_is_followed(
    client: FlaskClient, session: Session, target: str
) -> None:
    holder = make_holder(session)
    response = log_in(client, holder.email, next_page=target)
    assert response.headers["Location"] == target


@pytest.mark.parametrize("target", OFF_SITE_TARGETS)
def test_unsafe_next_page_is_ignored(client: FlaskClient, session: Session, target: str) -> None:
    holder = make_holder(session)
    response = log_in(client, holder.email, next_page=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_logged_in_visitor_of_the_login_page_goes_to_the_dashboard(
    client: FlaskClient, session: Session
) -> None:
    holder = make_holder(session)
    log_in(client, holder.email)
    response = client.get("/login")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
