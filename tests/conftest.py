"""Fixtures: an app on SQLite, or on PostgreSQL when TEST_DATABASE_URL is set.

The schema is built by the migrations (not ``create_all``), so every test also exercises them.
On PostgreSQL each test session works in a schema of its own, dropped at the end.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, g, request_started
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from portal import create_app
from portal.config import database_url
from portal.extensions import db
from tests.factories import CLIENT_ID, SECRET_KEY

BASE_CONFIG: dict[str, Any] = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    "DOKU_CLIENT_ID": CLIENT_ID,
    "DOKU_SECRET_KEY": SECRET_KEY,
    "PUBLIC_BASE_URL": "http://localhost",
    # Tests send many badly signed requests on purpose; the budget has tests of its own.
    "DOKU_AUTH_FAILURE_LIMIT": "1000000 per minute",
    # Jobs run at once, in-process (tests/jobs/test_consumer.py also runs the real consumer).
    "JOBS_IMMEDIATE": True,
}


def _fresh_request_globals(sender: Flask, **_: Any) -> None:
    """Each request starts with an empty ``g``, as in production.

    While a test holds an app context (pytest-flask's, or the ``session`` fixture's), Flask
    runs the test client's requests in that context, so without this they would share its
    ``g``, where Flask-Login keeps the user and Flask-WTF the CSRF token: the cookies would no
    longer decide who is logged in. The database session stays shared on purpose: a test sees
    what a request wrote, and on SQLite nothing waits for a lock the test itself holds.
    """
    for name in list(vars(g)):
        delattr(g, name)


# Seconds a test marked ``live`` may take (real servers, a browser); the rest get pyproject's
# ``timeout``.
LIVE_TIMEOUT = 600


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("live") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(LIVE_TIMEOUT))


def pytest_configure(config: pytest.Config) -> None:
    # Tests never read the developer's instance/config.py (secrets, a local database).
    instance = Path(tempfile.mkdtemp(prefix="portal-test-instance-"))
    os.environ["PORTAL_INSTANCE_PATH"] = str(instance)


def postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    return database_url(url) if url else None


def _with_search_path(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


def fresh_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty database: a new SQLite file, or a new schema in the PostgreSQL database."""
    pg = postgres_url()
    if pg is None:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'portal.sqlite3'}"
        return
    schema = f"pytest_{uuid.uuid4().hex[:12]}"
    engine = create_engine(pg)
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _with_search_path(pg, schema)
    finally:
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture(scope="session")
def database_url_for_tests(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from fresh_database_url(tmp_path_factory)


@pytest.fixture(scope="session")
def make_app(database_url_for_tests: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Build an app on the session's database with extra settings."""
    apps: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        config = {**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url_for_tests, **overrides}
        app = create_app(config)
        request_started.connect(_fresh_request_globals, app)
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def _migrated_app(make_app: Any) -> Flask:
    app: Flask = make_app()
    with app.app_context():
        upgrade()
    return app


@pytest.fixture
def app(_migrated_app: Flask) -> Iterator[Flask]:
    """The session's app, emptied after each test.

    pytest-flask gives the ``client`` fixture and keeps a test request context of this app
    pushed during every test that uses it (``url_for`` works in tests). Every request of a test
    client still starts with a fresh ``g`` (``_fresh_request_globals``), so the cookies decide
    who is logged in, for every app the tests build.
    """
    yield _migrated_app
    with _migrated_app.app_context():
        db.session.remove()
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """The app's session inside an application context, for arranging and checking data."""
    with app.app_context():
        yield db.session
        db.session.rollback()


@pytest.fixture
def runner(app: Flask, session: Session) -> Any:
    """The app's CLI runner. ``flask`` runs every command in an app context: here the one the
    ``session`` fixture holds, so a command, the requests and the test share one session."""
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def database_kind(database_url_for_tests: str) -> str:
    return "postgresql" if database_url_for_tests.startswith("postgresql") else "sqlite"
