"""The lean app DOKU's calls are served by.

DOKU's endpoints need none of the web pages' machinery: no session, login, CSRF, rate limiter,
languages or security headers for pages. ``create_app`` builds this second, minimal Flask app
in the same process (the DOKU blueprint, the database, request ids and logging, and the same
configuration object) and puts ``DokuDispatcher`` in front of the portal's own WSGI app, so a
request under ``/doku/`` never runs one of the pages' hooks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, Request, Response, current_app, g, has_app_context, request
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from portal.api import bp
from portal.api.common import database_unavailable, json_http_error
from portal.extensions import db

if TYPE_CHECKING:
    from collections.abc import Iterable

    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

PREFIX = "/doku/"
BORROWED_SESSION = "portal.borrowed_session"


def create_doku_app(portal: Flask) -> Flask:
    """The DOKU app beside ``portal``: its configuration, settings and database engine."""
    from portal.observability import register_request_ids

    app = Flask("portal", instance_path=portal.instance_path, static_folder=None)
    app.config = portal.config  # one configuration: what tests or the CLI change, both see
    app.session_interface = NoSession()  # DOKU sends no cookies; the pages' SECRET_KEY is here
    app.extensions["doku_api"] = portal.extensions["doku_api"]
    share_database(portal, app)
    register_request_ids(app)
    app.register_blueprint(bp)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        return json_http_error(exc)

    app.register_error_handler(OperationalError, database_unavailable)
    return app


class NoSession(SessionInterface):
    """No cookie session for DOKU's calls: Flask's own interface would build a signing
    serializer for every request only to find no cookie (the config holds the pages'
    ``SECRET_KEY``). ``session`` is Flask's read-only null session; nothing is ever saved."""

    def open_session(self, app: Flask, request: Request) -> None:
        return None

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        return None


def share_database(portal: Flask, app: Flask) -> None:
    """Let ``db.session`` and ``db.engine`` work in ``app`` on ``portal``'s engine: one pool
    per process, and the engine's SQLite settings (``configure_sqlite``) hold for both.

    Flask-SQLAlchemy has no public way to share an engine between apps; this is what its
    ``init_app`` does, minus building a second engine. tests/api/test_lean_app.py checks it.
    """
    app.extensions["sqlalchemy"] = db
    db._app_engines[app] = db._app_engines[portal]

    @app.before_request
    def _borrow_callers_session() -> None:
        # A request made in-process from inside the portal's context (Flask's test client in
        # tests, the CLI's simulator) works in that context's session, as it did when the
        # portal served DOKU itself: the caller may hold SQLite's write lock in it.
        borrowed = request.environ.get(BORROWED_SESSION)
        if borrowed is not None:
            db.session.registry.set(borrowed)
            g.borrowed_session = True

    @app.teardown_appcontext
    def _end_session(_exc: BaseException | None) -> None:
        if g.pop("borrowed_session", False):
            db.session.registry.clear()  # the caller's, not ours to close
        else:
            db.session.remove()


class DokuDispatcher:
    """``/doku/...`` to the DOKU app, everything else to the portal; paths are passed on
    unchanged (unlike werkzeug's ``DispatcherMiddleware``, which moves the prefix into
    SCRIPT_NAME), so both apps see the same URL."""

    def __init__(self, portal: WSGIApplication, doku: WSGIApplication) -> None:
        self.portal = portal
        self.doku = doku

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(PREFIX):
            # Flask's test client (``with app.test_client()``) keeps the last request's
            # context pushed; for DOKU's app that would put its context, and its database
            # session, over the caller's. Nothing outside tests sets this key.
            environ.pop("werkzeug.debug.preserve_context", None)
            if has_app_context() and current_app.extensions.get("doku_app") is self.doku:
                # Called in-process from inside an app context (tests, the CLI's simulator):
                # the DOKU app works in the caller's database session (see share_database).
                environ[BORROWED_SESSION] = db.session()
            return self.doku(environ, start_response)
        return self.portal(environ, start_response)
