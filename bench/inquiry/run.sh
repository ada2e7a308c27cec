#!/usr/bin/env bash
# Benchmark POST /doku/inquiry against a bare Flask "hello" app, under the project's gunicorn
# settings, at two database sizes. Writes bench/RESULTS.md. See bench/README.md.
#
#   bash bench/inquiry/run.sh                      # from the repository root
#   BENCH_SIZES=10000 BENCH_DURATION=10s bash bench/inquiry/run.sh   # a quick run
#
# Targets 127.0.0.1 only. Takes about 4-5 minutes with the defaults.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD

: "${BENCH_DB:=bench_inquiry}"                    # dropped and re-created for every size
: "${BENCH_PG:=postgresql://postgres@127.0.0.1:5432}"
: "${BENCH_ADMIN_DB:=test}"                       # where DROP/CREATE DATABASE is issued
: "${BENCH_SIZES:=10000 1000000}"
: "${BENCH_DURATION:=25s}"
: "${BENCH_WARMUP:=5s}"
: "${BENCH_CONNECTIONS:=32}"
: "${BENCH_THREADS:=2}"
: "${BENCH_PORT:=18080}"
: "${BENCH_REQUESTS:=150000}"                     # signed requests generated per measured run
: "${BENCH_WARMUP_REQUESTS:=20000}"
: "${BENCH_WORK:=/tmp/bench_inquiry}"              # request files and server logs (large)
: "${BENCH_OUT:=bench/inquiry/results}"           # JSON figures, read by report.py

PY=$ROOT/.venv/bin/python
GUNICORN=$ROOT/.venv/bin/gunicorn
FLASK=$ROOT/.venv/bin/flask
LUA=bench/inquiry/replay.lua
URL=http://127.0.0.1:$BENCH_PORT

