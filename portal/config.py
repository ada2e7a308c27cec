"""Configuration: defaults, then ``instance/config.py``, then the environment, then tests.

Nothing here is read at import time; ``create_app`` calls :func:`load`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Config

from portal.doku.limits import PAYMENT_CODE_MAX
from portal.services.billing.payability import DEFAULT_POLICY_STATUSES
from portal.services.billing.payability import config_problems as policy_status_problems

DEFAULTS: dict[str, Any] = {
    "SECRET_KEY": None,
    "SQLALCHEMY_DATABASE_URI": None,  # None: SQLite file under instance/
    "SQLALCHEMY_ENGINE_OPTIONS": {},
    # Credentials from DOKU's Back Office; no defaults outside tests.
    "DOKU_CLIENT_ID": None,
    "DOKU_SECRET_KEY": None,
    # Rotating the key without downtime: the previous key is still accepted (and answers are
    # signed with whichever key the request used) until DOKU_PREVIOUS_SECRET_KEY_UNTIL.
    "DOKU_PREVIOUS_SECRET_KEY": None,
    "DOKU_PREVIOUS_SECRET_KEY_UNTIL": None,
    # DOKU's API for Check Status: https://api-sandbox.doku.com or https://api.doku.com.
    "DOKU_API_BASE_URL": "https://api-sandbox.doku.com",
    # Ask DOKU about a bill this long after its successful inquiry, if no payment came (DOKU
    # advises at least 60 s after payment).
    "DOKU_RECONCILE_DELAY_SECONDS": 300,
    # Public request targets of our two URLs as registered with DOKU. Behind a proxy or a path
    # prefix they differ from the path Flask sees, and the signature covers them.
    "DOKU_INQUIRY_TARGET": "/doku/inquiry",
    "DOKU_NOTIFICATION_TARGET": "/doku/notification",
    # An inquiry happens live at the till: DOKU forwards it within seconds. Five minutes each
    # way tolerates ordinary clock drift and still refuses a captured request replayed later.
    "DOKU_TIMESTAMP_TOLERANCE_SECONDS": 300,
    # Refused (badly signed) DOKU requests a peer may send before it is answered 429 unseen.
    "DOKU_AUTH_FAILURE_LIMIT": "60 per minute",
    # How long refused deliveries and inquiry records are kept by `flask doku prune`.
    "DOKU_TRAFFIC_RETENTION_DAYS": 90,
    # DOKU's messages are well under 2 KiB; anything far bigger is refused before parsing.
    "DOKU_MAX_BODY_BYTES": 16 * 1024,
    # Company prefix ("BIN") assigned by DOKU at onboarding, and the total code length.
    "PAYMENT_CODE_PREFIX": "8896",
    "PAYMENT_CODE_LENGTH": 16,
    # A code stays valid this many days after the bill's due date (end of day, WIB).
    "PAYMENT_CODE_GRACE_DAYS": 30,
    # Alfamart's usual per-transaction limits; configurable, not contractual.
    "ALFA_MIN_AMOUNT": 10_000,
    "ALFA_MAX_AMOUNT": 5_000_000,
    # Every status a policy may have (forms offer these; imports refuse others), and those whose
    # bills the till may take. Stored lower-cased with single spaces.
    "POLICY_STATUSES": DEFAULT_POLICY_STATUSES,
    "ACTIVE_POLICY_STATUSES": ("aktif",),
    # Who the policyholder should contact when a bill cannot be paid at the store.
    "INSURER_NAME": "PT Asuransi Demo Sejahtera",
    "INSURER_PHONE": "1500-123",
    "INSURER_EMAIL": "layanan@asuransi-demo.example",
    # The insurer's brand in the portal's header and footer, the slip, the PDFs and every
    # email: a WhatsApp number, a logo (a file under portal/static/, never another host: CSP)
    # and the regulator's licence line.
    "INSURER_WHATSAPP": "+62 811-1500-123",
    "INSURER_LOGO": "img/insurer-logo.svg",
    "INSURER_LICENCE": "Berizin dan diawasi oleh Otoritas Jasa Keuangan (OJK)",
    "DEFAULT_INFO": "Premi Asuransi",
    "DEFAULT_FOOTER_MESSAGE": "Terima kasih. Simpan struk ini sebagai  bukti bayar premi Anda.",
    # Logs: JSON lines on stdout ("text" for plain lines while developing).
    "LOG_FORMAT": "json",
    "LOG_LEVEL": "INFO",
    # GET /metrics: a bearer token, and/or the networks that may scrape without one.
    "METRICS_TOKEN": None,
    "METRICS_ALLOW_NETWORKS": ("127.0.0.1/32", "::1/128"),
    # Where people reach the site, e.g. https://premi.example.co.id: links in emails are built
    # from it, never from the request's Host header (which the client chooses).
    "PUBLIC_BASE_URL": None,
    # The site is served over HTTPS (set it in production): secure cookies and HSTS. The app
    # redirects nothing (that is the proxy's job, and DOKU counts a 3xx as a failed delivery);
    # links in emails take their scheme from PUBLIC_BASE_URL.
    "FORCE_HTTPS": False,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_DURATION": 30 * 24 * 3600,
    # A staff session ends after this long without a request, and this long after the login.
    "STAFF_IDLE_MINUTES": 30,
    "STAFF_SESSION_HOURS": 12,
    # Staff pages keep their own session cookie, scoped to /admin.
    "ADMIN_SESSION_COOKIE_NAME": "admin_session",
    # How many proxies in front of the app set X-Forwarded-For / -Proto (0: none).
    "PROXY_FIX_X_FOR": 0,
    "PROXY_FIX_X_PROTO": 0,
    # The proxies' own addresses: forwarded headers from any other peer are ignored.
    "TRUSTED_PROXIES": ("127.0.0.1/32", "::1/128"),
    # Login rate limits; the storage is shared by every worker and machine in production.
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_KEY_PREFIX": "portal",
    "LOGIN_LIMIT_PER_ADDRESS": "20 per 10 minutes",
    # Per address and account: growing waits, and nobody can lock the owner out from elsewhere.
    "LOGIN_LIMIT_PER_ACCOUNT": "5 per 10 minutes; 10 per hour; 20 per day",
    # Languages: Bahasa Indonesia first.
    "LANGUAGES": ("id", "en"),
    "BABEL_DEFAULT_LOCALE": "id",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Jakarta",
    # Two catalogs in portal/translations: the back office's ("admin", babel-admin.cfg) and the
    # policyholder portal's ("messages", babel.cfg), one directory entry per domain. Later
    # domains win where both translate a text, so the portal's wording stands on its pages.
    "BABEL_DOMAIN": "admin;messages",
    "BABEL_TRANSLATION_DIRECTORIES": "translations;translations",
    # One-time links to set a password.
    "ACTIVATION_LINK_MAX_AGE_SECONDS": 7 * 24 * 3600,
    "RESET_LINK_MAX_AGE_SECONDS": 3600,
    # Reminder emails (flask notify due): days before the due date and before code expiry.
    "REMINDER_DAYS_BEFORE_DUE": 3,
    "REMINDER_DAYS_BEFORE_EXPIRY": 2,
    # Outgoing mail; with no MAIL_SERVER mail goes to instance/outbox/ and the log.
    "MAIL_SERVER": None,
    "MAIL_PORT": 25,
    "MAIL_USE_TLS": False,
    "MAIL_USE_SSL": False,
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_SENDER": "Portal Premi <no-reply@localhost>",
    # The job queue: None is a SQLite file in the instance folder (jobs.sqlite3); in
    # production redis://host:6379/1, shared by every machine. Immediate runs each job at once
    # in the process that enqueues it (tests, and trying things out without a consumer).
    "JOBS_URL": None,
    "JOBS_IMMEDIATE": False,
}

JOBS_URL_SCHEMES = ("sqlite:///", "redis://", "rediss://", "unix://")
REQUIRED_SECRETS = ("SECRET_KEY", "DOKU_CLIENT_ID", "DOKU_SECRET_KEY", "PUBLIC_BASE_URL")


# The exit status of a process stopped by its configuration (sysexits.h EX_CONFIG).
EX_CONFIG = 78


class ConfigError(RuntimeError):
    """Start-up cannot go on: the message says what to set."""


def _int(value: str) -> int:
    return int(value)


def _str(value: str) -> str:
    return value


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{value!r} is not a yes/no value")


def _moment(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} needs a UTC offset, e.g. 2026-12-31T00:00:00Z")
    return moment.astimezone(UTC)


def _list(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def database_url(value: str) -> str:
    """Accept the URLs hosting platforms hand out and use psycopg 3 for PostgreSQL."""
    for prefix in ("postgres://", "postgresql://"):
        if value.startswith(prefix):
            return "postgresql+psycopg://" + value[len(prefix) :]
    return value


# Environment variable -> (config key, parser). Documented in README.md.
ENVIRONMENT: dict[str, tuple[str, Callable[[str], Any]]] = {
    "SECRET_KEY": ("SECRET_KEY", _str),
    "DATABASE_URL": ("SQLALCHEMY_DATABASE_URI", database_url),
    "DOKU_CLIENT_ID": ("DOKU_CLIENT_ID", _str),
    "DOKU_SECRET_KEY": ("DOKU_SECRET_KEY", _str),
    "DOKU_PREVIOUS_SECRET_KEY": ("DOKU_PREVIOUS_SECRET_KEY", _str),
    "DOKU_PREVIOUS_SECRET_KEY_UNTIL": ("DOKU_PREVIOUS_SECRET_KEY_UNTIL", _moment),
    "DOKU_API_BASE_URL": ("DOKU_API_BASE_URL", _str),
    "DOKU_RECONCILE_DELAY_SECONDS": ("DOKU_RECONCILE_DELAY_SECONDS", _int),
    "DOKU_INQUIRY_TARGET": ("DOKU_INQUIRY_TARGET", _str),
    "DOKU_NOTIFICATION_TARGET": ("DOKU_NOTIFICATION_TARGET", _str),
    "DOKU_TIMESTAMP_TOLERANCE_SECONDS": ("DOKU_TIMESTAMP_TOLERANCE_SECONDS", _int),
    "DOKU_AUTH_FAILURE_LIMIT": ("DOKU_AUTH_FAILURE_LIMIT", _str),
    "DOKU_TRAFFIC_RETENTION_DAYS": ("DOKU_TRAFFIC_RETENTION_DAYS", _int),
    "PAYMENT_CODE_PREFIX": ("PAYMENT_CODE_PREFIX", _str),
    "PAYMENT_CODE_LENGTH": ("PAYMENT_CODE_LENGTH", _int),
    "PAYMENT_CODE_GRACE_DAYS": ("PAYMENT_CODE_GRACE_DAYS", _int),
    "ALFA_MIN_AMOUNT": ("ALFA_MIN_AMOUNT", _int),
    "ALFA_MAX_AMOUNT": ("ALFA_MAX_AMOUNT", _int),
    "POLICY_STATUSES": ("POLICY_STATUSES", _list),
    "ACTIVE_POLICY_STATUSES": ("ACTIVE_POLICY_STATUSES", _list),
    "INSURER_NAME": ("INSURER_NAME", _str),
    "INSURER_PHONE": ("INSURER_PHONE", _str),
    "INSURER_EMAIL": ("INSURER_EMAIL", _str),
    "INSURER_WHATSAPP": ("INSURER_WHATSAPP", _str),
    "INSURER_LOGO": ("INSURER_LOGO", _str),
    "INSURER_LICENCE": ("INSURER_LICENCE", _str),
    "DEFAULT_INFO": ("DEFAULT_INFO", _str),
    "DEFAULT_FOOTER_MESSAGE": ("DEFAULT_FOOTER_MESSAGE", _str),
    "PUBLIC_BASE_URL": ("PUBLIC_BASE_URL", _str),
    "FORCE_HTTPS": ("FORCE_HTTPS", _bool),
    "LOG_FORMAT": ("LOG_FORMAT", _str),
    "LOG_LEVEL": ("LOG_LEVEL", _str),
    "METRICS_TOKEN": ("METRICS_TOKEN", _str),
    "METRICS_ALLOW_NETWORKS": ("METRICS_ALLOW_NETWORKS", _list),
    "PROXY_FIX_X_FOR": ("PROXY_FIX_X_FOR", _int),
    "PROXY_FIX_X_PROTO": ("PROXY_FIX_X_PROTO", _int),
    "TRUSTED_PROXIES": ("TRUSTED_PROXIES", _list),
    "RATELIMIT_STORAGE_URI": ("RATELIMIT_STORAGE_URI", _str),
    "RATELIMIT_KEY_PREFIX": ("RATELIMIT_KEY_PREFIX", _str),
    "LOGIN_LIMIT_PER_ADDRESS": ("LOGIN_LIMIT_PER_ADDRESS", _str),
    "LOGIN_LIMIT_PER_ACCOUNT": ("LOGIN_LIMIT_PER_ACCOUNT", _str),
    "STAFF_IDLE_MINUTES": ("STAFF_IDLE_MINUTES", _int),
    "STAFF_SESSION_HOURS": ("STAFF_SESSION_HOURS", _int),
    "REMINDER_DAYS_BEFORE_DUE": ("REMINDER_DAYS_BEFORE_DUE", _int),
    "REMINDER_DAYS_BEFORE_EXPIRY": ("REMINDER_DAYS_BEFORE_EXPIRY", _int),
    "MAIL_SERVER": ("MAIL_SERVER", _str),
    "MAIL_PORT": ("MAIL_PORT", _int),
    "MAIL_USE_TLS": ("MAIL_USE_TLS", _bool),
    "MAIL_USE_SSL": ("MAIL_USE_SSL", _bool),
    "MAIL_USERNAME": ("MAIL_USERNAME", _str),
    "MAIL_PASSWORD": ("MAIL_PASSWORD", _str),
    "MAIL_SENDER": ("MAIL_SENDER", _str),
    "JOBS_URL": ("JOBS_URL", _str),
    "JOBS_IMMEDIATE": ("JOBS_IMMEDIATE", _bool),
}


def load(
    config: Config,
    instance_path: str,
    environ: Mapping[str, str],
    test_config: Mapping[str, Any] | None,
) -> None:
    config.from_mapping(DEFAULTS)
    config.from_pyfile("config.py", silent=True)
    for name, (key, parse) in ENVIRONMENT.items():
        raw = environ.get(name)
        if raw is None or raw == "":
            continue
        try:
            config[key] = parse(raw)
        except ValueError as exc:
            raise ConfigError(f"Environment variable {name} is not valid: {exc}") from exc
    if test_config is not None:
        config.from_mapping(test_config)
    config["SESSION_COOKIE_SECURE"] = config["REMEMBER_COOKIE_SECURE"] = config["FORCE_HTTPS"]
    if not config["SQLALCHEMY_DATABASE_URI"]:
        path = Path(instance_path) / "portal.sqlite3"
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    else:
        config["SQLALCHEMY_DATABASE_URI"] = database_url(config["SQLALCHEMY_DATABASE_URI"])
    check(config)


def check(config: Config) -> None:
    """Fail fast with a message that names every missing or inconsistent setting."""
    problems: list[str] = []
    if not config.get("TESTING"):
        missing = [key for key in REQUIRED_SECRETS if not config.get(key)]
        if missing:
            problems.append(
                "missing " + ", ".join(missing) + " (set them in the environment or in "
                "instance/config.py; see README.md, Configuration)"
            )
    prefix = config["PAYMENT_CODE_PREFIX"]
    length = config["PAYMENT_CODE_LENGTH"]
    if not (isinstance(prefix, str) and prefix.isascii() and prefix.isdigit() and prefix[0] != "0"):
        problems.append("PAYMENT_CODE_PREFIX must be digits not starting with 0")
    elif not (
        isinstance(length, int) and length <= PAYMENT_CODE_MAX and length - len(prefix) - 1 >= 8
    ):
        problems.append(
            f"PAYMENT_CODE_LENGTH must be at most {PAYMENT_CODE_MAX} and leave at least 8 random "
            "digits after the prefix and before the check digit"
        )
    base = config["PUBLIC_BASE_URL"]
    if base and not str(base).startswith(("https://", "http://")):
        problems.append("PUBLIC_BASE_URL must start with https:// (or http:// in development)")
    if not str(config["DOKU_API_BASE_URL"]).startswith(("https://", "http://")):
        problems.append("DOKU_API_BASE_URL must be an https:// URL")
    if config["DOKU_RECONCILE_DELAY_SECONDS"] < 60:
        problems.append("DOKU_RECONCILE_DELAY_SECONDS must be at least 60 (DOKU's advice)")
    if config["LOG_FORMAT"] not in ("json", "text"):
        problems.append("LOG_FORMAT must be json or text")
    try:
        for network in config["METRICS_ALLOW_NETWORKS"]:
            ipaddress.ip_network(network)
    except ValueError as exc:
        problems.append(f"METRICS_ALLOW_NETWORKS: {exc}")
    try:
        for network in config["TRUSTED_PROXIES"]:
            ipaddress.ip_network(network)
    except ValueError as exc:
        problems.append(f"TRUSTED_PROXIES: {exc}")
    if bool(config["DOKU_PREVIOUS_SECRET_KEY"]) != bool(config["DOKU_PREVIOUS_SECRET_KEY_UNTIL"]):
        problems.append("DOKU_PREVIOUS_SECRET_KEY and DOKU_PREVIOUS_SECRET_KEY_UNTIL go together")
    if not 0 < config["ALFA_MIN_AMOUNT"] <= config["ALFA_MAX_AMOUNT"]:
        problems.append("ALFA_MIN_AMOUNT must be positive and not above ALFA_MAX_AMOUNT")
    problems.extend(policy_status_problems(config))
    for key in ("DOKU_INQUIRY_TARGET", "DOKU_NOTIFICATION_TARGET"):
        target = config[key]
        if not target.startswith("/") or "?" in target:
            problems.append(f"{key} must be a path starting with / and without a query string")
    jobs_url = config.get("JOBS_URL")
    if jobs_url and not (jobs_url == "memory://" or jobs_url.startswith(JOBS_URL_SCHEMES)):
        problems.append("JOBS_URL must be sqlite:///path, redis://host:6379/1 or memory://")
    if problems:
        raise ConfigError("Cannot start: " + "; ".join(problems) + ".")
