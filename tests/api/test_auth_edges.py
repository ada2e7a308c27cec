"""The edges of authenticating DOKU: windows, identifiers, key rotation, and what DOKU receives.

Every refusal DOKU gets is signed and echoes its Request-Id where it sent a usable one, so DOKU
can match it; a forged delivery can never keep DOKU's genuine one from being applied; while a
key is rotated each message is answered with the key it was signed with.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from portal.api.auth import (
    Authenticated,
    AuthenticationError,
    Credentials,
    authenticate,
    response_headers,
    usable_request_id,
)
from portal.doku.signature import format_timestamp, parse_timestamp, signed_headers, verify
from portal.models import BillState, Payment, PaymentException
from tests.factories import (
    CLIENT_ID,
    INQUIRY_TARGET,
    NOTIFICATION_TARGET,
    SECRET_KEY,
    check_response_signature,
    doku_headers,
    inquiry_body,
    live_code,
    make_bill,
    notification_body_for,
    notify,
)

NOW = datetime(2026, 12, 1, 3, 0, 0, tzinfo=UTC)
BODY = b'{"order":{}}'
CREDENTIALS = Credentials(
    client_id=CLIENT_ID, secret_key=SECRET_KEY, timestamp_tolerance_seconds=300
)


def _headers(*, at: datetime | str = NOW, key: str = SECRET_KEY, **changes: str) -> dict[str, str]:
    timestamp = at if isinstance(at, str) else format_timestamp(at)
    headers = signed_headers(
        key, client_id=CLIENT_ID, request_id="req-1", timestamp=timestamp,
        request_target=INQUIRY_TARGET, body=BODY,
    )  # fmt: skip
    headers.update(changes)
    return headers


def _authenticate(headers: dict[str, str], **kwargs: Any) -> Authenticated:
    kwargs.setdefault("credentials", CREDENTIALS)
    kwargs.setdefault("now", NOW)
    return authenticate(headers, BODY, request_target=INQUIRY_TARGET, **kwargs)


def _refusal(headers: dict[str, str], **kwargs: Any) -> AuthenticationError:
    with pytest.raises(AuthenticationError) as refused:
        _authenticate(headers, **kwargs)
    return refused.value


# The timestamp window, to the second, both ways.


def test_a_correctly_signed_request_is_authenticated_with_what_it_said() -> None:
    assert _authenticate(_headers()) == Authenticated(
        CLIENT_ID, "req-1", format_timestamp(NOW), SECRET_KEY
    )


@pytest.mark.parametrize("seconds", [-300, 300])
def test_a_timestamp_exactly_at_the_edge_of_the_window_is_accepted(seconds: int) -> None:
    assert _authenticate(_headers(at=NOW + timedelta(seconds=seconds))).request_id == "req-1"


@pytest.mark.parametrize("seconds", [-301, 301])
def test_a_timestamp_one_second_outside_the_window_is_refused_saying_by_how_much(
    seconds: int,
) -> None:
    refused = _refusal(_headers(at=NOW + timedelta(seconds=seconds)))
    assert refused.message == (
        "Request-Timestamp is 301 s away from our clock; at most 300 s is accepted."
    )
    assert refused.request_id == "req-1"


def test_a_timestamp_with_an_offset_is_judged_in_utc() -> None:
    wib = (NOW + timedelta(hours=7, seconds=200)).strftime("%Y-%m-%dT%H:%M:%S+07:00")
    assert _authenticate(_headers(at=wib)).request_timestamp == wib


def test_an_unreadable_timestamp_is_refused_with_the_form_expected() -> None:
    refused = _refusal(_headers(at="yesterday"))
    assert refused.message == "Request-Timestamp must be ISO 8601 UTC, e.g. 2020-08-11T08:45:42Z."
    assert refused.request_id == "req-1"


def test_without_the_freshness_check_any_age_and_form_of_timestamp_is_accepted() -> None:
    # Notifications: DOKU's retries come hours later and must still be applied.
    for at in (NOW - timedelta(hours=12), "not a time"):
        headers = _headers(at=at)
        assert _authenticate(headers, check_freshness=False) == Authenticated(
            CLIENT_ID, "req-1", headers["Request-Timestamp"], SECRET_KEY
        )


# Request-Id: what we can store and echo.


@pytest.mark.parametrize("value", ["a", "!", "~", "x" * 128, "5b8e438f-fac1-4103-9e0e"])
def test_a_request_id_of_1_to_128_printable_characters_is_usable(value: str) -> None:
    assert usable_request_id(value) == value


@pytest.mark.parametrize("value", [None, "", "x" * 129, "a b", "tab\t", "del\x7f", "é"])
def test_an_empty_overlong_or_unprintable_request_id_is_not_usable(value: str | None) -> None:
    assert usable_request_id(value) is None


def test_an_unusable_request_id_is_refused_and_not_echoed() -> None:
    refused = _refusal(_headers(**{"Request-Id": "x" * 129}))
    assert refused.message == "Request-Id must be 1 to 128 printable characters."
    assert refused.request_id is None


@pytest.mark.parametrize("missing", ["Client-Id", "Request-Id", "Request-Timestamp", "Signature"])
def test_a_missing_header_is_named_and_a_usable_request_id_still_echoed(missing: str) -> None:
    headers = _headers()
    headers[missing] = ""
    refused = _refusal(headers)
    assert refused.message == f"Missing {missing} header."
    assert refused.request_id == (None if missing == "Request-Id" else "req-1")


def test_an_unknown_client_id_is_refused_echoing_the_request_id() -> None:
    refused = _refusal(_headers(**{"Client-Id": "MCH-0001-99999999999999"}))
    assert (refused.message, refused.request_id) == ("Unknown Client-Id.", "req-1")


def test_a_wrong_signature_is_refused_echoing_the_request_id() -> None:
    refused = _refusal(_headers(key="SK-someone-else"))
    assert (refused.message, refused.request_id) == ("Signature does not match.", "req-1")
    assert str(refused) == "Signature does not match."


# Key rotation: the previous key until its deadline, not a second longer.


ROTATING = Credentials(
    client_id=CLIENT_ID,
    secret_key="SK-new-key",
    timestamp_tolerance_seconds=300,
    previous_secret_key=SECRET_KEY,
    previous_key_until=NOW + timedelta(seconds=1),
)


def test_during_a_rotation_both_keys_are_accepted_and_the_one_used_is_remembered() -> None:
    assert ROTATING.accepted_keys(NOW) == ("SK-new-key", SECRET_KEY)
    assert _authenticate(_headers(), credentials=ROTATING).key == SECRET_KEY
    assert _authenticate(_headers(key="SK-new-key"), credentials=ROTATING).key == "SK-new-key"


def test_at_the_rotation_deadline_only_the_new_key_is_accepted() -> None:
    deadline = NOW + timedelta(seconds=1)
    assert ROTATING.accepted_keys(deadline) == ("SK-new-key",)
    refused = _refusal(_headers(at=deadline), credentials=ROTATING, now=deadline)
    assert refused.message == "Signature does not match."


@pytest.mark.parametrize(
    "half",
    [{"previous_secret_key": None}, {"previous_key_until": None}, {"previous_secret_key": ""}],
)
def test_a_rotation_half_configured_accepts_only_the_current_key(half: dict[str, Any]) -> None:
    settings = {
        "previous_secret_key": SECRET_KEY,
        "previous_key_until": NOW + timedelta(hours=1),
        **half,
    }
    credentials = Credentials(CLIENT_ID, "SK-new-key", 300, **settings)
    assert credentials.accepted_keys(NOW) == ("SK-new-key",)


# Signing our answers.


def test_an_answer_is_signed_with_the_key_given_and_stamped_with_our_clock() -> None:
    headers = response_headers(
        ROTATING, request_id="req-1", request_target=INQUIRY_TARGET, body=BODY, now=NOW,
        key=SECRET_KEY,
    )  # fmt: skip
    assert headers["Client-Id"] == CLIENT_ID
    assert headers["Request-Id"] == "req-1"
    assert headers["Response-Timestamp"] == "2026-12-01T03:00:00Z"
    assert "Request-Timestamp" not in headers
    assert verify(
        [SECRET_KEY], headers["Signature"], client_id=CLIENT_ID, request_id="req-1",
        timestamp="2026-12-01T03:00:00Z", request_target=INQUIRY_TARGET, body=BODY,
        response=True,
    )  # fmt: skip


def test_an_answer_without_a_key_given_is_signed_with_the_current_key() -> None:
    headers = response_headers(
        ROTATING, request_id="req-1", request_target=INQUIRY_TARGET, body=BODY, now=NOW
    )
    assert verify(
        ["SK-new-key"], headers["Signature"], client_id=CLIENT_ID, request_id="req-1",
        timestamp=headers["Response-Timestamp"], request_target=INQUIRY_TARGET, body=BODY,
        response=True,
    )  # fmt: skip


# What DOKU receives over HTTP.


def _signed_refusal(response: TestResponse, request_id: str, target: str) -> str:
    assert response.status_code == 401
    body = check_response_signature(response, request_id, target=target)
    stamp = response.headers["Response-Timestamp"]
    assert abs((parse_timestamp(stamp) - datetime.now(UTC)).total_seconds()) < 60
    assert body["error"]["code"] == "unauthorized"
    message: str = body["error"]["message"]
    return message


REFUSALS = {
    "client-id": {"client_id": "MCH-0001-99999999999999"},
    "key": {"secret_key": "SK-someone-else"},
    "timestamp": {"timestamp": "2020-08-11T08:45:42"},
}


@pytest.mark.parametrize("refusal", list(REFUSALS))
def test_every_refused_inquiry_is_answered_signed_with_its_request_id(
    client: FlaskClient, refusal: str
) -> None:
    body = inquiry_body("8896000000000000")
    headers = doku_headers(body, request_id=f"refused-{refusal}", **REFUSALS[refusal])
    response = client.post(INQUIRY_TARGET, data=body, headers=headers)
    assert _signed_refusal(response, f"refused-{refusal}", INQUIRY_TARGET)


def test_a_stale_inquiry_is_answered_signed_with_its_request_id(client: FlaskClient) -> None:
    body = inquiry_body("8896000000000000")
    stale = format_timestamp(datetime.now(UTC) - timedelta(minutes=10))
    headers = doku_headers(body, request_id="stale", timestamp=stale)
    message = _signed_refusal(client.post(INQUIRY_TARGET, data=body, headers=headers), "stale",
                              INQUIRY_TARGET)  # fmt: skip
    assert "Request-Timestamp" in message


@pytest.mark.parametrize("refusal", ["client-id", "key"])
def test_every_refused_notification_is_answered_signed_with_its_request_id(
    client: FlaskClient, session: Session, refusal: str
) -> None:
    body = notification_body_for(make_bill(session))
    response = notify(client, body, request_id=f"refused-{refusal}", **REFUSALS[refusal])
    assert _signed_refusal(response, f"refused-{refusal}", NOTIFICATION_TARGET)


def test_a_refusal_without_a_usable_request_id_carries_no_signature_headers(
    client: FlaskClient,
) -> None:
    body = inquiry_body("8896000000000000")
    headers = doku_headers(body)
    headers["Request-Id"] = "x" * 129
    response = client.post(INQUIRY_TARGET, data=body, headers=headers)
    assert response.status_code == 401
    assert "Signature" not in response.headers
    assert "Request-Id" not in response.headers


def test_a_forged_delivery_cannot_keep_dokus_genuine_notification_from_being_applied(
    client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session)
    genuine = notification_body_for(bill)
    forged = notification_body_for(bill, amount=1)
    refused = notify(client, forged, request_id="doku-req-7", secret_key="SK-attacker")
    assert refused.status_code == 401
    answer = notify(client, genuine, request_id="doku-req-7")
    assert answer.status_code == 200
    assert check_response_signature(answer, "doku-req-7", target=NOTIFICATION_TARGET) == {
        "status": "applied",
        "message": "payment applied",
    }
    session.expire_all()
    assert [p.bill_id for p in session.scalars(select(Payment))] == [bill.id]
    assert list(session.scalars(select(PaymentException))) == []
    assert bill.state == BillState.PAID


def test_during_a_rotation_a_notification_signed_with_the_previous_key_is_answered_with_it(
    make_app: Any, session: Session
) -> None:
    bill = make_bill(session)
    body = notification_body_for(bill)
    app = make_app(
        DOKU_SECRET_KEY="SK-new-key",
        DOKU_PREVIOUS_SECRET_KEY=SECRET_KEY,
        DOKU_PREVIOUS_SECRET_KEY_UNTIL=datetime.now(UTC) + timedelta(hours=1),
    )
    response = notify(app.test_client(), body, request_id="old-key")  # signed with SECRET_KEY
    assert response.status_code == 200
    assert check_response_signature(response, "old-key", target=NOTIFICATION_TARGET)["status"] == (
        "applied"
    )
    assert not verify(
        ["SK-new-key"], response.headers["Signature"], client_id=CLIENT_ID, request_id="old-key",
        timestamp=response.headers["Response-Timestamp"], request_target=NOTIFICATION_TARGET,
        body=response.get_data(), response=True,
    )  # fmt: skip


def test_during_a_rotation_an_inquiry_with_the_new_key_is_answered_with_the_new_key(
    make_app: Any, session: Session
) -> None:
    code = live_code(make_bill(session))
    app = make_app(
        DOKU_SECRET_KEY="SK-new-key",
        DOKU_PREVIOUS_SECRET_KEY=SECRET_KEY,
        DOKU_PREVIOUS_SECRET_KEY_UNTIL=datetime.now(UTC) + timedelta(hours=1),
    )
    body = inquiry_body(code)
    headers = doku_headers(body, request_id="new-key", secret_key="SK-new-key")
    response = app.test_client().post(INQUIRY_TARGET, data=body, headers=headers)
    assert response.status_code == 200
    assert not verify(
        [SECRET_KEY], response.headers["Signature"], client_id=CLIENT_ID, request_id="new-key",
        timestamp=response.headers["Response-Timestamp"], request_target=INQUIRY_TARGET,
        body=response.get_data(), response=True,
    )  # fmt: skip
