# Shared by run.sh, profile.sh, whatif.sh and bench/notification/run.sh: settings, gunicorn
# start/stop, one wrk run, rounds, the hello case, the run's meta.json. Source it from the
# repository root; set BENCH_DB, BENCH_WORK, BENCH_OUT, BENCH_PORT... first to override the
# inquiry's defaults.

: "${BENCH_DB:=bench_inquiry}"                    # dropped and re-created for every size
: "${BENCH_PG:=postgresql://postgres@127.0.0.1:5432}"
: "${BENCH_ADMIN_DB:=test}"                       # where DROP/CREATE DATABASE is issued
: "${BENCH_SIZES:=10000 1000000}"
: "${BENCH_DURATION:=20s}"
: "${BENCH_WARMUP:=5s}"
: "${BENCH_CONNECTIONS:=32}"
: "${BENCH_THREADS:=2}"
: "${BENCH_PORT:=18080}"
: "${BENCH_REQUESTS:=150000}"                     # signed requests generated per measured run
: "${BENCH_WARMUP_REQUESTS:=20000}"
: "${BENCH_WORK:=/tmp/bench_inquiry}"              # request files and server logs (large)
: "${BENCH_OUT:=bench/work/inquiry/results}"      # raw JSON figures (git-ignored), read by report.py
: "${BENCH_REPORT:=bench/RESULTS.md}"             # the report report.py writes
: "${BENCH_QUIET_WAIT:=20}"     # seconds to wait, before each measured run, for an idle machine
# Which code to measure. A commit (default HEAD): a snapshot of it (git archive, read-only) in
# $BENCH_WORK/src, so that edits made to the working tree during the run cannot mix code
# versions. "worktree": the working tree as it is, edits and all.
: "${BENCH_CODE:=HEAD}"

ROOT=$PWD
mkdir -p "$BENCH_WORK"
BENCH_WORK=$(cd "$BENCH_WORK" && pwd)
if [[ $BENCH_CODE == worktree ]]; then
    SRC=$ROOT
else
    SRC=$BENCH_WORK/src
    rm -rf "$SRC" && mkdir -p "$SRC"
    git -C "$ROOT" archive "$BENCH_CODE" | tar -x -C "$SRC"
fi
# Every Python process (helpers, flask, gunicorn) imports portal from $SRC.
export BENCH_SRC=$SRC PYTHONPATH=$SRC BENCH_CODE
PY=$ROOT/.venv/bin/python
GUNICORN=$ROOT/.venv/bin/gunicorn
FLASK=$ROOT/.venv/bin/flask
LUA=bench/inquiry/replay.lua
URL=http://127.0.0.1:$BENCH_PORT

mkdir -p "$BENCH_WORK" "$BENCH_OUT"

# Made-up credentials, for this benchmark only: they override instance/config.py.
# BENCH_DB_KIND=sqlite: the same benchmark on a SQLite file in $BENCH_WORK instead.
: "${BENCH_DB_KIND:=postgresql}"
if [[ $BENCH_DB_KIND == sqlite ]]; then
    export DATABASE_URL="sqlite:///$BENCH_WORK/$BENCH_DB.sqlite3"
else
    export DATABASE_URL="postgresql+psycopg://${BENCH_PG#postgresql://}/$BENCH_DB"
fi
export BENCH_DB_KIND
export SECRET_KEY=bench-only-secret-key
export DOKU_CLIENT_ID=MCH-BENCH-0001
export DOKU_SECRET_KEY=SK-bench-only-0001
export PUBLIC_BASE_URL=http://127.0.0.1:$BENCH_PORT   # required by newer portal/config.py
export GUNICORN_BIND=127.0.0.1:$BENCH_PORT
export GUNICORN_ACCESSLOG=                        # no access log (see gunicorn_bench.conf.py)
export BENCH_THREADS BENCH_DB

