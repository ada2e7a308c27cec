"""The notification benchmark's part of bench/RESULTS.md, from the raw figures in
bench/work/notification/results/ (git-ignored).

Loaded by bench/inquiry/report.py (which writes the whole file), so that re-running either
benchmark keeps the other's figures: ``figure_rows`` go into the Figures table beside the
inquiry's, ``section`` after the inquiry's correctness checks. Uses report.py's rules for the
best round, disturbed rounds and the CPU-bound ceiling.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "inquiry"))
from report import (
    DISTURBED_CPUS,
    FIGURES_HEADER,
    best,
    cpu_per_request,
    disturbed,
    figure_row,
    load,
    rounds,
)

NAME = "notification"
EXPECTED_OUTCOMES = {"applied", "duplicate"}


def duplicate_share(r: dict) -> float | None:
    """Share of the deliveries stored in the round that were answered ``duplicate``."""
    d = r.get("db") or {}
    return d["by_outcome"].get("duplicate", 0) / d["rows"] if d.get("rows") else None


def check(r: dict) -> list[str]:
    """What is wrong with one round (empty: nothing)."""
    d = r.get("db")
    if d is None:
        return ["no database figures"]
    problems = []
    if not r["requests"] <= d["rows"] <= r["sent"]:
        problems.append(f"{d['rows']} deliveries stored, wrk completed {r['requests']}")
    if set(d["by_outcome"]) - EXPECTED_OUTCOMES:
        problems.append(f"outcomes {d['by_outcome']}")
    if any(not k.startswith("200 ") for k in d["by_status"]):
        problems.append(f"HTTP statuses stored {d['by_status']}")
    if not d["payments_added"] == d["bills_delivered"] == d["by_outcome"].get("applied", 0):
        problems.append(
            f"{d['payments_added']} payments added for {d['bills_delivered']} bills delivered "
            f"({d['by_outcome'].get('applied', 0)} applied)"
        )
    for key in (
        "bills_delivered_without_payment",
        "payments_for_undelivered_bills",
        "bills_with_two_payments",
        "exceptions_added",
        "unprocessed",
    ):
        if d[key]:
            problems.append(f"{key.replace('_', ' ')}: {d[key]}")
    if d["payments_total"] != d["bills_paid_total"]:
        problems.append(f"{d['payments_total']} payments but {d['bills_paid_total']} bills paid")
    if r["non2xx"]:
        problems.append(f"{r['non2xx']} non-2xx")
    if any(r["errors"].values()):
        problems.append(f"socket errors {r['errors']}")
    if r["exhausted"]:
        problems.append(f"ran out of requests {r['exhausted']} times")
    return problems


class NotificationResults:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.meta = load(directory / "meta.json") or {}
        n = int(self.meta.get("rounds", 1))
        self.hello_runs = rounds(directory, "hello", n)
        self.runs = rounds(directory, NAME, n)
        for r in self.runs:
            r["gen"] = load(directory / f"{NAME}.r{r['round']}.gen.json")
        self.hello = best(self.hello_runs)
        self.chosen = best(self.runs)
        self.nproc = int(self.meta.get("nproc") or 1)
        self.bills = int(self.meta.get("bills", 0))

    def label(self, r: dict | None = None) -> str:
        share = duplicate_share(r) if r else None
        dup = f", {share:.0%} duplicates" if share is not None else ""
        return f"notification @ {self.bills:,} bills{dup}"

    def figure_rows(self) -> list[str]:
        """Rows for the Figures table; % of hello is against this run's own hello."""
        return [
            figure_row(
                f"hello (bare Flask POST), notification run {self.meta.get('date', '')}",
                self.hello,
                self.hello,
                self.nproc,
            ),
            figure_row(self.label(self.chosen), self.chosen, self.hello, self.nproc),
        ]

    def figures_note(self, inquiry_meta: dict) -> str:
        ours = (self.meta.get("git_head"), self.meta.get("gunicorn_workers"))
        theirs = (inquiry_meta.get("git_head"), inquiry_meta.get("gunicorn_workers"))
        differs = bool(inquiry_meta) and ours != theirs
        return (
            "The last two rows come from `bash bench/notification/run.sh` "
            f"({self.meta.get('date')}, code {self._code()}, {ours[1]} workers): a separate run "
            "with its own hello, so each *% of hello* compares with the hello of its own run"
            + (
                f". **Not the same code or server settings as the inquiry rows** (commit "
                f"{theirs[0]}, {theirs[1]} workers): re-run both at one commit to compare them"
                if differs
                else ""
            )
            + "; see *`POST /doku/notification`* below."
        )

    def _code(self) -> str:
        start = load(self.dir / f"{NAME}.code_start.json") or {}
        return f"{start.get('head')} / {start.get('fingerprint')}"

    def section(self, inquiry_meta: dict) -> tuple[list[str], list[str]]:
        """The section's lines and the failed checks."""
        m = self.meta
        out: list[str] = []
        w = out.append
        w("## `POST /doku/notification`\n")
        w(
            "Generated from the last `bash bench/notification/run.sh` (raw figures in "
            f"`{_shown(self.dir)}`, git-ignored); `bench/README.md` says what is measured and "
            "how.\n"
        )
        w("### Run\n")
        w(
            f"- Date: {m.get('date')}, load average at start "
            f"{' '.join(m.get('loadavg_at_start', []))}; same machine kind: `nproc` = "
            f"{m.get('nproc')}, {m.get('cpu')}, PostgreSQL {m.get('postgres')}, {m.get('wrk')}."
        )
        start = load(self.dir / f"{NAME}.code_start.json") or {}
        end = load(self.dir / f"{NAME}.code_end.json") or {}
        w(
            f"- Code measured: `BENCH_CODE={m.get('code')}`: commit {start.get('head')} "
            f"({start.get('source')}), fingerprint {start.get('fingerprint')}"
            + (
                f"; **the code changed during the run** (now {end.get('fingerprint')})"
                if start.get("fingerprint") != end.get("fingerprint")
                else ""
            )
            + "."
        )
        settings = m.get("gunicorn_settings", "")
        inquiry_settings = inquiry_meta.get("gunicorn_settings", "")
        differs = bool(inquiry_settings) and _unbound(settings) != _unbound(inquiry_settings)
        w(
            f"- gunicorn: the project's `gunicorn.conf.py`, **{m.get('gunicorn_workers')} sync "
            "workers**, access log off, "
            + (
                "**settings NOT the same as the inquiry run's**:"
                if differs
                else "the same effective settings as the inquiry run (only the port differs):"
            )
            + "\n"
        )
        w("```\n" + settings.rstrip() + "\n```\n")
        x = load(self.dir / f"{NAME}.extra.json") or {}
        redelivery, repeat = m.get("redelivery_share", 0), m.get("repeat_share", 0)
        w(
            f"- Workload: a fresh database with {self.bills:,} unpaid bills (`seed.py`: "
            f"{x.get('seed_log', '?')}). Before each round `gen_notifications.py` pre-signs "
            f"{m.get('requests_per_round', '?')} notifications as DOKU sends them for bills "
            f"still unpaid: {1 - redelivery - repeat:.0%} first deliveries (status SUCCESS, the "
            "bill's invoice, amount and code, `transaction.date`, `original_request_id`, "
            f"AGENT_ID / AGENT_STORE_ID / AGENT_TRX_ID), {redelivery:.0%} re-deliveries of a "
            "payment already sent (same body, new Request-Id and Request-Timestamp: DOKU's "
            f"retry) and {repeat:.0%} exact repeats of an earlier request (same Request-Id and "
            "body), shuffled, every duplicate after its original in the same wrk thread's "
            "slice. wrk gets through a prefix of each slice; *duplicates* below is the share of "
            "the deliveries stored in the round that the app answered `duplicate`."
        )
        w(
            f"- Load: wrk, {m.get('threads')} threads, {m.get('connections')} connections, "
            f"{m.get('duration')} per round, {m.get('min_rounds')} rounds (up to "
            f"{m.get('rounds')} when all were disturbed) after a {m.get('warmup')} warm-up with "
            "its own notifications; the figures are the best undisturbed round."
        )
        w("- Exact commands (from the repository root):\n")
        w("```")
        w(m.get("run_command", ""))
        w("# hello:")
        w(m.get("hello_server_command", ""))
        w(m.get("hello_wrk_command", ""))
        w("# notification:")
        w(m.get("server_command", ""))
        w(m.get("wrk_command", ""))
        w("```\n")

        w("### Figures\n")
        w(FIGURES_HEADER)
        w(figure_row("hello (bare Flask POST)", self.hello, self.hello, self.nproc))
        w(figure_row(self.label(self.chosen), self.chosen, self.hello, self.nproc))
        w("")
        if any(disturbed(r) for r in self.hello_runs + self.runs):
            w(
                f"**Some rounds were disturbed** (other processes used more than "
                f"{DISTURBED_CPUS} CPUs): compare CPU per request and the ceiling.\n"
            )

        w("### Rounds and CPU\n")
        w(
            "| case | round | req/s | p50 ms | p99 ms | duplicates | gunicorn CPU ms/req "
            "| postgres CPU ms/req | wrk CPU ms/req | other processes (CPUs) | kernel (CPUs) "
            "| machine busy | busy before |"
        )
        w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for label, runs in (("hello", self.hello_runs), ("notification", self.runs)):
            for r in runs:
                c = cpu_per_request(r)
                before = r["quiet"].get("busy_before")
                share = duplicate_share(r) if label == "notification" else None
                w(
                    f"| {label} | {r['round']} | {r['rps']:.0f} | {r['latency_ms']['p50']:.1f} | "
                    f"{r['latency_ms']['p99']:.1f} | "
                    f"{'-' if share is None else f'{share:.1%}'} | {c.get('server', 0):.2f} | "
                    f"{c.get('postgres', 0):.2f} | {c.get('wrk', 0):.2f} | "
                    f"{c.get('_other_cpus', 0):.2f} | {c.get('_kernel_cpus', 0):.2f} | "
                    f"{c.get('_busy_share', 0):.0%} | "
                    f"{'-' if before is None else f'{before:.0%}'} |"
                )
        w("")

        w("### Correctness checks\n")
        w(
            "After each round, in the database: the notifications table gained between wrk's "
            "completed requests and the requests handed to sockets (`sent`) rows, every one "
            "processed, HTTP 200 and `applied` or `duplicate`; the payments added equal the "
            "bills those deliveries were about and the `applied` answers (each bill delivered "
            "has its payment, no payment for a bill not delivered, no bill with two payments); "
            "bills `paid` = payments; no payment exception; wrk saw only 2xx and no socket "
            "errors; no thread ran out of pre-signed requests.\n"
        )
        w(
            "| round | wrk requests | sent | rows added | outcomes | distinct Request-Ids "
            "| bills delivered | payments added | delivered, no payment | two payments "
            "| exceptions | statuses seen by wrk | check |"
        )
        w("|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|---|")
        failures = []
        for r in self.runs:
            problems = check(r)
            if problems:
                failures.append(f"notification round {r['round']}: " + "; ".join(problems))
            d = r.get("db") or {}
            w(
                f"| {r['round']} | {r['requests']} | {r['sent']} | {d.get('rows')} | "
                f"`{json.dumps(d.get('by_outcome'))}` | {d.get('distinct_request_ids')} | "
                f"{d.get('bills_delivered')} | {d.get('payments_added')} | "
                f"{d.get('bills_delivered_without_payment')} | "
                f"{d.get('bills_with_two_payments')} | {d.get('exceptions_added')} | "
                f"`{json.dumps(r['statuses'])}` | "
                f"{'ok' if not problems else '**FAILED**: ' + '; '.join(problems)} |"
            )
        if not self.runs:
            failures.append("notification: no rounds")
        for r in self.hello_runs:
            if r["non2xx"] or any(r["errors"].values()):
                failures.append(f"notification run's hello round {r['round']}")
        w("")
        for r in self.runs:
            g = r.get("gen") or {}
            w(
                f"- round {r['round']}: file of {g.get('requests')} notifications "
                f"({g.get('first')} first, {g.get('redelivery')} re-deliveries, "
                f"{g.get('repeat')} exact repeats) for {g.get('unpaid_bills_before')} bills "
                f"still unpaid, signed in {g.get('seconds')} s"
            )
        w(
            f"- server log lines matching Traceback/ERROR/WARNING/refused: "
            f"{x.get('server_log_problem_lines', '?')} (`{x.get('server_log', '')}`)"
        )
        w("")
        if failures:
            w("**Notification correctness checks failed:** " + "; ".join(failures) + "\n")
        return out, failures


def _unbound(settings: str) -> str:
    """Effective settings without the bind line (the two benchmarks use different ports)."""
    return "\n".join(line for line in settings.splitlines() if not line.startswith("bind "))


def _shown(directory: Path) -> str:
    """The folder relative to the repository when it is inside it (no machine's own path)."""
    root = Path(__file__).resolve().parents[2]
    try:
        return str(directory.resolve().relative_to(root))
    except ValueError:
        return str(directory)

