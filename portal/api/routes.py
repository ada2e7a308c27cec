"""``POST /doku/inquiry``: DOKU asks what a payment code owes."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, current_app, g, request
from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from portal.api import bp
from portal.api.auth import (
    AuthenticationError,
    Credentials,
    authenticate,
    response_headers,
    usable_request_id,
)
from portal.api.common import read_body
from portal.api.refusals import over_failure_budget
from portal.doku.messages import (
    InquiryAnswer,
    InquiryRequest,
    InquiryStatus,
    InsuranceInfo,
    MessageError,
    error_body,
    format_due_date,
    inquiry_response_body,
    parse_inquiry_request,
)
from portal.extensions import db
from portal.observability import INQUIRIES, LATENCY, SIGNATURE_FAILURES, elapsed_ms, mask_code
from portal.services.traffic import inquiries
from portal.services.traffic.inquiries import Decision, InquiryRules, RequestIdReused, Verdict

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ApiSettings:
    credentials: Credentials
    inquiry_target: str
    notification_target: str
    max_body_bytes: int
    rules: InquiryRules


def init_app(app: Flask) -> None:
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
        rules=InquiryRules.from_config(config),
    )


def api_settings() -> ApiSettings:
    settings: ApiSettings = current_app.extensions["doku_api"]
    return settings


def signed(body: bytes, status: int, request_id: str | None, target: str) -> Response:
    response = Response(body, status=status, mimetype="application/json")
    if request_id is not None:
        response.headers.update(
            response_headers(
                api_settings().credentials,
                request_id=request_id,
                request_target=target,
                body=body,
                now=datetime.now(UTC),
                key=g.get("doku_key"),
            )
        )
    return response


def _target() -> str:
    """The public request target of the endpoint being answered."""
    settings = api_settings()
    if request.endpoint == "doku.notification":
        return settings.notification_target
    return settings.inquiry_target


def error_response(status: int, code: str, message: str, request_id: str | None) -> Response:
    return signed(error_body(code, message), status, request_id, _target())


def printable(body: bytes) -> str:
    """The raw body as text for the record; NUL cannot be stored in PostgreSQL text."""
    return body.decode("utf-8", "replace").replace("\x00", "\ufffd")


def _answer(payment_code: str, decision: Decision) -> InquiryAnswer:
    status = InquiryStatus(decision.verdict.value)
    bill = decision.bill
    if bill is None:
        return InquiryAnswer(status=status, payment_code=payment_code)
    refusal = InquiryAnswer(
        status=status,
        payment_code=payment_code,
        invoice_number=bill.invoice_number,
        amount=bill.amount,
        customer_name=bill.customer_name,
        customer_email=bill.customer_email,
    )
    if status is not InquiryStatus.SUCCESS:
        return refusal
    return replace(
        refusal,
        info=bill.info,
        footer_message=bill.footer_message,
        insurance_info=InsuranceInfo(
            policy_type=bill.policy_type,
            policy_number=bill.policy_number,
            policy_account_name=bill.policy_account_name,
            policy_status=bill.policy_status,
            bill_due_date=format_due_date(bill.due_date),
        ),
    )


@bp.post("/inquiry")
def inquiry() -> Response:
    settings = api_settings()
    body = read_body(settings.max_body_bytes)
    now = datetime.now(UTC)
    try:
        auth = authenticate(
            request.headers,
            body,
            request_target=settings.inquiry_target,
            credentials=settings.credentials,
            now=now,
        )
    except AuthenticationError as exc:
        if over_failure_budget():
            SIGNATURE_FAILURES.labels("inquiry").inc()
            return error_response(
                429, "too_many_failures", "Too many refused requests; slow down.", exc.request_id
            )
        log_refusal("inquiry", exc)
        return error_response(401, "unauthorized", exc.message, exc.request_id)
    g.doku_key = auth.key

    entry: dict[str, Any] = {
        "received_at": now,
        "client_id": auth.client_id,
        "request_id": auth.request_id,
        "request_timestamp": auth.request_timestamp,
        "request_sha256": inquiries.body_sha256(body),
        "request_body": printable(body),
        "remote_addr": request.remote_addr,
    }
    try:
        message = parse_inquiry_request(body)
    except MessageError as exc:
        response_body = error_body("invalid_request", exc.message, exc.details)
        entry.update(
            verdict=Verdict.INVALID_REQUEST.value,
            reason=exc.message[:200],
            http_status=400,
            response_body=response_body.decode("ascii"),
        )
        message = None
    with inquiry_connection() as connection:
        recorded = _answer_and_record(connection, message, entry, now, settings)
    if recorded is None:
        log.warning("doku inquiry refused: Request-Id %r reused with another body", auth.request_id)
        return error_response(
            409,
            "request_id_reused",
            "This Request-Id was already used with a different body.",
            auth.request_id,
        )
    verdict = entry["verdict"] if not recorded.replayed else "replayed"
    INQUIRIES.labels(verdict).inc()
    LATENCY.labels("inquiry").observe(elapsed_ms() / 1000)
    log.info(
        "doku inquiry answered",
        extra={
            "fields": {
                "doku_request_id": auth.request_id,
                "payment_code": mask_code(entry.get("payment_code")),
                "verdict": verdict,
                "http_status": recorded.http_status,
                "latency_ms": elapsed_ms(),
            }
        },
    )
    return signed(
        recorded.response_body.encode("ascii"),
        recorded.http_status,
        auth.request_id,
        settings.inquiry_target,
    )


@contextmanager
def inquiry_connection() -> Iterator[Connection]:
    """The connection an inquiry decides and records on.

    PostgreSQL: autocommit. The lookup and the insert need no common snapshot (the row records
    what we answered), and the insert is atomic and committed on its own, which saves the
    BEGIN and COMMIT round trips of a transaction. SQLite: the request's session, one write
    transaction as for everything else there (BEGIN IMMEDIATE, see ``configure_sqlite``).
    """
    engine = db.engine
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            yield connection
    else:
        yield db.session.connection()
        db.session.commit()


def _answer_and_record(
    connection: Connection,
    message: InquiryRequest | None,
    entry: dict[str, Any],
    now: datetime,
    settings: ApiSettings,
) -> inquiries.Recorded | None:
    """Decide (unless the body was invalid), record, and return what to send; None when the
    Request-Id was used before with another body."""
    if message is not None:
        decision = inquiries.decide(connection, message.payment_code, now=now, rules=settings.rules)
        answer = _answer(message.payment_code, decision)
        response_body = inquiry_response_body(answer)
        entry.update(
            payment_code=message.payment_code,
            inquiry_date=message.inquiry_date,
            agent_id=message.agent_id,
            agent_store_id=message.agent_store_id,
            agent_trx_id=message.agent_trx_id,
            bill_id=decision.bill.bill_id if decision.bill else None,
            verdict=decision.verdict.value,
            reason=decision.reason,
            http_status=answer.status.http_status,
            response_body=response_body.decode("ascii"),
        )
    try:
        return inquiries.record(connection, entry)
    except RequestIdReused:
        return None


@bp.errorhandler(OperationalError)
def database_unavailable(exc: OperationalError) -> Response:
    # DOKU retries on 5xx; the database may come back by then.
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
