"""DOKU's HMAC-SHA256 request/response signature (non-SNAP), over raw body bytes.

Component string (lines joined by a bare newline, no trailing newline)::

    Client-Id:<client id>
    Request-Id:<request id>
    Request-Timestamp:<timestamp>      ("Response-Timestamp:" when signing a response)
    Request-Target:<path>
    Digest:<base64 sha256 of the body>  (left out when there is no body, e.g. GET)

Signature header value: ``HMACSHA256=`` + base64(HMAC-SHA256(secret key as UTF-8, component)).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from datetime import UTC, datetime

SIGNATURE_PREFIX = "HMACSHA256="


def digest(body: bytes) -> str:
    """Base64 (standard, padded) of the SHA-256 of the exact body bytes."""
    return base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def component(
    *,
    client_id: str,
    request_id: str,
    timestamp: str,
    request_target: str,
    body: bytes | None,
    response: bool = False,
) -> str:
    """The string DOKU signs. ``body=None`` (a GET) leaves the Digest line out."""
    timestamp_label = "Response-Timestamp" if response else "Request-Timestamp"
    lines = [
        f"Client-Id:{client_id}",
        f"Request-Id:{request_id}",
        f"{timestamp_label}:{timestamp}",
        f"Request-Target:{request_target}",
    ]
    if body is not None:
        lines.append(f"Digest:{digest(body)}")
    return "\n".join(lines)


def sign(
    secret_key: str,
    *,
    client_id: str,
    request_id: str,
    timestamp: str,
    request_target: str,
    body: bytes | None,
    response: bool = False,
) -> str:
    """The ``Signature`` header value for one message."""
    text = component(
        client_id=client_id,
        request_id=request_id,
        timestamp=timestamp,
        request_target=request_target,
        body=body,
        response=response,
    )
    mac = hmac.new(secret_key.encode("utf-8"), text.encode("utf-8"), hashlib.sha256)
    return SIGNATURE_PREFIX + base64.b64encode(mac.digest()).decode("ascii")


def matching_key(
    secret_keys: Iterable[str],
    signature: str,
    *,
    client_id: str,
    request_id: str,
    timestamp: str,
    request_target: str,
    body: bytes | None,
    response: bool = False,
) -> str | None:
    """The key among ``secret_keys`` that made ``signature``, or None; constant time.

    Every key is tried (no early exit) so the time taken does not tell which key matched.
    Header values are compared as bytes: ``hmac.compare_digest`` refuses non-ASCII ``str``.
    """
    given = signature.encode("utf-8", "surrogateescape")
    matched: str | None = None
    for key in secret_keys:
        expected = sign(
            key,
            client_id=client_id,
            request_id=request_id,
            timestamp=timestamp,
            request_target=request_target,
            body=body,
            response=response,
        ).encode("ascii")
        if hmac.compare_digest(expected, given) and matched is None:
            matched = key
    return matched


def verify(
    secret_keys: Iterable[str],
    signature: str,
    *,
    client_id: str,
    request_id: str,
    timestamp: str,
    request_target: str,
    body: bytes | None,
    response: bool = False,
) -> bool:
    """Whether ``signature`` was made with one of ``secret_keys`` (see ``matching_key``)."""
    return (
        matching_key(
            secret_keys,
            signature,
            client_id=client_id,
            request_id=request_id,
            timestamp=timestamp,
            request_target=request_target,
            body=body,
            response=response,
        )
        is not None
    )


def constant_time_equals(a: str, b: str) -> bool:
    """Compare two header values (e.g. Client-Id) without leaking where they differ."""
    return hmac.compare_digest(
        a.encode("utf-8", "surrogateescape"), b.encode("utf-8", "surrogateescape")
    )


def format_timestamp(moment: datetime) -> str:
    """DOKU's timestamp form: UTC, second resolution, literal ``Z`` (``2020-08-11T08:45:42Z``)."""
    if moment.tzinfo is None:
        raise ValueError("timestamp must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(value: str) -> datetime:
    """Parse an ISO 8601 timestamp that carries its offset (``Z`` or ``+hh:mm``).

    Raises ``ValueError`` for anything else, including timestamps without an offset: a time
    without a zone cannot be checked against a skew window.
    """
    if not value or len(value) > 40:
        raise ValueError("timestamp is empty or too long")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("timestamp has no UTC offset")
    return moment.astimezone(UTC)


def signed_headers(
    secret_key: str,
    *,
    client_id: str,
    request_id: str,
    timestamp: str,
    request_target: str,
    body: bytes | None,
    response: bool = False,
) -> dict[str, str]:
    """The four headers of a signed message (``Response-Timestamp`` for a response)."""
    signature = sign(
        secret_key,
        client_id=client_id,
        request_id=request_id,
        timestamp=timestamp,
        request_target=request_target,
        body=body,
        response=response,
    )
    return {
        "Client-Id": client_id,
        "Request-Id": request_id,
        "Response-Timestamp" if response else "Request-Timestamp": timestamp,
        "Signature": signature,
    }
