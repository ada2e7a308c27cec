"""One-time links to activate an account or reset a password, and the email that carries them
(sent to a real SMTP server on 127.0.0.1)."""

from __future__ import annotations

import re
import time
import types
from datetime import UTC, datetime
from typing import Any

import itsdangerous.timed
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from portal.models import Policyholder
from portal.services.accounts.credentials import LinkSettings, make_link_token
from portal.services.accounts.links import send_account_link
from portal.services.contact import insurer_contact
from portal.web import link_settings, mail_settings
from tests.policyholder.conftest import (
    PASSWORD,
    csrf_token,
    log_in,
    make_holder,
    page_text,
)
from tests.smtp import Inbox

NEW_PASSWORD = "sandi-baru-yang-panjang"


def _token(session: Session, holder_id: int, purpose: str, secret: str = "test-secret-key") -> str:
    row = session.get(Policyholder, holder_id)
    assert row is not None
    token = make_link_token(row, purpose, LinkSettings(secret_key=secret, max_age_seconds=3600))
    session.commit()
    return token


def _set_password(client: FlaskClient, path: str, password: str, confirm: str | None = None) -> Any:
    return client.post(
        path,
        data={
            "csrf_token": csrf_token(client, path),
            "password": password,
            "confirm": password if confirm is None else confirm,
        },
    )


