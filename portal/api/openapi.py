"""The OpenAPI 3 document of the two DOKU endpoints, built from the schemas the code uses.

Served at ``GET /doku/openapi.json``. Examples are DOKU's own, from the Alfa for Insurance
guide and the notification sample.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Response, jsonify

from portal.api import bp
from portal.doku.examples import DOKU_NOTIFICATION, GUIDE_INQUIRY_REQUEST, GUIDE_INQUIRY_RESPONSE
from portal.doku.messages import (
    AcknowledgementSchema,
    Amount,
    ErrorSchema,
    InquiryRequestSchema,
    InquiryResponseSchema,
    NotificationSchema,
    PaymentCode,
)

_SIGNED_HEADERS = [
    ("Client-Id", "Client ID from DOKU's Back Office", "MCH-0001-10791114622547"),
    (
        "Request-Id",
        "Unique per request, at most 128 characters",
        "5b8e438f-fac1-4103-9e0e-ebfdc38b5acb",
    ),
    ("Request-Timestamp", "UTC, ISO 8601, e.g. 2020-08-11T08:45:42Z", "2020-08-11T08:45:42Z"),
    (
        "Signature",
        "HMACSHA256=base64(HMAC-SHA256(secret key, component)); the component covers Client-Id, "
        "Request-Id, Request-Timestamp, the public Request-Target and the Digest of the raw body",
        "HMACSHA256=vl9DBTX5KhEiXmnpOD0TSm8PYQknuHPdyHSTSc3W6Ps=",
    ),
]


def _header_parameters() -> list[dict[str, Any]]:
    return [
        {
            "in": "header",
            "name": name,
            "required": True,
            "description": text,
            "schema": {"type": "string", "maxLength": 128},
            "example": example,
        }
        for name, text, example in _SIGNED_HEADERS
    ]


def _response_headers() -> dict[str, Any]:
    return {
        name: {"schema": {"type": "string"}, "description": text}
        for name, text in (
            ("Client-Id", "Our Client ID"),
            ("Request-Id", "Echo of the request's Request-Id"),
            ("Response-Timestamp", "UTC, ISO 8601"),
            ("Signature", "HMACSHA256 over the exact response bytes (Response-Timestamp line)"),
        )
    }


def _json(schema: str, example: Any = None, description: str = "") -> dict[str, Any]:
    content: dict[str, Any] = {"schema": {"$ref": f"#/components/schemas/{schema}"}}
    if example is not None:
        content["example"] = example
    return {
        "description": description,
        "content": {"application/json": content},
        "headers": _response_headers(),
    }


def _errors(*codes: int) -> dict[str, Any]:
    texts = {
        400: "Body invalid: the error names each field and problem",
        401: "Missing or wrong Client-Id, Signature or Request-Timestamp",
        409: "Request-Id already used with another body",
        413: "Body larger than the limit",
        429: "Too many badly signed requests from this address; nothing was kept",
        500: "Processing failed; the notification is kept, please retry",
        503: "Database unavailable; please retry",
    }
    return {str(code): _json("Error", description=texts[code]) for code in codes}


@cache
def openapi_document() -> dict[str, Any]:
    plugin = MarshmallowPlugin()
    spec = APISpec(
        title="Alfa Group O2O payments for insurance: merchant endpoints",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[plugin],
        info={
            "description": "The two URLs DOKU calls. Every request and response is signed with "
            "HMAC-SHA256 (DOKU non-SNAP signature) over the raw body bytes."
        },
    )
    plugin.map_to_openapi_type(PaymentCode, "string", None)
    plugin.map_to_openapi_type(Amount, "integer", None)
    for name, schema in (
        ("InquiryRequest", InquiryRequestSchema),
        ("InquiryResponse", InquiryResponseSchema),
        ("Notification", NotificationSchema),
        ("Acknowledgement", AcknowledgementSchema),
        ("Error", ErrorSchema),
    ):
        spec.components.schema(name, schema=schema)
    spec.path(
        path="/doku/inquiry",
        operations={
            "post": {
                "summary": "DOKU asks what a payment code owes",
                "operationId": "inquiry",
                "parameters": _header_parameters(),
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/InquiryRequest"},
                            "example": GUIDE_INQUIRY_REQUEST,
                        }
                    },
                },
                "responses": {
                    "200": _json("InquiryResponse", GUIDE_INQUIRY_RESPONSE, "success"),
                    "400": {
                        "description": "decline, billing_already_paid, billing_was_expired; "
                        "or an invalid body (Error)",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "oneOf": [
                                        {"$ref": "#/components/schemas/InquiryResponse"},
                                        {"$ref": "#/components/schemas/Error"},
                                    ]
                                }
                            }
                        },
                        "headers": _response_headers(),
                    },
                    "404": _json("InquiryResponse", description="billing_not_found"),
                    **_errors(401, 409, 413, 429, 503),
                },
            }
        },
    )
    spec.path(
        path="/doku/notification",
        operations={
            "post": {
                "summary": "DOKU reports a payment (SUCCESS or FAILED)",
                "operationId": "notification",
                "parameters": _header_parameters(),
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/Notification"},
                            "example": DOKU_NOTIFICATION,
                        }
                    },
                },
                "responses": {
                    "200": _json(
                        "Acknowledgement",
                        {"status": "applied", "message": "payment applied"},
                        "Acknowledged: applied, duplicate, or kept as an exception",
                    ),
                    "404": _json("Acknowledgement", description="Unknown payment code (kept)"),
                    **_errors(400, 401, 413, 429, 500, 503),
                },
            }
        },
    )
    return spec.to_dict()


@bp.get("/openapi.json")
def openapi_json() -> Response:
    return jsonify(openapi_document())
