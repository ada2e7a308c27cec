"""The insurer's portal for DOKU Alfa Group O2O premium payments."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, render_template, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from portal import config as config_module
from portal.extensions import babel, csrf, db, limiter, login_manager, migrate, talisman

log = logging.getLogger(__name__)


def _configured_flask(test_config: Mapping[str, Any] | None) -> Flask:
    # PORTAL_INSTANCE_PATH moves the runtime folder (instance/ beside the code by default).
    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=os.environ.get("PORTAL_INSTANCE_PATH") or None,
    )
    os.makedirs(app.instance_path, exist_ok=True)
    config_module.load(app.config, app.instance_path, os.environ, test_config)
    check_receipt_defaults(app)
    return app


def check_settings(test_config: Mapping[str, Any] | None = None) -> None:
    """Load and check the configuration as ``create_app`` does, without building the app
    (gunicorn's master calls it before starting workers). Raises ``ConfigError``."""
    _configured_flask(test_config)


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    app = _configured_flask(test_config)
    register_observability(app)
    register_extensions(app)
    register_doku(app)  # before register_web: the DOKU app sits inside the proxy fix too
    register_web(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    register_jobs(app)
    return app


def register_observability(app: Flask) -> None:
    from portal.observability import configure_logging, register_request_ids

    configure_logging(app)
    register_request_ids(app)


def check_receipt_defaults(app: Flask) -> None:
    from portal.services.billing.receipt import ReceiptTextError, check_info, layout_footer

    try:
        check_info(app.config["DEFAULT_INFO"])
        layout_footer(app.config["DEFAULT_FOOTER_MESSAGE"])
    except ReceiptTextError as exc:
        raise config_module.ConfigError(f"Cannot start: default receipt text: {exc}") from exc


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=os.path.join(os.path.dirname(__file__), os.pardir, "migrations"),
        compare_type=True,
        render_as_batch=True,
    )
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)


def configure_sqlite(engine: Engine) -> None:
    """Make SQLite behave for money: foreign keys on, WAL, and write-locking transactions.

    ``BEGIN IMMEDIATE`` takes the write lock when a transaction starts, so a read followed by a
    write cannot be overtaken by another process's write (SQLite would answer "database is
    locked" at the write instead of waiting). SQLite thus runs writers one at a time.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA busy_timeout = 10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def register_doku(app: Flask) -> None:
    """``/doku/*`` is served by a lean app of its own (``portal.api.app``): none of the pages'
    hooks (session, login, CSRF, limiter, languages, security headers) run for DOKU."""
    from portal.api import common as doku_common
    from portal.api.app import DokuDispatcher, create_doku_app
    from portal.services.traffic.inquiries import InquiryRules

    rules = InquiryRules.from_config(app.config)  # built once, for DOKU and the pages
    app.extensions["inquiry_rules"] = rules
    doku_common.init_app(app, rules)
    doku = create_doku_app(app)
    app.extensions["doku_app"] = doku
    app.wsgi_app = DokuDispatcher(app.wsgi_app, doku)  # type: ignore[method-assign]


# Pages load their scripts and styles from the app only; nothing inline, nothing external.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def register_web(app: Flask) -> None:
    """Sessions, logins, CSRF, rate limits, languages and security headers for the pages."""
    from portal.web import (
        AreaSessionInterface,
        TrustedProxyFix,
        load_account,
        select_locale,
        select_timezone,
    )

    if app.config["PROXY_FIX_X_FOR"] or app.config["PROXY_FIX_X_PROTO"]:
        app.wsgi_app = TrustedProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            networks=app.config["TRUSTED_PROXIES"],
            x_for=app.config["PROXY_FIX_X_FOR"],
            x_proto=app.config["PROXY_FIX_X_PROTO"],
        )
    app.session_interface = AreaSessionInterface()
    login_manager.init_app(app)
    login_manager.user_loader(load_account)
    login_manager.blueprint_login_views = {  # type: ignore[assignment]
        "policyholder": "policyholder.login",
        "admin": "admin.login",
    }
    login_manager.session_protection = "basic"
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    https = bool(app.config["FORCE_HTTPS"])
    talisman.init_app(
        app,
        # Redirecting to https is the proxy's job: DOKU counts a 3xx as a failed delivery.
        force_https=False,
        strict_transport_security=https,
        session_cookie_secure=https,
        content_security_policy=CONTENT_SECURITY_POLICY,
        frame_options="DENY",
        referrer_policy="same-origin",
    )


def register_blueprints(app: Flask) -> None:
    from portal.admin import bp as admin_bp
    from portal.api import bp as doku_bp
    from portal.ops import bp as ops_bp
    from portal.policyholder import bp as policyholder_bp
    from portal.web import ADMIN_PREFIX, machine_request

    # Only logins are rate-limited; machine endpoints skip the limiter's per-request work.
    limiter.request_filter(machine_request)
    # Registered here for its commands (``flask doku ...``) and URLs; its requests are
    # answered by the DOKU app (``register_doku``), where the pages' hooks do not exist.
    csrf.exempt(doku_bp)  # DOKU signs its requests; there is no browser and no form
    app.register_blueprint(doku_bp)
    app.register_blueprint(ops_bp)
    app.register_blueprint(policyholder_bp)
    app.register_blueprint(admin_bp, url_prefix=ADMIN_PREFIX)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(OperationalError)
    def _database_unavailable(exc: OperationalError) -> Response:
        """The database does not answer: 503 (try again), not a 500 (our bug). The DOKU
        app answers its own, signed, JSON 503."""
        db.session.rollback()
        log.error("database unavailable: %s", str(exc.orig)[:200])
        if request.path.startswith(("/metrics", "/readyz", "/healthz")):
            response = Response("database unavailable\n", 503, mimetype="text/plain")
        else:
            response = Response(render_template("unavailable.html"), 503)
        response.headers["Retry-After"] = "60"
        response.headers["Cache-Control"] = "no-store"
        return response


def register_commands(app: Flask) -> None:
    from portal.cli import register

    register(app)


def register_jobs(app: Flask) -> None:
    """The job queue from JOBS_URL; the tasks are declared by the modules imported here and
    by the blueprints (``portal.api.tasks``)."""
    import portal.jobs.mail  # noqa: F401  (declares the email jobs)
    from portal.extensions import jobs
    from portal.jobs.cli import jobs_cli

    try:
        jobs.init_app(app)
    except ValueError as exc:
        raise config_module.ConfigError(f"Cannot start: {exc}.") from exc
    app.cli.add_command(jobs_cli)
