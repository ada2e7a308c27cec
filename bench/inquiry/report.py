"""Write bench/RESULTS.md from the raw JSON figures run.sh leaves in bench/work/inquiry/results/
(git-ignored).

Usage: python bench/inquiry/report.py RESULTS_DIR OUTFILE [--notification DIR]
           [--fail-on inquiry|notification|all]

Also appends, when present, bench/inquiry/profile.md (written by profile.sh),
bench/inquiry/whatif.md (whatif.sh) and bench/inquiry/analysis.md (the hand-written reading of
the profile). When the
notification benchmark's results exist (``--notification DIR``, by default
bench/work/notification/results), its figures go beside the inquiry's and its section after them
(bench/notification/section.py), so re-running either benchmark keeps the other's figures.
Exits 2 when a correctness check failed in the part named by ``--fail-on`` (default: inquiry).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

P99_TARGET_MS = 40.0  # issue 13: p99 <= 40 ms at 32 connections
RATIO_TARGET = 0.30  # issue 13: >= 0.30 of hello
SIZE_DRIFT_TARGET = 0.20


def load(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.exists() else None


def ok(flag: bool) -> str:
    return "**met**" if flag else "**NOT met**"


def rounds(results: Path, name: str, n: int) -> list[dict]:
    """Every round of one case, each wrk figures + cpu + db counts, in order."""
    out = []
    for r in range(1, n + 1):
        wrk = load(results / f"{name}.r{r}.wrk.json")
        if wrk is None:
            continue
        wrk["round"] = r
        wrk["cpu"] = load(results / f"{name}.r{r}.cpu.json")
        wrk["db"] = load(results / f"{name}.r{r}.db.json")
        wrk["quiet"] = load(results / f"{name}.r{r}.quiet.json") or {}
        out.append(wrk)
    return out


DISTURBED_CPUS = 0.2  # other processes' CPU during a round above this: the round was disturbed


def best(runs: list[dict]) -> dict | None:
    """The fastest undisturbed round, else the fastest round."""
    clean = [r for r in runs if not disturbed(r)]
    return max(clean or runs, key=lambda r: r["rps"]) if runs else None


def disturbed(run: dict) -> bool:
    return cpu_per_request(run).get("_other_cpus", 0.0) > DISTURBED_CPUS


def ceiling(run: dict, nproc: int) -> float | None:
    """req/s the machine could serve if this run's CPU per request (server + PostgreSQL + wrk +
    kernel) had all of it: an estimate that other users of the CPUs disturb far less than
    req/s."""
    c = cpu_per_request(run)
    if not c:
        return None
    per_req = c["server"] + c["postgres"] + c["wrk"] + 1000 * c["_kernel_cpus"] / run["rps"]
    return 1000 * nproc / per_req if per_req > 0 else None


def cpu_per_request(run: dict) -> dict[str, float]:
    cpu = run.get("cpu")
    if not cpu or not run["requests"]:
        return {}
    kinds = cpu["kinds"]
    d = {k: kinds.get(k, 0.0) for k in ("server", "postgres", "wrk")}
    ms = {k: 1000 * v / run["requests"] for k, v in d.items()}
    ms["_other_cpus"] = kinds.get("other", 0.0) / cpu["seconds"]
    ms["_kernel_cpus"] = (cpu["machine_busy"] - sum(kinds.values())) / cpu["seconds"]
    ms["_busy_share"] = cpu["machine_busy"] / cpu["machine_total"] if cpu["machine_total"] else 0
    return ms


FIGURES_HEADER = (
    "| case | req/s | % of hello | p50 ms | p90 ms | p99 ms | max ms | requests | non-2xx "
    "| socket errors | CPU-bound ceiling req/s | disturbed? |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
)


def figure_row(label: str, r: dict | None, hello: dict | None, nproc: int) -> str:
    """One line of the Figures table; ``hello`` is the same run's hello round."""
    if r is None:
        return f"| {label} | (missing) | | | | | | | | | | |"
    lat = r["latency_ms"]
    e = r["errors"]
    sock = e["connect"] + e["read"] + e["write"] + e["timeout"]
    pct = f"{100 * r['rps'] / hello['rps']:.1f} %" if hello else "-"
    cap = ceiling(r, nproc)
    return (
        f"| {label} | **{r['rps']:.0f}** | {pct} | {lat['p50']:.1f} | {lat['p90']:.1f} | "
        f"**{lat['p99']:.1f}** | {lat['max']:.1f} | {r['requests']} | {r['non2xx']} | {sock} | "
        f"{'-' if cap is None else f'{cap:.0f}'} | "
        f"{'**yes**' if disturbed(r) else 'no'} |"
    )


