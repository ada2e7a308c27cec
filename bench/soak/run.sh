#!/usr/bin/env bash
# Soak: mixed DOKU traffic (inquiries 200/s + notifications 20/s, 10 % duplicates) for
# BENCH_SOAK_SECONDS (default 600) against gunicorn on PostgreSQL, then check that every
# notification was applied once. See bench/README.md.
#
#   bash bench/soak/run.sh                          # 10 minutes, from the repository root
#   BENCH_SOAK_SECONDS=60 bash bench/soak/run.sh    # a smoke run
#
# Writes bench/work/soak/results/{summary.json,intervals.csv} (git-ignored) and the plot
# bench/soak/soak.png. Exit status 2 when a request failed or a database check failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
: "${BENCH_SOAK_SECONDS:=600}"
: "${BENCH_SOAK_INTERVAL:=10}"
: "${BENCH_SOAK_INQUIRY_RATE:=200}"
: "${BENCH_SOAK_NOTIFICATION_RATE:=20}"
: "${BENCH_SOAK_DUPLICATES:=0.1}"
: "${BENCH_DB:=bench_soak}"
: "${BENCH_WORK:=/tmp/bench_soak}"
: "${BENCH_OUT:=bench/work/soak/results}"
: "${BENCH_PORT:=18082}"
: "${BENCH_SOAK_PNG:=bench/soak/soak.png}"
: "${BENCH_PLOT_VENV:=bench/work/plot-venv}"   # matplotlib lives here, not in the app's .venv
source bench/inquiry/lib.sh
rm -f "$BENCH_OUT"/summary.json "$BENCH_OUT"/intervals.csv
# Workers are not recycled during the soak (GUNICORN_MAX_REQUESTS=0): a leak must show in RSS.
export GUNICORN_MAX_REQUESTS=0

seconds=${BENCH_SOAK_SECONDS%.*}
# Warm-up (RSS and p99 are judged after it): 60 s of a 10-minute soak, a sixth of a short one.
: "${BENCH_SOAK_WARMUP:=$(( seconds >= 360 ? 60 : seconds / 6 ))}"
bills=$(( seconds * ${BENCH_SOAK_NOTIFICATION_RATE%.*} * 2 + 20000 ))
log "soak: re-creating database $BENCH_DB and running the migrations"
psql "$BENCH_PG/$BENCH_ADMIN_DB" -q -v ON_ERROR_STOP=1 \
    -c "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)" -c "CREATE DATABASE $BENCH_DB" 2>&1 \
    | { grep -v '^NOTICE' || true; } >&2
(cd "$SRC" && "$FLASK" --app wsgi db upgrade) >"$BENCH_WORK/soak.migrate.log" 2>&1 \
    || { cat "$BENCH_WORK/soak.migrate.log" >&2; exit 1; }
log "soak: seeding $bills unpaid bills"
"$PY" bench/inquiry/seed.py "$bills" >&2

start_server soak wsgi:app
log "soak: ${BENCH_SOAK_SECONDS}s of ${BENCH_SOAK_INQUIRY_RATE} inquiries/s + ${BENCH_SOAK_NOTIFICATION_RATE} notifications/s, duplicates ${BENCH_SOAK_DUPLICATES} (workers not recycled)"
rc=0
"$PY" bench/soak/soak.py --url "$URL" --server-pid "$SERVER_PID" --out "$BENCH_OUT" \
    --duration "$BENCH_SOAK_SECONDS" --warmup "$BENCH_SOAK_WARMUP" \
    --interval "$BENCH_SOAK_INTERVAL" --inquiry-rate "$BENCH_SOAK_INQUIRY_RATE" \
    --notification-rate "$BENCH_SOAK_NOTIFICATION_RATE" --duplicates "$BENCH_SOAK_DUPLICATES" \
    >"$BENCH_WORK/soak.out" || rc=$?
stop_server
cat "$BENCH_WORK/soak.out"

if [[ ! -x $BENCH_PLOT_VENV/bin/python ]] || ! "$BENCH_PLOT_VENV/bin/python" -c 'import matplotlib' 2>/dev/null; then
    log "soak: installing matplotlib into $BENCH_PLOT_VENV (the benchmark's own venv)"
    python3 -m venv "$BENCH_PLOT_VENV" && "$BENCH_PLOT_VENV/bin/pip" install -q matplotlib >&2 \
        || log "soak: could not install matplotlib; no plot"
fi
if [[ -f $BENCH_OUT/intervals.csv ]] && "$BENCH_PLOT_VENV/bin/python" -c 'import matplotlib' 2>/dev/null; then
    "$BENCH_PLOT_VENV/bin/python" bench/soak/plot.py "$BENCH_OUT/intervals.csv" \
        "$BENCH_OUT/summary.json" "$BENCH_SOAK_PNG" >&2
fi
exit $rc
