"""A local stand-in for DOKU's Check Status API that checks our signature as DOKU does."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from portal.doku.signature import format_timestamp, signed_headers, verify

STATUS_PREFIX = "/orders/v1/status/"


@dataclass
class FakeDoku:
    client_id: str
    secret_key: str
    # invoice number -> the JSON body DOKU answers (404 when absent)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)
    refused: int = 0
    url: str = ""
    # How DOKU signs its answer: "no_digest" (DOKU's GET-style recipe), "digest" (with the
    # answer body's Digest line), "none" (unsigned) or "wrong" (another key).
    answer_signing: str = "no_digest"


def _handler(fake: FakeDoku) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if fake.answer_signing != "none":
                key = fake.secret_key if fake.answer_signing != "wrong" else "SK-not-doku"
                signed = signed_headers(
                    key,
                    client_id=fake.client_id,
                    request_id=self.headers.get("Request-Id", ""),
                    timestamp=format_timestamp(datetime.now(UTC)),
                    request_target=self.path,
                    body=data if fake.answer_signing == "digest" else None,
                    response=True,
                )
                for name, value in signed.items():
                    self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            # DOKU's recipe for a GET: the component has no Digest line; the target is the path.
            signature = self.headers.get("Signature", "")
            valid = self.headers.get("Client-Id") == fake.client_id and verify(
                (fake.secret_key,),
                signature,
                client_id=self.headers.get("Client-Id", ""),
                request_id=self.headers.get("Request-Id", ""),
                timestamp=self.headers.get("Request-Timestamp", ""),
                request_target=self.path,
                body=None,
            )
            if not valid:
                fake.refused += 1
                self._answer(401, {"error": {"message": "Invalid Header Signature"}})
                return
            if not self.path.startswith(STATUS_PREFIX):
                self._answer(404, {"error": {"message": "not found"}})
                return
            invoice = unquote(self.path[len(STATUS_PREFIX) :])
            fake.asked.append(invoice)
            if invoice not in fake.answers:
                self._answer(404, {"error": {"message": "Order not found"}})
                return
            self._answer(200, fake.answers[invoice])

    return Handler


@contextmanager
def fake_doku(client_id: str, secret_key: str) -> Iterator[FakeDoku]:
    fake = FakeDoku(client_id=client_id, secret_key=secret_key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def status_answer(
    invoice: str, status: str, amount: int, date: str, **extra: Any
) -> dict[str, Any]:
    """A Check Status answer shaped like DOKU's (order, transaction, service/acquirer/channel)."""
    return {
        "order": {"invoice_number": invoice, "amount": amount},
        "transaction": {
            "status": status,
            "date": date,
            "original_request_id": extra.get("original_request_id", "orig-1"),
        },
        "service": {"id": "ONLINE_TO_OFFLINE"},
        "acquirer": {"id": "ALFA"},
        "channel": {"id": "ONLINE_TO_OFFLINE_ALFA"},
        **({"online_to_offline_payment": extra["payment"]} if "payment" in extra else {}),
    }