def notification_part(directory: Path | None):
    """bench/notification/section.py's view of the notification results, or None."""
    if directory is None or not (directory / "meta.json").exists():
        return None
    path = Path(__file__).resolve().parents[1] / "notification" / "section.py"
    spec = importlib.util.spec_from_file_location("notification_section", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.NotificationResults(directory)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("results", type=Path)
    parser.add_argument("outfile", type=Path)
    parser.add_argument(
        "--notification",
        type=Path,
        default=Path(__file__).resolve().parents[1] / "work" / "notification" / "results",
    )
    parser.add_argument("--fail-on", choices=("inquiry", "notification", "all"), default="inquiry")
    args = parser.parse_args()
    results, outfile = args.results, args.outfile
    notification = notification_part(args.notification)
    meta = load(results / "meta.json") or {}
    n_rounds = int(meta.get("rounds", 1))
    sizes = [int(s) for s in meta.get("sizes", [])]
    cases = {"hello": rounds(results, "hello", n_rounds)}
    for n in sizes:
        cases[f"inquiry_{n}"] = rounds(results, f"inquiry_{n}", n_rounds)
    chosen = {k: best(v) for k, v in cases.items()}
    hello = chosen["hello"]
    extras = {n: load(results / f"inquiry_{n}.extra.json") or {} for n in sizes}
    code = {
        n: (
            load(results / f"inquiry_{n}.code_start.json") or {},
            load(results / f"inquiry_{n}.code_end.json") or {},
        )
        for n in sizes
    }
    prints = {c.get("fingerprint") for pair in code.values() for c in pair}

    out: list[str] = []
    w = out.append
    if notification is None:
        w("# Benchmark: `POST /doku/inquiry`\n")
    else:
        w("# Benchmarks: `POST /doku/inquiry` and `POST /doku/notification`\n")
    w(
        "Generated by `bench/inquiry/report.py` from the last `bash bench/inquiry/run.sh` (and "
        "`bash bench/inquiry/profile.sh` for the profile)"
        + (
            ", and from the last `bash bench/notification/run.sh` for the notification "
            "(its own section below the inquiry's checks)"
            if notification is not None
            else ""
        )
        + "; `bench/README.md` says what is measured and how.\n"
    )
    if not meta:
        w(f"No inquiry results in `{results}`: run `bash bench/inquiry/run.sh`.\n")
        notification_failures: list[str] = []
        if notification is not None:
            w("## Figures\n")
            w(FIGURES_HEADER)
            out.extend(notification.figure_rows())
            w("\n" + notification.figures_note(meta) + "\n")
            lines, notification_failures = notification.section(meta)
            out.extend(lines)
        finish(out, outfile, [], notification_failures, args.fail_on)
        return
    w("## Run\n")
    w(f"- Date: {meta.get('date')}")
    if meta.get("database") == "sqlite":
        w("- **Database: SQLite** (a file in the benchmark's work folder, WAL), not PostgreSQL.")
    w(
        f"- Machine: `nproc` = {meta.get('nproc')}, {meta.get('cpu')}, {meta.get('mem_gib')} GiB "
        f"RAM, Linux {meta.get('kernel')}, load average at start "
        f"{' '.join(meta.get('loadavg_at_start', []))}. PostgreSQL {meta.get('postgres')} (stock "
        f"settings), Python {meta.get('python')}, {meta.get('wrk')}. wrk, gunicorn and PostgreSQL "
        f"all share these {meta.get('nproc')} CPUs."
    )
    w(
        f"- Code measured: `BENCH_CODE={meta.get('code')}` "
        + (
            "(the working tree, which someone may be editing; fingerprint = hash of portal/, "
            "migrations/, gunicorn.conf.py, wsgi.py when each server started and stopped):"
            if meta.get("code") == "worktree"
            else f"(a snapshot of that commit made with `git archive` into `{meta.get('src')}`, so "
            "edits to the working tree during the run do not mix in):"
        )
    )
    for n in sizes:
        start, end = code[n]
        changed = start.get("fingerprint") != end.get("fingerprint")
        w(
            f"  - {n:,} bills: commit {start.get('head')} ({start.get('source')}), fingerprint "
            f"{start.get('fingerprint')}"
            + (
                f", uncommitted: {', '.join(start.get('uncommitted', []))}"
                if start.get("uncommitted")
                else ""
            )
            + (
                f"; **the code changed during this case** (now {end.get('fingerprint')})"
                if changed
                else ""
            )
        )
    if len(prints) > 1:
        w("  - **The sizes ran different code: the comparison between them is not valid.**")
    workers = meta.get("gunicorn_workers")
    w(
        f"- gunicorn: the project's `gunicorn.conf.py`, **{workers} sync workers**"
        + (" (its `2 x cores + 1`)" if workers == 2 * int(meta.get("nproc") or 0) + 1 else "")
        + ", access log off. Effective settings:\n"
    )
    w("```\n" + meta.get("gunicorn_settings", "").rstrip() + "\n```\n")
    w(
        f"- Load: wrk, {meta.get('threads')} threads, {meta.get('connections')} connections, "
        f"{meta.get('duration')} per round, {meta.get('min_rounds', n_rounds)} rounds per case "
        f"(up to {n_rounds} when all were disturbed by other work) after a "
        f"{meta.get('warmup')} warm-up; the figures below are the best undisturbed round "
        "(highest req/s; the best round if none was undisturbed), every round is listed under "
        "Rounds and CPU. Every inquiry carries a unique Request-Id, a fresh "
        "Request-Timestamp and a valid signature, for a random live payment code."
    )
    w("- Exact commands (from the repository root):\n")
    w("```")
    w(meta.get("run_command", ""))
    w("# hello:")
    w(meta.get("hello_server_command", ""))
    w(meta.get("hello_wrk_command", ""))
    w("# inquiry:")
    w(meta.get("server_command", ""))
    w(meta.get("wrk_command", ""))
    w("```\n")

    w("## Figures\n")
    nproc = int(meta.get("nproc") or 1)
    w(FIGURES_HEADER)
    labels = {"hello": "hello (bare Flask POST)"}
    labels.update({f"inquiry_{n}": f"inquiry @ {n:,} bills" for n in sizes})
    for key, label in labels.items():
        w(figure_row(label, chosen[key], hello, nproc))
    if notification is not None:
        for line in notification.figure_rows():
            w(line)
    w("")
    if notification is not None:
        w(notification.figures_note(meta) + "\n")
    w(
        f"*CPU-bound ceiling*: {nproc} CPUs divided by the CPU one request cost in that round "
        "(gunicorn + PostgreSQL + wrk + kernel), i.e. the req/s if nothing else used the machine; "
        "it is much less sensitive to other users of the CPUs than req/s itself. *Disturbed*: "
        f"other processes used more than {DISTURBED_CPUS} CPUs during the round (see Rounds and "
        "CPU).\n"
    )
    if any(disturbed(r) for runs in cases.values() for r in runs):
        w(
            "**Some rounds were disturbed by other work on the machine: their req/s and latency "
            "are lower than this code can do; compare CPU per request and the ceiling instead, "
            "or re-run when the machine is idle.**\n"
        )

    w("## Targets\n")
    w("| target | figure | verdict |")
    w("|---|---|---|")
    for n in sizes:
        r = chosen[f"inquiry_{n}"]
        if r:
            p99 = r["latency_ms"]["p99"]
            w(
                f"| p99 <= {P99_TARGET_MS:.0f} ms at {meta.get('connections')} connections, "
                f"{n:,} bills | {p99:.1f} ms | {ok(p99 <= P99_TARGET_MS)} |"
            )
    for n in sizes:
        r = chosen[f"inquiry_{n}"]
        if r and hello:
            ratio = r["rps"] / hello["rps"]
            w(
                f"| inquiry throughput >= {RATIO_TARGET:.0%} of hello, {n:,} bills | "
                f"{ratio:.1%} ({r['rps']:.0f} / {hello['rps']:.0f} req/s) | "
                f"{ok(ratio >= RATIO_TARGET)} |"
            )
    if len(sizes) >= 2 and chosen[f"inquiry_{sizes[0]}"] and chosen[f"inquiry_{sizes[-1]}"]:
        small, big = chosen[f"inquiry_{sizes[0]}"], chosen[f"inquiry_{sizes[-1]}"]
        for key in ("p50", "p99"):
            a, b = small["latency_ms"][key], big["latency_ms"][key]
            drift = b / a - 1
            w(
                f"| {key} at {sizes[-1]:,} bills within {SIZE_DRIFT_TARGET:.0%} of {sizes[0]:,} | "
                f"{a:.1f} -> {b:.1f} ms ({drift:+.1%}) | {ok(abs(drift) <= SIZE_DRIFT_TARGET)} |"
            )
        drift = big["rps"] / small["rps"] - 1
        w(
            f"| (throughput, {sizes[-1]:,} vs {sizes[0]:,} bills) | {small['rps']:.0f} -> "
            f"{big['rps']:.0f} req/s ({drift:+.1%}) | for information |"
        )
    w("")

    w("## Rounds and CPU\n")
    w(
        "CPU per completed request from /proc: the benchmark's gunicorn (master + workers), "
        "PostgreSQL (this database's backends + background processes) and wrk. *Other "
        "processes* is CPU used meanwhile by anything else on the machine (for example someone "
        "else's test run), *kernel* the busy time no process accounts for (mostly network "
        "softirq: every request is a new TCP connection, gunicorn's sync worker closes each one), "
        "both in CPUs out of the machine's "
        f"{meta.get('nproc')}. *Busy before* is how busy the machine was just before the round "
        "(run.sh waits up to BENCH_QUIET_WAIT s for it to fall to 15 %). A round with clearly "
        "more *other processes* than the rest was disturbed.\n"
    )
    w(
        "| case | round | req/s | p50 ms | p99 ms | gunicorn CPU ms/req | postgres CPU ms/req "
        "| wrk CPU ms/req | other processes (CPUs) | kernel (CPUs) | machine busy | busy before |"
    )
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for key, label in labels.items():
        for r in cases[key]:
            c = cpu_per_request(r)
            before = r["quiet"].get("busy_before")
            w(
                f"| {label} | {r['round']} | {r['rps']:.0f} | {r['latency_ms']['p50']:.1f} | "
                f"{r['latency_ms']['p99']:.1f} | {c.get('server', 0):.2f} | "
                f"{c.get('postgres', 0):.2f} | {c.get('wrk', 0):.2f} | "
                f"{c.get('_other_cpus', 0):.2f} | {c.get('_kernel_cpus', 0):.2f} | "
                f"{c.get('_busy_share', 0):.0%} | "
                f"{'-' if before is None else f'{before:.0%}'} |"
            )
    w("")

    w("## Correctness checks\n")
    w(
        "wrk counts completed requests; `sent` counts requests handed to sockets, including those "
        "still in flight when wrk stopped, which the server still answers and records. So the "
        "inquiries table must gain between `requests` and `sent` rows, each with its own "
        "Request-Id, all `200 success`; wrk must see only 200s and no socket errors, and no "
        "thread may run out of pre-signed requests.\n"
    )
    w(
        "| case | round | wrk requests | sent | rows added | duplicate Request-Ids | statuses "
        "seen by wrk | rows by status and verdict | ran out | check |"
    )
    w("|---|---:|---:|---:|---:|---:|---|---|---:|---|")
    failures = []
    for n in sizes:
        for r in cases[f"inquiry_{n}"]:
            d = r["db"]
            if d is None:
                failures.append(f"{n} round {r['round']}: no database figures")
                continue
            errs = r["errors"]
            clean = (
                r["requests"] <= d["rows"] <= r["sent"]
                and set(d["by_status"]) <= {"200 success"}
                and r["non2xx"] == 0
                and d["duplicate_request_ids"] == 0
                and r["exhausted"] == 0
                and not any(errs.values())
            )
            if not clean:
                failures.append(f"{n} bills round {r['round']}")
            w(
                f"| {n:,} bills | {r['round']} | {r['requests']} | {r['sent']} | {d['rows']} | "
                f"{d['duplicate_request_ids']} | `{json.dumps(r['statuses'])}` | "
                f"`{json.dumps(d['by_status'])}` | {r['exhausted']} | "
                f"{'ok' if clean else '**FAILED**'} |"
            )
    for r in cases["hello"]:
        if r["non2xx"] or any(r["errors"].values()):
            failures.append(f"hello round {r['round']}")
        w(
            f"\nhello round {r['round']}: statuses `{json.dumps(r['statuses'])}`, wrk errors "
            f"`{json.dumps(r['errors'])}`."
        )
    w("")
    for n in sizes:
        x = extras[n]
        w(
            f"- {n:,} bills: server log lines matching Traceback/ERROR/WARNING/refused: "
            f"{x.get('server_log_problem_lines', '?')} (`{x.get('server_log', '')}`); seeding "
            f"{x.get('seed_seconds', '?')} s wall: `{x.get('seed_log', '')}`"
        )
    w("")
    if failures:
        w("**Correctness checks failed:** " + "; ".join(failures) + "\n")

    notification_failures = []
    if notification is not None:
        lines, notification_failures = notification.section(meta)
        out.extend(lines)

    for extra in (
        Path(__file__).with_name("profile.md"),
        Path(__file__).with_name("whatif.md"),
        Path(__file__).with_name("analysis.md"),
    ):
        if extra.exists():
            w(extra.read_text().rstrip() + "\n")

    finish(out, outfile, failures, notification_failures, args.fail_on)


def finish(
    out: list[str],
    outfile: Path,
    failures: list[str],
    notification_failures: list[str],
    fail_on: str,
) -> None:
    """Write the report; exit 2 when a check failed in the part ``fail_on`` names."""
    outfile.write_text("\n".join(out))
    print(f"wrote {outfile}")
    if notification_failures:
        failed = "; ".join(notification_failures)
        print(f"notification correctness checks FAILED: {failed}", file=sys.stderr)
    if failures:
        print("correctness checks FAILED: " + "; ".join(failures), file=sys.stderr)
    if (failures and fail_on in ("inquiry", "all")) or (
        notification_failures and fail_on in ("notification", "all")
    ):
        sys.exit(2)


if __name__ == "__main__":
    main()
