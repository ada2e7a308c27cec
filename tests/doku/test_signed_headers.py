"""The headers of a signed message as DOKU receives them, key matching, and timestamps on a host
whose local zone is not UTC (servers in Jakarta run on WIB)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from portal.doku.signature import (
    SIGNATURE_PREFIX,
    component,
    constant_time_equals,
    format_timestamp,
    matching_key,
    parse_timestamp,
    sign,
    signed_headers,
    verify,
)

VECTORS: dict[str, Any] = json.loads((Path(__file__).parent / "vectors.json").read_text())
KEY = VECTORS["secret_key"]
CASES = {case["name"]: case for case in VECTORS["cases"]}
WIB = timezone(timedelta(hours=7))


def _signing(case: dict[str, Any]) -> dict[str, Any]:
    return {
        "client_id": case["client_id"],
        "request_id": case["request_id"],
        "timestamp": case.get("request_timestamp") or case["response_timestamp"],
        "request_target": case["request_target"],
        "body": case["body"].encode() if "body" in case else None,
        "response": case["direction"] == "response",
    }


# signed_headers: exactly the four headers DOKU reads, with DOKU's own signature.


def test_a_signed_request_carries_the_four_headers_with_dokus_published_signature() -> None:
    case = CASES["inquiry_request"]
    assert signed_headers(KEY, **_signing(case)) == {
        "Client-Id": case["client_id"],
        "Request-Id": case["request_id"],
        "Request-Timestamp": case["request_timestamp"],
        "Signature": case["expected"]["signature"],
    }


def test_a_signed_response_carries_response_timestamp_with_dokus_published_signature() -> None:
    case = CASES["inquiry_response"]
    assert signed_headers(KEY, **_signing(case)) == {
        "Client-Id": case["client_id"],
        "Request-Id": case["request_id"],
        "Response-Timestamp": case["response_timestamp"],
        "Signature": case["expected"]["signature"],
    }


def test_a_signed_get_request_has_no_digest_and_dokus_signature() -> None:
    case = CASES["get_request_no_body"]
    headers = signed_headers(KEY, **_signing(case))
    assert headers["Signature"] == sign(KEY, **_signing(case)) == case["expected"]["signature"]
    assert verify([KEY], headers["Signature"], **_signing(case))
    assert not verify([KEY], headers["Signature"], **{**_signing(case), "body": b""})


def test_a_message_is_signed_as_a_request_unless_told_it_is_a_response() -> None:
    case = CASES["inquiry_request"]
    fields = {k: v for k, v in _signing(case).items() if k != "response"}
    assert sign(KEY, **fields) == case["expected"]["signature"]
    assert component(**fields) == case["expected"]["component"]
    assert signed_headers(KEY, **fields)["Request-Timestamp"] == case["request_timestamp"]
    assert verify([KEY], case["expected"]["signature"], **fields)
    assert matching_key([KEY], case["expected"]["signature"], **fields) == KEY


def test_signed_headers_verify_with_the_same_key_and_direction_only() -> None:
    fields = {**_signing(CASES["notification_request"]), "response": False}
    headers = signed_headers("SK-other", **fields)
    assert headers["Signature"].startswith(SIGNATURE_PREFIX)
    assert verify(["SK-other"], headers["Signature"], **fields)
    assert not verify([KEY], headers["Signature"], **fields)
    assert not verify(["SK-other"], headers["Signature"], **{**fields, "response": True})


# matching_key: which of the configured keys signed the message.


def test_the_key_that_signed_is_found_wherever_it_is_listed() -> None:
    fields = _signing(CASES["inquiry_request"])
    signature = CASES["inquiry_request"]["expected"]["signature"]
    assert matching_key([KEY, "SK-new"], signature, **fields) == KEY
    assert matching_key(["SK-new", KEY], signature, **fields) == KEY
    assert matching_key(["SK-new", "SK-newer"], signature, **fields) is None
    assert matching_key([], signature, **fields) is None


def test_a_response_signature_is_matched_as_a_response() -> None:
    case = CASES["inquiry_response"]
    fields = _signing(case)
    signature = case["expected"]["signature"]
    assert matching_key(["SK-new", KEY], signature, **fields) == KEY
    assert matching_key([KEY], signature, **{**fields, "response": False}) is None


def test_header_values_with_undecodable_bytes_are_unequal_not_an_error() -> None:
    # Header bytes that are not UTF-8 reach Python as lone surrogates.
    assert not constant_time_equals("MCH-\udcff", "MCH-1")
    assert constant_time_equals("MCH-\udcff", "MCH-\udcff")
    fields = _signing(CASES["inquiry_request"])
    assert matching_key([KEY], "HMACSHA256=\udcff", **fields) is None


# Timestamps: DOKU's form whatever the host's zone.


@pytest.fixture
def jakarta_host() -> Iterator[None]:
    """The process's local zone is WIB for the test, as on a server set up in Jakarta."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Jakarta"
    time.tzset()
    assert time.timezone == -7 * 3600
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


def test_on_a_wib_host_timestamps_are_still_written_in_utc(jakarta_host: None) -> None:
    assert format_timestamp(datetime(2020, 8, 11, 8, 45, 42, tzinfo=UTC)) == "2020-08-11T08:45:42Z"
    assert format_timestamp(datetime(2020, 8, 11, 15, 45, 42, tzinfo=WIB)) == "2020-08-11T08:45:42Z"
    assert format_timestamp(datetime.now(UTC)) == datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_on_a_wib_host_timestamps_are_read_as_utc(jakarta_host: None) -> None:
    parsed = parse_timestamp("2020-09-22T08:51:00+07:00")
    assert parsed.isoformat() == "2020-09-22T01:51:00+00:00"
    assert parse_timestamp("2020-08-11T08:45:42Z").isoformat() == "2020-08-11T08:45:42+00:00"


def test_a_wib_moment_is_written_as_the_same_moment_in_utc() -> None:
    assert format_timestamp(datetime(2020, 8, 11, 15, 45, 42, tzinfo=WIB)) == "2020-08-11T08:45:42Z"


def test_a_timestamp_is_written_to_the_second() -> None:
    moment = datetime(2020, 8, 11, 8, 45, 42, 999_999, tzinfo=UTC)
    assert format_timestamp(moment) == "2020-08-11T08:45:42Z"


def test_a_moment_without_a_zone_cannot_be_written() -> None:
    with pytest.raises(ValueError, match=r"^timestamp must be timezone-aware$"):
        format_timestamp(datetime(2020, 8, 11, 8, 45, 42))


def test_a_timestamp_of_40_characters_is_read_and_one_of_41_refused() -> None:
    forty = "2020-08-11T08:45:42.123456+07:00:00.1234"
    assert len(forty) == 40
    assert parse_timestamp(forty).tzinfo is UTC
    with pytest.raises(ValueError, match=r"^timestamp is empty or too long$"):
        parse_timestamp(forty + "5")


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("", "timestamp is empty or too long"),
        ("2020-08-11T08:45:42", "timestamp has no UTC offset"),
    ],
)
def test_an_empty_or_zoneless_timestamp_is_refused_saying_why(value: str, why: str) -> None:
    with pytest.raises(ValueError) as refused:
        parse_timestamp(value)
    assert str(refused.value) == why
