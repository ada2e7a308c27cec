"""Inquiry messages: the request DOKU sends, the statuses we answer, the bytes we send back."""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeAlias

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate

from portal.doku.limits import (
    AMOUNT_MAX,
    AMOUNT_MAX_DIGITS,
    CUSTOMER_EMAIL_MAX,
    CUSTOMER_NAME_MAX,
    FOOTER_MESSAGE_MAX,
    IDENTIFIER_VALUE_MAX,
    INFO_MAX,
    INVOICE_NUMBER_MAX,
    PAYMENT_CODE_MAX,
    REQUEST_ID_MAX,
    STATUS_MAX,
)
from portal.doku.signature import parse_timestamp

SERVICE_ID = "ONLINE_TO_OFFLINE"
ACQUIRER_ID = "ALFA"
CHANNEL_ID = "ONLINE_TO_OFFLINE_ALFA"


# Acquirer identifiers DOKU passes on from the till, kept for reference.
AGENT_IDENTIFIERS = ("AGENT_ID", "AGENT_STORE_ID", "AGENT_TRX_ID")


class InquiryStatus(StrEnum):
    SUCCESS = "success"
    DECLINE = "decline"
    BILLING_ALREADY_PAID = "billing_already_paid"
    BILLING_WAS_EXPIRED = "billing_was_expired"
    BILLING_NOT_FOUND = "billing_not_found"

    @property
    def http_status(self) -> int:
        return _HTTP_STATUS[self]


_HTTP_STATUS = {
    InquiryStatus.SUCCESS: 200,
    InquiryStatus.DECLINE: 400,
    InquiryStatus.BILLING_ALREADY_PAID: 400,
    InquiryStatus.BILLING_WAS_EXPIRED: 400,
    InquiryStatus.BILLING_NOT_FOUND: 404,
}


_CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f]")


def has_control_characters(value: str) -> bool:
    """NUL and other control characters: PostgreSQL refuses NUL in text, tills print neither."""
    return _CONTROL_CHARACTERS.search(value) is not None


# marshmallow's type for a field's error messages, which a field class extends.
ErrorMessages: TypeAlias = dict[str, str | list[Any] | dict[Any, Any]]

NO_CONTROL_CHARACTERS = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"  # for the OpenAPI document


class Text(fields.String):
    """A string without control characters."""

    default_error_messages: ErrorMessages = {  # noqa: RUF012 (marshmallow merges it per class)
        "control": "Must not contain control characters."
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {}).setdefault("pattern", NO_CONTROL_CHARACTERS)
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if has_control_characters(text):
            raise self.make_error("control")
        return text


