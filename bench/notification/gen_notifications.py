"""Pre-sign payment notifications as DOKU sends them, duplicates included, for wrk to replay.

Each request is a complete raw HTTP/1.1 ``POST DOKU_NOTIFICATION_TARGET`` whose body comes from
``portal.doku.messages.notification_body`` for an unpaid bill of the database (status SUCCESS,
the bill's invoice number, amount and live payment code, ``transaction.date``, an
``original_request_id`` and AGENT_ID / AGENT_STORE_ID / AGENT_TRX_ID), signed with
``portal.doku.signature.signed_headers`` over those exact bytes, Request-Target =
``DOKU_NOTIFICATION_TARGET``. Three kinds, shuffled within each wrk thread's slice:

- *first*: the first delivery of a payment for a bill not paid yet (one bill per first delivery,
  no bill twice in a file);
- *redelivery*: DOKU's retry of a payment already sent earlier in the same slice: the same body,
  a NEW Request-Id and a later Request-Timestamp (first deliveries are stamped 30 minutes ago,
  like the first attempt before DOKU's 30-minute retry; the app has no freshness window for
  notifications);
- *repeat*: an exact copy (same Request-Id, same body, same signature) of an earlier request of
  the same slice.

A duplicate always comes after its original in the same slice, so whatever prefix of a slice
wrk gets through, every duplicate it sends refers to a payment it already sent. Each slice starts
with a first delivery; the shares hold for any prefix on average (the kinds are shuffled).

File layout: the one bench/inquiry/gen_requests.py writes (replayed by bench/inquiry/replay.lua).

Usage: python bench/notification/gen_notifications.py COUNT OUTFILE HOST:PORT SLICES \
           [REDELIVERY_SHARE [REPEAT_SHARE]]          (defaults 0.2 and 0.1)
"""

from __future__ import annotations

import json
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "inquiry"))
from common import app_config, conninfo
from gen_requests import raw_request, write_requests

from portal.doku.messages import notification_body
from portal.doku.signature import format_timestamp, signed_headers

# Unpaid bills with their live code: what a till can be paid for.
UNPAID_BILLS = """
SELECT b.invoice_number, b.amount, c.code
FROM bills b JOIN payment_codes c ON c.bill_id = b.id
WHERE b.state = 'unpaid' AND c.retired_at IS NULL AND c.expires_at > now()
  AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.bill_id = b.id)
"""


def kinds_for(n: int, redelivery: float, repeat: float, rng: random.Random) -> list[str]:
    """n kinds in the given shares, shuffled, the first one a first delivery."""
    n_redelivery, n_repeat = round(n * redelivery), round(n * repeat)
    kinds = ["first"] * (n - n_redelivery - n_repeat)
    kinds += ["redelivery"] * n_redelivery + ["repeat"] * n_repeat
    rng.shuffle(kinds)
    if kinds and kinds[0] != "first":
        i = kinds.index("first")
        kinds[0], kinds[i] = kinds[i], kinds[0]
    return kinds


def main() -> None:
    count, outfile, host, slices = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
    redelivery = float(sys.argv[5]) if len(sys.argv) > 5 else 0.2
    repeat = float(sys.argv[6]) if len(sys.argv) > 6 else 0.1
    t0 = time.monotonic()
    cfg = app_config()
    client_id, secret = cfg["DOKU_CLIENT_ID"], cfg["DOKU_SECRET_KEY"]
    target = cfg["DOKU_NOTIFICATION_TARGET"]
    rng = random.Random()
    per_slice = [count // slices + (k < count % slices) for k in range(slices)]
    plans = [kinds_for(n, redelivery, repeat, rng) for n in per_slice]
    firsts = sum(p.count("first") for p in plans)
    with psycopg.connect(conninfo()) as conn:
        bills = conn.execute(UNPAID_BILLS).fetchall()
    if len(bills) < firsts:
        sys.exit(f"{firsts} first deliveries need as many unpaid bills; {len(bills)} left")
    chosen = iter(rng.sample(bills, firsts))

    now = datetime.now(UTC)
    paid = format_timestamp(now - timedelta(minutes=31))  # transaction.date, at the till
    first_sent = format_timestamp(now - timedelta(minutes=30))  # DOKU's first attempt
    retried = format_timestamp(now)  # DOKU's retry

    def signed(body: bytes, timestamp: str) -> bytes:
        headers = signed_headers(
            secret,
            client_id=client_id,
            request_id=str(uuid.uuid4()),
            timestamp=timestamp,
            request_target=target,
            body=body,
        )
        return raw_request(target, host, headers, body)

    parts: list[list[bytes]] = []
    trx = 0
    for plan in plans:
        sent: list[bytes] = []  # raw requests of this slice so far
        bodies: list[bytes] = []  # bodies of this slice's first deliveries so far
        for kind in plan:
            if kind == "first":
                invoice, amount, code = next(chosen)
                trx += 1
                body = notification_body(
                    payment_code=code,
                    invoice_number=invoice,
                    amount=amount,
                    status="SUCCESS",
                    transaction_date=paid,
                    original_request_id=str(uuid.uuid4()),  # the inquiry's Request-Id
                    identifiers={
                        "AGENT_ID": "ALFAMART",
                        "AGENT_STORE_ID": f"TZ{trx % 997:03d}",
                        "AGENT_TRX_ID": str(trx),
                    },
                )
                bodies.append(body)
                raw = signed(body, first_sent)
            elif kind == "redelivery":
                raw = signed(rng.choice(bodies), retried)
            else:
                raw = rng.choice(sent)
            sent.append(raw)
        parts.append(sent)
    write_requests(outfile, parts)
    summary = {
        "requests": count,
        "first": firsts,
        "redelivery": sum(p.count("redelivery") for p in plans),
        "repeat": sum(p.count("repeat") for p in plans),
        "unpaid_bills_before": len(bills),
        "seconds": round(time.monotonic() - t0, 1),
    }
    print(f"wrote {outfile}: {json.dumps(summary)}")


if __name__ == "__main__":
    main()
