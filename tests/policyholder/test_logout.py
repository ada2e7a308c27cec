"""Logging out ends the session on the server: a copied session or remember-me cookie
stops working at once."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.policyholder.conftest import csrf_token, log_in, make_holder


def test_copied_session_and_remember_cookies_stop_working_at_logout(
    web: Flask, client: FlaskClient, session: Session
) -> None:
    holder = make_holder(session)
    assert log_in(client, holder.email, remember=True).status_code == 302
    copied = {
        name: client.get_cookie(name)
        for name in ("session", "remember_token")
    }
    assert all(c is not None for c in copied.values())

    def thief(*names: str) -> FlaskClient:
        other = web.test_client()
        for name in names:
            cookie = copied[name]
            assert cookie is not None
            other.set_cookie(name, cookie.value)
        return other

    assert thief("session").get("/").status_code == 200
    assert thief("remember_token").get("/").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert thief("session").get("/").status_code == 302
    assert thief("remember_token").get("/").status_code == 302
    assert log_in(client, holder.email).status_code == 302  # logging in again works
