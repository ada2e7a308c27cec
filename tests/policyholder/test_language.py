"""Bahasa Indonesia by default; English by a switch remembered in a cookie and on the account."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from portal.models import Policyholder
from tests.policyholder.conftest import add_bill, csrf_token, log_in, make_holder, page_text


def _switch(client: FlaskClient, language: str, back_to: str) -> object:
    return client.post(
        "/language",
        data={"csrf_token": csrf_token(client, back_to), "language": language, "next": back_to},
    )


def test_pages_are_in_bahasa_indonesia_by_default(client: FlaskClient) -> None:
    html = page_text(client.get("/login"))
    assert '<html lang="id">' in html
    assert "<h1>Masuk</h1>" in html and "Lupa kata sandi?" in html


def test_switching_to_english_sets_a_cookie_and_returns_to_the_page(client: FlaskClient) -> None:
    response = _switch(client, "en", "/forgot")
    assert response.status_code == 302  # type: ignore[attr-defined]
    assert response.headers["Location"] == "/forgot"  # type: ignore[attr-defined]
    cookie = client.get_cookie("lang")
    assert cookie is not None and cookie.value == "en" and cookie.expires is not None
    html = page_text(client.get("/login"))
    assert '<html lang="en">' in html and "<h1>Log in</h1>" in html
    _switch(client, "id", "/login")
    assert "<h1>Masuk</h1>" in page_text(client.get("/login"))


def test_the_choice_is_saved_on_the_account_and_follows_the_policyholder(
    client: FlaskClient, other_client: FlaskClient, session: Session
) -> None:
    holder = make_holder(session)
    add_bill(session, holder, due_date=date(2031, 5, 21),
             expires_at=datetime(2031, 6, 20, 16, 59, 59, tzinfo=UTC))  # fmt: skip
    log_in(client, holder.email)
    html = page_text(client.get("/"))
    assert "21 Mei 2031" in html and "20 Juni 2031, 23.59 WIB" in html and "Rp 150.000" in html

    _switch(client, "en", "/")
    html = page_text(client.get("/"))
    assert "Hello, Budi Santoso" in html
    assert "21 May 2031" in html and "20 June 2031, 23:59 WIB" in html and "Rp 150.000" in html
    assert "Unpaid" in html
    row = session.get(Policyholder, holder.id)
    assert row is not None and row.language == "en"
    session.commit()

    # Another browser, with no cookie: English once logged in, and remembered after.
    assert "<h1>Masuk</h1>" in page_text(other_client.get("/login"))
    log_in(other_client, holder.email)
    assert "Hello, Budi Santoso" in page_text(other_client.get("/"))
    lang_cookie = other_client.get_cookie("lang")
    assert lang_cookie is not None and lang_cookie.value == "en"


def test_language_chosen_before_logging_in_is_kept_for_the_account(
    client: FlaskClient, session: Session
) -> None:
    holder = make_holder(session)
    _switch(client, "en", "/login")
    log_in(client, holder.email)
    assert "Hello, Budi Santoso" in page_text(client.get("/"))
    row = session.get(Policyholder, holder.id)
    assert row is not None and row.language == "en"
    session.commit()


def test_unknown_language_is_refused_and_unsafe_return_page_ignored(
    client: FlaskClient,
) -> None:
    assert _switch(client, "fr", "/login").status_code == 400  # type: ignore[attr-defined]
    assert client.get_cookie("lang") is None
    response = client.post(
        "/language",
        data={"csrf_token": csrf_token(client), "language": "en", "next": "//evil.example/"},
    )
    assert response.headers["Location"] == "/"


def test_language_switch_needs_a_csrf_token(client: FlaskClient) -> None:
    response = client.post("/language", data={"language": "en", "next": "/login"})
    assert response.status_code == 400
    assert client.get_cookie("lang") is None
