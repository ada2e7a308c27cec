"""Glue for the web pages: separate staff and policyholder sessions, who is logged in, which
language a page speaks."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from flask import Flask, Request, current_app, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response as BaseResponse

from portal.extensions import db
from portal.models import Policyholder, StaffUser
from portal.services.accounts import audit
from portal.services.accounts.audit import LoginArea, LoginEvent
from portal.services.accounts.credentials import LinkSettings
from portal.services.billing.payability import PayabilityRules
from portal.services.billing.payment_codes import CodeSettings
from portal.services.mail.outbox import MailSettings

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

ADMIN_PREFIX = "/admin"


def in_staff_area() -> bool:
    return request.path == ADMIN_PREFIX or request.path.startswith(ADMIN_PREFIX + "/")


# Machine endpoints: no browser, no cookie, no session to open or save on every request.
SESSIONLESS_PREFIXES = ("/doku/", "/healthz", "/readyz", "/metrics")


def machine_request() -> bool:
    """DOKU's endpoints and the health/metrics endpoints: no browser behind them."""
    return request.path.startswith(SESSIONLESS_PREFIXES)


class AreaSessionInterface(SecureCookieSessionInterface):
    """Staff pages (/admin) and policyholder pages use different session cookies, so one
    browser can hold both and neither session ever opens the other's pages."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(SESSIONLESS_PREFIXES):
            return None  # Flask uses a read-only null session
        return super().open_session(app, request)

    def get_cookie_name(self, app: Flask) -> str:
        if in_staff_area():
            return str(app.config["ADMIN_SESSION_COOKIE_NAME"])
        return super().get_cookie_name(app)

    def get_cookie_path(self, app: Flask) -> str:
        if in_staff_area():
            return request.script_root + ADMIN_PREFIX
        return super().get_cookie_path(app)


def load_account(user_id: str) -> Policyholder | StaffUser | None:
    """Flask-Login's user loader: ``p:<id>:<version>`` or ``s:<id>:<version>``.

    An id of the wrong kind for the area is refused, so a policyholder's session or remember
    cookie can never authenticate a staff page, nor the reverse.
    """
    try:
        kind, raw_id, raw_version = user_id.split(":")
        account_id, version = int(raw_id), int(raw_version)
    except ValueError:
        return None
    account: Policyholder | StaffUser | None
    if kind == StaffUser.ACCOUNT_KIND and in_staff_area():
        account = db.session.get(StaffUser, account_id)
    elif kind == Policyholder.ACCOUNT_KIND and not in_staff_area():
        account = db.session.get(Policyholder, account_id)
    else:
        return None
    if account is None or account.session_version != version or not account.is_active:
        return None
    return account


LANGUAGE_COOKIE = "lang"
LANGUAGE_COOKIE_MAX_AGE = 365 * 24 * 3600


def remember_language(response: BaseResponse, language: str) -> BaseResponse:
    """The language cookie, for the whole site: one choice per browser, staff or not."""
    response.set_cookie(
        LANGUAGE_COOKIE,
        language,
        max_age=LANGUAGE_COOKIE_MAX_AGE,
        secure=bool(current_app.config["FORCE_HTTPS"]),
        httponly=True,
        samesite="Lax",
    )
    return response


def select_locale() -> str:
    """Policyholder pages: the saved language, else the language cookie, else Bahasa
    Indonesia. Staff pages: the language cookie, else Bahasa Indonesia."""
    languages = current_app.config["LANGUAGES"]
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if in_staff_area():
        return str(chosen if chosen in languages else current_app.config["BABEL_DEFAULT_LOCALE"])
    user = current_user
    if isinstance(user, Policyholder) and user.language in languages:
        return str(user.language)
    if chosen in languages:
        return str(chosen)
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def select_timezone() -> str:
    return "Asia/Jakarta"  # WIB on every page, whatever the server's zone


def mail_settings() -> MailSettings:
    config = current_app.config
    return MailSettings(
        server=config["MAIL_SERVER"],
        port=config["MAIL_PORT"],
        use_tls=config["MAIL_USE_TLS"],
        use_ssl=config["MAIL_USE_SSL"],
        username=config["MAIL_USERNAME"],
        password=config["MAIL_PASSWORD"],
        sender=config["MAIL_SENDER"],
        outbox=Path(current_app.instance_path) / "outbox",
    )


def link_settings(purpose: str) -> LinkSettings:
    config = current_app.config
    key = (
        "ACTIVATION_LINK_MAX_AGE_SECONDS" if purpose == "activate" else "RESET_LINK_MAX_AGE_SECONDS"
    )
    return LinkSettings(secret_key=config["SECRET_KEY"], max_age_seconds=config[key])


def policy_statuses() -> tuple[str, ...]:
    """The configured vocabulary of policy statuses (imports refuse any other)."""
    return PayabilityRules.from_config(current_app.config).policy_statuses


def code_settings() -> CodeSettings:
    config = current_app.config
    return CodeSettings(
        prefix=config["PAYMENT_CODE_PREFIX"],
        length=config["PAYMENT_CODE_LENGTH"],
        grace_days=config["PAYMENT_CODE_GRACE_DAYS"],
    )


class TrustedProxyFix:
    """ProxyFix, but only for requests whose peer is one of ``networks`` (the proxies in front).

    X-Forwarded-For from anyone else is ignored: otherwise a client writes its own address
    (into the login limits, the /metrics allow-list, logs and stored notifications). What a
    trusted proxy forwards must still be an IP address (and the scheme http or https), else
    the peer's own address stands: a long or garbled header never reaches a database column.
    """

    def __init__(
        self, app: WSGIApplication, *, networks: Sequence[str], x_for: int, x_proto: int
    ) -> None:
        self.app = app
        self.networks = tuple(ipaddress.ip_network(n) for n in networks)
        self.fixed = ProxyFix(self._checked, x_for=x_for, x_proto=x_proto)

    def _trusted(self, address: str) -> bool:
        try:
            peer = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(peer in network for network in self.networks)

    def _checked(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        original = environ.get("werkzeug.proxy_fix.orig", {})
        try:
            ipaddress.ip_address(environ.get("REMOTE_ADDR", ""))
        except ValueError:
            environ["REMOTE_ADDR"] = original.get("REMOTE_ADDR")
        if environ.get("wsgi.url_scheme") not in ("http", "https"):
            environ["wsgi.url_scheme"] = original.get("wsgi.url_scheme", "http")
        return self.app(environ, start_response)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if self._trusted(environ.get("REMOTE_ADDR", "")):
            return self.fixed(environ, start_response)
        return self.app(environ, start_response)


def safe_next(target: str | None, *, area: str = "") -> str | None:
    """``target`` if it is a path on this site inside ``area`` (``/admin``; empty: anywhere
    under the app's root), else ``None``: the one check before redirecting to a ``next``.

    Refused: another site (``https://evil``, ``//evil``, ``http:/evil``), anything not starting
    with ``/`` (``javascript:``, ``payments``), backslashes (browsers read ``/\\evil`` as a
    host) and control characters (``/\\t/evil`` loses its tab and becomes ``//evil``).
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(char) < 32 or ord(char) == 127 for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    root = request.script_root + area
    if root and not (parts.path == root or parts.path.startswith(root + "/")):
        return None
    return target


def audit_login(
    area: LoginArea, event: LoginEvent, email: str, account: Policyholder | StaffUser | None
) -> None:
    """Record a login event of ``area`` from this request's peer (the caller commits)."""
    audit.record_login_event(
        db.session,
        area=area,
        event=event,
        email=email,
        account=account,
        remote_addr=request.remote_addr,
        now=datetime.now(UTC),
    )
