"""Fixtures for the back office: staff accounts, logged-in clients, CSRF tokens, fresh limits."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session
from werkzeug.test import TestResponse

from portal.admin.routes import SESSION_SEEN, SESSION_STARTED
from portal.extensions import limiter
from portal.models import AuditEntry, StaffRole, StaffUser
from portal.services.accounts.staff import create_staff

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _fresh_limits() -> Iterator[None]:
    """The limiter's memory storage outlives apps and tests (none exists before the first app:
    a test that builds no app, run alone, has nothing to reset)."""
    if limiter._storage is not None:
        limiter.reset()
    yield
    if limiter._storage is not None:
        limiter.reset()


@pytest.fixture(autouse=True)
def _english(request: pytest.FixtureRequest) -> None:
    """Staff pages are written in English; the Bahasa Indonesia catalog (the policyholder
    portal's) may translate some of the same words, so tests ask for English."""
    if "client" in request.fixturenames:
        request.getfixturevalue("client").set_cookie("lang", "en")


def make_staff(
    session: Session, role: StaffRole = StaffRole.ADMIN, email: str | None = None
) -> StaffUser:
    staff = create_staff(
        session,
        email=email or f"{role.value}@insurer.example",
        name=f"Test {role.value}",
        password=PASSWORD,
        role=role,
        now=datetime.now(UTC),
        actor="tests",
    )
    session.commit()
    return staff


@pytest.fixture
def admin(session: Session) -> StaffUser:
    return make_staff(session, StaffRole.ADMIN)


@pytest.fixture
def viewer(session: Session) -> StaffUser:
    return make_staff(session, StaffRole.VIEWER)


def log_in(client: FlaskClient, staff: StaffUser) -> FlaskClient:
    """Give ``client`` a staff session, as a successful login does."""
    user_id = staff.get_id()
    owner = object_session(staff)
    if owner is not None:
        owner.commit()  # on SQLite a read transaction would hold the write lock
    client.set_cookie("lang", "en")
    with client.session_transaction("/admin/") as flask_session:
        flask_session["_user_id"] = user_id
        flask_session["_fresh"] = True
        flask_session[SESSION_STARTED] = flask_session[SESSION_SEEN] = int(time.time())
    return client


@pytest.fixture
def admin_client(client: FlaskClient, admin: StaffUser) -> FlaskClient:
    return log_in(client, admin)


@pytest.fixture
def viewer_client(client: FlaskClient, viewer: StaffUser) -> FlaskClient:
    return log_in(client, viewer)


def csrf_token(client: FlaskClient, path: str = "/admin/") -> str | None:
    """The CSRF token of the client's staff session (None when CSRF is switched off)."""
    page = client.get(path)
    found = _CSRF.search(page.get_data(as_text=True))
    return found.group(1) if found else None


def post(
    client: FlaskClient, path: str, data: dict[str, Any] | None = None, **kwargs: Any
) -> TestResponse:
    """POST a form the way the browser does: with the CSRF token of the session."""
    form = dict(data or {})
    token = csrf_token(client, kwargs.pop("token_from", "/admin/"))
    if token:
        form["csrf_token"] = token
    return client.post(path, data=form, **kwargs)


def audit_rows(session: Session, action: str | None = None) -> list[AuditEntry]:
    session.expire_all()
    statement = select(AuditEntry).order_by(AuditEntry.id)
    if action:
        statement = statement.where(AuditEntry.action == action)
    rows = list(session.scalars(statement))
    session.commit()
    return rows


def text(response: TestResponse) -> str:
    return response.get_data(as_text=True)
