"""Mixed DOKU traffic at fixed rates for a while, then check the database.

Inquiries at ``--inquiry-rate``/s and notifications at ``--notification-rate``/s, open loop: each
request has its scheduled moment and its latency is measured from that moment (a server that
falls behind shows it in the latency, not in a lower rate). A share ``--duplicates`` of each kind
are duplicates: an exact repeat of an earlier inquiry (same Request-Id and body: the first
answer comes back), and for notifications alternately an exact repeat and DOKU's re-delivery
(same payment, new Request-Id). Every request is freshly signed.

Per interval: requests, errors, p50/p99 per kind, and the RSS of each gunicorn worker (from
/proc). At the end: every notification's bill was paid exactly once, every delivery is stored
with an outcome, every inquiry recorded once. Figures in ``OUT/summary.json`` and
``OUT/intervals.csv``; exit status 2 when a correctness check failed.

Usage: DATABASE_URL=... python bench/soak/soak.py --url http://127.0.0.1:18082 \
           --server-pid PID --out DIR [--duration 600] [--inquiry-rate 200] ...
"""

from __future__ import annotations

import argparse
import csv
import gc
import http.client
import json
import queue
import random
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "inquiry"))
from common import app_config, conninfo

from portal.doku.messages import inquiry_request_body, notification_body
from portal.doku.signature import format_timestamp, signed_headers

LIVE_BILLS = """
SELECT b.id, b.invoice_number, b.amount, c.code
FROM bills b JOIN payment_codes c ON c.bill_id = b.id
WHERE b.state = 'unpaid' AND c.retired_at IS NULL AND c.expires_at > now()
ORDER BY b.id
"""


@dataclass
class Job:
    kind: str  # inquiry | notification
    due: float  # scheduled moment (time.monotonic())
    path: str  # the app's path (the signature covers the public Request-Target)
    headers: dict[str, str]
    body: bytes
    bill_id: int | None = None  # the bill a notification pays
    duplicate: bool = False


@dataclass
class Done:
    kind: str
    due: float
    latency_ms: float
    lag_ms: float  # from the scheduled moment until a sender thread took the request up
    status: int
    duplicate: bool
    bill_id: int | None


@dataclass
class Signer:
    client_id: str
    secret: str
    inquiry_target: str
    notification_target: str
    trx: int = 0

    def headers(self, target: str, body: bytes, timestamp: str | None = None) -> dict[str, str]:
        headers = signed_headers(
            self.secret,
            client_id=self.client_id,
            request_id=str(uuid.uuid4()),
            timestamp=timestamp or format_timestamp(datetime.now(UTC)),
            request_target=target,
            body=body,
        )
        headers["Content-Type"] = "application/json"
        return headers


@dataclass
class Plan:
    """What to send next: fresh requests, or duplicates of ones already sent."""

    signer: Signer
    inquiry_codes: list[str]
    bills: list[tuple[int, str, int, str]]
    duplicates: float
    rng: random.Random = field(default_factory=random.Random)
    recent_inquiries: list[Job] = field(default_factory=list)
    sent_notifications: list[Job] = field(default_factory=list)
    next_bill: int = 0
    redelivery_next: bool = False

    def inquiry(self, due: float) -> Job:
        if self.recent_inquiries and self.rng.random() < self.duplicates:
            original = self.rng.choice(self.recent_inquiries)
            return Job("inquiry", due, original.path, original.headers, original.body,
                       duplicate=True)  # fmt: skip
        code = self.rng.choice(self.inquiry_codes)
        self.signer.trx += 1
        timestamp = format_timestamp(datetime.now(UTC))
        trx = str(self.signer.trx)
        till = {"AGENT_ID": "ALFAMART", "AGENT_STORE_ID": "TZ001", "AGENT_TRX_ID": trx}
        body = inquiry_request_body(code, timestamp, till)
        target = self.signer.inquiry_target
        headers = self.signer.headers(target, body, timestamp)
        job = Job("inquiry", due, "/doku/inquiry", headers, body)
        self.recent_inquiries.append(job)
        del self.recent_inquiries[:-500]  # repeats stay within the timestamp tolerance
        return job

    def notification(self, due: float) -> Job:
        target = self.signer.notification_target
        if self.sent_notifications and self.rng.random() < self.duplicates:
            original = self.rng.choice(self.sent_notifications)
            self.redelivery_next = not self.redelivery_next
            headers = (
                self.signer.headers(target, original.body)
                if self.redelivery_next
                else original.headers
            )
            return Job("notification", due, original.path, headers, original.body,
                       original.bill_id, duplicate=True)  # fmt: skip
        if self.next_bill >= len(self.bills):
            raise SystemExit("ran out of unpaid bills for first deliveries: seed more")
        bill_id, invoice, amount, code = self.bills[self.next_bill]
        self.next_bill += 1
        self.signer.trx += 1
        now = datetime.now(UTC)
        body = notification_body(
            payment_code=code,
            invoice_number=invoice,
            amount=amount,
            status="SUCCESS",
            transaction_date=format_timestamp(now - timedelta(seconds=30)),
            original_request_id=str(uuid.uuid4()),
            identifiers={
                "AGENT_ID": "ALFAMART",
                "AGENT_STORE_ID": "TZ001",
                "AGENT_TRX_ID": str(self.signer.trx),
            },
        )
        headers = self.signer.headers(target, body)
        job = Job("notification", due, "/doku/notification", headers, body, bill_id)
        self.sent_notifications.append(job)
        return job


