"""DOKU's calls are answered by a lean app of their own: none of the pages' machinery runs."""

from __future__ import annotations

from dataclasses import replace

import pytest
from flask import Flask
from flask import session as flask_session
from flask.sessions import NullSession
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from portal.api.common import _GUARDS, _PUBLIC_ENDPOINTS
from portal.extensions import db
from portal.observability import REQUEST_ID_HEADER
from tests.factories import inquire, live_code, make_bill


def _doku_app(app: Flask) -> Flask:
    doku: Flask = app.extensions["doku_app"]
    return doku


def test_doku_is_answered_without_the_pages_headers_cookies_or_hooks(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    code = live_code(make_bill(session))
    session.commit()
    page = client.get("/login")
    assert "Content-Security-Policy" in page.headers  # the pages' security headers ...
    response = inquire(client, code)
    assert response.status_code == 200
    assert "Content-Security-Policy" not in response.headers  # ... are not DOKU's
    assert "X-Frame-Options" not in response.headers
    assert "Set-Cookie" not in response.headers
    assert response.headers[REQUEST_ID_HEADER]  # request ids and logging stay
    doku = _doku_app(app)
    assert doku is not app
    # Hooks the DOKU app runs: its request ids, the blueprint's authentication, and (for
    # in-process callers only) the caller's database session; nothing else.
    hooks = {f.__qualname__ for fs in doku.before_request_funcs.values() for f in fs}
    assert hooks == {
        "register_request_ids.<locals>._start",
        "_authenticate",
        "share_database.<locals>._borrow_callers_session",
    }
    assert not any(
        "limiter" in repr(f) or "talisman" in repr(f).lower() or "csrf" in repr(f).lower()
        for fs in [*doku.before_request_funcs.values(), *doku.after_request_funcs.values()]
        for f in fs
    )


def test_the_doku_app_shares_the_portals_configuration_and_engine(app: Flask) -> None:
    doku = _doku_app(app)
    assert doku.config is app.config
    with app.app_context():
        portal_engine = db.engine
    with doku.app_context():
        assert db.engine is portal_engine


def test_every_doku_view_declares_its_authentication(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in _doku_app(app).url_map.iter_rules()}
    assert endpoints == set(_GUARDS) | _PUBLIC_ENDPOINTS
    assert set(_GUARDS) == {"doku.inquiry", "doku.notification"}


def test_an_unknown_doku_path_is_answered_in_json(client: FlaskClient) -> None:
    response = client.post("/doku/nowhere", data=b"{}")
    assert response.status_code == 404
    assert response.is_json
    assert response.get_json()["error"]["code"] == "not_found"
    assert client.get("/doku/inquiry").status_code == 405


def test_a_connection_lost_in_the_prepared_inquiry_is_a_503_and_the_pool_recovers(
    client: FlaskClient, session: Session, database_kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if database_kind != "postgresql":
        pytest.skip("the prepared statements run on PostgreSQL (psycopg) only")
    from portal.services.traffic import inquiries

    code = live_code(make_bill(session))
    session.commit()
    real = inquiries._driver_statements()
    killer = replace(real, lookup="SELECT pg_terminate_backend(pg_backend_pid())")
    monkeypatch.setattr(inquiries, "_driver_statements", lambda: killer)
    response = inquire(client, code)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "unavailable"
    monkeypatch.setattr(inquiries, "_driver_statements", lambda: real)
    assert inquire(client, code).status_code == 200


def test_the_doku_app_opens_no_cookie_session_even_with_the_pages_secret_key(app: Flask) -> None:
    doku = _doku_app(app)
    assert doku.config["SECRET_KEY"]
    with doku.test_request_context(
        "/doku/inquiry", method="POST", headers={"Cookie": "session=eyJ4IjoxfQ.x.y"}
    ):
        assert isinstance(flask_session._get_current_object(), NullSession)  # type: ignore[attr-defined]
