#!/usr/bin/env bash
# Where does one inquiry's time go? Two views, under the same load as run.sh (32 connections,
# the project's gunicorn settings), against the database run.sh left (normally 1,000,000 bills):
#
#  1. bench/inquiry/profile_app.py: the real app with wall/CPU timers around each phase.
#  2. py-spy on every worker: on-CPU samples, then wall-clock samples (--idle).
#
# Writes bench/inquiry/profile.md and re-writes bench/RESULTS.md. About 2 minutes.
#   bash bench/inquiry/profile.sh            # from the repository root, after run.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
: "${PROFILE_DURATION:=20}"   # seconds of load per view
source bench/inquiry/lib.sh

PYSPY=$ROOT/.venv/bin/py-spy
if [[ ! -x $PYSPY ]]; then
    log "installing py-spy into .venv"
    "$ROOT/.venv/bin/pip" install -q py-spy
fi
bills=$(psql "$BENCH_PG/$BENCH_DB" -Atc "SELECT count(*) FROM bills" 2>/dev/null || echo 0)
if [[ ${bills:-0} -eq 0 ]]; then
    echo "database $BENCH_DB has no bills: run bash bench/inquiry/run.sh first" >&2; exit 1
fi
log "profiling against $BENCH_DB with $bills bills"
echo "$bills" >"$BENCH_WORK/profile_bills.txt"
export BENCH_PROFILE_DIR=$BENCH_WORK/profile
rm -rf "$BENCH_PROFILE_DIR" "$BENCH_WORK"/pyspy_*.raw
rm -f "$BENCH_OUT"/profile_*.json
"$PY" bench/inquiry/code_fingerprint.py >"$BENCH_OUT/profile_code.json"

# 1. Phase timers.
start_server profile_phases profile_app:app --pythonpath "$ROOT/bench/inquiry"
gen_requests profile.warmup "$BENCH_WARMUP_REQUESTS"
wrk_run profile.warmup "$BENCH_WARMUP" replay /doku/inquiry "$BENCH_WORK/profile.warmup.req"
gen_requests profile_phases "$BENCH_REQUESTS"
log "phase timers: ${PROFILE_DURATION}s of load"
wrk_run profile_phases "${PROFILE_DURATION}s" replay /doku/inquiry "$BENCH_WORK/profile_phases.req"
sleep 1
stop_server   # workers dump their totals every 200 requests
log "phase timers: $(cat "$BENCH_OUT/profile_phases.wrk.json")"

# 2. py-spy, on-CPU then wall-clock, on all workers of the unmodified app.
start_server profile_pyspy wsgi:app
gen_requests profile.warmup2 "$BENCH_WARMUP_REQUESTS"
wrk_run profile.warmup2 "$BENCH_WARMUP" replay /doku/inquiry "$BENCH_WORK/profile.warmup2.req"
gen_requests profile_pyspy "$BENCH_REQUESTS"
half=$(( PROFILE_DURATION / 2 ))
log "py-spy: ${PROFILE_DURATION}s of load, ${half}s on-CPU then ${half}s wall-clock"
(
    sleep 1
    "$PYSPY" record --pid "$SERVER_PID" --subprocesses --rate 200 --duration "$((half - 1))" \
        --format raw -o "$BENCH_WORK/pyspy_cpu.raw" >"$BENCH_WORK/pyspy_cpu.log" 2>&1
    "$PYSPY" record --pid "$SERVER_PID" --subprocesses --idle --rate 200 --duration "$((half - 1))" \
        --format raw -o "$BENCH_WORK/pyspy_wall.raw" >"$BENCH_WORK/pyspy_wall.log" 2>&1
) &
spy=$!
wrk_run profile_pyspy "$((PROFILE_DURATION + 1))s" replay /doku/inquiry "$BENCH_WORK/profile_pyspy.req"
wait "$spy"
stop_server
tail -n 1 "$BENCH_WORK/pyspy_cpu.log" "$BENCH_WORK/pyspy_wall.log" >&2

"$PY" bench/inquiry/profile_summary.py "$BENCH_WORK" "$BENCH_OUT"
rm -f "$BENCH_WORK"/*.req   # pre-signed requests: large, and stale within 5 minutes
if [[ -f $BENCH_OUT/meta.json ]]; then
    "$PY" bench/inquiry/report.py "$BENCH_OUT" "$BENCH_REPORT" || true
fi
