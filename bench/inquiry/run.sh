#!/usr/bin/env bash
# Benchmark POST /doku/inquiry against a bare Flask "hello" app under the project's gunicorn
# settings, at two database sizes, and write bench/RESULTS.md. See bench/README.md.
#
#   bash bench/inquiry/run.sh                                        # from the repository root
#   BENCH_SIZES=10000 BENCH_DURATION=10s BENCH_ROUNDS=1 bash bench/inquiry/run.sh   # quick run
#   BENCH_DB_KIND=sqlite BENCH_SIZES=10000 bash bench/inquiry/run.sh                # on SQLite
#
# Only 127.0.0.1 is targeted. About 5 minutes with the defaults. Exit status 2 when a
# correctness check failed (non-2xx, socket errors, rows missing or duplicated).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
: "${BENCH_ROUNDS:=2}"        # measured runs per case; the report uses the best (highest req/s)
: "${BENCH_EXTRA_ROUNDS:=1}"  # more runs for a case whose rounds were all disturbed by other work
source bench/inquiry/lib.sh
rm -f "$BENCH_OUT"/meta.json "$BENCH_OUT"/hello*.json "$BENCH_OUT"/inquiry_*.json
# --- machine and settings --------------------------------------------------------------------
write_meta "bash bench/inquiry/run.sh" gen_requests.py
log "gunicorn workers: $WORKERS; wrk: $BENCH_THREADS threads, $BENCH_CONNECTIONS connections, $BENCH_DURATION x $BENCH_ROUNDS rounds"

# --- hello -----------------------------------------------------------------------------------
measure_hello

# --- inquiry, per size ----------------------------------------------------------------------
for size in $BENCH_SIZES; do
    name=inquiry_$size
    log "$name: re-creating database $BENCH_DB and running the migrations"
    recreate_db
    (cd "$SRC" && "$FLASK" --app wsgi db upgrade) >"$BENCH_WORK/$name.migrate.log" 2>&1 \
        || { cat "$BENCH_WORK/$name.migrate.log" >&2; exit 1; }
    log "$name: seeding $size bills ($BENCH_DB_KIND)"
    seed_start=$(date +%s%N)
    "$PY" bench/inquiry/seed.py "$size" | tee "$BENCH_WORK/$name.seed.log" >&2
    seed_ms=$(( ($(date +%s%N) - seed_start) / 1000000 ))

    "$PY" bench/inquiry/code_fingerprint.py >"$BENCH_OUT/$name.code_start.json"
    start_server "$name" wsgi:app
    log "$name: warming up for $BENCH_WARMUP (its own requests)"
    gen_requests "$name.warmup" "$BENCH_WARMUP_REQUESTS"
    wrk_run "$name.warmup" "$BENCH_WARMUP" replay /doku/inquiry "$BENCH_WORK/$name.warmup.req"
    round=0
    while more_rounds "$name" "$round"; do
        round=$((round + 1))
        run=$name.r$round
        # Generated right before the run: timestamps must stay within the 300 s tolerance.
        gen_requests "$run" "$BENCH_REQUESTS"
        sleep 1  # the previous run's last requests finish
        wait_quiet "$run"
        max_id=$("$PY" bench/inquiry/dbstats.py mark \
            | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["max_id"])')
        log "$run: measuring for $BENCH_DURATION"
        wrk_run "$run" "$BENCH_DURATION" replay /doku/inquiry "$BENCH_WORK/$run.req"
        sleep 2  # requests in flight when wrk stopped are still answered and recorded
        "$PY" bench/inquiry/dbstats.py since "$max_id" >"$BENCH_OUT/$run.db.json"
        log "$run: $(cat "$BENCH_OUT/$run.wrk.json")"
        log "$run: database: $(cat "$BENCH_OUT/$run.db.json")"
        rm -f "$BENCH_WORK/$run.req"
    done
    finish_case "$name" "$seed_ms"
done

rm -f "$BENCH_WORK"/*.req   # pre-signed requests: large, and stale within 5 minutes
"$PY" bench/inquiry/report.py "$BENCH_OUT" "$BENCH_REPORT"
