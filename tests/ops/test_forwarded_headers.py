"""X-Forwarded-For is believed only from the configured proxies, and only when it is an
address: a client cannot choose its own address, and a long header is never a 500. Behind a
proxy, gunicorn listens on loopback only."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.extensions import limiter
from portal.models import ReceivedNotification
from tests.factories import NOTIFICATION_TARGET, doku_headers, make_bill, notification_body_for
from tests.live import ROOT
from tests.policyholder.conftest import csrf_token

PROXY, STRANGER = "127.0.0.1", "127.0.0.2"


@pytest.fixture
def proxied_app(make_app: Any, app: Flask) -> Flask:
    """``app`` is requested so the database is migrated, and emptied after the test."""
    app: Flask = make_app(
        PROXY_FIX_X_FOR=1,
        PROXY_FIX_X_PROTO=1,
        TRUSTED_PROXIES=(f"{PROXY}/32",),
        METRICS_ALLOW_NETWORKS=("127.0.0.1/32",),
        LOGIN_LIMIT_PER_ADDRESS="3 per 10 minutes",
        LOGIN_LIMIT_PER_ACCOUNT="1000 per 10 minutes",
    )
    limiter.reset()
    return app


def _get(app: Flask, path: str, peer: str, forwarded: str) -> Any:
    return app.test_client().get(
        path, environ_base={"REMOTE_ADDR": peer}, headers={"X-Forwarded-For": forwarded}
    )


def test_a_stranger_cannot_claim_a_local_address_for_metrics(proxied_app: Flask) -> None:
    assert _get(proxied_app, "/metrics", STRANGER, PROXY).status_code == 403
    # Through the proxy, the address it forwards decides.
    assert _get(proxied_app, "/metrics", PROXY, "203.0.113.9").status_code == 403
    assert _get(proxied_app, "/metrics", PROXY, "127.0.0.1").status_code == 200


def test_a_rotating_forwarded_header_does_not_escape_the_login_limit(proxied_app: Flask) -> None:
    client = proxied_app.test_client()
    answers = []
    for n in range(5):
        token = csrf_token(client)
        answers.append(client.post(
            "/login",
            data={"csrf_token": token, "email": f"user{n}@example.com", "password": "x" * 12},
            environ_base={"REMOTE_ADDR": STRANGER},
            headers={"X-Forwarded-For": f"198.51.100.{n}"},
        ).status_code)  # fmt: skip
    assert answers[-1] == 429, answers


def test_a_long_forwarded_header_on_a_signed_notification_is_stored_with_the_peer(
    proxied_app: Flask, session: Session
) -> None:
    bill = make_bill(session)
    body = notification_body_for(bill)
    response = proxied_app.test_client().post(
        NOTIFICATION_TARGET,
        data=body,
        content_type="application/json",
        environ_base={"REMOTE_ADDR": PROXY},
        headers={**doku_headers(body, target=NOTIFICATION_TARGET), "X-Forwarded-For": "a" * 300},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    session.expire_all()
    stored = session.scalar(select(ReceivedNotification.remote_addr))
    assert stored == PROXY


def test_the_address_a_trusted_proxy_forwards_is_the_one_recorded(
    proxied_app: Flask, session: Session
) -> None:
    bill = make_bill(session)
    body = notification_body_for(bill)
    for peer, forwarded in ((PROXY, "203.0.113.7"), (STRANGER, "203.0.113.8")):
        headers = doku_headers(body, target=NOTIFICATION_TARGET)
        proxied_app.test_client().post(
            NOTIFICATION_TARGET, data=body, content_type="application/json",
            environ_base={"REMOTE_ADDR": peer}, headers={**headers, "X-Forwarded-For": forwarded},
        )  # fmt: skip
    session.expire_all()
    recorded = list(session.scalars(
        select(ReceivedNotification.remote_addr).order_by(ReceivedNotification.id)
    ))  # fmt: skip
    assert recorded == ["203.0.113.7", STRANGER]


@pytest.mark.parametrize("behind_proxy, bind", [
    ("1", "127.0.0.1:8000"),  # only the proxy on this machine can reach the app
    ("0", "0.0.0.0:8000"),
])  # fmt: skip
def test_behind_a_proxy_gunicorn_listens_on_loopback_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, behind_proxy: str, bind: str
) -> None:
    monkeypatch.setenv("PROXY_FIX_X_FOR", behind_proxy)
    monkeypatch.delenv("GUNICORN_BIND", raising=False)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["bind"] == bind
    monkeypatch.setenv("GUNICORN_BIND", "10.0.0.5:8000")  # the operator's choice wins
    assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["bind"] == "10.0.0.5:8000"
