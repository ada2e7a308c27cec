"""Answering "what does payment code X owe?" and keeping a record of every answer.

This is the hot path of the DOKU inquiry: one indexed query to decide, one insert to record,
both in SQLAlchemy Core on a plain connection, so the request pays for no ORM unit-of-work.
The two need not share a transaction: the record says what we answered, and the insert is
atomic on its own (see ``portal.api.routes.inquiry_connection``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, bindparam, select

from portal.models import (
    Bill,
    Inquiry,
    PaymentCode,
    Policy,
    Policyholder,
    ReceiptDefaults,
)
from portal.services.billing.payability import PayabilityRules, Refusal, reason, refusal
from portal.services.billing.receipt import effective_text
from portal.services.sql import insert_unless_exists


class Verdict(StrEnum):
    SUCCESS = "success"
    DECLINE = "decline"
    BILLING_ALREADY_PAID = "billing_already_paid"
    BILLING_WAS_EXPIRED = "billing_was_expired"
    BILLING_NOT_FOUND = "billing_not_found"
    # Authenticated, but the body was not a valid inquiry.
    INVALID_REQUEST = "invalid_request"


@dataclass(frozen=True, slots=True)
class InquiryRules:
    payability: PayabilityRules
    default_info: str
    default_footer_message: str

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> InquiryRules:
        return cls(
            payability=PayabilityRules.from_config(config),
            default_info=config["DEFAULT_INFO"],
            default_footer_message=config["DEFAULT_FOOTER_MESSAGE"],
        )


# What the inquiry answers for each reason the till would decline.
_VERDICTS = {
    Refusal.PAID: Verdict.BILLING_ALREADY_PAID,
    Refusal.EXPIRED: Verdict.BILLING_WAS_EXPIRED,
}


@dataclass(frozen=True, slots=True)
class BillSnapshot:
    bill_id: int
    invoice_number: str
    amount: int
    due_date: date
    info: str
    footer_message: str
    customer_name: str
    customer_email: str
    policy_type: str
    policy_number: str
    policy_account_name: str
    policy_status: str


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    bill: BillSnapshot | None = None
    reason: str | None = None
    refusal: Refusal | None = None


# Core tables, not ORM entities: the hot path needs rows, not objects.
_codes, _bills = PaymentCode.__table__, Bill.__table__
_policies, _holders = Policy.__table__, Policyholder.__table__
_defaults = ReceiptDefaults.__table__
_LOOKUP = (
    select(
        _bills.c.id,
        _bills.c.invoice_number,
        _bills.c.amount,
        _bills.c.due_date,
        _bills.c.state,
        _bills.c.info,
        _bills.c.footer_message,
        _codes.c.expires_at,
        _policies.c.number,
        _policies.c.type,
        _policies.c.account_name,
        _policies.c.status,
        _holders.c.name,
        _holders.c.email,
        _defaults.c.info,
        _defaults.c.footer_message,
    )
    .select_from(_codes)
    .join(_bills, _bills.c.id == _codes.c.bill_id)
    .join(_policies, _policies.c.id == _bills.c.policy_id)
    .join(_holders, _holders.c.id == _policies.c.policyholder_id)
    # Staff-edited defaults, if any, ride along in the same query.
    .outerjoin(_defaults, _defaults.c.id == 1)
    .where(_codes.c.code == bindparam("code"), _codes.c.retired_at.is_(None))
)


def decide(
    connection: Connection, payment_code: str, *, now: datetime, rules: InquiryRules
) -> Decision:
    """What to answer for ``payment_code`` at ``now`` (UTC), by the one payability rule."""
    row = connection.execute(_LOOKUP, {"code": payment_code}).first()
    if row is None:
        return Decision(Verdict.BILLING_NOT_FOUND, reason="no live bill has this payment code")
    (bill_id, invoice, amount, due, state, info, footer, expires_at, number, policy_type,
     account_name, policy_status, name, email, default_info, default_footer) = row  # fmt: skip
    bill = BillSnapshot(
        bill_id=bill_id,
        invoice_number=invoice,
        amount=amount,
        due_date=due,
        info=effective_text(info, default_info, rules.default_info),
        footer_message=effective_text(footer, default_footer, rules.default_footer_message),
        customer_name=name,
        customer_email=email,
        policy_type=policy_type,
        policy_number=number,
        policy_account_name=account_name,
        policy_status=policy_status,
    )
    refused = refusal(
        state=state, amount=amount, policy_status=policy_status, expires_at=expires_at,
        now=now, rules=rules.payability,
    )  # fmt: skip
    if refused is None:
        return Decision(Verdict.SUCCESS, bill)
    why = reason(
        refused, rules=rules.payability, policy_status=policy_status, amount=amount,
        expires_at=expires_at,
    )  # fmt: skip
    return Decision(_VERDICTS.get(refused, Verdict.DECLINE), bill, why, refused)


class RequestIdReused(Exception):
    """The Request-Id was seen before with a different body."""


@dataclass(frozen=True, slots=True)
class Recorded:
    """The answer to send: ours, or the one first sent for a repeated Request-Id."""

    http_status: int
    response_body: str
    replayed: bool


def body_sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def record(connection: Connection, entry: dict[str, Any]) -> Recorded:
    """Insert one inquiry row, unless its Request-Id is already recorded.

    ``entry`` holds the ``Inquiry`` columns. A repeated Request-Id with the same body returns the
    first answer unchanged (no second row); with another body it raises ``RequestIdReused``.
    Insert-first means the common case costs one statement, and two simultaneous copies of one
    request cannot both be recorded: the database decides which one was first.
    """
    if insert_unless_exists(connection, Inquiry.__table__, entry, ["client_id", "request_id"]):
        return Recorded(entry["http_status"], entry["response_body"], replayed=False)
    first = connection.execute(
        select(Inquiry.request_sha256, Inquiry.http_status, Inquiry.response_body).where(
            Inquiry.client_id == entry["client_id"], Inquiry.request_id == entry["request_id"]
        )
    ).one()
    if first.request_sha256 != entry["request_sha256"]:
        raise RequestIdReused(entry["request_id"])
    return Recorded(first.http_status, first.response_body, replayed=True)
