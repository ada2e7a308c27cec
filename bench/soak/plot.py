"""Plot a soak's intervals.csv: latency (p50/p99 per kind) and worker RSS over time.

Run with a Python that has matplotlib (bench/soak/run.sh makes bench/work/plot-venv for it;
matplotlib is not one of the app's dependencies).

Usage: python bench/soak/plot.py INTERVALS_CSV SUMMARY_JSON OUT_PNG
"""

from __future__ import annotations

import csv
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def column(rows: list[dict[str, str]], name: str) -> list[float | None]:
    return [float(r[name]) if r[name] not in ("", "None") else None for r in rows]


def main() -> None:
    csv_path, summary_path, png_path = sys.argv[1:4]
    with open(csv_path) as handle:
        rows = list(csv.DictReader(handle))
    with open(summary_path) as handle:
        summary = json.load(handle)
    t = [float(r["t_end_s"]) for r in rows]
    fig, (lat, rss, cpu) = plt.subplots(3, 1, figsize=(10, 9), sharex=True)
    for kind, colour in (("inquiry", "tab:blue"), ("notification", "tab:orange")):
        lat.plot(t, column(rows, f"{kind}_p99_ms"), color=colour, label=f"{kind} p99")
        lat.plot(t, column(rows, f"{kind}_p50_ms"), color=colour, linestyle=":",
                 label=f"{kind} p50")  # fmt: skip
    lat.axhline(50, color="red", linewidth=0.8, linestyle="--", label="target p99 50 ms")
    lat.set_ylabel("latency per interval, ms")
    lat.set_yscale("log")
    lat.legend(loc="upper right", fontsize=8)
    errors = sum(int(r["errors"]) for r in rows)
    lat.set_title(
        f"soak: {summary['inquiry_rate']:g} inquiries/s + {summary['notification_rate']:g} "
        f"notifications/s, {summary['duplicates']:.0%} duplicates, {errors} errors"
    )
    rss.plot(t, column(rows, "worker_rss_mean_mib"), label="mean worker RSS")
    rss.plot(t, column(rows, "worker_rss_max_mib"), label="largest worker RSS")
    rss.axvline(summary["warmup_s"], color="grey", linewidth=0.8, linestyle="--", label="warm-up")
    rss.set_ylabel("MiB")
    rss.legend(loc="lower right", fontsize=8)
    # The machine's CPUs (shared by gunicorn, PostgreSQL and the load generator): a latency
    # spike with steal or a busy machine is the machine's, not the code's.
    if "cpu_busy_pct" in rows[0]:
        for name, label in (("cpu_busy_pct", "busy"), ("cpu_iowait_pct", "iowait"),
                            ("cpu_steal_pct", "steal (hypervisor)")):  # fmt: skip
            cpu.plot(t, column(rows, name), label=label)
        if "sender_lag_p99_ms" in rows[0]:
            lat.plot(t, column(rows, "sender_lag_p99_ms"), color="grey", linewidth=0.8,
                     label="load generator's own lag p99")  # fmt: skip
            lat.legend(loc="upper right", fontsize=8)
    cpu.set_ylabel("% of all CPUs")
    cpu.set_xlabel("seconds since start")
    cpu.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(png_path, dpi=90)
    print(f"wrote {png_path}")


if __name__ == "__main__":
    main()
