#!/usr/bin/env bash
# Benchmark POST /doku/notification (duplicates included) against the bare Flask "hello" app
# under the project's gunicorn settings, with bench/inquiry's machinery (lib.sh, seed.py,
# replay.lua, the git-archive snapshot of the code), check the database after every round, and
# re-write bench/RESULTS.md with these figures beside the inquiry's. See bench/README.md.
#
#   bash bench/notification/run.sh                                  # from the repository root
#   BENCH_DURATION=10s BENCH_ROUNDS=1 bash bench/notification/run.sh   # quick run
#
# Only 127.0.0.1 is targeted. About 3-4 minutes with the defaults (at most ~6 when rounds are
# disturbed and re-run). Exit status 2 when a correctness check failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
: "${BENCH_ROUNDS:=2}"
: "${BENCH_EXTRA_ROUNDS:=1}"
: "${BENCH_DB:=bench_notification}"           # dropped and re-created by every run
: "${BENCH_WORK:=/tmp/bench_notification}"    # code snapshot, request files, server logs
: "${BENCH_OUT:=bench/work/notification/results}"   # raw JSON figures (git-ignored)
: "${BENCH_PORT:=18081}"                      # not the inquiry's: both may run on one machine
: "${BENCH_BILLS:=200000}"                    # unpaid bills seeded
: "${BENCH_REQUESTS:=30000}"                  # notifications pre-signed per measured round
: "${BENCH_WARMUP_REQUESTS:=4000}"
: "${BENCH_REDELIVERY:=0.2}"   # share of re-deliveries: same payment, new Request-Id + timestamp
: "${BENCH_REPEAT:=0.1}"       # share of exact repeats: same Request-Id and body
: "${BENCH_INQUIRY_OUT:=bench/work/inquiry/results}"   # the inquiry's figures, for the combined report
source bench/inquiry/lib.sh
rm -f "$BENCH_OUT"/*.json "$BENCH_OUT"/gunicorn_settings.txt
name=notification

write_meta "bash bench/notification/run.sh" gen_notifications.py "$(printf \
    '{"bills": %d, "redelivery_share": %s, "repeat_share": %s, "requests_per_round": %d}' \
    "$BENCH_BILLS" "$BENCH_REDELIVERY" "$BENCH_REPEAT" "$BENCH_REQUESTS")"
log "gunicorn workers: $WORKERS; wrk: $BENCH_THREADS threads, $BENCH_CONNECTIONS connections, $BENCH_DURATION x $BENCH_ROUNDS rounds; port $BENCH_PORT"

# --- hello (this run's ceiling, for comparison) ---------------------------------------------------
measure_hello

# --- database ----------------------------------------------------------------------------------
log "$name: re-creating database $BENCH_DB and running the migrations"
psql "$BENCH_PG/$BENCH_ADMIN_DB" -q -v ON_ERROR_STOP=1 \
    -c "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)" -c "CREATE DATABASE $BENCH_DB" 2>&1 \
    | { grep -v '^NOTICE' || true; } >&2
(cd "$SRC" && "$FLASK" --app wsgi db upgrade) >"$BENCH_WORK/$name.migrate.log" 2>&1 \
    || { cat "$BENCH_WORK/$name.migrate.log" >&2; exit 1; }
log "$name: seeding $BENCH_BILLS unpaid bills with COPY"
seed_start=$(date +%s%N)
"$PY" bench/inquiry/seed.py "$BENCH_BILLS" | tee "$BENCH_WORK/$name.seed.log" >&2
seed_ms=$(( ($(date +%s%N) - seed_start) / 1000000 ))

# gen NAME COUNT: pre-signed notifications for bills still unpaid, in $BENCH_WORK/NAME.req.
gen() {
    "$PY" bench/notification/gen_notifications.py "$2" "$BENCH_WORK/$1.req" \
        "127.0.0.1:$BENCH_PORT" "$BENCH_THREADS" "$BENCH_REDELIVERY" "$BENCH_REPEAT" \
        | tee "$BENCH_WORK/$1.gen.log" >&2
}

# --- notification ------------------------------------------------------------------------------
"$PY" bench/inquiry/code_fingerprint.py >"$BENCH_OUT/$name.code_start.json"
start_server "$name" wsgi:app
log "$name: warming up for $BENCH_WARMUP (its own notifications)"
gen "$name.warmup" "$BENCH_WARMUP_REQUESTS"
wrk_run "$name.warmup" "$BENCH_WARMUP" replay /doku/notification "$BENCH_WORK/$name.warmup.req"
round=0
while more_rounds "$name" "$round"; do
    round=$((round + 1))
    run=$name.r$round
    gen "$run" "$BENCH_REQUESTS"
    sleep 1  # the previous run's last requests finish
    wait_quiet "$run"
    mark=$("$PY" bench/notification/dbstats.py mark)
    log "$run: measuring for $BENCH_DURATION"
    wrk_run "$run" "$BENCH_DURATION" replay /doku/notification "$BENCH_WORK/$run.req"
    sleep 2  # requests in flight when wrk stopped are still answered and recorded
    "$PY" bench/notification/dbstats.py since $("$PY" -c \
        'import json,sys; m=json.load(sys.stdin); print(m["notification_id"], m["payment_id"], m["exception_id"])' \
        <<<"$mark") >"$BENCH_OUT/$run.db.json"
    sed -n 's/^wrote [^ ]*: //p' "$BENCH_WORK/$run.gen.log" >"$BENCH_OUT/$run.gen.json"
    log "$run: $(cat "$BENCH_OUT/$run.wrk.json")"
    log "$run: database: $(cat "$BENCH_OUT/$run.db.json")"
    rm -f "$BENCH_WORK/$run.req"
done
finish_case "$name" "$seed_ms"

rm -f "$BENCH_WORK"/*.req
# The combined report (the inquiry's figures as its last run left them, and these); exit 2 when
# a check of THIS run failed.
"$PY" bench/inquiry/report.py "$BENCH_INQUIRY_OUT" "$BENCH_REPORT" \
    --notification "$BENCH_OUT" --fail-on notification
