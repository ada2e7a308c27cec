"""Inquiry request parsing and the response body bytes."""

from __future__ import annotations

import json
from datetime import date

import pytest

from portal.doku.examples import GUIDE_INQUIRY_REQUEST as GUIDE_REQUEST
from portal.doku.examples import GUIDE_INQUIRY_RESPONSE
from portal.doku.messages import (
    InquiryAnswer,
    InquiryStatus,
    InsuranceInfo,
    MessageError,
    format_due_date,
    inquiry_response_body,
    parse_inquiry_request,
)


def _body(**changes: object) -> bytes:
    data = json.loads(json.dumps(GUIDE_REQUEST))
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = data
        for key in parents:
            node = node[key]
        if value is ...:
            del node[last]
        else:
            node[last] = value
    return json.dumps(data).encode()


def test_guide_sample_request_parses_with_its_identifiers() -> None:
    request = parse_inquiry_request(_body())
    assert request.payment_code == "8896512345678123"
    assert request.inquiry_date == "2020-08-11T08:45:42Z"
    assert request.agent_id == "100001"
    assert request.agent_store_id == "10000232"
    assert request.agent_trx_id == "c1aa04bf421e5b38c3d18933e9994d3f289def65"


def test_unknown_fields_are_ignored_because_doku_may_add_some() -> None:
    request = parse_inquiry_request(_body(new_field={"x": 1}, service__version="2"))
    assert request.payment_code == "8896512345678123"


def test_identifiers_are_optional() -> None:
    request = parse_inquiry_request(_body(online_to_offline_inquiry__identifier=...))
    assert request.identifiers == {}


def test_payment_code_sent_as_a_json_number_is_accepted_as_its_digits() -> None:
    body = _body(online_to_offline_info__payment_code=8896512345678123)
    assert parse_inquiry_request(body).payment_code == "8896512345678123"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"service__id": "VIRTUAL_ACCOUNT"}, "service"),
        ({"acquirer__id": "INDOMARET"}, "acquirer"),
        ({"channel": ...}, "channel"),
        ({"online_to_offline_info__payment_code": ""}, "online_to_offline_info"),
        ({"online_to_offline_info__payment_code": "12a4"}, "online_to_offline_info"),
        ({"online_to_offline_info__payment_code": "1" * 21}, "online_to_offline_info"),
        ({"online_to_offline_info__payment_code": "１２３"}, "online_to_offline_info"),
        ({"online_to_offline_info__payment_code": True}, "online_to_offline_info"),
        ({"online_to_offline_info__payment_code": -5}, "online_to_offline_info"),
        ({"online_to_offline_info__payment_code": 1.5}, "online_to_offline_info"),
        ({"online_to_offline_inquiry__date": "yesterday"}, "online_to_offline_inquiry"),
        ({"online_to_offline_inquiry__date": 1597135542}, "online_to_offline_inquiry"),
        ({"online_to_offline_inquiry__identifier": "AGENT_ID"}, "online_to_offline_inquiry"),
        (
            {"online_to_offline_inquiry__identifier": [{"name": "AGENT_ID", "value": "a\x00b"}]},
            "online_to_offline_inquiry",
        ),
    ],
)
def test_invalid_field_is_named_in_the_error(changes: dict[str, object], field: str) -> None:
    with pytest.raises(MessageError) as caught:
        parse_inquiry_request(_body(**changes))
    assert field in caught.value.details


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "not valid JSON"),
        (b"{", "not valid JSON"),
        (b"[]", "JSON object"),
        (b'"x"', "JSON object"),
        (b"\xff\xfe", "not UTF-8"),
        (b'{"a": NaN}', "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
def test_body_that_is_not_a_json_object_gets_a_clear_error(body: bytes, message: str) -> None:
    with pytest.raises(MessageError, match=message):
        parse_inquiry_request(body)


def test_success_body_has_the_guide_field_order_and_no_whitespace() -> None:
    body = inquiry_response_body(
        InquiryAnswer(
            status=InquiryStatus.SUCCESS,
            payment_code="8896512345678123",
            invoice_number="INV-20210125-0001",
            amount=150000,
            info="Thank for shopping in our store",
            customer_name="Anton Budiman",
            customer_email="anton@example.com",
            footer_message="Call Center 021 555-0525",
            insurance_info=InsuranceInfo(
                "Dana Pendidikan", "9090901234", "Andreas", "aktif", "21 May 2021"
            ),
        )
    )
    # The guide's own sample, key for key and in its order, without whitespace.
    assert body == json.dumps(GUIDE_INQUIRY_RESPONSE, separators=(",", ":")).encode()


def test_not_found_body_carries_only_code_and_status() -> None:
    body = inquiry_response_body(
        InquiryAnswer(status=InquiryStatus.BILLING_NOT_FOUND, payment_code="123")
    )
    assert json.loads(body) == {
        "online_to_offline_info": {"payment_code": "123"},
        "online_to_offline_inquiry": {"status": "billing_not_found"},
    }


@pytest.mark.parametrize(
    ("status", "http"),
    [("success", 200), ("decline", 400), ("billing_already_paid", 400),
     ("billing_was_expired", 400), ("billing_not_found", 404)],
)  # fmt: skip
def test_each_status_has_the_guide_http_code(status: str, http: int) -> None:
    assert InquiryStatus(status).http_status == http


def test_due_date_is_written_like_the_guide_whatever_the_locale() -> None:
    assert format_due_date(date(2021, 5, 21)) == "21 May 2021"
    assert format_due_date(date(2026, 12, 1)) == "1 December 2026"
