#!/usr/bin/env bash
# What-if runs for the inquiry against the database run.sh left: the same load with other
# gunicorn settings (and one PostgreSQL setting on the benchmark database only), to tell which
# changes outside the view code would move the figures. Writes bench/inquiry/whatif.md, which
# report.py appends to bench/RESULTS.md. About 3 minutes.
#   bash bench/inquiry/whatif.sh                  # from the repository root, after run.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
: "${WHATIF_DURATION:=15s}"
source bench/inquiry/lib.sh
rm -f "$BENCH_OUT"/whatif_*.json

bills=$(psql "$BENCH_PG/$BENCH_DB" -Atc "SELECT count(*) FROM bills" 2>/dev/null || echo 0)
[[ ${bills:-0} -gt 0 ]] || { echo "run bash bench/inquiry/run.sh first" >&2; exit 1; }

# name | environment | extra gunicorn arguments | description
CASES=(
  "baseline||-|project settings: 5 sync workers"
  "sync2|WEB_CONCURRENCY=2|-|2 sync workers (one per core)"
  "sync3|WEB_CONCURRENCY=3|-|3 sync workers"
  "gthread2x4|WEB_CONCURRENCY=2|--worker-class gthread --threads 4|2 gthread workers x 4 threads (keep-alive: no new TCP connection per request)"
  "gthread3x4|WEB_CONCURRENCY=3|--worker-class gthread --threads 4|3 gthread workers x 4 threads"
  "nosync|PGSYNC=off|-|project settings, synchronous_commit=off on the benchmark database"
)
"$PY" bench/inquiry/code_fingerprint.py >"$BENCH_OUT/whatif_code.json"
for spec in "${CASES[@]}"; do
    IFS='|' read -r name envs extra desc <<<"$spec"
    args=()
    [[ $extra != - ]] && read -ra args <<<"$extra"
    if [[ $envs == PGSYNC=off ]]; then
        psql "$BENCH_PG/$BENCH_DB" -qc "ALTER DATABASE $BENCH_DB SET synchronous_commit = off"
        envs=
    fi
    log "what-if $name: $desc"
    unset WEB_CONCURRENCY
    if [[ -n $envs ]]; then export "${envs?}"; fi
    start_server "whatif_$name" wsgi:app "${args[@]}"
    gen_requests "whatif_$name.warmup" 10000
    wrk_run "whatif_$name.warmup" 3s replay /doku/inquiry "$BENCH_WORK/whatif_$name.warmup.req"
    gen_requests "whatif_$name" "$BENCH_REQUESTS"
    wait_quiet "whatif_$name"
    wrk_run "whatif_$name" "$WHATIF_DURATION" replay /doku/inquiry "$BENCH_WORK/whatif_$name.req"
    stop_server
    unset WEB_CONCURRENCY
    psql "$BENCH_PG/$BENCH_DB" -qc "ALTER DATABASE $BENCH_DB RESET synchronous_commit"
    log "what-if $name: $(cat "$BENCH_OUT/whatif_$name.wrk.json")"
done

"$PY" - "$BENCH_OUT" "$bills" "${CASES[@]}" <<'PYEOF'
import json, sys
from pathlib import Path
import os
out, bills, cases = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
nproc = os.cpu_count()
code = json.loads((out / "whatif_code.json").read_text())
lines = ["## What-if: other server settings (inquiry only)\n",
         f"`bash bench/inquiry/whatif.sh`: same load (32 connections, wrk 2 threads), {bills} bills, "
         f"code {code['head']} / {code['fingerprint']}; one short run each, so differences under "
         "about 10 % are noise, and a case with other processes using CPU was disturbed: "
         "compare the CPU-bound ceiling (CPUs / CPU per request). Not the project's settings: "
         "what changing them would buy.\n",
         "| case | req/s | p50 ms | p99 ms | non-2xx | server CPU ms/req | postgres CPU ms/req | CPU-bound ceiling req/s | other processes (CPUs) |",
         "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
for spec in cases:
    name, _, _, desc = spec.split("|")
    r = json.loads((out / f"whatif_{name}.wrk.json").read_text())
    c = json.loads((out / f"whatif_{name}.cpu.json").read_text())
    k = c["kinds"]
    ours = c["machine_busy"] - k.get("other", 0) - k.get("py-spy", 0)  # server, pg, wrk, kernel
    cap = 1000 * nproc / (1000 * ours / r["requests"])
    lines.append(f"| {desc} | {r['rps']:.0f} | {r['latency_ms']['p50']:.1f} | "
                 f"{r['latency_ms']['p99']:.1f} | {r['non2xx']} | "
                 f"{1000 * k.get('server', 0) / r['requests']:.2f} | "
                 f"{1000 * k.get('postgres', 0) / r['requests']:.2f} | {cap:.0f} | "
                 f"{k.get('other', 0) / c['seconds']:.2f} |")
summary = Path("bench/inquiry/whatif.md")  # the summary kept in git; raw figures in $BENCH_OUT
summary.write_text("\n".join(lines) + "\n")
print(f"wrote {summary}")
PYEOF
rm -f "$BENCH_WORK"/*.req   # pre-signed requests: large, and stale within 5 minutes
if [[ -f $BENCH_OUT/meta.json ]]; then
    "$PY" bench/inquiry/report.py "$BENCH_OUT" "$BENCH_REPORT" || true
fi
