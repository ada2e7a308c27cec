#!/usr/bin/env bash
# Install what the tests need and run them all: lint, import contracts, then the test suite on
# SQLite and, when TEST_DATABASE_URL is set (e.g. postgresql://postgres@127.0.0.1:5432/test),
# again on PostgreSQL. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)." >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'

.venv/bin/ruff check .
.venv/bin/lint-imports
echo "== tests on SQLite"
env -u TEST_DATABASE_URL .venv/bin/python -m pytest "$@"
if [ -n "${TEST_DATABASE_URL:-}" ]; then
  echo "== tests on PostgreSQL"
  .venv/bin/python -m pytest "$@"
else
  echo "== PostgreSQL tests not run: set TEST_DATABASE_URL to run the suite on PostgreSQL too"
fi
