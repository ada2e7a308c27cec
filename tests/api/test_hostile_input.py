"""Hostile but correctly signed input to both DOKU endpoints: never a 500, never a changed bill."""

from __future__ import annotations

import json
import uuid
from typing import Any

from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from portal.extensions import db
from portal.models import Bill, Payment, PaymentCode
from tests.factories import INQUIRY_TARGET, NOTIFICATION_TARGET, doku_headers, make_bill

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


def _shaped(code: Any, date: Any, identifiers: Any, service: Any) -> dict[str, Any]:
    return {
        "service": {"id": service},
        "acquirer": {"id": "ALFA"},
        "channel": {"id": "ONLINE_TO_OFFLINE_ALFA"},
        "online_to_offline_info": {"payment_code": code},
        "online_to_offline_inquiry": {"date": date, "identifier": identifiers},
    }


bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.builds(
        _shaped,
        code=st.one_of(json_values, st.from_regex(r"\A[0-9]{1,25}\Z"), st.text(max_size=30)),
        date=st.one_of(json_values, st.just("2026-01-01T00:00:00Z")),
        identifiers=st.one_of(
            json_values,
            st.lists(
                st.fixed_dictionaries(
                    {
                        "name": st.sampled_from(["AGENT_ID", "AGENT_TRX_ID", "x"]),
                        "value": st.text(max_size=200),
                    }
                ),
                max_size=5,
            ),
        ),
        service=st.one_of(st.just("ONLINE_TO_OFFLINE"), json_values),
    ).map(lambda d: json.dumps(d).encode()),
)


def _snapshot(app: Flask) -> list[tuple[Any, ...]]:
    with app.app_context():
        bills = db.session.execute(select(Bill.id, Bill.state, Bill.amount)).all()
        codes = db.session.execute(select(PaymentCode.code, PaymentCode.retired_at)).all()
        paid = db.session.execute(select(Payment.id, Payment.bill_id)).all()
        db.session.rollback()
        return [tuple(r) for r in bills + codes + paid]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=bodies)
def test_signed_hostile_bodies_get_a_4xx_or_an_answer_and_change_no_bill(
    app: Flask, body: bytes
) -> None:
    with app.app_context():
        make_bill(db.session)
    before = _snapshot(app)
    request_id = str(uuid.uuid4())
    response = app.test_client().post(
        INQUIRY_TARGET, data=body, headers=doku_headers(body, request_id=request_id)
    )
    assert response.status_code in (200, 400, 404, 413), response.get_data()
    assert response.is_json
    assert response.headers["Request-Id"] == request_id
    assert _snapshot(app) == before


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    headers=st.dictionaries(
        st.sampled_from(["Client-Id", "Request-Id", "Request-Timestamp", "Signature"]),
        st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=200),
    )
)
def test_garbage_headers_are_401_never_500(app: Flask, headers: dict[str, str]) -> None:
    response = app.test_client().post(INQUIRY_TARGET, data=b"{}", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def _notification_shaped(
    code: Any, amount: Any, status: Any, date: Any, invoice: Any
) -> dict[str, Any]:
    return {
        "service": {"id": "ONLINE_TO_OFFLINE"},
        "acquirer": {"id": "ALFA"},
        "channel": {"id": "ONLINE_TO_OFFLINE_ALFA"},
        "transaction": {"status": status, "date": date},
        "order": {"invoice_number": invoice, "amount": amount},
        "online_to_offline_info": {"payment_code": code},
    }


notification_bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.builds(
        _notification_shaped,
        code=st.one_of(json_values, st.from_regex(r"\A[0-9]{1,25}\Z")),
        amount=st.one_of(
            json_values, st.integers(), st.floats(allow_nan=False, allow_infinity=False)
        ),
        status=st.one_of(st.sampled_from(["SUCCESS", "FAILED"]), json_values),
        date=st.one_of(st.just("2026-01-01T00:00:00Z"), json_values),
        invoice=st.one_of(st.text(max_size=80), json_values),
    ).map(lambda d: json.dumps(d).encode()),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=notification_bodies)
def test_signed_hostile_notifications_are_kept_answered_and_change_no_bill(
    app: Flask, body: bytes
) -> None:
    with app.app_context():
        make_bill(db.session)
    before = _snapshot(app)
    request_id = str(uuid.uuid4())
    response = app.test_client().post(
        NOTIFICATION_TARGET,
        data=body,
        headers=doku_headers(body, request_id=request_id, target=NOTIFICATION_TARGET),
    )
    assert response.status_code in (200, 400, 404), response.get_data()
    assert response.is_json
    assert _snapshot(app) == before
