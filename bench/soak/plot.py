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
    fig, (lat, rss) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
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
    rss.set_xlabel("seconds since start")
    rss.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(png_path, dpi=90)
    print(f"wrote {png_path}")


if __name__ == "__main__":
    main()
