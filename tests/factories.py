"""Small factories for test data, and a DOKU client that signs requests as DOKU does."""

from __future__ import annotations

import itertools
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session, object_session
from werkzeug.test import TestResponse

from portal.doku.messages import inquiry_request_body, notification_body
from portal.doku.signature import format_timestamp, signed_headers, verify
from portal.models import Bill, BillState, Policy, Policyholder
from portal.services.billing.payment_codes import CodeSettings, issue_code

CLIENT_ID = "MCH-0001-10791114622547"
SECRET_KEY = "SK-test-secret-0001"
INQUIRY_TARGET = "/doku/inquiry"
CODE_SETTINGS = CodeSettings(prefix="8896", length=16, grace_days=30)

_sequence = itertools.count(1)


def make_bill(
    session: Session,
    *,
    amount: int = 150_000,
    state: BillState = BillState.UNPAID,
    policy_status: str = "aktif",
    expires_at: datetime | None = None,
    due_date: date = date(2031, 5, 21),
    info: str | None = None,
    footer_message: str | None = None,
    code: str | None = None,
    customer_name: str = "Budi Santoso",
    customer_email: str | None = None,
    policyholder: Policyholder | None = None,
) -> Bill:
    n = next(_sequence)
    if policyholder is None:
        policyholder = Policyholder(
            name=customer_name, email=customer_email or f"budi{n}@example.com"
        )
    policy = Policy(
        policyholder=policyholder,
        number=f"90909{n:05d}",
        type="Dana Pendidikan",
        account_name="Andreas",
        status=policy_status,
    )
    bill = Bill(
        policy=policy,
        invoice_number=f"INV-TEST-{n:05d}",
        amount=amount,
        due_date=due_date,
        state=state,
        info=info,
        footer_message=footer_message,
    )
    session.add(bill)
    issue_code(
        session,
        bill,
        expires_at=expires_at or datetime.now(UTC) + timedelta(days=30),
        settings=CODE_SETTINGS,
        code=code,
    )
    session.commit()
    return bill


def live_code(bill: Bill) -> str:
    """The bill's live code. Ends the session's read transaction: on SQLite every transaction
    holds the write lock (BEGIN IMMEDIATE), which would keep another app's requests waiting."""
    code = bill.current_code
    assert code is not None
    value = code.code
    session = object_session(bill)
    assert session is not None
    session.commit()
    return value


def inquiry_body(payment_code: str, **identifiers: str) -> bytes:
    return inquiry_request_body(
        payment_code,
        format_timestamp(datetime.now(UTC)),
        identifiers
        or {"AGENT_ID": "ALFAMART", "AGENT_STORE_ID": "TZ01", "AGENT_TRX_ID": uuid.uuid4().hex},
    )


def doku_headers(
    body: bytes,
    *,
    target: str = INQUIRY_TARGET,
    request_id: str | None = None,
    timestamp: str | None = None,
    client_id: str = CLIENT_ID,
    secret_key: str = SECRET_KEY,
) -> dict[str, str]:
    return signed_headers(
        secret_key,
        client_id=client_id,
        request_id=request_id or str(uuid.uuid4()),
        timestamp=timestamp or format_timestamp(datetime.now(UTC)),
        request_target=target,
        body=body,
    )


def post_signed(
    client: FlaskClient, path: str, body: bytes, *, target: str | None = None, **sign: Any
) -> TestResponse:
    headers = doku_headers(body, target=target or path, **sign)
    return client.post(path, data=body, headers=headers, content_type="application/json")


def inquire(client: FlaskClient, payment_code: str, **sign: Any) -> TestResponse:
    return post_signed(client, INQUIRY_TARGET, inquiry_body(payment_code), **sign)


@dataclass(frozen=True)
class SignedResponse:
    status: int
    body: bytes
    json: dict[str, Any]


def check_response_signature(
    response: TestResponse, request_id: str, *, target: str = INQUIRY_TARGET
) -> dict[str, Any]:
    """Verify a response the way DOKU does, and return its JSON."""
    body = response.get_data()
    assert response.headers["Client-Id"] == CLIENT_ID
    assert response.headers["Request-Id"] == request_id
    assert verify(
        (SECRET_KEY,),
        response.headers["Signature"],
        client_id=CLIENT_ID,
        request_id=request_id,
        timestamp=response.headers["Response-Timestamp"],
        request_target=target,
        body=body,
        response=True,
    ), "response signature does not verify"
    result: dict[str, Any] = json.loads(body)
    return result


NOTIFICATION_TARGET = "/doku/notification"


def notification_body_for(
    bill: Bill,
    *,
    status: str = "SUCCESS",
    amount: int | None = None,
    invoice_number: str | None = None,
    payment_code: str | None = None,
    transaction_date: datetime | None = None,
    agent_trx_id: str = "1246",
    original_request_id: str = "5b8e438f-fac1-4103-9e0e-ebfdc38b5acb",
) -> bytes:
    """The notification DOKU sends when ``bill`` is paid at the till (fields overridable).
    Like ``live_code``, ends the session's read transaction."""
    bill_invoice, bill_amount = bill.invoice_number, bill.amount
    code = live_code(bill)
    return notification_body(
        payment_code=payment_code or code,
        invoice_number=invoice_number or bill_invoice,
        amount=bill_amount if amount is None else amount,
        status=status,
        transaction_date=format_timestamp(transaction_date or datetime.now(UTC)),
        original_request_id=original_request_id,
        identifiers={
            "AGENT_ID": "ALFAMART",
            "AGENT_STORE_ID": "TZ01",
            "AGENT_TRX_ID": agent_trx_id,
        },
    )


def notify(client: FlaskClient, body: bytes, **sign: Any) -> TestResponse:
    return post_signed(client, NOTIFICATION_TARGET, body, **sign)


# ``next`` targets that would take a redirect off the site (portal.web.safe_next refuses them).
OFF_SITE_TARGETS = (
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example/",
    "\\\\evil.example",
    "javascript:alert(1)",
    "http:/evil.example",
    "/\t/evil.example",
    "payments",
)
