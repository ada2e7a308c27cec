"""Summarise profile.sh's measurements into bench/inquiry/profile.md, the summary kept in git
(the raw figures stay in the git-ignored bench/work/).

Usage: python bench/inquiry/profile_summary.py WORK_DIR RESULTS_DIR

Inputs (from profile.sh): WORK_DIR/profile/phases.*.json (profile_app.py's timers),
RESULTS_DIR/profile_phases.wrk.json + .cpu.json (the timed run), WORK_DIR/pyspy_cpu.raw and
WORK_DIR/pyspy_wall.raw (py-spy, on-CPU and wall-clock), RESULTS_DIR/profile_pyspy.wrk.json.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

# (phase, parent, label). Parents are shown net of their listed children.
PHASES = [
    ("wsgi", None, "Flask.wsgi_app, all of it"),
    ("flask.session_open", "wsgi", "session interface: open_session"),
    ("flask.before", "wsgi", "before_request hooks (limiter, request id, CSRF, ...)"),
    ("view", "wsgi", "inquiry view"),
    ("auth", "view", "authenticate: headers, Client-Id, timestamp"),
    ("auth.verify", "auth", "signature verify: body digest + HMAC-SHA256 + compare"),
    ("parse", "view", "parse_inquiry_request: marshmallow load"),
    ("parse.json", "parse", "decode_json_object: UTF-8 + json.loads"),
    ("decide", "view", "decide: lookup query (4-table join) + snapshot"),
    ("answer", "view", "_answer: answer dataclasses"),
    ("answer.encode", "view", "inquiry_response_body: response JSON"),
    ("record", "view", "record: INSERT .. ON CONFLICT DO NOTHING RETURNING"),
    ("commit", "view", "db.session.commit()"),
    ("sign", "view", "signed: Response object + response signature"),
    ("flask.after", "wsgi", "after_request hooks + session save"),
    ("teardown", "wsgi", "teardown: db.session.remove() (connection back to pool)"),
]

# py-spy frame markers -> category; the deepest marker on a stack wins.
MARKERS = [
    ("SyncWorker.run_for_one", "gunicorn: accept, HTTP parse, socket I/O"),
    ("close_graceful", "gunicorn: close_graceful (lingers for the client's FIN)"),
    ("Flask.__call__", "Flask/Werkzeug: request context, routing, response"),
    ("inquiry (portal/api/routes.py", "view: rest (get_data, sha256, entry dict, ...)"),
    ("authenticate (portal/api/auth.py", "auth: headers, timestamp"),
    ("verify (portal/doku/signature.py", "auth: signature verify (digest + HMAC)"),
    ("matching_key (portal/doku/signature.py", "auth: signature verify (digest + HMAC)"),
    ("parse_inquiry_request (portal/doku/messages.py", "parse: marshmallow load"),
    ("decode_json_object (portal/doku/messages.py", "parse: JSON"),
    ("decide (portal/services/traffic/inquiries.py", "DB: lookup query (decide)"),
    ("_answer (portal/api/routes.py", "response body: dataclasses + JSON"),
    ("inquiry_response_body (portal/doku/messages.py", "response body: dataclasses + JSON"),
    ("record (portal/services/traffic/inquiries.py", "DB: insert (record)"),
    ("insert_unless_exists (portal/services/sql.py", "DB: insert (record)"),
    ("scoped_session.commit", "DB: commit"),
    ("_signed (portal/api/routes.py", "response: Response object + signature"),
    ("signed (portal/api/routes.py", "response: Response object + signature"),
    ("scoped_session.remove", "teardown: session.remove"),
    ("do_teardown_appcontext", "teardown: session.remove"),
]
DB_WAIT = (
    "Connection.wait (psycopg",
    "wait_c",
    "wait_conn",
    "BaseConnection._exec_command",
    "_send_query_prepared",
    "_send_query_params",
)


def load(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.exists() else None


def cpu_delta(cpu: dict | None) -> dict[str, float]:
    if not cpu:
        return {}
    d = {
        ("gunicorn (benchmark server)" if k == "server" else k): v for k, v in cpu["kinds"].items()
    }
    d["other processes"] = d.pop("other", 0.0)
    d["kernel (not accounted to a process)"] = cpu["machine_busy"] - sum(d.values())
    d["_busy"], d["_total"] = cpu["machine_busy"], cpu["machine_total"]
    return d


def pyspy(path: Path) -> tuple[Counter, Counter, int]:
    cats: Counter = Counter()
    leaves: Counter = Counter()
    total = 0
    if not path.exists():
        return cats, leaves, 0
    for line in path.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if "SyncWorker.run_for_one" not in stack:
            continue  # the arbiter (master), not a worker
        count = int(n)
        frames = stack.split(";")
        cat = "gunicorn: idle / other"
        for frame in frames:
            for marker, label in MARKERS:
                if frame.startswith(marker) or marker in frame:
                    cat = label
        if cat.startswith("DB") and any(
            frames[-1].startswith(m) or m in frames[-1] for m in DB_WAIT
        ):
            cat += " - in libpq/socket calls (waiting on PostgreSQL or for a CPU)"
        elif cat.startswith("DB"):
            cat += " - Python (SQLAlchemy + psycopg)"
        cats[cat] += count
        leaves[frames[-1]] += count
        total += count
    return cats, leaves, total


def main() -> None:
    work, results = Path(sys.argv[1]), Path(sys.argv[2])
    out: list[str] = []
    w = out.append
    w("## Profile: where one inquiry's time goes\n")
    code = load(results / "profile_code.json") or {}
    bills = (
        (work / "profile_bills.txt").read_text().strip()
        if (work / "profile_bills.txt").exists()
        else "?"
    )
    w(
        "From `bash bench/inquiry/profile.sh`: same gunicorn settings and load (32 connections) "
        f"as run.sh, against the database run.sh left ({bills} bills); code at commit "
        f"{code.get('head')}, fingerprint {code.get('fingerprint')}"
        + (f", uncommitted: {', '.join(code['uncommitted'])}" if code.get("uncommitted") else "")
        + ". Two independent views:\n"
    )

    # --- phase timers -----------------------------------------------------------------------
    files = sorted((work / "profile").glob("phases.*.json"))
    wall: Counter = Counter()
    cpu: Counter = Counter()
    calls: Counter = Counter()
    requests = 0
    for f in files:
        d = json.loads(f.read_text())
        requests += d["requests"]
        wall.update(d["wall"])
        cpu.update(d["cpu"])
        calls.update(d["calls"])
    run = load(results / "profile_phases.wrk.json")
    cpus = cpu_delta(load(results / "profile_phases.cpu.json"))
    if requests:
        w("### 1. Phase timers (bench/inquiry/profile_app.py)\n")
        w(
            f"Timers around each phase of the view, summed over {requests} requests in "
            f"{len(files)} workers (first 50 per worker skipped). Wall = elapsed time inside the "
            "phase; CPU = the worker's own CPU time (`time.thread_time`); wall - CPU = waiting: "
            "for PostgreSQL, or for a CPU (2 cores shared by 5 workers, PostgreSQL and wrk)."
        )
        if run:
            w(
                f"Throughput during this run: {run['rps']:.0f} req/s, p50 "
                f"{run['latency_ms']['p50']:.1f} ms, p99 {run['latency_ms']['p99']:.1f} ms.\n"
            )
        w("| phase | wall ms/req | CPU ms/req | waiting ms/req | share of wsgi wall |")
        w("|---|---:|---:|---:|---:|")
        children: dict[str, list[str]] = {}
        for name, parent, _ in PHASES:
            if parent:
                children.setdefault(parent, []).append(name)
        total_wall = 1000 * wall["wsgi"] / requests
        for name, _parent, label in PHASES:
            if name not in wall:
                continue
            wl = 1000 * wall[name] / requests
            cp = 1000 * cpu[name] / requests
            kids = children.get(name, [])
            if kids:
                net_w = wl - 1000 * sum(wall[k] for k in kids) / requests
                net_c = cp - 1000 * sum(cpu[k] for k in kids) / requests
                w(
                    f"| {name} ({label}), total | {wl:.3f} | {cp:.3f} | {wl - cp:.3f} | "
                    f"{wl / total_wall:.1%} |"
                )
                w(
                    f"| {name}, net of the rows below it | {net_w:.3f} | {net_c:.3f} | "
                    f"{net_w - net_c:.3f} | {net_w / total_wall:.1%} |"
                )
            else:
                w(
                    f"| {name} ({label}) | {wl:.3f} | {cp:.3f} | {wl - cp:.3f} | "
                    f"{wl / total_wall:.1%} |"
                )
        w("")
        if cpus and run:
            n = run["requests"]
            seconds = (load(results / "profile_phases.cpu.json") or {}).get("seconds", 1.0)
            w(
                "CPU used by each kind of process during the timed run, per completed request "
                f"(machine busy {cpus['_busy'] / cpus['_total']:.0%} of "
                f"{cpus['_total'] / seconds:.1f} CPUs):\n"
            )
            w("| process | CPU ms/request |")
            w("|---|---:|")
            for k, v in sorted(cpus.items(), key=lambda kv: -kv[1]):
                if not k.startswith("_"):
                    w(f"| {k} | {1000 * v / n:.2f} |")
            w("")

    # --- py-spy -----------------------------------------------------------------------------
    for raw, title in (
        ("pyspy_cpu.raw", "non-idle samples (running, or runnable and waiting for a CPU)"),
        ("pyspy_wall.raw", "wall-clock samples, idle included (where a worker's time goes)"),
    ):
        cats, leaves, total = pyspy(work / raw)
        if not total:
            continue
        w(f"### py-spy: {title}\n")
        w(
            f"{total} samples over all workers (`py-spy record --subprocesses"
            f"{' --idle' if 'wall' in raw else ''}`)."
            + (
                ""
                if "wall" in raw
                else " On a saturated machine a process woken by PostgreSQL's answer often "
                "waits for a CPU, and py-spy counts it as active: the libpq/socket rows hold "
                "that wait. For CPU proper, the phase timers' CPU column is the reference."
            )
            + "\n"
        )
        w("| category | share |")
        w("|---|---:|")
        for cat, n in cats.most_common():
            w(f"| {cat} | {n / total:.1%} |")
        w("")
        w("<details><summary>top leaf frames</summary>\n")
        w("| frame | share |")
        w("|---|---:|")
        for frame, n in leaves.most_common(20):
            w(f"| `{frame}` | {n / total:.1%} |")
        w("\n</details>\n")
    spy = load(results / "profile_pyspy.wrk.json")
    if spy:
        w(
            f"(Throughput while py-spy sampled: {spy['rps']:.0f} req/s; sampling slows the "
            "workers, the shares are what matters.)\n"
        )

    summary = Path(__file__).with_name("profile.md")  # the summary kept in git
    summary.write_text("\n".join(out))
    print(f"wrote {summary}")


if __name__ == "__main__":
    main()
