"""A client for DOKU's Check Status API (``GET /orders/v1/status/{invoice_number}``)."""

from __future__ import annotations

import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from portal.doku.messages import MessageError, check_status_target, parse_check_status
from portal.doku.signature import format_timestamp, parse_timestamp, signed_headers, verify
from portal.services.traffic.status_checks import StatusReport


class StatusLookupFailed(Exception):
    """DOKU could not be asked, or its answer cannot be trusted; nothing is applied."""


@dataclass(frozen=True, slots=True)
class DokuStatusClient:
    base_url: str  # https://api-sandbox.doku.com or https://api.doku.com
    client_id: str
    secret_key: str
    timeout: float = 10.0

    def status(self, invoice_number: str) -> StatusReport | None:
        """DOKU's status of the invoice, or None when DOKU does not know it (404)."""
        target = check_status_target(invoice_number)
        request_id = str(uuid.uuid4())
        headers = signed_headers(
            self.secret_key,
            client_id=self.client_id,
            request_id=request_id,
            timestamp=format_timestamp(datetime.now(UTC)),
            request_target=target,
            body=None,  # a GET: no Digest line
        )
        url = self.base_url.rstrip("/") + target  # http(s) only: checked in the configuration
        request = urllib.request.Request(url, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                body, answer_headers = response.read(), dict(response.headers)
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise StatusLookupFailed(f"DOKU answered HTTP {error.code}") from None
        except (urllib.error.URLError, OSError) as error:
            raise StatusLookupFailed(f"DOKU could not be reached: {error}") from None
        self._check_signature(answer_headers, request_id, target, body)
        try:
            answer = parse_check_status(body)
            paid_at = parse_timestamp(answer.transaction_date) if answer.transaction_date else None
        except (MessageError, ValueError) as error:
            raise StatusLookupFailed(f"unreadable answer: {error}") from None
        if answer.invoice_number != invoice_number:
            raise StatusLookupFailed(f"answer is about invoice {answer.invoice_number!r}")
        return StatusReport(
            status=answer.status,
            invoice_number=answer.invoice_number,
            amount=answer.amount,
            paid_at=paid_at,
            transaction_date=answer.transaction_date,
            original_request_id=answer.original_request_id,
            payment_code=answer.payment_code,
            identifiers=answer.identifiers,
        )

    def _check_signature(
        self, headers: dict[str, str], request_id: str, target: str, body: bytes
    ) -> None:
        """The answer must be signed by DOKU, or nothing it says is applied.

        DOKU documents the GET recipe (no Digest line) for this exchange and signs responses
        with ``Response-Timestamp``; an answer signed with its body's Digest is accepted too.
        """
        lowered = {k.lower(): v for k, v in headers.items()}
        signature = lowered.get("signature")
        if not signature:
            raise StatusLookupFailed("the answer is not signed")
        for signed_body in (None, body):
            if verify(
                (self.secret_key,),
                signature,
                client_id=lowered.get("client-id", ""),
                request_id=lowered.get("request-id", request_id),
                timestamp=lowered.get("response-timestamp") or lowered.get("request-timestamp", ""),
                request_target=target,
                body=signed_body,
                response=True,
            ):
                return
        raise StatusLookupFailed("the answer's signature does not verify")
