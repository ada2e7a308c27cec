"""Authenticating DOKU's requests and signing our responses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from werkzeug.datastructures import Headers

from portal.doku.signature import (
    constant_time_equals,
    format_timestamp,
    matching_key,
    parse_timestamp,
    signed_headers,
)

REQUEST_ID_MAX = 128
_REQUIRED_HEADERS = ("Client-Id", "Request-Id", "Request-Timestamp", "Signature")


@dataclass(frozen=True, slots=True)
class Credentials:
    client_id: str
    secret_key: str
    timestamp_tolerance_seconds: int
    # While a key is being rotated, DOKU may still sign with the previous one until then.
    previous_secret_key: str | None = None
    previous_key_until: datetime | None = None

    def accepted_keys(self, now: datetime) -> tuple[str, ...]:
        if self.previous_secret_key and self.previous_key_until and now < self.previous_key_until:
            return (self.secret_key, self.previous_secret_key)
        return (self.secret_key,)


@dataclass(frozen=True, slots=True)
class Authenticated:
    client_id: str
    request_id: str
    request_timestamp: str
    # The key the request was signed with: the answer is signed with the same one.
    key: str


class AuthenticationError(Exception):
    def __init__(self, message: str, request_id: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.request_id = request_id


def usable_request_id(value: str | None) -> str | None:
    """A Request-Id we can store and echo: 1-128 printable ASCII characters."""
    if value and len(value) <= REQUEST_ID_MAX and all(" " < c <= "~" for c in value):
        return value
    return None


def authenticate(
    headers: Mapping[str, str] | Headers,
    body: bytes,
    *,
    request_target: str,
    credentials: Credentials,
    now: datetime,
    check_freshness: bool = True,
) -> Authenticated:
    """Check Client-Id, Signature and (unless told not to) the timestamp's age, before anything
    reads the body."""
    request_id = usable_request_id(headers.get("Request-Id"))
    for name in _REQUIRED_HEADERS:
        if not headers.get(name):
            raise AuthenticationError(f"Missing {name} header.", request_id)
    if request_id is None:
        raise AuthenticationError("Request-Id must be 1 to 128 printable characters.", None)
    client_id = headers["Client-Id"]
    timestamp = headers["Request-Timestamp"]
    if not constant_time_equals(client_id, credentials.client_id):
        raise AuthenticationError("Unknown Client-Id.", request_id)
    key = matching_key(
        credentials.accepted_keys(now),
        headers["Signature"],
        client_id=client_id,
        request_id=request_id,
        timestamp=timestamp,
        request_target=request_target,
        body=body,
    )
    if key is None:
        raise AuthenticationError("Signature does not match.", request_id)
    if not check_freshness:
        return Authenticated(client_id, request_id, timestamp, key)
    try:
        sent_at = parse_timestamp(timestamp)
    except ValueError:
        raise AuthenticationError(
            "Request-Timestamp must be ISO 8601 UTC, e.g. 2020-08-11T08:45:42Z.", request_id
        ) from None
    skew = abs((now - sent_at).total_seconds())
    if skew > credentials.timestamp_tolerance_seconds:
        raise AuthenticationError(
            f"Request-Timestamp is {int(skew)} s away from our clock; at most "
            f"{credentials.timestamp_tolerance_seconds} s is accepted.",
            request_id,
        )
    return Authenticated(client_id, request_id, timestamp, key)


def response_headers(
    credentials: Credentials,
    *,
    request_id: str,
    request_target: str,
    body: bytes,
    now: datetime,
    key: str | None = None,
) -> dict[str, str]:
    return signed_headers(
        key or credentials.secret_key,
        client_id=credentials.client_id,
        request_id=request_id,
        timestamp=format_timestamp(now),
        request_target=request_target,
        body=body,
        response=True,
    )
