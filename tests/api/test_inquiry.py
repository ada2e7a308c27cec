"""POST /doku/inquiry: the decision table, signatures both ways, replay and the record kept."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.doku.signature import format_timestamp
from portal.models import BillState, Inquiry, ReceiptDefaults
from tests.factories import (
    CLIENT_ID,
    INQUIRY_TARGET,
    SECRET_KEY,
    check_response_signature,
    doku_headers,
    inquire,
    inquiry_body,
    live_code,
    make_bill,
    post_signed,
)


def _inquiries(session: Session) -> list[Inquiry]:
    session.expire_all()
    return list(session.scalars(select(Inquiry).order_by(Inquiry.id)))


def _ask(client: FlaskClient, code: str) -> tuple[int, dict[str, Any]]:
    request_id = str(uuid.uuid4())
    response = inquire(client, code, request_id=request_id)
    return response.status_code, check_response_signature(response, request_id)


# The decision table, case by case.


def test_unpaid_bill_answers_success_with_everything_the_till_shows(
    client: FlaskClient, session: Session
) -> None:
    bill = make_bill(
        session,
        amount=150_000,
        info="Premi Asuransi",
        footer_message="Call Center 021 555-0525",
        customer_name="Anton Budiman",
        customer_email="anton@example.com",
    )
    code = live_code(bill)
    status, body = _ask(client, code)
    assert status == 200
    assert body == {
        "order": {"invoice_number": bill.invoice_number, "amount": 150000},
        "online_to_offline_info": {"payment_code": code, "info": "Premi Asuransi"},
        "online_to_offline_inquiry": {"status": "success"},
        "customer": {"name": "Anton Budiman", "email": "anton@example.com"},
        "alfa_info": {"receipt": {"footer_message": "Call Center 021 555-0525"}},
        "additional_info": {
            "insurance_info": {
                "policy_type": "Dana Pendidikan",
                "policy_number": bill.policy.number,
                "policy_account_name": "Andreas",
                "policy_status": "aktif",
                "bill_due_date": "21 May 2031",
            }
        },
    }


def test_bill_without_its_own_info_and_footer_gets_the_configured_defaults(
    client: FlaskClient, session: Session, app: Flask
) -> None:
    code = live_code(make_bill(session))
    _, body = _ask(client, code)
    assert body["online_to_offline_info"]["info"] == app.config["DEFAULT_INFO"]
    assert body["alfa_info"]["receipt"]["footer_message"] == app.config["DEFAULT_FOOTER_MESSAGE"]


def test_staff_edited_defaults_replace_the_configured_ones_but_not_a_bills_own(
    client: FlaskClient, session: Session
) -> None:
    session.add(ReceiptDefaults(id=1, info="Premi Bulanan", footer_message=None))
    own = make_bill(session, footer_message="Footer sendiri")
    plain = make_bill(session)
    _, body = _ask(client, live_code(plain))
    assert body["online_to_offline_info"]["info"] == "Premi Bulanan"
    _, body = _ask(client, live_code(own))
    assert body["alfa_info"]["receipt"]["footer_message"] == "Footer sendiri"
    assert body["online_to_offline_info"]["info"] == "Premi Bulanan"


def test_unknown_code_answers_billing_not_found_404_with_code_and_status_only(
    client: FlaskClient,
) -> None:
    status, body = _ask(client, "8896000000000000")
    assert status == 404
    assert body == {
        "online_to_offline_info": {"payment_code": "8896000000000000"},
        "online_to_offline_inquiry": {"status": "billing_not_found"},
    }


def test_retired_code_answers_billing_not_found(client: FlaskClient, session: Session) -> None:
    bill = make_bill(session)
    code = live_code(bill)
    bill.current_code.retired_at = datetime.now(UTC)  # type: ignore[union-attr]
    session.commit()
    status, body = _ask(client, code)
    assert (status, body["online_to_offline_inquiry"]["status"]) == (404, "billing_not_found")
    assert "order" not in body


def _assert_refusal(body: dict[str, Any], status_text: str, bill: Any, code: str) -> None:
    assert body["online_to_offline_inquiry"] == {"status": status_text}
    assert body["online_to_offline_info"] == {"payment_code": code}
    assert body["order"] == {"invoice_number": bill.invoice_number, "amount": bill.amount}
    assert body["customer"]["name"] == bill.policy.policyholder.name
    assert "alfa_info" not in body
    assert "additional_info" not in body


def test_paid_bill_answers_billing_already_paid_400(client: FlaskClient, session: Session) -> None:
    bill = make_bill(session, state=BillState.PAID)
    status, body = _ask(client, live_code(bill))
    assert status == 400
    _assert_refusal(body, "billing_already_paid", bill, live_code(bill))


def test_paid_bill_says_paid_even_after_its_code_expired(
    client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session, state=BillState.PAID)
    bill.current_code.expires_at = datetime.now(UTC) - timedelta(days=1)  # type: ignore[union-attr]
    session.commit()
    _, body = _ask(client, live_code(bill))
    assert body["online_to_offline_inquiry"]["status"] == "billing_already_paid"


def test_expired_code_answers_billing_was_expired_400(
    client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session)
    bill.current_code.expires_at = datetime.now(UTC) - timedelta(seconds=5)  # type: ignore[union-attr]
    session.commit()
    status, body = _ask(client, live_code(bill))
    assert status == 400
    _assert_refusal(body, "billing_was_expired", bill, live_code(bill))


def test_expiry_is_judged_in_utc_not_server_local_time(
    client: FlaskClient, session: Session
) -> None:
    # Expires in 30 minutes: a check against WIB (UTC+7) wall time would call it expired.
    bill = make_bill(session, expires_at=datetime.now(UTC) + timedelta(minutes=30))
    status, _ = _ask(client, live_code(bill))
    assert status == 200


def test_cancelled_bill_answers_decline_400(client: FlaskClient, session: Session) -> None:
    bill = make_bill(session, state=BillState.CANCELLED)
    status, body = _ask(client, live_code(bill))
    assert status == 400
    _assert_refusal(body, "decline", bill, live_code(bill))


def test_inactive_policy_answers_decline(client: FlaskClient, session: Session) -> None:
    bill = make_bill(session, policy_status="lapse")
    status, body = _ask(client, live_code(bill))
    assert status == 400
    _assert_refusal(body, "decline", bill, live_code(bill))


@pytest.mark.parametrize(
    ("amount", "expected"), [(9_999, 400), (10_000, 200), (5_000_000, 200), (5_000_001, 400)]
)
def test_amount_outside_the_alfa_limits_answers_decline(
    client: FlaskClient, session: Session, amount: int, expected: int
) -> None:
    status, body = _ask(client, live_code(make_bill(session, amount=amount)))
    assert status == expected
    assert body["online_to_offline_inquiry"]["status"] == (
        "success" if expected == 200 else "decline"
    )


def test_limits_and_active_statuses_come_from_configuration(
    make_app: Any, session: Session
) -> None:
    app = make_app(
        ALFA_MAX_AMOUNT=20_000_000,
        POLICY_STATUSES=("aktif", "grace", "lapse"),
        ACTIVE_POLICY_STATUSES=("aktif", "grace"),
    )
    big = make_bill(session, amount=7_500_000, policy_status="grace")
    status, _ = _ask(app.test_client(), live_code(big))
    assert status == 200


# The record of every inquiry.


def test_every_inquiry_is_recorded_with_identifiers_verdict_and_exact_response(
    client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session)
    code = live_code(bill)
    body = inquiry_body(code, AGENT_ID="ALFAMART", AGENT_STORE_ID="TZ01", AGENT_TRX_ID="1246")
    headers = doku_headers(body, request_id="req-1", timestamp=format_timestamp(datetime.now(UTC)))
    response = client.post(INQUIRY_TARGET, data=body, headers=headers)
    [row] = _inquiries(session)
    assert row.request_id == "req-1"
    assert row.client_id == CLIENT_ID
    assert row.request_timestamp == headers["Request-Timestamp"]
    assert row.payment_code == code
    assert (row.agent_id, row.agent_store_id, row.agent_trx_id) == ("ALFAMART", "TZ01", "1246")
    assert row.verdict == "success"
    assert row.bill_id == bill.id
    assert row.http_status == 200
    assert row.response_body.encode() == response.get_data()
    assert row.request_body.encode() == body
    assert row.received_at.tzinfo is not None


def test_refusals_are_recorded_with_their_reason(client: FlaskClient, session: Session) -> None:
    _ask(client, live_code(make_bill(session, policy_status="lapse")))
    [row] = _inquiries(session)
    assert row.verdict == "decline"
    assert row.reason is not None and "lapse" in row.reason


# Replays.


def test_repeated_request_id_with_same_body_gets_the_same_answer_and_no_second_row(
    client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session)
    body = inquiry_body(live_code(bill))
    headers = doku_headers(body, request_id="same-request")
    first = client.post(INQUIRY_TARGET, data=body, headers=headers)
    bill.state = BillState.PAID  # the world changed; the replay must not
    session.commit()
    second = client.post(INQUIRY_TARGET, data=body, headers=headers)
    assert second.status_code == first.status_code == 200
    assert second.get_data() == first.get_data()
    check_response_signature(second, "same-request")
    assert len(_inquiries(session)) == 1


def test_repeated_request_id_with_another_body_is_refused_409(
    client: FlaskClient, session: Session
) -> None:
    code = live_code(make_bill(session))
    inquire(client, code, request_id="reused")
    response = post_signed(
        client, INQUIRY_TARGET, inquiry_body("8896000000000000"), request_id="reused"
    )
    assert response.status_code == 409
    assert check_response_signature(response, "reused")["error"]["code"] == "request_id_reused"
    assert [r.payment_code for r in _inquiries(session)] == [code]


# Authentication: 401 before the body is used, and nothing recorded.


@pytest.mark.parametrize("missing", ["Client-Id", "Request-Id", "Request-Timestamp", "Signature"])
def test_missing_header_is_401_naming_it(
    client: FlaskClient, session: Session, missing: str
) -> None:
    body = inquiry_body("8896000000000000")
    headers = doku_headers(body)
    del headers[missing]
    response = client.post(INQUIRY_TARGET, data=body, headers=headers)
    assert response.status_code == 401
    assert missing in response.get_json()["error"]["message"]
    assert _inquiries(session) == []


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        ({"client_id": "MCH-0001-99999999999999"}, "Client-Id"),
        ({"secret_key": "SK-some-other-key"}, "Signature"),
        ({"target": "/inquiry"}, "Signature"),
        ({"timestamp": timedelta(seconds=-310)}, "Timestamp"),
        ({"timestamp": timedelta(seconds=310)}, "Timestamp"),
        ({"timestamp": "2020-08-11T08:45:42"}, "Timestamp"),
    ],
    ids=["client-id", "key", "target", "timestamp-old", "timestamp-future", "timestamp-no-zone"],
)
def test_bad_credentials_are_401(
    client: FlaskClient, session: Session, tamper: dict[str, Any], message: str
) -> None:
    if isinstance(tamper.get("timestamp"), timedelta):  # relative to now, not to collection time
        tamper = {"timestamp": format_timestamp(datetime.now(UTC) + tamper["timestamp"])}
    body = inquiry_body(live_code(make_bill(session)))
    headers = doku_headers(body, **tamper)
    response = client.post(INQUIRY_TARGET, data=body, headers=headers)
    assert response.status_code == 401
    assert message in response.get_json()["error"]["message"]
    assert _inquiries(session) == []


@pytest.mark.parametrize("header", ["Client-Id", "Request-Id", "Request-Timestamp"])
def test_changing_a_signed_header_after_signing_is_401(
    client: FlaskClient, session: Session, header: str
) -> None:
    body = inquiry_body(live_code(make_bill(session)))
    headers = doku_headers(body)
    headers[header] = headers[header][:-1] + ("X" if headers[header][-1] != "X" else "Y")
    if header == "Request-Timestamp":
        headers[header] = format_timestamp(datetime.now(UTC) - timedelta(seconds=1))
    response = client.post(INQUIRY_TARGET, data=body, headers=headers)
    assert response.status_code == 401


def test_changing_the_body_after_signing_is_401(client: FlaskClient, session: Session) -> None:
    code = live_code(make_bill(session))
    body = inquiry_body(code)
    headers = doku_headers(body)
    tampered = body.replace(code.encode(), b"8896000000000000")
    assert client.post(INQUIRY_TARGET, data=tampered, headers=headers).status_code == 401
    pretty = json.dumps(json.loads(body), indent=2).encode()
    assert client.post(INQUIRY_TARGET, data=pretty, headers=headers).status_code == 401


def test_timestamp_just_inside_the_window_is_accepted(
    client: FlaskClient, session: Session
) -> None:
    code = live_code(make_bill(session))
    old = format_timestamp(datetime.now(UTC) - timedelta(seconds=290))
    assert inquire(client, code, timestamp=old).status_code == 200


def test_window_is_configurable(make_app: Any, session: Session) -> None:
    app = make_app(DOKU_TIMESTAMP_TOLERANCE_SECONDS=30)
    code = live_code(make_bill(session))
    old = format_timestamp(datetime.now(UTC) - timedelta(seconds=60))
    assert inquire(app.test_client(), code, timestamp=old).status_code == 401


def test_public_request_target_is_configurable_for_a_path_prefix(
    make_app: Any, session: Session
) -> None:
    app = make_app(DOKU_INQUIRY_TARGET="/payments/alfa/doku/inquiry")
    code = live_code(make_bill(session))
    body = inquiry_body(code)
    client = app.test_client()
    signed_for_public = doku_headers(body, target="/payments/alfa/doku/inquiry")
    response = client.post(INQUIRY_TARGET, data=body, headers=signed_for_public)
    assert response.status_code == 200
    check_response_signature(
        response, signed_for_public["Request-Id"], target="/payments/alfa/doku/inquiry"
    )
    signed_for_flask_path = doku_headers(body, target=INQUIRY_TARGET)
    assert client.post(INQUIRY_TARGET, data=body, headers=signed_for_flask_path).status_code == 401


def test_refused_attempt_is_logged_without_the_signature(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    from portal.observability import JsonFormatter

    body = inquiry_body("8896000000000000")
    headers = doku_headers(body, secret_key="SK-wrong")
    with caplog.at_level("WARNING", logger="portal.api.routes"):
        client.post(INQUIRY_TARGET, data=body, headers=headers)
    [record] = caplog.records
    line = json.loads(JsonFormatter().format(record))
    assert line["doku_request_id"] == headers["Request-Id"]
    assert line["client_id"] == CLIENT_ID
    assert "Signature does not match" in line["message"]
    assert headers["Signature"].split("=", 1)[1] not in json.dumps(line)


def test_unauthenticated_request_never_reaches_the_database(make_app: Any, tmp_path: Any) -> None:
    # The database does not even exist: a 401 (not a 503) proves nothing touched it.
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/dir/db.sqlite3")
    body = inquiry_body("8896000000000000")
    response = app.test_client().post(
        INQUIRY_TARGET, data=body, headers=doku_headers(body, secret_key="SK-wrong")
    )
    assert response.status_code == 401


def test_database_unavailable_answers_503_json_so_doku_retries(
    make_app: Any, tmp_path: Any
) -> None:
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/dir/db.sqlite3")
    response = inquire(app.test_client(), "8896000000000000", request_id="r-503")
    assert response.status_code == 503
    assert check_response_signature(response, "r-503")["error"]["code"] == "unavailable"


# Malformed input: a 4xx that names the problem, recorded once authenticated.


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"not json", None),
        (b"[]", None),
        (b'{"service": {"id": "ONLINE_TO_OFFLINE"}}', "acquirer"),
        (inquiry_body("12ab"), "online_to_offline_info"),
        (inquiry_body("1" * 21), "online_to_offline_info"),
    ],
)
def test_signed_but_invalid_body_is_400_naming_the_problem_and_recorded(
    client: FlaskClient, session: Session, body: bytes, field: str | None
) -> None:
    response = post_signed(client, INQUIRY_TARGET, body, request_id="bad-body")
    assert response.status_code == 400
    error = check_response_signature(response, "bad-body")["error"]
    assert error["code"] == "invalid_request"
    if field:
        assert field in error["details"]
    [row] = _inquiries(session)
    assert row.verdict == "invalid_request"
    assert row.http_status == 400


def test_body_with_nul_and_invalid_utf8_is_refused_and_recorded(
    client: FlaskClient, session: Session
) -> None:
    body = b'{"service":\x00\xff}'
    response = post_signed(client, INQUIRY_TARGET, body, request_id="nul")
    assert response.status_code == 400
    [row] = _inquiries(session)
    assert "\x00" not in row.request_body


def test_oversized_body_is_413_json(client: FlaskClient) -> None:
    body = b'{"pad":"' + b"x" * 20_000 + b'"}'
    response = post_signed(client, INQUIRY_TARGET, body)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "request_entity_too_large"


def test_get_is_405_json(client: FlaskClient) -> None:
    response = client.get(INQUIRY_TARGET)
    assert response.status_code == 405
    assert response.is_json


# Rotating the DOKU secret key without downtime.


def test_previous_key_is_accepted_until_its_deadline_and_answers_are_signed_with_it(
    make_app: Any, session: Session
) -> None:
    from portal.doku.signature import verify

    code = live_code(make_bill(session))
    until = datetime.now(UTC) + timedelta(hours=1)
    app = make_app(
        DOKU_SECRET_KEY="SK-new-key",
        DOKU_PREVIOUS_SECRET_KEY=SECRET_KEY,
        DOKU_PREVIOUS_SECRET_KEY_UNTIL=until,
    )
    client = app.test_client()
    old = inquire(client, code, request_id="old-key")  # DOKU still signs with the old key
    assert old.status_code == 200
    check_response_signature(old, "old-key")  # answered with the old key, which DOKU holds
    new = inquire(client, code, request_id="new-key", secret_key="SK-new-key")
    assert new.status_code == 200
    assert verify(
        ["SK-new-key"], new.headers["Signature"], client_id=CLIENT_ID, request_id="new-key",
        timestamp=new.headers["Response-Timestamp"], request_target=INQUIRY_TARGET,
        body=new.get_data(), response=True,
    )  # fmt: skip
    assert inquire(client, code, secret_key="SK-unrelated").status_code == 401


def test_previous_key_is_refused_after_its_deadline(make_app: Any, session: Session) -> None:
    code = live_code(make_bill(session))
    app = make_app(
        DOKU_SECRET_KEY="SK-new-key",
        DOKU_PREVIOUS_SECRET_KEY=SECRET_KEY,
        DOKU_PREVIOUS_SECRET_KEY_UNTIL=datetime.now(UTC) - timedelta(seconds=1),
    )
    response = inquire(app.test_client(), code)
    assert response.status_code == 401


def test_each_verdict_is_answered_with_dokus_status_of_the_same_name() -> None:
    from portal.api.routes import _STATUS
    from portal.doku.messages import InquiryStatus
    from portal.services.traffic.inquiries import Verdict

    assert set(_STATUS) == set(Verdict)
    assert set(_STATUS.values()) == set(InquiryStatus)
    assert all(status.value == verdict.value for verdict, status in _STATUS.items())


def test_the_pages_and_doku_share_one_set_of_inquiry_rules(app: Any) -> None:
    from portal.api.common import ApiSettings

    settings: ApiSettings = app.extensions["doku_api"]
    assert settings.rules is app.extensions["inquiry_rules"]
