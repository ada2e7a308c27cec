"""The signature recipe against the vectors in tests/doku/vectors.json, and tampering."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from portal.doku.signature import (
    component,
    constant_time_equals,
    digest,
    format_timestamp,
    parse_timestamp,
    sign,
    verify,
)

VECTORS_PATH = Path(__file__).resolve().parents[2] / "tests" / "doku" / "vectors.json"
VECTORS: dict[str, Any] = json.loads(VECTORS_PATH.read_text())
KEY = VECTORS["secret_key"]


def _fields(case: dict[str, Any]) -> dict[str, Any]:
    return {
        "client_id": case["client_id"],
        "request_id": case["request_id"],
        "timestamp": case.get("request_timestamp") or case["response_timestamp"],
        "request_target": case["request_target"],
        "response": case["direction"] == "response",
    }


BODY_CASES = [c for c in VECTORS["cases"] if "body" in c]


@pytest.mark.parametrize("case", BODY_CASES, ids=lambda c: c["name"])
def test_digest_component_and_signature_match_the_vector(case: dict[str, Any]) -> None:
    body = case["body"].encode("utf-8")
    assert digest(body) == case["expected"]["digest"]
    assert component(body=body, **_fields(case)) == case["expected"]["component"]
    assert sign(KEY, body=body, **_fields(case)) == case["expected"]["signature"]
    assert verify([KEY], case["expected"]["signature"], body=body, **_fields(case))


def test_get_request_leaves_the_digest_line_out() -> None:
    case = next(c for c in VECTORS["cases"] if c["name"] == "get_request_no_body")
    assert component(body=None, **_fields(case)) == case["expected"]["component"]
    assert sign(KEY, body=None, **_fields(case)) == case["expected"]["signature"]


def test_doku_published_component_string_is_reproduced_from_its_digest() -> None:
    case = next(c for c in VECTORS["cases"] if c["name"] == "doc_component_string")
    built = component(body=b"", **_fields(case)).rsplit("\n", 1)[0]
    expected_head, expected_digest_line = case["expected"]["component"].rsplit("\n", 1)
    assert built == expected_head
    assert expected_digest_line == f"Digest:{case['digest_given']}"


@pytest.mark.parametrize(("text", "expected"), VECTORS["digest_known_answers"].items())
def test_digest_known_answers(text: str, expected: str) -> None:
    assert digest(text.encode()) == expected


def test_reserialised_body_has_another_digest_and_fails_verification() -> None:
    case = next(c for c in VECTORS["cases"] if c["name"] == "notification_request")
    negative = VECTORS["negative"][0]
    parsed = json.loads(case["body"])
    indented = json.dumps(parsed, indent=2).encode()
    redumped = json.dumps(parsed).encode()
    assert digest(indented) == negative["digest_indent2"]
    assert digest(redumped) == negative["digest_json_dumps_default"]
    for body in (indented, redumped):
        assert not verify([KEY], case["expected"]["signature"], body=body, **_fields(case))


INQUIRY = next(c for c in VECTORS["cases"] if c["name"] == "inquiry_request")


@pytest.mark.parametrize(
    "tamper",
    [
        {"client_id": "MCH-0001-10791114622548"},
        {"request_id": "5b8e438f-fac1-4103-9e0e-ebfdc38b5acc"},
        {"timestamp": "2020-08-11T08:45:43Z"},
        {"request_target": "/doku/inquiry/"},
        {"response": True},
    ],
    ids=lambda t: next(iter(t)),
)
def test_changing_any_signed_header_breaks_the_signature(tamper: dict[str, Any]) -> None:
    fields = {**_fields(INQUIRY), **tamper}
    assert not verify(
        [KEY], INQUIRY["expected"]["signature"], body=INQUIRY["body"].encode(), **fields
    )


def test_changing_one_body_byte_breaks_the_signature() -> None:
    body = INQUIRY["body"].replace("31234567890123456789", "31234567890123456788").encode()
    assert not verify([KEY], INQUIRY["expected"]["signature"], body=body, **_fields(INQUIRY))


def test_another_key_does_not_verify_but_any_configured_key_does() -> None:
    body = INQUIRY["body"].encode()
    signature = INQUIRY["expected"]["signature"]
    assert not verify(["SK-test-secret-0002"], signature, body=body, **_fields(INQUIRY))
    assert verify(["SK-test-secret-0002", KEY], signature, body=body, **_fields(INQUIRY))


@pytest.mark.parametrize(
    "signature",
    ["", "HMACSHA256=", "9qbrRaisHdJ2IurD98TTz3E7rfVLDta8ly/GRXV7XlA=", "HMACSHA256=é✓\udcff"],
)
def test_malformed_signature_is_refused_without_error(signature: str) -> None:
    assert not verify([KEY], signature, body=INQUIRY["body"].encode(), **_fields(INQUIRY))


def test_constant_time_equals_handles_non_ascii() -> None:
    assert constant_time_equals("MCH-1", "MCH-1")
    assert not constant_time_equals("MCH-1", "MCH-é")


def test_timestamps_round_trip_in_doku_form() -> None:
    moment = parse_timestamp("2020-09-22T08:51:00+07:00")
    assert format_timestamp(moment) == "2020-09-22T01:51:00Z"
    assert format_timestamp(parse_timestamp("2020-08-11T08:45:42Z")) == "2020-08-11T08:45:42Z"


@pytest.mark.parametrize("value", ["", "2020-08-11T08:45:42", "yesterday", "2020-13-11T08:45:42Z"])
def test_timestamp_without_offset_or_malformed_is_refused(value: str) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(value)
