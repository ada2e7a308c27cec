"""``POST /doku/notification``: DOKU tells us a payment code was paid (or failed).

Stored first, then processed; acknowledged with 2xx unless we failed and want DOKU to retry.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

from flask import Response, request
from sqlalchemy.exc import IntegrityError, OperationalError

from portal.api import bp
from portal.api.auth import AuthenticationError, usable_request_id
from portal.api.common import (
    Guard,
    api_settings,
    doku_request,
    guarded,
    log_refusal,
    printable,
    signed,
)
from portal.doku.messages import (
    MessageError,
    acknowledgement_body,
    error_body,
    parse_notification,
)
from portal.doku.signature import parse_timestamp
from portal.extensions import db
from portal.models import ExceptionKind
from portal.models.doku import REFUSED_BODY_PREFIX
from portal.observability import LATENCY, NOTIFICATIONS, elapsed_ms, mask_code
from portal.services.traffic import payments
from portal.services.traffic.inquiries import body_sha256
from portal.services.traffic.payments import PaymentReport, Result

log = logging.getLogger(__name__)

# Headers kept with each delivery; the signature is left out of what staff and logs see.
_UNSTORED_HEADERS = {"signature", "authorization", "cookie"}


def _headers_as_received() -> str:
    kept = {
        name: value[:512].replace("\x00", "\ufffd")
        for name, value in request.headers.items()
        if name.lower() not in _UNSTORED_HEADERS
    }
    return json.dumps(kept, ensure_ascii=False)


def _header(name: str, limit: int) -> str | None:
    value = request.headers.get(name)
    return value[:limit].replace("\x00", "\ufffd") if value else None


def _refuse(exc: AuthenticationError, body: bytes, now: datetime) -> Response:
    """Keep what staff need of a refused delivery (a real payment behind a misconfigured key
    must be visible), never its headers or more than a prefix of its body, which anyone can
    send. (A peer over its failure budget is answered 429 before this, and nothing is kept.)"""
    log_refusal("notification", exc)
    answer = error_body("unauthorized", exc.message)
    payments.store_delivery(
        db.session,
        received_at=now,
        remote_addr=request.remote_addr,
        client_id=_header("Client-Id", 64),
        request_id=usable_request_id(request.headers.get("Request-Id")),
        request_timestamp=_header("Request-Timestamp", 64),
        headers="{}",
        body=printable(body[:REFUSED_BODY_PREFIX]),
        body_sha256=body_sha256(body),
        body_bytes=len(body),
        verdict="unauthenticated",
        error=exc.message[:200],
        http_status=401,
        response_body=answer.decode("ascii"),
        processed_at=now,
    )
    db.session.commit()
    return signed(answer, 401, exc.request_id)


@bp.post("/notification")
@guarded(
    Guard(
        "notification",
        target=lambda settings: settings.notification_target,
        # No freshness check: DOKU retries 30 min, 6 h and 12 h later, and a retry must never
        # be refused for its age. Replays are harmless because processing is idempotent.
        check_freshness=False,
        refuse=_refuse,
    )
)
def notification() -> Response:
    verified = doku_request()
    auth, body, now = verified.auth, verified.body, verified.received_at
    target = api_settings().notification_target
    sha = body_sha256(body)
    delivery_id = payments.store_delivery(
        db.session,
        received_at=now,
        remote_addr=request.remote_addr,
        client_id=auth.client_id,
        request_id=auth.request_id,
        request_timestamp=auth.request_timestamp[:64],
        headers=_headers_as_received(),
        body=printable(body),
        body_sha256=sha,
        verdict="authenticated",
    )
    db.session.commit()  # kept, whatever happens next

    try:
        message = parse_notification(body)
        paid_at = parse_timestamp(message.transaction_date)
    except (MessageError, ValueError) as exc:
        return _unreadable(delivery_id, exc, sha, auth.request_id, now, target)

    report = PaymentReport(
        status=message.transaction_status,
        paid_at=paid_at,
        invoice_number=message.invoice_number,
        amount=message.amount,
        payment_code=message.payment_code,
        request_id=auth.request_id,
        original_request_id=message.original_request_id,
        agent_id=message.agent_id,
        agent_store_id=message.agent_store_id,
        agent_trx_id=message.agent_trx_id,
        transaction_date=message.transaction_date,
    )
    return _process(delivery_id, report, sha, now, target)


def _process(
    delivery_id: int, report: PaymentReport, sha: str, now: datetime, target: str
) -> Response:
    request_id = report.request_id
    assert request_id is not None
    for attempt in (1, 2):
        try:
            if payments.request_id_reused(db.session, request_id, sha):
                result = payments.exception_result(
                    db.session, ExceptionKind.REQUEST_ID_REUSED, report,
                    f"Request-Id {request_id} came before with another body", now=now,
                )  # fmt: skip
            else:
                result = payments.apply_report(db.session, report, now=now)
            status = 404 if result.unknown_code else 200
            answer = acknowledgement_body(result.outcome.value, result.message)
            payments.record_result(
                db.session, delivery_id, result, report, now=now,
                http_status=status, response_body=answer.decode("ascii"),
            )  # fmt: skip
            db.session.commit()
        except IntegrityError:
            # Another process settled the same payment between our read and our write: the
            # second attempt sees its result.
            db.session.rollback()
            if attempt == 2:
                return _failed(delivery_id, "integrity error twice", request_id, now)
            continue
        except OperationalError:
            db.session.rollback()
            raise  # the 503 handler: DOKU retries, the stored delivery stays unprocessed
        except Exception as exc:
            db.session.rollback()
            log.exception("doku notification %s: processing failed", request_id)
            return _failed(delivery_id, f"{exc.__class__.__name__}: {exc}", request_id, now)
        _observe(result.outcome.value, status, request_id, report.payment_code)
        return signed(answer, status, request_id, target)
    raise AssertionError("unreachable")


def _failed(delivery_id: int, error: str, request_id: str, now: datetime) -> Response:
    """Processing failed and was rolled back: keep the error with the delivery, ask for a retry."""
    answer = error_body("processing_failed", "The notification is kept; please retry.")
    payments.record_error(
        db.session, delivery_id, error, now=now, http_status=500,
        response_body=answer.decode("ascii"),
    )  # fmt: skip
    db.session.commit()
    _observe("error", 500, request_id, None)
    return signed(answer, 500, request_id, api_settings().notification_target)


def _unreadable(
    delivery_id: int, exc: Exception, sha: str, request_id: str, now: datetime, target: str
) -> Response:
    message = exc.message if isinstance(exc, MessageError) else "transaction.date is not usable"
    details = exc.details if isinstance(exc, MessageError) else {}
    answer = error_body("invalid_request", message, details)
    result: Result = payments.exception_result(
        db.session, ExceptionKind.UNREADABLE, None,
        f"{message} {json.dumps(details, ensure_ascii=False)[:500]}", now=now, fingerprint=sha,
    )  # fmt: skip
    payments.record_result(
        db.session, delivery_id, result, None, now=now, http_status=400,
        response_body=answer.decode("ascii"), verdict="invalid",
    )  # fmt: skip
    db.session.commit()
    _observe("unreadable", 400, request_id, None)
    return signed(answer, 400, request_id, target)


def _observe(outcome: str, status: int, request_id: str, payment_code: str | None) -> None:
    NOTIFICATIONS.labels(outcome).inc()
    LATENCY.labels("notification").observe(elapsed_ms() / 1000)
    log.info(
        "doku notification processed",
        extra={
            "fields": {
                "doku_request_id": request_id,
                "payment_code": mask_code(payment_code),
                "outcome": outcome,
                "http_status": status,
                "latency_ms": elapsed_ms(),
            }
        },
    )