# recreate_db: an empty database $BENCH_DB (PostgreSQL) or SQLite file, before the migrations.
recreate_db() {
    if [[ $BENCH_DB_KIND == sqlite ]]; then
        rm -f "$BENCH_WORK/$BENCH_DB.sqlite3" "$BENCH_WORK/$BENCH_DB.sqlite3-wal" \
            "$BENCH_WORK/$BENCH_DB.sqlite3-shm"
        return
    fi
    psql "$BENCH_PG/$BENCH_ADMIN_DB" -q -v ON_ERROR_STOP=1 \
        -c "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)" -c "CREATE DATABASE $BENCH_DB" 2>&1 \
        | { grep -v '^NOTICE' || true; } >&2
}

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if ! command -v wrk >/dev/null 2>&1; then
    log "installing wrk with apt-get"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
command -v psql >/dev/null || { echo "psql is needed" >&2; exit 1; }

# The project's gunicorn.conf.py (the one in $SRC), loaded through bench/inquiry/gunicorn_bench.conf.py only so that
# GUNICORN_ACCESSLOG= means "no access log" (with the project's file alone gunicorn refuses to
# start on an empty value). --no-control-socket keeps this server off the default control socket
# (~/.gunicorn/gunicorn.ctl), which another gunicorn on the machine may be using.
GUNICORN_ARGS=(-c "$ROOT/bench/inquiry/gunicorn_bench.conf.py" --no-control-socket --chdir "$SRC")
SERVER_PID=

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$BENCH_PORT") 2>/dev/null; }