def test_activation_link_sets_the_password_and_logs_the_policyholder_in(
    client: FlaskClient, session: Session
) -> None:
    holder = make_holder(session, password=None)
    path = f"/activate/{_token(session, holder.id, 'activate')}"
    page = client.get(path)
    assert page.status_code == 200
    assert "Aktifkan akun Anda" in page_text(page) and holder.email in page_text(page)

    response = _set_password(client, path, NEW_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Akun Anda sudah aktif" in page_text(client.get("/"))
    row = session.get(Policyholder, holder.id)
    assert row is not None and row.activated_at is not None
    session.commit()

    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert log_in(client, holder.email, NEW_PASSWORD).status_code == 302


def test_a_link_works_only_once(client: FlaskClient, session: Session) -> None:
    holder = make_holder(session, password=None)
    path = f"/activate/{_token(session, holder.id, 'activate')}"
    assert _set_password(client, path, NEW_PASSWORD).status_code == 302
    again = _set_password(client, path, "yet-another-password")
    for response in (client.get(path), again):
        assert response.status_code == 400
        assert "Tautan ini tidak dapat dipakai" in page_text(response)


def test_an_expired_link_says_so(
    client: FlaskClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    holder = make_holder(session)
    eight_days_ago = time.time() - 8 * 24 * 3600
    with monkeypatch.context() as patched:
        patched.setattr(
            itsdangerous.timed, "time", types.SimpleNamespace(time=lambda: eight_days_ago)
        )
        token = _token(session, holder.id, "activate")
        reset_token = _token(session, holder.id, "reset")
    response = client.get(f"/activate/{token}")
    assert response.status_code == 410
    assert "Tautan ini sudah kedaluwarsa" in page_text(response)
    assert 'href="/forgot"' in page_text(response)
    assert client.get(f"/reset/{reset_token}").status_code == 410  # resets last one hour


@pytest.mark.parametrize("make_path", [
    lambda good, other_secret: f"/activate/{good[:-3]}abc",  # signature tampered
    lambda good, other_secret: f"/activate/{other_secret}",  # signed with another key
    lambda good, other_secret: f"/reset/{good}",  # an activation link used to reset
    lambda good, other_secret: "/activate/not-a-token",
    lambda good, other_secret: "/reset/" + "A" * 500,
    lambda good, other_secret: "/activate/%00%ff",
])  # fmt: skip
def test_a_forged_or_misused_link_is_refused_with_a_page_not_an_error(
    client: FlaskClient, session: Session, make_path: Any
) -> None:
    holder = make_holder(session, password=None)
    good = _token(session, holder.id, "activate")
    other_secret = _token(session, holder.id, "activate", secret="someone-elses-key")
    response = client.get(make_path(good, other_secret))
    assert response.status_code == 400
    assert "Tautan ini tidak dapat dipakai" in page_text(response)
    assert client.get(f"/activate/{good}").status_code == 200  # the real one still works


@pytest.mark.parametrize("password, confirm, message", [
    ("short", None, "Gunakan minimal 10 karakter."),
    ("12345678901234", None, "Jangan hanya memakai angka."),
    (NEW_PASSWORD, NEW_PASSWORD + "x", "Kedua kata sandi tidak sama."),
    ("password123", None, "Kata sandi ini terlalu mudah ditebak"),
    ("aaaaaaaaaaaa", None, "Kata sandi ini terlalu mudah ditebak"),
    ("qwertyuiop12", None, "Kata sandi ini terlalu mudah ditebak"),
    ("budisantoso2024", None, "Kata sandi ini terlalu mudah ditebak"),  # the account's own name
])  # fmt: skip
def test_a_password_that_breaks_the_rules_is_refused_with_the_reason(
    client: FlaskClient, session: Session, password: str, confirm: str | None, message: str
) -> None:
    holder = make_holder(session, password=None)
    path = f"/activate/{_token(session, holder.id, 'activate')}"
    response = _set_password(client, path, password, confirm)
    assert response.status_code == 200
    assert message in page_text(response)
    row = session.get(Policyholder, holder.id)
    assert row is not None and row.password_hash is None
    session.commit()


def test_a_common_password_is_refused_in_english_too(client: FlaskClient, session: Session) -> None:
    holder = make_holder(session, password=None)
    client.set_cookie("lang", "en")
    path = f"/activate/{_token(session, holder.id, 'activate')}"
    response = _set_password(client, path, "password123")
    assert response.status_code == 200
    assert "This password is too easy to guess" in page_text(response)
    row = session.get(Policyholder, holder.id)
    assert row is not None and row.password_hash is None
    session.commit()


def test_reset_link_changes_the_password_and_ends_other_sessions(
    client: FlaskClient, other_client: FlaskClient, session: Session
) -> None:
    holder = make_holder(session)
    log_in(other_client, holder.email)
    assert other_client.get("/").status_code == 200
    path = f"/reset/{_token(session, holder.id, 'reset')}"
    assert "Buat kata sandi baru" in page_text(client.get(path))
    assert _set_password(client, path, NEW_PASSWORD).status_code == 302
    assert "Kata sandi baru Anda sudah disimpan." in page_text(client.get("/"))
    assert other_client.get("/").status_code == 302  # the other browser is logged out
    assert "Email atau kata sandi salah." in page_text(log_in(other_client, holder.email, PASSWORD))


def _link_in(message: Any) -> str:
    body = message.get_body(("plain",)).get_content()
    match = re.search(r"http://localhost(/(?:reset|activate)/[A-Za-z0-9_.\-]+)", body)
    assert match, body
    return match.group(1)


def test_forgot_password_emails_a_reset_link_over_smtp_that_resets_the_password(
    mail_app: Flask, session: Session, inbox: Inbox
) -> None:
    holder = make_holder(session)
    client = mail_app.test_client()
    response = client.post(
        "/forgot", data={"csrf_token": csrf_token(client, "/forgot"), "email": "Budi@Example.com"}
    )
    assert response.status_code == 200
    assert "Periksa email Anda" in page_text(response)

    message = inbox.only()
    assert inbox.recipients == [[holder.email]]
    assert message["To"] == holder.email
    assert message["Subject"] == "Atur ulang kata sandi portal premi"
    path = _link_in(message)
    assert path.startswith("/reset/")
    assert _set_password(client, path, NEW_PASSWORD).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert log_in(client, holder.email, NEW_PASSWORD).status_code == 302
    assert client.get(path).status_code == 400  # used


def test_forgot_password_answers_the_same_for_an_unknown_address_and_sends_nothing(
    mail_app: Flask, session: Session, inbox: Inbox
) -> None:
    make_holder(session)
    client = mail_app.test_client()
    known = client.post(
        "/forgot", data={"csrf_token": csrf_token(client, "/forgot"), "email": "budi@example.com"}
    )
    unknown = client.post(
        "/forgot", data={"csrf_token": csrf_token(client, "/forgot"), "email": "nobody@example.com"}
    )
    assert known.status_code == unknown.status_code == 200
    strip = lambda html: re.sub(r'value="[^"]+"', "", html)  # noqa: E731  (CSRF tokens differ)
    assert strip(page_text(known)) == strip(page_text(unknown))
    assert len(inbox.messages) == 1


def test_forgot_password_with_the_mail_server_down_gives_the_same_answer(
    make_app: Any, app: Flask, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.live import free_port

    make_holder(session)
    down = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())  # nothing listens there
    client = down.test_client()
    response = client.post(
        "/forgot", data={"csrf_token": csrf_token(client, "/forgot"), "email": "budi@example.com"}
    )
    assert response.status_code == 200
    assert "Periksa email Anda" in page_text(response)
    # The email is a job: its failure is logged and it is scheduled to try again.
    assert "ConnectionRefusedError" in caplog.text
    from portal.extensions import jobs

    [retry] = jobs.huey(down).scheduled()
    assert retry.name == "mail.password_reset" and retry.retries == 7


def test_activation_email_from_the_back_office_opens_the_activation_page(
    mail_app: Flask, session: Session, inbox: Inbox
) -> None:
    holder = make_holder(session, password=None, language="en")
    with mail_app.test_request_context():
        row = session.get(Policyholder, holder.id)
        assert row is not None
        send_account_link(
            row,
            "activate",
            base_url="http://localhost/",
            link_settings=link_settings("activate"),
            mail_settings=mail_settings(),
            insurer=insurer_contact(mail_app.config),
        )
    session.commit()
    message = inbox.only()
    assert message["Subject"] == "Activate your premium payment portal account"
    path = _link_in(message)
    client = mail_app.test_client()
    assert "Activate your account" in page_text(client.get(path))  # the holder's language
    assert _set_password(client, path, NEW_PASSWORD).status_code == 302
    row = session.get(Policyholder, holder.id)
    assert (
        row is not None and row.activated_at is not None and row.activated_at <= datetime.now(UTC)
    )
    session.commit()
