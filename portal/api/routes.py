"""``POST /doku/inquiry``: DOKU asks what a payment code owes."""

from __future__ import annotations

import logging
from dataclasses import replace

from flask import Response, request

from portal.api import bp
from portal.api.common import (
    Guard,
    api_settings,
    doku_request,
    error_response,
    guarded,
    printable,
    refuse_unauthorized,
    signed,
)
from portal.doku.messages import (
    InquiryAnswer,
    InquiryStatus,
    InsuranceInfo,
    MessageError,
    error_body,
    format_due_date,
    inquiry_response_body,
    parse_inquiry_request,
)
from portal.extensions import db
from portal.observability import INQUIRIES, LATENCY, elapsed_ms, mask_code
from portal.services.traffic import inquiries
from portal.services.traffic.inquiries import (
    Answered,
    Decision,
    InquiryAsked,
    InquiryReceived,
    RequestIdReused,
    Verdict,
)

log = logging.getLogger(__name__)

# DOKU's word for each verdict: the same values, checked whole by tests/api/test_inquiry.py.
_STATUS: dict[Verdict, InquiryStatus] = {
    Verdict.SUCCESS: InquiryStatus.SUCCESS,
    Verdict.DECLINE: InquiryStatus.DECLINE,
    Verdict.BILLING_ALREADY_PAID: InquiryStatus.BILLING_ALREADY_PAID,
    Verdict.BILLING_WAS_EXPIRED: InquiryStatus.BILLING_WAS_EXPIRED,
    Verdict.BILLING_NOT_FOUND: InquiryStatus.BILLING_NOT_FOUND,
}


def _answer(payment_code: str, decision: Decision) -> InquiryAnswer:
    status = _STATUS[decision.verdict]
    bill = decision.bill
    if bill is None:
        return InquiryAnswer(status=status, payment_code=payment_code)
    refusal = InquiryAnswer(
        status=status,
        payment_code=payment_code,
        invoice_number=bill.invoice_number,
        amount=bill.amount,
        customer_name=bill.customer_name,
        customer_email=bill.customer_email,
    )
    if status is not InquiryStatus.SUCCESS:
        return refusal
    return replace(
        refusal,
        info=bill.info,
        footer_message=bill.footer_message,
        insurance_info=InsuranceInfo(
            policy_type=bill.policy_type,
            policy_number=bill.policy_number,
            policy_account_name=bill.policy_account_name,
            policy_status=bill.policy_status,
            bill_due_date=format_due_date(bill.due_date),
        ),
    )


def _respond(payment_code: str, decision: Decision) -> Answered:
    answer = _answer(payment_code, decision)
    return Answered(answer.status.http_status, inquiry_response_body(answer).decode("ascii"))


@bp.post("/inquiry")
@guarded(
    Guard(
        "inquiry",
        target=lambda settings: settings.inquiry_target,
        check_freshness=True,
        refuse=refuse_unauthorized("inquiry"),
    )
)
def inquiry() -> Response:
    verified = doku_request()
    auth, body = verified.auth, verified.body
    settings = api_settings()
    received = InquiryReceived(
        received_at=verified.received_at,
        client_id=auth.client_id,
        request_id=auth.request_id,
        request_timestamp=auth.request_timestamp,
        request_sha256=inquiries.body_sha256(body),
        request_body=printable(body),
        remote_addr=request.remote_addr,
    )
    try:
        message = parse_inquiry_request(body)
    except MessageError as exc:
        invalid = Answered(400, error_body("invalid_request", exc.message, exc.details).decode())
        try:
            recorded = inquiries.record_invalid(db.session(), received, invalid, exc.message)
        except RequestIdReused:
            return _reused(auth.request_id)
        payment_code = None
    else:
        try:
            asked = InquiryAsked(
                payment_code=message.payment_code,
                inquiry_date=message.inquiry_date,
                agent_id=message.agent_id,
                agent_store_id=message.agent_store_id,
                agent_trx_id=message.agent_trx_id,
            )
            recorded = inquiries.answer(
                db.session(), received, asked, rules=settings.rules, respond=_respond
            )
        except RequestIdReused:
            return _reused(auth.request_id)
        payment_code = message.payment_code
    verdict = "replayed" if recorded.replayed else recorded.verdict
    INQUIRIES.labels(verdict).inc()
    LATENCY.labels("inquiry").observe(elapsed_ms() / 1000)
    log.info(
        "doku inquiry answered",
        extra={
            "fields": {
                "doku_request_id": auth.request_id,
                "payment_code": mask_code(payment_code),
                "verdict": verdict,
                "http_status": recorded.http_status,
                "latency_ms": elapsed_ms(),
            }
        },
    )
    return signed(
        recorded.response_body.encode("ascii"),
        recorded.http_status,
        auth.request_id,
        settings.inquiry_target,
    )


def _reused(request_id: str) -> Response:
    log.warning("doku inquiry refused: Request-Id %r reused with another body", request_id)
    return error_response(
        409,
        "request_id_reused",
        "This Request-Id was already used with a different body.",
        request_id,
    )
