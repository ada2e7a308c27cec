#!/usr/bin/env bash
# Mutation testing of the money code: how much of it the tests actually hold in place.
#
#   ./scripts/mutation.sh                               # the five money modules, one at a time
#   ./scripts/mutation.sh portal/services/traffic/payments.py   # only these modules
#   MAX_CHILDREN=2 ./scripts/mutation.sh                # more parallel test runs (default 1)
#   KEEP_MUTANTS=1 ./scripts/mutation.sh ...            # reuse mutants/ and the results in it
#   KEEP_MUTANTS=1 MUTANTS='portal.services.traffic.payments.x_record_result*' \
#       ./scripts/mutation.sh portal/services/traffic/payments.py  # only these mutants again
#   MUTATION_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test ./scripts/mutation.sh ...
#                                                       # on PostgreSQL (the inquiry's psycopg
#                                                       # path runs only there)
#
# mutmut 3 (configured in pyproject.toml [tool.mutmut]) copies the code to mutants/, changes it
# one small step at a time (a < for a <=, an `and` for an `or`, a value dropped) and runs the
# fast tests that reach the changed function (SQLite; never the live servers or the browser).
# A mutant the tests do not notice "survived": a change to the money code no test would catch.
# Prints a score per module: mutants killed / mutants checked. Results: scripts/mutation-results.md.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)

MODULES=("$@")
if [ ${#MODULES[@]} -eq 0 ]; then
    MODULES=(
        portal/services/traffic/payments.py
        portal/services/traffic/inquiries.py
        portal/services/billing/payability.py
        portal/api/auth.py
        portal/doku/signature.py
        portal/doku/limits.py
    )
fi

# A virtualenv of its own: mutmut brings setproctitle, and with it installed gunicorn rewrites
# its process title over its environment, which the live tests read to find their servers.
VENV=.venv-mutation
if [ ! -x "$VENV/bin/mutmut" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q -r requirements/lock-test.txt 'mutmut>=3.8,<4'
    "$VENV/bin/python" -m pip install -q --no-deps -e .
fi

if [ -z "${KEEP_MUTANTS:-}" ]; then
    rm -rf mutants
fi

mkdir -p mutants

# Tests never read the developer's instance/ (see tests/conftest.py); nor a TEST_DATABASE_URL,
# unless MUTATION_DATABASE_URL names the PostgreSQL database to run them on.
unset TEST_DATABASE_URL
if [ -n "${MUTATION_DATABASE_URL:-}" ]; then
    export TEST_DATABASE_URL=$MUTATION_DATABASE_URL
fi

for module in "${MODULES[@]}"; do
    if [ ! -f "$module" ]; then
        echo "no such module: $module" >&2
        exit 2
    fi
    dotted=${module%.py}
    dotted=${dotted//\//.}
    echo "== $module"
    # mutmut prints a progress line many times a second; keep only its end.
    # shellcheck disable=SC2086  # MUTANTS: several name patterns, split on spaces
    "$VENV/bin/mutmut" run --max-children "${MAX_CHILDREN:-1}" ${MUTANTS:-"${dotted}.*"} \
        > "mutants/run-${dotted}.log" 2>&1 || {
        tail -c 3000 "mutants/run-${dotted}.log" >&2
        exit 1
    }
done

echo
echo "Mutation score (killed / checked; a timeout counts as killed):"
"$VENV/bin/python" - "$ROOT" "${MODULES[@]}" <<'PY'
import json
import sys
from pathlib import Path

root = Path(sys.argv[1])
KILLED = {1, 3, 24, -24, 36, 37, 152, 255}
NO_TESTS = 33  # no test of the selection runs the function: as good as survived
total_killed = total_checked = 0
for module in sys.argv[2:]:
    meta = root / "mutants" / f"{module}.meta"
    codes = json.loads(meta.read_text())["exit_code_by_key"]
    checked = {k: c for k, c in codes.items() if c is not None and c != 34}
    killed = sum(1 for c in checked.values() if c in KILLED)
    survivors = sorted(k for k, c in checked.items() if c not in KILLED)
    total_killed += killed
    total_checked += len(checked)
    score = 100 * killed / len(checked) if checked else 100.0
    print(f"  {module:34} {killed:4} / {len(checked):4}  {score:5.1f} %")
    for name in survivors:
        how = "no test reaches it" if codes[name] == NO_TESTS else "survived"
        print(f"      {how}: {name}  (.venv-mutation/bin/mutmut show {name})")
if total_checked:
    print(f"  {'all':34} {total_killed:4} / {total_checked:4}  "
          f"{100 * total_killed / total_checked:5.1f} %")
PY
