#!/usr/bin/env bash
# Every benchmark at one commit, unattended and bounded (about 20 minutes, 25 at most):
#
#   1. inquiry on PostgreSQL, 10,000 bills, with its hello    (bench/inquiry/run.sh)
#   2. notification on PostgreSQL, with its hello             (bench/notification/run.sh)
#   3. inquiry on SQLite, 10,000 bills, with its hello        (BENCH_DB_KIND=sqlite)
#   4. soak, 10 minutes, PostgreSQL                           (bench/soak/run.sh)
#
# then bench/summary.py puts the targets and figures at the top of bench/RESULTS.md and prints
# them. Raw output goes to the git-ignored bench/work/ (one log per step in bench/work/run-all/).
# A step that fails or runs over its time is recorded as such and the next one runs.
#
#   bash bench/run-all.sh                           # from the repository root
#   RUN_ALL_SOAK_SECONDS=60 bash bench/run-all.sh   # shorter soak (about 11 minutes in all)
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
: "${RUN_ALL_SOAK_SECONDS:=600}"
: "${RUN_ALL_BUDGET_SECONDS:=1500}"   # 25 minutes: a step that would not fit is skipped
LOGS=bench/work/run-all
mkdir -p "$LOGS"
# One commit for every step, even if HEAD moves meanwhile.
export BENCH_CODE=${BENCH_CODE:-$(git rev-parse --short HEAD)}
export BENCH_ROUNDS=${BENCH_ROUNDS:-2} BENCH_EXTRA_ROUNDS=${BENCH_EXTRA_ROUNDS:-0}
export BENCH_QUIET_WAIT=${BENCH_QUIET_WAIT:-10}
started=$(date +%s)
started_text=$(date -u '+%Y-%m-%d %H:%M UTC')
declare -A status=()
order=()

log() { printf '[%s] run-all: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# step NAME LIMIT_SECONDS COMMAND...: run with a time limit; its exit status goes to the summary.
step() {
    local name=$1 limit=$2; shift 2
    local elapsed=$(( $(date +%s) - started ))
    order+=("$name")
    if (( elapsed + limit > RUN_ALL_BUDGET_SECONDS )); then
        log "$name: skipped (would end after the ${RUN_ALL_BUDGET_SECONDS}s budget)"
        status[$name]=skipped
        return
    fi
    log "$name: started (at most ${limit}s; log $LOGS/$name.log)"
    local rc=0
    timeout --kill-after=20 "$limit" "$@" >"$LOGS/$name.log" 2>&1 || rc=$?
    if (( rc == 124 || rc == 137 )); then status[$name]="timed-out"; else status[$name]="exit-$rc"; fi
    log "$name: ${status[$name]} after $(( $(date +%s) - started - elapsed ))s"
}

step inquiry-postgresql 330 env BENCH_SIZES=10000 bash bench/inquiry/run.sh
step notification-postgresql 330 bash bench/notification/run.sh
step inquiry-sqlite 300 env BENCH_DB_KIND=sqlite BENCH_SIZES=10000 \
    BENCH_WORK=/tmp/bench_inquiry_sqlite BENCH_OUT=bench/work/inquiry-sqlite/results \
    BENCH_REPORT=bench/work/inquiry-sqlite/RESULTS.md bash bench/inquiry/run.sh
step soak-postgresql $(( RUN_ALL_SOAK_SECONDS + 200 )) \
    env BENCH_SOAK_SECONDS="$RUN_ALL_SOAK_SECONDS" bash bench/soak/run.sh

finished=$(date +%s)
steps_json=$(for name in "${order[@]}"; do printf '"%s": "%s",' "$name" "${status[$name]}"; done)
cat >"$LOGS/status.json" <<JSON
{"started": "$started_text", "finished": "$(date -u '+%H:%M UTC')",
 "minutes": $(( (finished - started + 59) / 60 )), "code": "$BENCH_CODE",
 "steps": {${steps_json%,}}}
JSON
.venv/bin/python bench/summary.py bench/RESULTS.md "$LOGS/status.json"
for name in "${order[@]}"; do
    [[ ${status[$name]} == exit-0 ]] || { log "not every step succeeded: see $LOGS/"; exit 2; }
done