class PaymentCode(fields.Field[str]):
    """1 to PAYMENT_CODE_MAX digits. DOKU's guide types it "number" but sends a string: accept both.

    A JSON number is accepted only as a non-negative integer; its decimal digits are the code.
    """

    default_error_messages: ErrorMessages = {  # noqa: RUF012 (marshmallow merges it per class)
        "invalid": f"Must be a string of 1 to {PAYMENT_CODE_MAX} digits.",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        if isinstance(value, int) and value >= 0:
            value = str(value)
        if not isinstance(value, str) or not is_payment_code(value):
            raise self.make_error("invalid")
        return value


def is_payment_code(value: str) -> bool:
    return 1 <= len(value) <= PAYMENT_CODE_MAX and value.isascii() and value.isdigit()


class Timestamp(Text):
    """An ISO 8601 timestamp with its offset, kept as the string received."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = kwargs.setdefault("metadata", {})
        metadata.setdefault("format", "date-time")
        metadata.setdefault("example", "2020-08-11T08:45:42Z")
        super().__init__(**kwargs)

    default_error_messages: ErrorMessages = {  # noqa: RUF012 (marshmallow merges it per class)
        "timestamp": "Must be an ISO 8601 timestamp with a UTC offset."
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            parse_timestamp(text)
        except ValueError as exc:
            raise self.make_error("timestamp") from exc
        return text


class _Lenient(Schema):
    # DOKU may add fields at any time: unknown ones are ignored, never an error.
    class Meta:
        unknown = EXCLUDE


def _fixed_id(expected: str) -> type[Schema]:
    class _Id(_Lenient):
        id = Text(required=True, validate=validate.Equal(expected))

    _Id.__name__ = f"Id{expected.title().replace('_', '')}"
    return _Id


ServiceSchema = _fixed_id(SERVICE_ID)
AcquirerSchema = _fixed_id(ACQUIRER_ID)
ChannelSchema = _fixed_id(CHANNEL_ID)


class IdentifierSchema(_Lenient):
    name = Text(required=True, validate=validate.Length(min=1, max=64))
    value = Text(required=True, validate=validate.Length(max=IDENTIFIER_VALUE_MAX))


PAYMENT_CODE_PATTERN = rf"^[0-9]{{1,{PAYMENT_CODE_MAX}}}$"


class OnlineToOfflineInfoSchema(_Lenient):
    payment_code = PaymentCode(
        required=True, metadata={"pattern": PAYMENT_CODE_PATTERN, "example": "8896512345678123"}
    )


class OnlineToOfflineInquirySchema(_Lenient):
    date = Timestamp(required=True)
    identifier = fields.List(
        fields.Nested(IdentifierSchema), load_default=list, validate=validate.Length(max=32)
    )


class _FromTheTill:
    """The acquirer's identifiers of a transaction, passed on by DOKU."""

    __slots__ = ()
    identifiers: dict[str, str]

    @property
    def agent_id(self) -> str | None:
        return self.identifiers.get("AGENT_ID")

    @property
    def agent_store_id(self) -> str | None:
        return self.identifiers.get("AGENT_STORE_ID")

    @property
    def agent_trx_id(self) -> str | None:
        return self.identifiers.get("AGENT_TRX_ID")


def _agent_identifiers(items: list[dict[str, str]]) -> dict[str, str]:
    return {item["name"]: item["value"] for item in items if item["name"] in AGENT_IDENTIFIERS}


@dataclass(frozen=True, slots=True)
class InquiryRequest(_FromTheTill):
    payment_code: str
    inquiry_date: str
    identifiers: dict[str, str] = field(default_factory=dict)


class _AlfaMessage(_Lenient):
    """What every Alfa O2O message from DOKU carries."""

    service = fields.Nested(ServiceSchema, required=True)
    acquirer = fields.Nested(AcquirerSchema, required=True)
    channel = fields.Nested(ChannelSchema, required=True)
    online_to_offline_info = fields.Nested(OnlineToOfflineInfoSchema, required=True)


class InquiryRequestSchema(_AlfaMessage):
    online_to_offline_inquiry = fields.Nested(OnlineToOfflineInquirySchema, required=True)

    @post_load
    def _to_request(self, data: dict[str, Any], **_: Any) -> InquiryRequest:
        inquiry = data["online_to_offline_inquiry"]
        identifiers = _agent_identifiers(inquiry["identifier"])
        return InquiryRequest(
            payment_code=data["online_to_offline_info"]["payment_code"],
            inquiry_date=inquiry["date"],
            identifiers=identifiers,
        )


_INQUIRY_REQUEST_SCHEMA = InquiryRequestSchema()


class MessageError(ValueError):
    """A request body that is not what the protocol allows; ``details`` names the fields."""

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


def decode_json_object(body: bytes) -> dict[str, Any]:
    """Parse a body as one JSON object, with errors a client can act on.

    Numbers with a fraction or an exponent become ``Decimal``, never a binary float: a float
    would turn ``149999.99999999999`` into ``150000.0`` and a wrong amount into a payment.
    """
    try:
        data = json.loads(
            body.decode("utf-8"), parse_float=Decimal, parse_constant=_reject_constant
        )
    except UnicodeDecodeError as exc:
        raise MessageError("Body is not UTF-8.") from exc
    except RecursionError as exc:
        raise MessageError("Body is nested too deeply.") from exc
    except ValueError as exc:
        raise MessageError(f"Body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise MessageError("Body must be a JSON object.")
    return data


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed in JSON")


def _load(schema: Schema, body: bytes, mismatch: str) -> Any:
    """Decode ``body`` as a JSON object and load it with ``schema``; ``MessageError`` else."""
    data = decode_json_object(body)
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise MessageError(mismatch, _as_dict(exc)) from exc


def parse_inquiry_request(body: bytes) -> InquiryRequest:
    """Decode and validate an inquiry request body. Raises ``MessageError``."""
    result: InquiryRequest = _load(
        _INQUIRY_REQUEST_SCHEMA, body, "Body does not match the inquiry request."
    )
    return result


def _as_dict(exc: ValidationError) -> dict[str, Any]:
    messages = exc.messages
    return messages if isinstance(messages, dict) else {"_schema": messages}


@dataclass(frozen=True, slots=True)
class InsuranceInfo:
    policy_type: str
    policy_number: str
    policy_account_name: str
    policy_status: str
    bill_due_date: str


@dataclass(frozen=True, slots=True)
class InquiryAnswer:
    """What we know about a payment code, ready to be sent to DOKU."""

    status: InquiryStatus
    payment_code: str
    invoice_number: str | None = None
    amount: int | None = None
    info: str | None = None
    customer_name: str | None = None
    customer_email: str | None = None
    footer_message: str | None = None
    insurance_info: InsuranceInfo | None = None


def inquiry_response_body(answer: InquiryAnswer) -> bytes:
    """The response body, serialised once, in the guide's field order, without whitespace."""
    body: dict[str, Any] = {}
    if answer.invoice_number is not None and answer.amount is not None:
        body["order"] = {"invoice_number": answer.invoice_number, "amount": answer.amount}
    o2o_info: dict[str, Any] = {"payment_code": answer.payment_code}
    if answer.info:
        o2o_info["info"] = answer.info
    body["online_to_offline_info"] = o2o_info
    body["online_to_offline_inquiry"] = {"status": answer.status.value}
    if answer.customer_name is not None:
        customer = {"name": answer.customer_name}
        if answer.customer_email:
            customer["email"] = answer.customer_email
        body["customer"] = customer
    if answer.footer_message:
        body["alfa_info"] = {"receipt": {"footer_message": answer.footer_message}}
    if answer.insurance_info is not None:
        info = answer.insurance_info
        body["additional_info"] = {
            "insurance_info": {
                "policy_type": info.policy_type,
                "policy_number": info.policy_number,
                "policy_account_name": info.policy_account_name,
                "policy_status": info.policy_status,
                "bill_due_date": info.bill_due_date,
            }
        }
    return encode(body)


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> bytes:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return encode({"error": error})


def encode(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=True).encode("ascii")


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")  # fmt: skip


def format_due_date(day: date) -> str:
    """The guide's ``bill_due_date`` form, ``21 May 2021``, whatever the server's locale."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def inquiry_request_body(
    payment_code: str, inquiry_date: str, identifiers: dict[str, str]
) -> bytes:
    """An inquiry as DOKU sends it (the guide's field order), for the simulator and tests."""
    return encode(
        {
            "service": {"id": SERVICE_ID},
            "acquirer": {"id": ACQUIRER_ID},
            "channel": {"id": CHANNEL_ID},
            "online_to_offline_info": {"payment_code": payment_code},
            "online_to_offline_inquiry": {
                "date": inquiry_date,
                "identifier": [{"name": k, "value": v} for k, v in identifiers.items()],
            },
        }
    )


# HTTP Notification (DOKU -> us): parsed leniently, as DOKU asks.


class Amount(fields.Field[int]):
    """Whole rupiah: a JSON integer, an integral number (150000.0) or a string of digits.

    DOKU's guide types the amount "without decimal". A number with a fraction, however small
    (149999.99999999999), is refused, never rounded into a payment; the decoder hands it over
    as an exact ``Decimal``.
    """

    default_error_messages: ErrorMessages = {  # noqa: RUF012 (marshmallow merges it per class)
        "invalid": (
            f"Must be a whole, positive number of rupiah with at most {AMOUNT_MAX_DIGITS} digits."
        ),
        "fraction": "Must be whole rupiah without decimals; {value} has a fraction.",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        if isinstance(value, float):  # not from our decoder; exact for what it holds
            value = Decimal(value)
        if isinstance(value, Decimal):
            if not value.is_finite() or not 0 < value <= AMOUNT_MAX:
                raise self.make_error("invalid")
            if value != value.to_integral_value():
                raise self.make_error("fraction", value=str(value))
            value = int(value)
        elif isinstance(value, str) and value.isascii() and value.isdigit():
            value = int(value)
        if not isinstance(value, int) or not 0 < value <= AMOUNT_MAX:
            raise self.make_error("invalid")
        return value


class TransactionSchema(_Lenient):
    status = Text(required=True, validate=validate.Length(min=1, max=STATUS_MAX))
    date = Timestamp(required=True)
    original_request_id = Text(load_default=None, validate=validate.Length(max=REQUEST_ID_MAX))


class OrderSchema(_Lenient):
    invoice_number = Text(required=True, validate=validate.Length(min=1, max=INVOICE_NUMBER_MAX))
    amount = Amount(
        required=True,
        metadata={"minimum": 1, "maximum": AMOUNT_MAX, "example": 150000},
    )


class OnlineToOfflinePaymentSchema(_Lenient):
    identifier = fields.List(
        fields.Nested(IdentifierSchema), load_default=None, validate=validate.Length(max=32)
    )
    # Some copies of DOKU's sample spell it this way.
    identifer = fields.List(
        fields.Nested(IdentifierSchema), load_default=None, validate=validate.Length(max=32)
    )


@dataclass(frozen=True, slots=True)
class Notification(_FromTheTill):
    transaction_status: str
    transaction_date: str
    original_request_id: str | None
    invoice_number: str
    amount: int
    payment_code: str
    identifiers: dict[str, str] = field(default_factory=dict)


def _payment_identifiers(payment: dict[str, Any]) -> dict[str, str]:
    """The till's identifiers of a payment, under either spelling DOKU uses."""
    return _agent_identifiers(payment.get("identifier") or payment.get("identifer") or [])


class NotificationSchema(_AlfaMessage):
    transaction = fields.Nested(TransactionSchema, required=True)
    order = fields.Nested(OrderSchema, required=True)
    online_to_offline_payment = fields.Nested(OnlineToOfflinePaymentSchema, load_default=None)

    @post_load
    def _to_notification(self, data: dict[str, Any], **_: Any) -> Notification:
        payment = data.get("online_to_offline_payment") or {}
        return Notification(
            transaction_status=data["transaction"]["status"],
            transaction_date=data["transaction"]["date"],
            original_request_id=data["transaction"]["original_request_id"],
            invoice_number=data["order"]["invoice_number"],
            amount=data["order"]["amount"],
            payment_code=data["online_to_offline_info"]["payment_code"],
            identifiers=_payment_identifiers(payment),
        )


_NOTIFICATION_SCHEMA = NotificationSchema()


def parse_notification(body: bytes) -> Notification:
    """Decode a notification; unknown fields are ignored here and kept in the stored body."""
    result: Notification = _load(
        _NOTIFICATION_SCHEMA, body, "Body does not match the notification."
    )
    return result


def notification_body(
    *,
    payment_code: str,
    invoice_number: str,
    amount: int,
    status: str,
    transaction_date: str,
    original_request_id: str | None,
    identifiers: dict[str, str],
) -> bytes:
    """A notification as DOKU sends it, for the simulator and tests."""
    transaction: dict[str, Any] = {"status": status, "date": transaction_date}
    if original_request_id:
        transaction["original_request_id"] = original_request_id
    return encode(
        {
            "service": {"id": SERVICE_ID},
            "acquirer": {"id": ACQUIRER_ID},
            "channel": {"id": CHANNEL_ID},
            "transaction": transaction,
            "order": {"invoice_number": invoice_number, "amount": amount},
            "online_to_offline_info": {"payment_code": payment_code},
            "online_to_offline_payment": {
                "identifier": [{"name": k, "value": v} for k, v in identifiers.items()]
            },
            "additional_info": {},
        }
    )


# Check Status (us -> DOKU): GET /orders/v1/status/{invoice_number}, signed without a Digest.


def check_status_target(invoice_number: str) -> str:
    """The Request-Target (and path) of DOKU's Check Status API for an invoice."""
    return "/orders/v1/status/" + urllib.parse.quote(invoice_number, safe="")


class _StatusOrder(_Lenient):
    invoice_number = Text(required=True, validate=validate.Length(min=1, max=INVOICE_NUMBER_MAX))
    amount = Amount(load_default=None)


class _StatusTransaction(_Lenient):
    status = Text(required=True, validate=validate.Length(min=1, max=STATUS_MAX))
    date = Timestamp(load_default=None)
    original_request_id = Text(load_default=None, validate=validate.Length(max=REQUEST_ID_MAX))


class _StatusInfo(_Lenient):
    payment_code = PaymentCode(load_default=None)


@dataclass(frozen=True, slots=True)
class CheckStatus(_FromTheTill):
    status: str  # PENDING, SUCCESS, FAILED, EXPIRED, ...
    invoice_number: str
    amount: int | None
    transaction_date: str | None
    original_request_id: str | None
    payment_code: str | None
    identifiers: dict[str, str] = field(default_factory=dict)


class CheckStatusSchema(_Lenient):
    order = fields.Nested(_StatusOrder, required=True)
    transaction = fields.Nested(_StatusTransaction, required=True)
    online_to_offline_info = fields.Nested(_StatusInfo, load_default=None)
    online_to_offline_payment = fields.Nested(OnlineToOfflinePaymentSchema, load_default=None)

    @post_load
    def _to_status(self, data: dict[str, Any], **_: Any) -> CheckStatus:
        payment = data.get("online_to_offline_payment") or {}
        info = data.get("online_to_offline_info") or {}
        return CheckStatus(
            status=data["transaction"]["status"],
            invoice_number=data["order"]["invoice_number"],
            amount=data["order"]["amount"],
            transaction_date=data["transaction"]["date"],
            original_request_id=data["transaction"]["original_request_id"],
            payment_code=info.get("payment_code"),
            identifiers=_payment_identifiers(payment),
        )


_CHECK_STATUS_SCHEMA = CheckStatusSchema()


def parse_check_status(body: bytes) -> CheckStatus:
    result: CheckStatus = _load(
        _CHECK_STATUS_SCHEMA, body, "DOKU's status answer is not what we expect."
    )
    return result


def acknowledgement_body(outcome: str, message: str) -> bytes:
    """Our answer to a notification: any 2xx acknowledges; the body is for people reading logs."""
    return encode({"status": outcome, "message": message})


# What we send back, described for the OpenAPI document (GET /doku/openapi.json) and checked
# against what the endpoints really send. Strict: a field not described here is an error.


class OrderOut(Schema):
    invoice_number = fields.String(
        required=True, validate=validate.Length(min=1, max=INVOICE_NUMBER_MAX)
    )
    amount = fields.Integer(required=True, validate=validate.Range(min=1, max=AMOUNT_MAX))


class OnlineToOfflineInfoOut(Schema):
    payment_code = fields.String(required=True, validate=validate.Regexp(PAYMENT_CODE_PATTERN))
    info = fields.String(validate=validate.Length(max=INFO_MAX))


class InquiryStatusOut(Schema):
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in InquiryStatus]))


class CustomerOut(Schema):
    name = fields.String(required=True, validate=validate.Length(max=CUSTOMER_NAME_MAX))
    email = fields.String(validate=validate.Length(max=CUSTOMER_EMAIL_MAX))


class ReceiptOut(Schema):
    footer_message = fields.String(validate=validate.Length(max=FOOTER_MESSAGE_MAX))


class AlfaInfoOut(Schema):
    receipt = fields.Nested(ReceiptOut, required=True)


class InsuranceInfoOut(Schema):
    policy_type = fields.String(required=True)
    policy_number = fields.String(required=True)
    policy_account_name = fields.String(required=True)
    policy_status = fields.String(required=True)
    bill_due_date = fields.String(required=True, metadata={"example": "21 May 2021"})


class AdditionalInfoOut(Schema):
    insurance_info = fields.Nested(InsuranceInfoOut, required=True)


class InquiryResponseSchema(Schema):
    order = fields.Nested(OrderOut)
    online_to_offline_info = fields.Nested(OnlineToOfflineInfoOut, required=True)
    online_to_offline_inquiry = fields.Nested(InquiryStatusOut, required=True)
    customer = fields.Nested(CustomerOut)
    alfa_info = fields.Nested(AlfaInfoOut)
    additional_info = fields.Nested(AdditionalInfoOut)


class AcknowledgementSchema(Schema):
    status = fields.String(
        required=True, validate=validate.OneOf(["applied", "duplicate", "exception"])
    )
    message = fields.String(required=True)


class ErrorDetailOut(Schema):
    code = fields.String(required=True, metadata={"example": "invalid_request"})
    message = fields.String(required=True)
    details = fields.Dict(metadata={"description": "Field name to list of problems"})


class ErrorSchema(Schema):
    error = fields.Nested(ErrorDetailOut, required=True)
