"""The issue-13 targets against the figures of one ``bench/run-all.sh``: printed, and written
as the first section of bench/RESULTS.md (the detailed reports follow it).

Usage: python bench/summary.py RESULTS_MD STATUS_FILE
  (reads bench/work/{inquiry,inquiry-sqlite,notification,soak}/results)
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH / "inquiry"))
import report  # noqa: E402  (bench/inquiry/report.py)

WORK = BENCH / "work"
MARK_START = "<!-- run-all summary: start -->"
MARK_END = "<!-- run-all summary: end -->"


def case(results: Path, name: str) -> tuple[dict | None, dict | None, dict]:
    """(best round of ``name``, best hello round of the same run, meta)."""
    meta = report.load(results / "meta.json") or {}
    n = int(meta.get("rounds", 3))
    return (
        report.best(report.rounds(results, name, n)),
        report.best(report.rounds(results, "hello", n)),
        meta,
    )


def cpu(r: dict | None) -> str:
    if not r:
        return "-"
    c = report.cpu_per_request(r)
    if not c:
        return "-"
    return f"{c['server']:.2f} + {c['postgres']:.2f}"


def row(label: str, r: dict | None, hello: dict | None, share: float, p99: float | None) -> str:
    if r is None or hello is None:
        return f"| {label} | (missing) | | | | | |"
    ratio = r["rps"] / hello["rps"]
    lat = r["latency_ms"]["p99"]
    met = ratio >= share and (p99 is None or lat <= p99) and r["non2xx"] == 0
    p99_text = f"{lat:.1f}" + (f" (<= {p99:g})" if p99 is not None else "")
    return (
        f"| {label} | {r['rps']:.0f} / {hello['rps']:.0f} | **{ratio:.2f}** (>= {share:.2f}) | "
        f"{p99_text} | {cpu(r)} | {'**yes**' if report.disturbed(r) else 'no'} | "
        f"{report.ok(met)} |"
    )


def main() -> None:
    results_md, status_file = Path(sys.argv[1]), Path(sys.argv[2])
    status = json.loads(status_file.read_text()) if status_file.exists() else {}
    lines: list[str] = []
    w = lines.append
    w(MARK_START)
    w("## Summary of `bash bench/run-all.sh`")
    w("")
    note = os.environ.get("BENCH_SUMMARY_NOTE")
    if note:
        w(f"**{note}**")
        w("")
    meta = report.load(WORK / "inquiry" / "results" / "meta.json") or {}
    w(
        f"Run {status.get('started', '?')} to {status.get('finished', '?')} "
        f"({status.get('minutes', '?')} min), code `{status.get('code', '?')}`, "
        f"{meta.get('nproc', '?')} CPUs shared by wrk, gunicorn and the database. Steps and "
        f"exit status: {', '.join(f'{k} {v}' for k, v in status.get('steps', {}).items())}."
    )
    w("")
    w(
        "| case | req/s (case / hello of the same run) | share of hello (target) | p99 ms "
        "(target) | CPU ms/req (gunicorn + PostgreSQL) | disturbed? | target |"
    )
    w("|---|---:|---:|---:|---:|---|---|")
    size = 10000
    r, hello, _ = case(WORK / "inquiry" / "results", f"inquiry_{size}")
    w(
        row(
            f"inquiry @ {size:,} bills, PostgreSQL",
            r,
            hello,
            report.RATIO_TARGET,
            report.P99_TARGET_MS,
        )
    )
    r, hello, _ = case(WORK / "inquiry-sqlite" / "results", f"inquiry_{size}")
    w(row(f"inquiry @ {size:,} bills, SQLite", r, hello, report.RATIO_TARGET, report.P99_TARGET_MS))
    r, hello, _ = case(WORK / "notification" / "results", "notification")
    w(row("notification (first deliveries + duplicates), PostgreSQL", r, hello, 0.15, None))
    w("")
    soak = report.load(WORK / "soak" / "results" / "summary.json")
    if soak:
        checks = soak["database"]["checks"]
        growth = soak["worker_rss_growth_pct_after_warmup"]
        worst = soak["worst_interval_p99_ms_after_warmup"]
        w(
            f"Soak ({soak['duration_s']:g} s, {soak['inquiry_rate']:g} inquiries/s + "
            f"{soak['notification_rate']:g} notifications/s, {soak['duplicates']:.0%} duplicates, "
            f"PostgreSQL, workers not recycled; plot `bench/soak/soak.png`):"
        )
        w("")
        w("| soak target | measured | target |")
        w("|---|---|---|")
        w(
            f"| p99 under 50 ms in every {soak['interval_s']:g} s interval after the "
            f"{soak['warmup_s']:g} s warm-up | worst {worst} ms; "
            f"{soak['intervals_over_50ms_p99_after_warmup']} intervals over | "
            f"{report.ok(worst is not None and worst < 50)} |"
        )
        w(f"| no error | {soak['errors']} errors, statuses {soak['statuses']} | "
          f"{report.ok(soak['errors'] == 0)} |")  # fmt: skip
        w(
            f"| worker RSS growth after warm-up <= 10 % | {growth} % "
            f"({soak['worker_rss_mib_after_warmup_first_last']} MiB) | "
            f"{report.ok(growth is not None and growth <= 10)} |"
        )
        w(
            f"| every notification applied once | {soak['database']['bills_notified']} bills, "
            f"{soak['database']['payments']} payments, deliveries "
            f"{soak['database']['deliveries_by_outcome']} | {report.ok(all(checks.values()))} |"
        )
        w(
            f"| (load) | sent {soak['sent']}, {soak['achieved_rate_per_s']} req/s scheduled; "
            f"p99 inquiry {soak['p99_ms']['inquiry']} ms, notification "
            f"{soak['p99_ms']['notification']} ms; load generator used "
            f"{soak.get('load_generator_cpu_s', '?')} CPU s of the same machine | |"
        )
        machine = soak.get("machine_after_warmup")
        if machine:
            w(
                f"| (machine, worst 10 s interval after warm-up) | CPUs busy "
                f"{machine['cpu_busy_pct_max']} %, steal {machine['cpu_steal_pct_max']} %, "
                f"iowait {machine['cpu_iowait_pct_max']} %; the load generator's own lag p99 "
                f"{machine['sender_lag_p99_ms_max']} ms | |"
            )
    else:
        w("Soak: no results (see the step's exit status above).")
    w("")
    sqlite_report = WORK / "inquiry-sqlite" / "RESULTS.md"
    w(
        "The sections below are `bench/inquiry/report.py`'s (inquiry on PostgreSQL and the "
        "notification); the SQLite inquiry's own report is appended at the end."
    )
    w(MARK_END)
    summary = "\n".join(lines) + "\n"
    print(summary)

    body = results_md.read_text() if results_md.exists() else "# Benchmarks\n"
    if MARK_START in body:
        before, rest = body.split(MARK_START, 1)
        body = before + rest.split(MARK_END, 1)[1].lstrip("\n")
    title, _, rest = body.partition("\n")
    appendix = ""
    marker = "\n## Inquiry on SQLite (`BENCH_DB_KIND=sqlite`)\n"
    if sqlite_report.exists():
        text = sqlite_report.read_text().split("\n", 1)[1]  # without its title
        appendix = marker + text.replace("\n## ", "\n### ")
    rest = rest.split(marker, 1)[0]
    results_md.write_text(f"{title}\n\n{summary}{rest.rstrip()}\n{appendix}")


if __name__ == "__main__":
    main()
