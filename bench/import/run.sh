#!/usr/bin/env bash
# Import benchmark: N new rows with `flask bills import`, then the very same file again, on
# SQLite and on PostgreSQL; wall time, rows/s and peak RSS (GNU time). See bench/import/README.md.
#
#   bash bench/import/run.sh                  # from the repository root; N=100000
#   BENCH_ROWS=20000 bash bench/import/run.sh # smaller
#   BENCH_DATABASES=sqlite bash bench/import/run.sh
#
# Writes only bench/work/import/ (git-ignored), the SQLite file there and the PostgreSQL
# database bench_import (dropped and re-created). The working tree's code is measured.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
: "${BENCH_ROWS:=100000}"
: "${BENCH_DATABASES:=sqlite postgresql}"
: "${BENCH_PG:=postgresql://postgres@127.0.0.1:5432}"
WORK=bench/work/import
mkdir -p "$WORK"
export SECRET_KEY=bench-secret DOKU_CLIENT_ID=MCH-BENCH DOKU_SECRET_KEY=SK-bench
export PUBLIC_BASE_URL=http://127.0.0.1 PORTAL_INSTANCE_PATH="$PWD/$WORK/instance" LOG_LEVEL=WARNING
mkdir -p "$PORTAL_INSTANCE_PATH"
FLASK="$PWD/.venv/bin/flask"
file="$WORK/bills-$BENCH_ROWS.csv"
[ -s "$file" ] || .venv/bin/python bench/import/gen.py "$BENCH_ROWS" "$file"
results="$WORK/results.tsv"
printf 'database\trun\trows\twall_s\trows_per_s\tpeak_rss_mb\tsummary\n' >"$results"

for database in $BENCH_DATABASES; do
    if [ "$database" = sqlite ]; then
        rm -f "$WORK"/bench.sqlite3*
        export DATABASE_URL="sqlite:///$PWD/$WORK/bench.sqlite3"
    else
        psql "$BENCH_PG/postgres" -q -v ON_ERROR_STOP=1 \
            -c "DROP DATABASE IF EXISTS bench_import WITH (FORCE)" -c "CREATE DATABASE bench_import"
        export DATABASE_URL="$BENCH_PG/bench_import"
    fi
    "$FLASK" --app wsgi db upgrade >"$WORK/$database.migrate.log" 2>&1
    for run in new again; do
        log="$WORK/$database.$run"
        /usr/bin/time -v -o "$log.time" "$FLASK" --app wsgi bills import "$file" \
            >"$log.out" 2>"$log.err"
        wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log.time" \
            | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
        rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log.time")
        summary=$(grep -o 'created [0-9]*, updated [0-9]*, unchanged [0-9]*' "$log.out" || true)
        printf '%s\t%s\t%s\t%s\t%.0f\t%.0f\t%s\n' "$database" "$run" "$BENCH_ROWS" "$wall" \
            "$(echo "$BENCH_ROWS / $wall" | bc -l)" "$(echo "$rss_kb / 1024" | bc -l)" \
            "$summary" >>"$results"
        tail -n 1 "$results"
    done
done
column -t -s $'\t' "$results"

# Inquiries while a 20,000-row file of new bills goes into the SQLite database above.
if [[ " $BENCH_DATABASES " == *" sqlite "* ]]; then
    export DATABASE_URL="sqlite:///$PWD/$WORK/bench.sqlite3"
    during="$WORK/bills-during-20000.csv"
    [ -s "$during" ] || .venv/bin/python bench/import/gen.py 20000 "$during" DURING
    rm -f "$WORK/stop"
    .venv/bin/python bench/import/inquire_during.py "$WORK/stop" "$WORK/inquiries-during.json" \
        >"$WORK/inquiries-during.out" 2>&1 &
    asker=$!
    sleep 5  # the asker's app is up and answering before the import starts
    /usr/bin/time -v -o "$WORK/during.time" "$FLASK" --app wsgi bills import "$during" \
        >"$WORK/during.out" 2>"$WORK/during.err"
    touch "$WORK/stop"
    wait "$asker"
    echo "inquiries during a 20,000-row import (SQLite): $(cat "$WORK/inquiries-during.json")"
    grep -o 'created [0-9]*' "$WORK/during.out"
fi