mkdir -p "$BENCH_WORK" "$BENCH_OUT"
rm -f "$BENCH_OUT"/*.json

# Made-up credentials, for this benchmark only: they override instance/config.py.
export DATABASE_URL="postgresql+psycopg://${BENCH_PG#postgresql://}/$BENCH_DB"
export SECRET_KEY=bench-only-secret-key
export DOKU_CLIENT_ID=MCH-BENCH-0001
export DOKU_SECRET_KEY=SK-bench-only-0001
export GUNICORN_BIND=127.0.0.1:$BENCH_PORT
export GUNICORN_ACCESSLOG=                        # no access log (see gunicorn_bench.conf.py)
export BENCH_THREADS

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# --- tools -----------------------------------------------------------------------------------
if ! command -v wrk >/dev/null 2>&1; then
    log "installing wrk with apt-get"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
command -v psql >/dev/null || { echo "psql is needed" >&2; exit 1; }

# --- gunicorn --------------------------------------------------------------------------------
# The project's gunicorn.conf.py, loaded through bench/inquiry/gunicorn_bench.conf.py only so that
# GUNICORN_ACCESSLOG= means "no access log" (the project's file makes gunicorn refuse to start
# on an empty value). --no-control-socket keeps this server off the default control socket
# (~/.gunicorn/gunicorn.ctl) that another gunicorn on the machine may be using.
GUNICORN_ARGS=(-c bench/inquiry/gunicorn_bench.conf.py --no-control-socket)
SERVER_PID=

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$BENCH_PORT") 2>/dev/null; }

start_server() {  # start_server NAME APP [extra gunicorn args...]
    local name=$1 app=$2; shift 2
    if port_open; then echo "port $BENCH_PORT is already in use" >&2; exit 1; fi
    "$GUNICORN" "${GUNICORN_ARGS[@]}" "$@" "$app" >"$BENCH_WORK/$name.gunicorn.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 100); do port_open && return 0; sleep 0.1; done
    echo "gunicorn did not start; see $BENCH_WORK/$name.gunicorn.log" >&2
    tail -20 "$BENCH_WORK/$name.gunicorn.log" >&2
    exit 1
}

stop_server() {
    if [[ -n $SERVER_PID ]]; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
}
trap stop_server EXIT

# wrk_run NAME DURATION MODE PATH [REQUESTS_FILE]: output in $BENCH_WORK/NAME.wrk.txt, figures
# (the BENCH_JSON line printed by replay.lua's done()) in $BENCH_OUT/NAME.wrk.json.
wrk_run() {
    local name=$1 duration=$2 mode=$3 path=$4 file=${5:-}
    BENCH_MODE=$mode BENCH_PATH=$path BENCH_REQUESTS=$file \
        wrk -t"$BENCH_THREADS" -c"$BENCH_CONNECTIONS" -d"$duration" --latency -s "$LUA" "$URL" \
        >"$BENCH_WORK/$name.wrk.txt" 2>&1
    sed -n 's/^BENCH_JSON //p' "$BENCH_WORK/$name.wrk.txt" >"$BENCH_OUT/$name.wrk.json"
    if [[ ! -s $BENCH_OUT/$name.wrk.json ]]; then
        echo "wrk printed no figures:" >&2; cat "$BENCH_WORK/$name.wrk.txt" >&2; exit 1
    fi
}

WRK_CMD="wrk -t$BENCH_THREADS -c$BENCH_CONNECTIONS -d$BENCH_DURATION --latency -s $LUA $URL"

# --- machine and settings --------------------------------------------------------------------
WORKERS=$("$GUNICORN" "${GUNICORN_ARGS[@]}" --print-config wsgi:app | awk '$1=="workers"{print $3}')
"$GUNICORN" "${GUNICORN_ARGS[@]}" --print-config wsgi:app \
    | grep -E '^(bind|workers|worker_class|threads|timeout|keepalive|max_requests|max_requests_jitter|accesslog|preload_app) ' \
    >"$BENCH_OUT/gunicorn_settings.txt"
"$PY" - "$BENCH_OUT/meta.json" <<EOF
import json, os, platform, subprocess, sys
from datetime import datetime, timezone
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem = next((l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")), "0")
pg = subprocess.run(["psql", "$BENCH_PG/$BENCH_ADMIN_DB", "-Atc", "show server_version"],
                    capture_output=True, text=True).stdout.strip()
meta = {
    "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    "nproc": os.cpu_count(), "cpu": cpu, "mem_gib": round(int(mem) / 2**20, 1),
    "kernel": platform.release(), "python": platform.python_version(), "postgres": pg,
    "wrk": subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0].strip(),
    "gunicorn_workers": int("$WORKERS"),
    "gunicorn_settings": open("$BENCH_OUT/gunicorn_settings.txt").read(),
    "duration": "$BENCH_DURATION", "warmup": "$BENCH_WARMUP", "connections": $BENCH_CONNECTIONS,
    "threads": $BENCH_THREADS, "sizes": "$BENCH_SIZES".split(),
    "run_command": "bash bench/inquiry/run.sh",
    "server_command": "GUNICORN_BIND=127.0.0.1:$BENCH_PORT GUNICORN_ACCESSLOG= .venv/bin/gunicorn ${GUNICORN_ARGS[*]} wsgi:app",
    "hello_server_command": "GUNICORN_BIND=127.0.0.1:$BENCH_PORT GUNICORN_ACCESSLOG= .venv/bin/gunicorn ${GUNICORN_ARGS[*]} --pythonpath bench hello_app:app",
    "wrk_command": "BENCH_MODE=replay BENCH_REQUESTS=<file> BENCH_THREADS=$BENCH_THREADS $WRK_CMD",
    "hello_wrk_command": "BENCH_MODE=static BENCH_PATH=/hello BENCH_THREADS=$BENCH_THREADS $WRK_CMD",
}
json.dump(meta, open(sys.argv[1], "w"), indent=1)
EOF
log "gunicorn workers: $WORKERS; wrk: $BENCH_THREADS threads, $BENCH_CONNECTIONS connections, $BENCH_DURATION"

# --- hello -----------------------------------------------------------------------------------
log "hello: starting gunicorn (bench/hello_app.py)"
start_server hello hello_app:app --pythonpath bench
wrk_run hello.warmup "$BENCH_WARMUP" static /hello
log "hello: measuring for $BENCH_DURATION"
wrk_run hello "$BENCH_DURATION" static /hello
stop_server
log "hello: $(cat "$BENCH_OUT/hello.wrk.json")"

# --- inquiry, per size ----------------------------------------------------------------------
for size in $BENCH_SIZES; do
    name=inquiry_$size
    log "$name: re-creating database $BENCH_DB and running the migrations"
    psql "$BENCH_PG/$BENCH_ADMIN_DB" -q -v ON_ERROR_STOP=1 \
        -c "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)" -c "CREATE DATABASE $BENCH_DB" 2>&1 \
        | grep -v '^NOTICE' >&2 || true
    "$FLASK" --app wsgi db upgrade >"$BENCH_WORK/$name.migrate.log" 2>&1 \
        || { cat "$BENCH_WORK/$name.migrate.log" >&2; exit 1; }
    log "$name: seeding $size bills with COPY"
    seed_start=$(date +%s%N)
    "$PY" bench/inquiry/seed.py "$size" | tee "$BENCH_WORK/$name.seed.log" >&2
    seed_ms=$(( ($(date +%s%N) - seed_start) / 1000000 ))

    start_server "$name" wsgi:app
    log "$name: warming up for $BENCH_WARMUP (its own requests file)"
    "$PY" bench/inquiry/gen_requests.py "$BENCH_WARMUP_REQUESTS" "$BENCH_WORK/$name.warmup.req" \
        "127.0.0.1:$BENCH_PORT" "$BENCH_THREADS" >&2
    wrk_run "$name.warmup" "$BENCH_WARMUP" replay /doku/inquiry "$BENCH_WORK/$name.warmup.req"

    # Generated right before the run: the timestamps must stay within the 300 s tolerance.
    "$PY" bench/inquiry/gen_requests.py "$BENCH_REQUESTS" "$BENCH_WORK/$name.req" \
        "127.0.0.1:$BENCH_PORT" "$BENCH_THREADS" >&2
    sleep 1  # let the warm-up's last requests finish
    before=$("$PY" bench/inquiry/dbstats.py mark)
    max_id=$(echo "$before" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["max_id"])')
    log "$name: measuring for $BENCH_DURATION"
    wrk_run "$name" "$BENCH_DURATION" replay /doku/inquiry "$BENCH_WORK/$name.req"
    sleep 2  # requests still in flight when wrk stopped are answered and recorded
    stop_server
    "$PY" bench/inquiry/dbstats.py since "$max_id" >"$BENCH_OUT/$name.db.json"
    grep -cE 'Traceback|\[ERROR\]|WARNING|refused' "$BENCH_WORK/$name.gunicorn.log" \
        >"$BENCH_WORK/$name.problems" || true
    "$PY" - "$BENCH_OUT/$name.extra.json" <<EOF
import json, sys
json.dump({"seed_seconds": round($seed_ms / 1000, 1),
           "seed_log": open("$BENCH_WORK/$name.seed.log").read().strip(),
           "server_log_problem_lines": int(open("$BENCH_WORK/$name.problems").read().strip() or 0),
           "server_log": "$BENCH_WORK/$name.gunicorn.log"}, open(sys.argv[1], "w"))
EOF
    log "$name: $(cat "$BENCH_OUT/$name.wrk.json")"
    log "$name: database: $(cat "$BENCH_OUT/$name.db.json")"
done

"$PY" bench/inquiry/report.py "$BENCH_OUT" bench/RESULTS.md
