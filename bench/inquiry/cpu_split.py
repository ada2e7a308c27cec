"""CPU seconds used by each kind of process while a load run lasts, from /proc.

``cpu_split.py OUTFILE`` samples every process every 0.25 s until SIGTERM, then writes JSON:
``{"kinds": {"server": s, "postgres": s, "wrk": s, "py-spy": s, "other": s},
"machine_busy": s, "machine_total": s, "seconds": s}``. *server* is the benchmark's gunicorn
(``$BENCH_SERVER_PID`` and its children), *postgres* the backends of ``$BENCH_DB`` plus the
server's own background processes; a gunicorn or a database someone else runs on the machine
counts as *other*.

``cpu_split.py --wait-quiet SECONDS`` waits (at most SECONDS) until the machine has been at most
15 % busy for two seconds in a row, and prints how busy it was. Processes that start during the run
count from zero, processes that end count up to their last sample (gunicorn recycles workers
after max_requests; wrk exits at the end), so nothing goes negative. ``machine_busy`` comes
from /proc/stat and covers everything, including what exited between samples.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


SERVER = os.environ.get("BENCH_SERVER_PID", "")
DB = os.environ.get("BENCH_DB", "bench_inquiry")
PG_AUX = (
    "checkpointer",
    "background writer",
    "walwriter",
    "autovacuum",
    "logical replication",
    "stats collector",
    "archiver",
)


def kind(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        with open(f"/proc/{pid}/comm") as f:
            comm = f.read().strip()
        with open(f"/proc/{pid}/stat") as f:
            ppid = f.read().rsplit(")", 1)[1].split()[1]
    except OSError:
        return "other"
    if SERVER and SERVER in (pid, ppid):
        return "server"
    if comm in ("postgres", "postmaster") or cmd.startswith("postgres:"):
        if f" {DB} " in cmd or any(a in cmd for a in PG_AUX) or "postgres:" not in cmd:
            return "postgres"
        return "other"
    if comm == "wrk":
        return "wrk"
    if comm == "py-spy":
        return "py-spy"
    return "other"


def per_pid() -> dict[str, float]:
    out: dict[str, float] = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime and stime (stat fields 14 and 15) sit at 11 and 12 after the ")".
        out[pid] = (int(fields[11]) + int(fields[12])) / TICK
    return out


def machine() -> tuple[float, float]:
    with open("/proc/stat") as f:
        cpu = [int(x) for x in f.readline().split()[1:]]
    return (sum(cpu) - cpu[3] - cpu[4]) / TICK, sum(cpu) / TICK


def wait_quiet(limit: float) -> None:
    deadline = time.monotonic() + limit
    quiet = 0
    share = 1.0
    while time.monotonic() < deadline and quiet < 2:
        b0, t0 = machine()
        time.sleep(1)
        b1, t1 = machine()
        share = (b1 - b0) / (t1 - t0) if t1 > t0 else 0.0
        quiet = quiet + 1 if share <= 0.15 else 0
    print(f"{share:.2f}")


def main() -> None:
    if sys.argv[1] == "--wait-quiet":
        wait_quiet(float(sys.argv[2]))
        return
    outfile = sys.argv[1]
    stop = False

    def on_term(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    t0 = time.monotonic()
    busy0, total0 = machine()
    first = per_pid()
    last = dict(first)
    kinds = {pid: kind(pid) for pid in first}
    while not stop:
        time.sleep(0.25)
        for pid, seconds in per_pid().items():
            if pid not in kinds:
                first.setdefault(pid, 0.0)
            # Re-read while "other": a process seen between fork and exec (wrk started by the
            # shell) still has its parent's name.
            if kinds.get(pid, "other") == "other":
                kinds[pid] = kind(pid)
            last[pid] = seconds
    busy1, total1 = machine()
    totals: dict[str, float] = {}
    for pid, seconds in last.items():
        if pid == str(os.getpid()):
            continue
        k = kinds.get(pid, "other")
        totals[k] = totals.get(k, 0.0) + seconds - first.get(pid, 0.0)
    with open(outfile, "w") as out:
        json.dump(
            {
                "kinds": totals,
                "machine_busy": busy1 - busy0,
                "machine_total": total1 - total0,
                "seconds": time.monotonic() - t0,
            },
            out,
        )


if __name__ == "__main__":
    main()
