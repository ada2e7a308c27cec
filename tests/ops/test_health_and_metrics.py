"""/healthz, /readyz, /metrics and the JSON log lines."""

from __future__ import annotations

import json
import logging
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.observability import JsonFormatter, mask_code
from tests.conftest import fresh_database_url
from tests.factories import doku_headers, inquire, inquiry_body, live_code, make_bill
from tests.live import gunicorn


def test_healthz_answers_without_the_database(make_app: Any, tmp_path: Path) -> None:
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/db.sqlite3")
    response = app.test_client().get("/healthz")
    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})


def test_readyz_is_ready_on_a_migrated_database(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "database": "ok", "migrations": "at head"}


def test_readyz_is_503_when_the_database_is_unreachable(make_app: Any, tmp_path: Path) -> None:
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/db.sqlite3")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


def test_readyz_is_503_while_migrations_are_behind(
    make_app: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    for url in fresh_database_url(tmp_path_factory):
        app = make_app(SQLALCHEMY_DATABASE_URI=url)
        with app.app_context():
            upgrade(revision="0001")
        response = app.test_client().get("/readyz")
        assert response.status_code == 503
        assert response.get_json() == {
            "status": "not ready",
            "database": "ok",
            "migrations": "behind",
        }
        with app.app_context():
            db.engine.dispose()


def test_metrics_are_refused_outside_the_allowed_networks_without_the_token(make_app: Any) -> None:
    app = make_app(METRICS_TOKEN="scrape-token")
    client = app.test_client()
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=outside).status_code == 403
    wrong = client.get("/metrics", environ_base=outside, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403
    right = client.get(
        "/metrics", environ_base=outside, headers={"Authorization": "Bearer scrape-token"}
    )
    assert right.status_code == 200
    assert client.get("/metrics").status_code == 200  # 127.0.0.1 is allowed by default


def test_metrics_count_inquiries_and_open_exceptions(client: FlaskClient, session: Session) -> None:
    def value(text: str, line_start: str) -> float:
        lines = [ln for ln in text.splitlines() if ln.startswith(line_start)]
        return float(lines[0].rsplit(" ", 1)[1]) if lines else 0.0

    before = client.get("/metrics").get_data(as_text=True)
    inquire(client, "8896000000000000")
    after = client.get("/metrics").get_data(as_text=True)
    key = 'doku_inquiries_total{status="billing_not_found"}'
    assert value(after, key) == value(before, key) + 1
    assert "doku_request_seconds_bucket" in after
    assert value(after, "payment_exceptions_open") == 0


@pytest.mark.live
def test_metrics_add_up_over_several_gunicorn_workers(
    session: Session, database_url_for_tests: str
) -> None:
    code = live_code(make_bill(session))
    with gunicorn(database_url_for_tests, workers=3) as url:
        for _ in range(12):
            body = inquiry_body(code)
            request = urllib.request.Request(
                url + "/doku/inquiry", data=body, headers=doku_headers(body)
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 200
        with urllib.request.urlopen(url + "/metrics", timeout=10) as response:
            text = response.read().decode()
    [line] = [
        ln for ln in text.splitlines() if ln.startswith('doku_inquiries_total{status="success"}')
    ]
    assert float(line.rsplit(" ", 1)[1]) == 12


def test_doku_log_lines_are_json_with_request_id_masked_code_and_no_secrets(
    client: FlaskClient, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    code = live_code(make_bill(session))
    body = inquiry_body(code)
    headers = doku_headers(body, request_id="log-check")
    with caplog.at_level(logging.INFO, logger="portal"):
        response = client.post(
            "/doku/inquiry", data=body, headers={**headers, "X-Request-Id": "edge-42"}
        )
    assert response.headers["X-Request-Id"] == "edge-42"
    [record] = [r for r in caplog.records if r.getMessage() == "doku inquiry answered"]
    line = json.loads(JsonFormatter().format(record))
    assert line["doku_request_id"] == "log-check"
    assert line["payment_code"] == mask_code(code) and line["payment_code"].endswith(code[-4:])
    assert code not in json.dumps(line)
    assert line["verdict"] == "success"
    assert isinstance(line["latency_ms"], float)
    everything = "\n".join(JsonFormatter().format(r) for r in caplog.records)
    assert headers["Signature"].split("=", 1)[1] not in everything
    assert "SK-test-secret-0001" not in everything


def test_mask_keeps_only_the_last_four_digits() -> None:
    assert mask_code("8896512345678123") == "************8123"
    assert mask_code(None) is None
