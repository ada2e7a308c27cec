"""The published OpenAPI document is the contract: schemathesis generates requests from it,
signed as DOKU signs them, and every answer must match the document."""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from sqlalchemy import select

from portal.api.openapi import openapi_document
from portal.extensions import db
from portal.models import Bill, Payment, PaymentCode
from tests.factories import doku_headers, make_bill

SCHEMA = schemathesis.openapi.from_dict(openapi_document())


def _state(app: Flask) -> list[tuple[Any, ...]]:
    with app.app_context():
        rows = db.session.execute(select(Bill.id, Bill.state, Bill.amount)).all()
        rows += db.session.execute(select(PaymentCode.code, PaymentCode.retired_at)).all()
        rows += db.session.execute(select(Payment.id)).all()
        db.session.rollback()
        return [tuple(r) for r in rows]


@pytest.mark.parametrize("path", ["/doku/inquiry", "/doku/notification"])
def test_signed_requests_from_the_document_get_documented_answers(app: Flask, path: str) -> None:
    operation = SCHEMA[path]["POST"]

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def check(case: Any) -> None:
        with app.app_context():
            make_bill(db.session)
        before = _state(app)
        body = json.dumps(case.body).encode()
        headers = doku_headers(body, target=path)
        response = app.test_client().post(
            path, data=body, headers={**headers, "Content-Type": "application/json"}
        )
        assert response.status_code < 500, response.get_data()
        case.validate_response(response)
        if response.status_code != 200:
            assert _state(app) == before

    check()


def test_document_is_served_with_both_endpoints_and_the_guide_examples(client: Any) -> None:
    response = client.get("/doku/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == {"/doku/inquiry", "/doku/notification"}
    inquiry = document["paths"]["/doku/inquiry"]["post"]
    example = inquiry["requestBody"]["content"]["application/json"]["example"]
    assert example["online_to_offline_info"]["payment_code"] == "8896512345678123"
    assert {p["name"] for p in inquiry["parameters"]} == {
        "Client-Id",
        "Request-Id",
        "Request-Timestamp",
        "Signature",
    }


def test_real_answers_match_the_documented_response_schemas(client: Any, session: Any) -> None:
    from portal.doku.messages import AcknowledgementSchema, InquiryResponseSchema
    from tests.factories import inquire, live_code, notification_body_for, notify

    bill = make_bill(session, info="Premi", footer_message="Terima kasih")
    success = inquire(client, live_code(bill)).get_json()
    InquiryResponseSchema().load(success)  # strict: raises on any undocumented field
    assert success["online_to_offline_inquiry"]["status"] == "success"
    paid = notify(client, notification_body_for(bill)).get_json()
    AcknowledgementSchema().load(paid)
    again = inquire(client, live_code(bill)).get_json()
    InquiryResponseSchema().load(again)
    assert again["online_to_offline_inquiry"]["status"] == "billing_already_paid"
