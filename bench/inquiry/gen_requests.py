"""Pre-generate signed inquiry requests for wrk to replay (bench/inquiry/replay.lua).

Each request is a complete raw HTTP/1.1 POST with Client-Id, Request-Id (a fresh UUID: unique),
Request-Timestamp (now) and Signature headers. The body comes from
``portal.doku.messages.inquiry_request_body`` for a random live payment code in the database, and
the signature from
``portal.doku.signature.signed_headers`` over those exact bytes with the configured inquiry
Request-Target. The timestamp is taken once, now: run wrk within DOKU_TIMESTAMP_TOLERANCE_SECONDS.

File layout (so that wrk's threads start at once instead of parsing text in Lua; ``raw_request``
and ``write_requests`` are shared with bench/notification/gen_notifications.py):
``BENCHREQ <slices> <offset_0> <length_0> ... \n`` then the slices, one per wrk thread, disjoint;
each slice is a run of records ``<8-digit length><raw request>``.

Usage: python bench/inquiry/gen_requests.py COUNT OUTFILE HOST:PORT SLICES
"""

from __future__ import annotations

import random
import sys
import time
import uuid
from datetime import UTC, datetime

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from common import app_config, connect, now_sql

from portal.doku.messages import inquiry_request_body
from portal.doku.signature import format_timestamp, signed_headers


def raw_request(target: str, host: str, headers: dict[str, str], body: bytes) -> bytes:
    """One raw HTTP/1.1 POST of a JSON body to ``target`` with the given (signed) headers."""
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return (
        f"POST {target} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"{head}Content-Length: {len(body)}\r\n\r\n"
    ).encode("ascii") + body


def write_requests(outfile: str, parts: list[list[bytes]]) -> None:
    """Write raw requests in the layout replay.lua reads: one slice per wrk thread, in order."""
    blobs = [b"".join(b"%08d" % len(raw) + raw for raw in part) for part in parts]
    # The header's own length depends on the offsets: pad it to a fixed width.
    header_len = 16 + 32 * len(parts)
    offsets, pos = [], header_len
    for blob in blobs:
        offsets.append((pos, len(blob)))
        pos += len(blob)
    header = f"BENCHREQ {len(parts)} " + " ".join(f"{o} {n}" for o, n in offsets)
    header = header.ljust(header_len - 1).encode("ascii") + b"\n"
    assert len(header) == header_len
    with open(outfile, "wb") as out:
        out.write(header)
        out.writelines(blobs)


def main() -> None:
    count, outfile, host, slices = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
    t0 = time.monotonic()
    cfg = app_config()
    client_id, secret = cfg["DOKU_CLIENT_ID"], cfg["DOKU_SECRET_KEY"]
    target = cfg["DOKU_INQUIRY_TARGET"]
    with connect() as conn:
        codes = [
            row[0]
            for row in conn.execute(
                "SELECT code FROM payment_codes WHERE retired_at IS NULL"
                f" AND expires_at > {now_sql()}"
            )
        ]
    if not codes:
        sys.exit("no live payment codes: seed the database first")
    rng = random.Random()
    timestamp = format_timestamp(datetime.now(UTC))
    parts: list[list[bytes]] = [[] for _ in range(slices)]
    for n in range(count):
        body = inquiry_request_body(
            rng.choice(codes),
            timestamp,
            {"AGENT_ID": "ALFAMART", "AGENT_STORE_ID": f"TZ{n % 997:03d}", "AGENT_TRX_ID": str(n)},
        )
        headers = signed_headers(
            secret,
            client_id=client_id,
            request_id=str(uuid.uuid4()),
            timestamp=timestamp,
            request_target=target,
            body=body,
        )
        parts[n % slices].append(raw_request(target, host, headers, body))
    write_requests(outfile, parts)
    print(
        f"wrote {count} signed requests in {slices} slices over {len(codes)} live codes to "
        f"{outfile} (timestamp {timestamp}) in {time.monotonic() - t0:.1f} s"
    )


if __name__ == "__main__":
    main()
