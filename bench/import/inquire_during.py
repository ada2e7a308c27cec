"""Ask DOKU's inquiry, in process, over and over until STOP_FILE appears; then print how the
answers went as JSON: bench/import/inquire_during.py STOP_FILE OUT_JSON.

Run beside an import to see that the till keeps getting answers while the import's chunks
take turns with it for SQLite's write lock (each inquiry records itself, so it writes too).
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from datetime import UTC, datetime

from sqlalchemy import select

from portal import create_app
from portal.doku.messages import inquiry_request_body
from portal.doku.signature import format_timestamp, signed_headers
from portal.extensions import db
from portal.models import PaymentCode


def main(stop_file: str, out: str) -> None:
    app = create_app()
    with app.app_context():
        code = db.session.scalar(select(PaymentCode.code).limit(1))
        db.session.rollback()
    if code is None:
        sys.exit("no payment code: import some bills first")
    config = app.config
    client = app.test_client()
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    n = 0
    while not os.path.exists(stop_file):
        n += 1
        timestamp = format_timestamp(datetime.now(UTC))
        body = inquiry_request_body(code, timestamp, {"AGENT_ID": "ALFAMART",
                                    "AGENT_STORE_ID": "TZ01", "AGENT_TRX_ID": str(n)})  # fmt: skip
        headers = signed_headers(
            config["DOKU_SECRET_KEY"], client_id=config["DOKU_CLIENT_ID"],
            request_id=str(uuid.uuid4()), timestamp=timestamp,
            request_target=config["DOKU_INQUIRY_TARGET"], body=body,
        )  # fmt: skip
        started = time.perf_counter()
        response = client.post("/doku/inquiry", data=body, headers=headers,
                               content_type="application/json")  # fmt: skip
        latencies.append(time.perf_counter() - started)
        statuses[str(response.status_code)] = statuses.get(str(response.status_code), 0) + 1
        time.sleep(0.05)
    latencies.sort()

    def at(share: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(share * len(latencies)))] * 1000, 1)

    result = {"inquiries": len(latencies), "statuses": statuses, "p50_ms": at(0.5),
              "p99_ms": at(0.99), "max_ms": round(latencies[-1] * 1000, 1)}  # fmt: skip
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(result, handle)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