def send(url: str, jobs: queue.Queue[Job | None], done: list[Done], lock: threading.Lock) -> None:
    parts = urlsplit(url)
    while (job := jobs.get()) is not None:
        status = 0
        taken = time.monotonic()
        try:
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            connection.request("POST", job.path, job.body, job.headers)
            response = connection.getresponse()
            response.read()
            status = response.status
            connection.close()
        except OSError:
            status = -1
        latency = (time.monotonic() - job.due) * 1000
        with lock:
            lag = (taken - job.due) * 1000
            done.append(Done(job.kind, job.due, latency, lag, status, job.duplicate, job.bill_id))


def worker_rss_kib(server_pid: int) -> dict[int, int]:
    """VmRSS of each child of the gunicorn master."""
    try:
        children = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()
    except OSError:
        return {}
    rss: dict[int, int] = {}
    for pid in map(int, children):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss[pid] = int(line.split()[1])
        except OSError:
            continue
    return rss


def cpu_times() -> list[int]:
    """The machine's CPU counters (jiffies): user nice system idle iowait irq softirq steal."""
    return [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]


def cpu_shares(before: list[int], after: list[int]) -> dict[str, float]:
    """Per-cent of all CPUs between two samples: busy (user + system + irq), iowait, steal."""
    delta = [b - a for a, b in zip(before, after, strict=True)]
    total = sum(delta) or 1
    user, nice, system, _idle, iowait, irq, softirq, steal = delta
    return {
        "cpu_busy_pct": round((user + nice + system + irq + softirq) * 100 / total, 1),
        "cpu_iowait_pct": round(iowait * 100 / total, 1),
        "cpu_steal_pct": round(steal * 100 / total, 1),
    }


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def check_database(done: list[Done]) -> dict[str, object]:
    ok_notified = {d.bill_id for d in done if d.kind == "notification" and d.status == 200}
    with psycopg.connect(conninfo()) as conn:
        per_bill = dict(
            conn.execute(
                "SELECT bill_id, count(*) FROM payments WHERE bill_id = ANY(%s) GROUP BY bill_id",
                (list(ok_notified),),
            ).fetchall()
        )
        outcomes = dict(
            conn.execute(
                "SELECT coalesce(outcome, 'unprocessed'), count(*) FROM notifications"
                " WHERE verdict = 'authenticated' GROUP BY 1"
            ).fetchall()
        )
        total_payments = conn.execute("SELECT count(*) FROM payments").fetchone()[0]
        unpaid_paid = conn.execute(
            "SELECT count(*) FROM bills b WHERE b.state = 'paid'"
            " AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.bill_id = b.id)"
        ).fetchone()[0]
        inquiries = conn.execute("SELECT count(*) FROM inquiries").fetchone()[0]
        duplicate_request_ids = conn.execute(
            "SELECT count(*) FROM (SELECT request_id FROM inquiries GROUP BY client_id, request_id"
            " HAVING count(*) > 1) d"
        ).fetchone()[0]
    sent_notifications = sum(1 for d in done if d.kind == "notification")
    unique_inquiries = sum(1 for d in done if d.kind == "inquiry" and not d.duplicate)
    checks = {
        "every notified bill paid exactly once": all(per_bill.get(b) == 1 for b in ok_notified)
        and total_payments == len(ok_notified),
        "every delivery stored": sum(outcomes.values()) == sent_notifications,
        "every delivery processed, none failed": set(outcomes) <= {"applied", "duplicate"},
        "applied once per bill": outcomes.get("applied", 0) == len(ok_notified),
        "no bill paid without a payment": unpaid_paid == 0,
        "every inquiry recorded once": inquiries == unique_inquiries and duplicate_request_ids == 0,
    }
    return {
        "checks": checks,
        "bills_notified": len(ok_notified),
        "payments": total_payments,
        "deliveries_by_outcome": outcomes,
        "inquiry_rows": inquiries,
        "unique_inquiries_sent": unique_inquiries,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--server-pid", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--duration", type=float, default=600)
    parser.add_argument("--warmup", type=float, default=60, help="seconds before RSS is compared")
    parser.add_argument("--interval", type=float, default=10)
    parser.add_argument("--inquiry-rate", type=float, default=200)
    parser.add_argument("--notification-rate", type=float, default=20)
    parser.add_argument("--duplicates", type=float, default=0.1)
    parser.add_argument("--senders", type=int, default=48)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    cfg = app_config()
    signer = Signer(
        cfg["DOKU_CLIENT_ID"],
        cfg["DOKU_SECRET_KEY"],
        cfg["DOKU_INQUIRY_TARGET"],
        cfg["DOKU_NOTIFICATION_TARGET"],
    )
    with psycopg.connect(conninfo()) as conn:
        bills = [tuple(row) for row in conn.execute(LIVE_BILLS).fetchall()]
    needed = int(args.duration * args.notification_rate * (1 - args.duplicates) * 1.2) + 100
    if len(bills) < needed + 1000:
        raise SystemExit(f"{len(bills)} unpaid bills; the soak needs {needed + 1000}")
    # Notifications pay the last bills; inquiries ask about the others (answered 200 throughout).
    plan = Plan(signer, [b[3] for b in bills[:-needed]], bills[-needed:], args.duplicates)

    jobs: queue.Queue[Job | None] = queue.Queue()
    done: list[Done] = []
    lock = threading.Lock()
    senders = [
        threading.Thread(target=send, args=(args.url, jobs, done, lock), daemon=True)
        for _ in range(args.senders)
    ]
    for thread in senders:
        thread.start()

    rss_samples: list[tuple[float, dict[int, int]]] = []
    cpu_samples: list[tuple[float, list[int]]] = []
    # No cyclic garbage collection in the load generator while it sends: its record of every
    # request (130,000 for 10 minutes) grows, and each full collection walked all of it,
    # stopping every sender for up to ~140 ms by the end; that pause was counted as the
    # server's latency. Nothing here makes reference cycles; memory is bounded by the run.
    gc.collect()
    gc.disable()
    start = time.monotonic()
    end = start + args.duration
    next_inquiry, next_notification = start, start
    next_rss = start
    while True:
        now = time.monotonic()
        if now >= next_rss:
            rss_samples.append((now - start, worker_rss_kib(args.server_pid)))
            cpu_samples.append((now - start, cpu_times()))
            next_rss += min(args.interval, 5.0)
        due = min(next_inquiry, next_notification)
        if due >= end:
            break
        if due > now:
            time.sleep(max(0.0, min(due, next_rss) - now))
            continue
        if next_inquiry <= next_notification:
            jobs.put(plan.inquiry(next_inquiry))
            next_inquiry += 1 / args.inquiry_rate
        else:
            jobs.put(plan.notification(next_notification))
            next_notification += 1 / args.notification_rate
    for _ in senders:
        jobs.put(None)
    for thread in senders:
        thread.join(timeout=60)
    rss_samples.append((time.monotonic() - start, worker_rss_kib(args.server_pid)))
    cpu_samples.append((time.monotonic() - start, cpu_times()))
    gc.enable()

    # --- per interval -----------------------------------------------------------------------
    rows = []
    n_intervals = int(args.duration // args.interval) + (args.duration % args.interval > 0)
    for k in range(n_intervals):
        lo, hi = k * args.interval, (k + 1) * args.interval
        window = [d for d in done if lo <= d.due - start < hi]
        rss = [r for t, r in rss_samples if lo <= t < hi + 0.001 and r]
        last = rss[-1] if rss else {}
        row: dict[str, object] = {"t_end_s": hi, "requests": len(window)}
        for kind in ("inquiry", "notification"):
            latencies = [d.latency_ms for d in window if d.kind == kind]
            row[f"{kind}_requests"] = len(latencies)
            row[f"{kind}_p50_ms"] = percentile(latencies, 0.50)
            row[f"{kind}_p99_ms"] = percentile(latencies, 0.99)
        row["all_p99_ms"] = percentile([d.latency_ms for d in window], 0.99)
        # The load generator's own delay: a late start is the client's, not the server's.
        row["sender_lag_p99_ms"] = percentile([d.lag_ms for d in window], 0.99)
        row["server_p99_ms"] = percentile([d.latency_ms - d.lag_ms for d in window], 0.99)
        inside = [c for t, c in cpu_samples if lo <= t <= hi + 0.001]
        row.update(dict.fromkeys(("cpu_busy_pct", "cpu_iowait_pct", "cpu_steal_pct")))
        if len(inside) >= 2:
            row.update(cpu_shares(inside[0], inside[-1]))
        row["errors"] = sum(1 for d in window if d.status != 200)
        row["workers"] = len(last)
        mean_kib = sum(last.values()) / len(last) if last else None
        row["worker_rss_mean_mib"] = round(mean_kib / 1024, 1) if mean_kib else None
        row["worker_rss_max_mib"] = round(max(last.values()) / 1024, 1) if last else None
        rows.append(row)
    with open(out / "intervals.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    # --- summary ----------------------------------------------------------------------------
    after_warmup = [r for r in rows if float(str(r["t_end_s"])) > args.warmup] or rows
    rss_series = [r["worker_rss_mean_mib"] for r in after_warmup if r["worker_rss_mean_mib"]]
    rss_growth = (
        round((rss_series[-1] - rss_series[0]) / rss_series[0] * 100, 1)
        if len(rss_series) > 1
        else None
    )
    worst_p99 = max((r["all_p99_ms"] or 0 for r in after_warmup), default=None)
    errors = sum(1 for d in done if d.status != 200)
    statuses: dict[str, int] = {}
    for d in done:
        statuses[str(d.status)] = statuses.get(str(d.status), 0) + 1
    database = check_database(done)
    wall = time.monotonic() - start
    summary = {
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "interval_s": args.interval,
        "inquiry_rate": args.inquiry_rate,
        "notification_rate": args.notification_rate,
        "duplicates": args.duplicates,
        "sent": {
            kind: sum(1 for d in done if d.kind == kind) for kind in ("inquiry", "notification")
        },
        "achieved_rate_per_s": round(len(done) / args.duration, 1),
        "statuses": statuses,
        "errors": errors,
        "p50_ms": {
            kind: percentile([d.latency_ms for d in done if d.kind == kind], 0.5)
            for kind in ("inquiry", "notification")
        },
        "p99_ms": {
            kind: percentile([d.latency_ms for d in done if d.kind == kind], 0.99)
            for kind in ("inquiry", "notification")
        },
        "worst_interval_p99_ms_after_warmup": worst_p99,
        "intervals_over_50ms_p99_after_warmup": sum(
            1 for r in after_warmup if (r["all_p99_ms"] or 0) > 50
        ),
        # What the machine did meanwhile: a spike with steal, a busy machine or a late load
        # generator is the machine's, not the server's.
        "machine_after_warmup": {
            f"{name}_max": max((r[name] for r in after_warmup if r[name] is not None), default=None)
            for name in ("cpu_busy_pct", "cpu_steal_pct", "cpu_iowait_pct", "sender_lag_p99_ms")
        },
        "worker_rss_mib_after_warmup_first_last": [rss_series[0], rss_series[-1]]
        if rss_series
        else None,
        "worker_rss_growth_pct_after_warmup": rss_growth,
        "database": database,
        "wall_s": round(wall, 1),
        # The load generator shares the machine's CPUs with gunicorn and PostgreSQL.
        "load_generator_cpu_s": round(time.process_time(), 1),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    print(json.dumps(summary, default=str))
    failed = [name for name, ok in database["checks"].items() if not ok]  # type: ignore[union-attr]
    if failed or errors:
        print(f"soak: FAILED: errors={errors} checks={failed}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