start_server() {  # start_server NAME APP [extra gunicorn args...]
    local name=$1 app=$2; shift 2
    if port_open; then echo "port $BENCH_PORT is already in use" >&2; exit 1; fi
    # Started from inside $SRC: gunicorn puts the directory it starts in on sys.path ahead of
    # --chdir, so starting from the repository root would import the working tree's portal/.
    (cd "$SRC" && exec "$GUNICORN" "${GUNICORN_ARGS[@]}" "$@" "$app") \
        >"$BENCH_WORK/$name.gunicorn.log" 2>&1 &
    SERVER_PID=$!
    export BENCH_SERVER_PID=$SERVER_PID   # cpu_split.py counts this process tree as "server"
    for _ in $(seq 100); do port_open && break; sleep 0.1; done
    if port_open; then
        for _ in $(seq 100); do
            grep -q 'bench: portal imported from' "$BENCH_WORK/$name.gunicorn.log" && break
            sleep 0.1
        done
        if grep 'bench: portal imported from' "$BENCH_WORK/$name.gunicorn.log" \
            | grep -v "from $SRC/portal/__init__.py" | grep -qv 'from None'; then
            echo "a worker imported portal from outside $SRC:" >&2
            grep 'bench: portal imported from' "$BENCH_WORK/$name.gunicorn.log" >&2
            exit 1
        fi
        return 0
    fi
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
trap 'stop_watcher; stop_server' EXIT

# wrk_run NAME DURATION MODE PATH [REQUESTS_FILE]: wrk's output in $BENCH_WORK/NAME.wrk.txt;
# the BENCH_JSON line printed by replay.lua's done() in $BENCH_OUT/NAME.wrk.json; CPU used by
# each kind of process during the run (cpu_split.py) in $BENCH_OUT/NAME.cpu.json.
WATCHER_PID=
wrk_run() {
    local name=$1 duration=$2 mode=$3 path=$4 file=${5:-} rc=0
    "$PY" bench/inquiry/cpu_split.py "$BENCH_OUT/$name.cpu.json" &
    WATCHER_PID=$!
    BENCH_MODE=$mode BENCH_PATH=$path BENCH_REQUESTS=$file \
        wrk -t"$BENCH_THREADS" -c"$BENCH_CONNECTIONS" -d"$duration" --latency -s "$LUA" "$URL" \
        >"$BENCH_WORK/$name.wrk.txt" 2>&1 || rc=$?
    stop_watcher
    sed -n 's/^BENCH_JSON //p' "$BENCH_WORK/$name.wrk.txt" >"$BENCH_OUT/$name.wrk.json"
    if [[ $rc -ne 0 || ! -s $BENCH_OUT/$name.wrk.json ]]; then
        echo "wrk failed (exit $rc) or printed no figures:" >&2
        cat "$BENCH_WORK/$name.wrk.txt" >&2
        exit 1
    fi
}

stop_watcher() {
    if [[ -n $WATCHER_PID ]]; then
        kill -TERM "$WATCHER_PID" 2>/dev/null || true
        wait "$WATCHER_PID" 2>/dev/null || true
        WATCHER_PID=
    fi
}

# wait_quiet NAME: before a measured run, wait up to $BENCH_QUIET_WAIT s for the machine to be
# idle (someone else's tests share the CPUs); how busy it still was goes to NAME.quiet.json.
wait_quiet() {
    local busy
    busy=$("$PY" bench/inquiry/cpu_split.py --wait-quiet "$BENCH_QUIET_WAIT")
    printf '{"busy_before": %s}\n' "$busy" >"$BENCH_OUT/$1.quiet.json"
    if "$PY" -c "import sys; sys.exit(float('$busy') <= 0.15)"; then
        log "$1: machine still $busy busy after ${BENCH_QUIET_WAIT}s; measuring anyway"
    fi
}

# gen_requests NAME COUNT: signed requests for the current database in $BENCH_WORK/NAME.req.
gen_requests() {
    "$PY" bench/inquiry/gen_requests.py "$2" "$BENCH_WORK/$1.req" "127.0.0.1:$BENCH_PORT" \
        "$BENCH_THREADS" >&2
}

# clean_rounds NAME: how many of NAME's rounds other processes did not disturb (report.py's rule).
clean_rounds() {
    "$PY" - "$BENCH_OUT" "$1" <<'PYEOF'
import json, sys
from pathlib import Path
out, name = Path(sys.argv[1]), sys.argv[2]
clean = 0
for f in out.glob(f"{name}.r*.cpu.json"):
    c = json.loads(f.read_text())
    clean += c["kinds"].get("other", 0.0) / c["seconds"] <= 0.2
print(clean)
PYEOF
}
# more_rounds NAME ROUND: whether to run round ROUND+1 of NAME (BENCH_ROUNDS, then up to
# BENCH_EXTRA_ROUNDS more while every round so far was disturbed).
more_rounds() {
    (( $2 < BENCH_ROUNDS )) && return 0
    (( $2 < BENCH_ROUNDS + BENCH_EXTRA_ROUNDS )) && [[ $(clean_rounds "$1") -eq 0 ]] && return 0
    return 1
}

# measure_hello: bench/hello_app.py under the same server settings, a warm-up then the rounds,
# into $BENCH_OUT/hello.r*.json.
measure_hello() {
    local round=0
    log "hello: starting gunicorn (bench/hello_app.py)"
    start_server hello hello_app:app --pythonpath "$ROOT/bench"
    wrk_run hello.warmup "$BENCH_WARMUP" static /hello
    while more_rounds hello "$round"; do
        round=$((round + 1))
        wait_quiet "hello.r$round"
        log "hello: round $round, $BENCH_DURATION"
        wrk_run "hello.r$round" "$BENCH_DURATION" static /hello
        log "hello: $(cat "$BENCH_OUT/hello.r$round.wrk.json")"
    done
    stop_server
}

# write_meta RUN_COMMAND GENERATOR [EXTRA_JSON]: the machine, the server's effective settings and
# the exact commands into $BENCH_OUT/meta.json (report.py reads it); GENERATOR names the script
# that writes the requests files, EXTRA_JSON (an object) is merged in. Sets WORKERS.
write_meta() {
    "$GUNICORN" "${GUNICORN_ARGS[@]}" --print-config wsgi:app \
        | grep -E '^(bind|workers|worker_class|threads|timeout|keepalive|max_requests|max_requests_jitter|accesslog|preload_app) ' \
        >"$BENCH_OUT/gunicorn_settings.txt"
    WORKERS=$(awk '$1=="workers"{print $3}' "$BENCH_OUT/gunicorn_settings.txt")
    local wrk_cmd="wrk -t$BENCH_THREADS -c$BENCH_CONNECTIONS -d$BENCH_DURATION --latency -s $LUA $URL"
    local server="PYTHONPATH=$SRC GUNICORN_BIND=127.0.0.1:$BENCH_PORT GUNICORN_ACCESSLOG= .venv/bin/gunicorn ${GUNICORN_ARGS[*]}"
    META_RUN=$1 META_GEN=$2 META_EXTRA=${3:-"{}"} META_WORKERS=$WORKERS META_WRK=$wrk_cmd \
        META_SERVER=$server META_PG=$BENCH_PG/$BENCH_ADMIN_DB META_DURATION=$BENCH_DURATION \
        META_WARMUP=$BENCH_WARMUP META_CONNECTIONS=$BENCH_CONNECTIONS META_SIZES=$BENCH_SIZES \
        META_ROUNDS=${BENCH_ROUNDS:-1} META_EXTRA_ROUNDS=${BENCH_EXTRA_ROUNDS:-0} META_ROOT=$ROOT \
        "$PY" - "$BENCH_OUT/meta.json" "$BENCH_OUT/gunicorn_settings.txt" <<'PYEOF'
import json, os, platform, subprocess, sys
from datetime import datetime, timezone
e = os.environ
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem = next((l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")), "0")
pg = subprocess.run(["psql", e["META_PG"], "-Atc", "show server_version"],
                    capture_output=True, text=True).stdout.strip()
meta = {
    "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    "nproc": os.cpu_count(), "cpu": cpu, "mem_gib": round(int(mem) / 2**20, 1),
    "kernel": platform.release(), "python": platform.python_version(), "postgres": pg,
    "database": e.get("BENCH_DB_KIND", "postgresql"),
    "loadavg_at_start": open("/proc/loadavg").read().split()[:3],
    "git_head": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip(),
    "git_uncommitted": subprocess.run(["git", "status", "--porcelain", "--", "portal", "migrations", "gunicorn.conf.py", "wsgi.py"], capture_output=True, text=True).stdout.split("\n"),
    "wrk": subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0].split(" Copyright")[0].strip(),
    "gunicorn_workers": int(e["META_WORKERS"]),
    "gunicorn_settings": open(sys.argv[2]).read(),
    "duration": e["META_DURATION"], "warmup": e["META_WARMUP"],
    "connections": int(e["META_CONNECTIONS"]), "threads": int(e["BENCH_THREADS"]),
    "sizes": e["META_SIZES"].split(),
    "rounds": int(e["META_ROUNDS"]) + int(e["META_EXTRA_ROUNDS"]), "min_rounds": int(e["META_ROUNDS"]),
    "run_command": e["META_RUN"],
    "code": e["BENCH_CODE"], "src": e["BENCH_SRC"],
    "server_command": f"{e['META_SERVER']} wsgi:app",
    "hello_server_command": f"{e['META_SERVER']} --pythonpath {e['META_ROOT']}/bench hello_app:app",
    "wrk_command": f"BENCH_MODE=replay BENCH_REQUESTS=<file from {e['META_GEN']}> BENCH_THREADS={e['BENCH_THREADS']} {e['META_WRK']}",
    "hello_wrk_command": f"BENCH_MODE=static BENCH_PATH=/hello BENCH_THREADS={e['BENCH_THREADS']} {e['META_WRK']}",
}
meta.update(json.loads(e["META_EXTRA"]))
json.dump(meta, open(sys.argv[1], "w"), indent=1)
PYEOF
}

# finish_case NAME SEED_MS: stop the server, note the code it ran and what its log and the
# seeding said, in $BENCH_OUT/NAME.extra.json (report.py reads it).
finish_case() {
    local name=$1 seed_ms=$2 problems
    stop_server
    "$PY" bench/inquiry/code_fingerprint.py >"$BENCH_OUT/$name.code_end.json"
    problems=$(grep -cE 'Traceback|\[ERROR\]|WARNING|refused' "$BENCH_WORK/$name.gunicorn.log" || true)
    "$PY" - "$BENCH_OUT/$name.extra.json" <<PYEOF
import json, sys
json.dump({"seed_seconds": round($seed_ms / 1000, 1),
           "seed_log": open("$BENCH_WORK/$name.seed.log").read().strip(),
           "server_log_problem_lines": int("${problems:-0}"),
           "server_log": "$BENCH_WORK/$name.gunicorn.log"}, open(sys.argv[1], "w"))
PYEOF
}
