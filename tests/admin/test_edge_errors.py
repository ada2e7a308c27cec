"""Inputs and outages that must not give a 500: the database down behind the login pages and
/metrics, absurd page numbers and days on the admin lists; staff pages are never cached."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from portal.extensions import limiter
from tests.policyholder.conftest import csrf_token


@pytest.fixture
def offline_client(make_app: Any, tmp_path: Path) -> FlaskClient:
    """An app whose database cannot be opened (the file's folder does not exist)."""
    limiter.reset()
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/gone/portal.sqlite3")
    return app.test_client()


@pytest.mark.parametrize("path", ["/login", "/admin/login"])
def test_a_login_while_the_database_is_down_is_a_503_page(
    offline_client: FlaskClient, path: str
) -> None:
    token = csrf_token(offline_client, path)
    response = offline_client.post(
        path, data={"csrf_token": token, "email": "budi@example.com", "password": "x" * 12}
    )
    assert response.status_code == 503
    assert "Layanan sementara tidak tersedia" in response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "60"


def test_metrics_while_the_database_is_down_is_a_503(offline_client: FlaskClient) -> None:
    assert offline_client.get("/metrics").status_code == 503


@pytest.mark.parametrize("query", [
    "page=9223372036854775807", "page=99999999999999999999999", "page=-5",
])  # fmt: skip
@pytest.mark.parametrize("path", [
    "/admin/bills", "/admin/policyholders", "/admin/policies", "/admin/exceptions",
    "/admin/traffic/inquiries", "/admin/traffic/notifications", "/admin/audit",
])  # fmt: skip
def test_an_absurd_page_number_shows_a_page_not_an_error(
    admin_client: FlaskClient, path: str, query: str
) -> None:
    response = admin_client.get(f"{path}?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]


@pytest.mark.parametrize("path", [
    "/admin/traffic/inquiries", "/admin/traffic/notifications", "/admin/reconciliation",
    "/admin/audit",
])  # fmt: skip
@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2026-13-45", "yesterday"])
def test_an_impossible_day_is_a_400_that_says_so(
    admin_client: FlaskClient, path: str, day: str
) -> None:
    response = admin_client.get(f"{path}?from=2026-01-01&to={day}")
    assert response.status_code == 400, response.get_data(as_text=True)[:300]


def test_staff_pages_are_never_cached(admin_client: FlaskClient) -> None:
    for path in ("/admin/", "/admin/bills", "/admin/reconciliation?format=csv"):
        assert admin_client.get(path).headers["Cache-Control"] == "no-store", path
