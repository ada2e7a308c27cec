"""Logs as JSON lines with a request id, and Prometheus metrics that add up across workers.

Secrets never reach a log line: nothing here logs headers or bodies, and the DOKU endpoints
log the payment code masked to its last four digits.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from prometheus_client import Counter, Histogram

from portal.access_log import RedactSecretPaths

REQUEST_ID_HEADER = "X-Request-Id"

INQUIRIES = Counter("doku_inquiries_total", "Inquiries answered, by status", ["status"])
NOTIFICATIONS = Counter(
    "doku_notifications_total", "Notification deliveries, by outcome", ["outcome"]
)
SIGNATURE_FAILURES = Counter(
    "doku_authentication_failures_total", "DOKU requests refused with 401", ["endpoint"]
)
LATENCY = Histogram(
    "doku_request_seconds",
    "Time to answer DOKU, by endpoint",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)


def mask_code(code: str | None) -> str | None:
    """``************8123``: enough to find a bill, not enough to pay someone else's."""
    if not code:
        return code
    return "*" * max(0, len(code) - 4) + code[-4:]


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context():
            entry["request_id"] = g.get("request_id")
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(app: Flask) -> None:
    """JSON lines on stdout for the app's loggers (LOG_FORMAT=text for plain lines)."""
    handler = logging.StreamHandler(sys.stdout)
    if app.config["LOG_FORMAT"] == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(name)s] %(message)s"))
    logger = logging.getLogger("portal")
    # Replace, not add: create_app may run more than once in a process (tests, CLI).
    for existing in list(logger.handlers):
        if getattr(existing, "portal_handler", False):
            logger.removeHandler(existing)
    handler.portal_handler = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(app.config["LOG_LEVEL"])
    # Flask logs an unhandled error on this logger as "Exception on <path> [<method>]": on a
    # link page the path holds the token.
    if not any(isinstance(f, RedactSecretPaths) for f in logger.filters):
        logger.addFilter(RedactSecretPaths())
    # `flask run` logs each request line through "werkzeug": no link tokens there either.
    werkzeug_log = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactSecretPaths) for f in werkzeug_log.filters):
        werkzeug_log.addFilter(RedactSecretPaths())


def _usable_request_id(value: str | None) -> str | None:
    if value and len(value) <= 128 and all(" " < c <= "~" for c in value):
        return value
    return None


def register_request_ids(app: Flask) -> None:
    """Every request gets an id (the proxy's X-Request-Id if sane), echoed in the response."""

    @app.before_request
    def _start() -> None:
        g.request_id = (
            _usable_request_id(request.headers.get(REQUEST_ID_HEADER)) or uuid.uuid4().hex
        )
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
        return response


def elapsed_ms() -> float:
    return round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 2)
