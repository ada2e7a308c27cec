"""What every DOKU endpoint shares: settings read once, the body read safely, authentication
once for the blueprint, signed answers, JSON errors."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Flask, Response, current_app, g, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from portal.api import bp
from portal.api.auth import (
    Authenticated,
    AuthenticationError,
    Credentials,
    authenticate,
    response_headers,
    usable_request_id,
)
from portal.api.refusals import over_failure_budget
from portal.doku.messages import error_body
from portal.extensions import db
from portal.observability import SIGNATURE_FAILURES
from portal.services.traffic.inquiries import InquiryRules

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ApiSettings:
    credentials: Credentials
    inquiry_target: str
    notification_target: str
    max_body_bytes: int
    rules: InquiryRules


def init_app(app: Flask, rules: InquiryRules) -> None:
    """Read the configuration once, at start-up, instead of on every request."""
    config = app.config
    app.extensions["doku_api"] = ApiSettings(
        credentials=Credentials(
            client_id=config["DOKU_CLIENT_ID"] or "",
            secret_key=config["DOKU_SECRET_KEY"] or "",
            timestamp_tolerance_seconds=config["DOKU_TIMESTAMP_TOLERANCE_SECONDS"],
            previous_secret_key=config["DOKU_PREVIOUS_SECRET_KEY"],
            previous_key_until=config["DOKU_PREVIOUS_SECRET_KEY_UNTIL"],
        ),
        inquiry_target=config["DOKU_INQUIRY_TARGET"],
        notification_target=config["DOKU_NOTIFICATION_TARGET"],
        max_body_bytes=config["DOKU_MAX_BODY_BYTES"],
        rules=rules,
    )


def api_settings() -> ApiSettings:
    settings: ApiSettings = current_app.extensions["doku_api"]
    return settings


def read_body(limit: int) -> bytes:
    """The raw request body, or 413 if it is longer than ``limit`` bytes.

    Read from the WSGI input itself, one byte past the limit: a chunked body has no
    Content-Length, and a stream capped at the limit would hand over a truncated body that
    then fails (or, worse, passes) the signature check as if it were the whole message.
    """
    declared = request.content_length
    if declared is not None:
        if declared > limit:
            raise RequestEntityTooLarge()
        return request.get_data(cache=False)  # the stream ends at Content-Length
    if not request.environ.get("wsgi.input_terminated"):
        return b""  # no length and no end marker: WSGI says there is no body to read
    body: bytes = request.environ["wsgi.input"].read(limit + 1)
    if len(body) > limit:
        raise RequestEntityTooLarge()
    return body


def printable(body: bytes) -> str:
    """The raw body as text for the record; NUL cannot be stored in PostgreSQL text."""
    return body.decode("utf-8", "replace").replace("\x00", "\ufffd")


# --- authentication, once for the blueprint --------------------------------------------------


@dataclass(frozen=True, slots=True)
class DokuRequest:
    """An authenticated request: its raw body (verified, not yet read), when it arrived, and
    who signed it."""

    body: bytes
    received_at: datetime
    auth: Authenticated


Refusal = Callable[[AuthenticationError, bytes, datetime], Response]


@dataclass(frozen=True, slots=True)
class Guard:
    """How one endpoint is authenticated, and what it does with a request that is not."""

    name: str  # for logs and metrics
    target: Callable[[ApiSettings], str]
    # Notifications are retried hours later: their timestamp's age is not checked.
    check_freshness: bool
    refuse: Refusal


# Views of the blueprint that need no signature (the API description).
_PUBLIC_ENDPOINTS = {"doku.openapi_json"}
_GUARDS: dict[str, Guard] = {}


def guarded(guard: Guard) -> Callable[[Callable[[], Response]], Callable[[], Response]]:
    """Declare how a view is authenticated; every view of the blueprint that is not public
    must declare it (``_authenticate`` answers 500 otherwise, never serves it unchecked)."""

    def register(view: Callable[[], Response]) -> Callable[[], Response]:
        _GUARDS[f"{bp.name}.{view.__name__}"] = guard
        return view

    return register


def refuse_unauthorized(
    endpoint: str,
) -> Callable[[AuthenticationError, bytes, datetime], Response]:
    def refuse(exc: AuthenticationError, _body: bytes, _now: datetime) -> Response:
        log_refusal(endpoint, exc)
        return error_response(401, "unauthorized", exc.message, exc.request_id)

    return refuse


@bp.before_request
def _authenticate() -> Response | None:
    """Verify Client-Id, signature and timestamp (constant time) before any view reads the
    body; the view finds the verified request with ``doku_request()``."""
    if request.endpoint in _PUBLIC_ENDPOINTS:
        return None
    guard = _GUARDS.get(request.endpoint or "")
    if guard is None:
        raise RuntimeError(f"DOKU endpoint {request.endpoint!r} declares no authentication")
    settings = api_settings()
    body = read_body(settings.max_body_bytes)
    now = datetime.now(UTC)
    try:
        auth = authenticate(
            request.headers,
            body,
            request_target=guard.target(settings),
            credentials=settings.credentials,
            now=now,
            check_freshness=guard.check_freshness,
        )
    except AuthenticationError as exc:
        if over_failure_budget():
            SIGNATURE_FAILURES.labels(guard.name).inc()
            return error_response(
                429, "too_many_failures", "Too many refused requests; slow down.", exc.request_id
            )
        return guard.refuse(exc, body, now)
    g.doku_key = auth.key
    g.doku_request = DokuRequest(body, now, auth)
    return None


def doku_request() -> DokuRequest:
    verified: DokuRequest = g.doku_request
    return verified


# --- answers ---------------------------------------------------------------------------------


def _target() -> str:
    """The public request target of the endpoint being answered."""
    settings = api_settings()
    guard = _GUARDS.get(request.endpoint or "")
    return guard.target(settings) if guard else settings.inquiry_target


def signed(body: bytes, status: int, request_id: str | None, target: str | None = None) -> Response:
    """A JSON answer signed (when we know the Request-Id) with the key the request used."""
    response = Response(body, status=status, mimetype="application/json")
    if request_id is not None:
        response.headers.update(
            response_headers(
                api_settings().credentials,
                request_id=request_id,
                request_target=target or _target(),
                body=body,
                now=datetime.now(UTC),
                key=g.get("doku_key"),
            )
        )
    return response


def error_response(status: int, code: str, message: str, request_id: str | None) -> Response:
    return signed(error_body(code, message), status, request_id)


def log_refusal(endpoint: str, exc: AuthenticationError) -> None:
    """A refused DOKU request: why, and who asked; never the signature or the body."""
    SIGNATURE_FAILURES.labels(endpoint).inc()
    log.warning(
        "doku %s refused: %s",
        endpoint,
        exc.message,
        extra={
            "fields": {
                "doku_request_id": exc.request_id,
                "client_id": (request.headers.get("Client-Id") or "")[:64],
                "remote_addr": request.remote_addr,
            }
        },
    )


def json_http_error(exc: HTTPException) -> Response:
    """HTTP errors on DOKU's paths as JSON: DOKU reads JSON, never an HTML page."""
    return error_response(
        exc.code or 500,
        (exc.name or "error").lower().replace(" ", "_"),
        exc.description or exc.name or "Error.",
        usable_request_id(request.headers.get("Request-Id")),
    )


def database_unavailable(exc: OperationalError) -> Response:
    """DOKU retries on 5xx; the database may come back by then."""
    db.session.rollback()
    log.error(
        "doku endpoint: database unavailable: %s: %s",
        exc.__class__.__name__,
        str(exc.orig)[:200],
    )
    return error_response(
        503,
        "unavailable",
        "The service is temporarily unavailable; please retry.",
        usable_request_id(request.headers.get("Request-Id")),
    )
