#!/usr/bin/env bash
# Set everything up and start the app on SQLite with demo data at http://127.0.0.1:5000,
# with the job consumer beside it (stopped when the app stops).
# Safe to run again: it reuses the virtual environment, the generated development secrets
# (instance/config.py) and the demo data.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)." >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements/lock.txt
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .

mkdir -p instance
if [ ! -f instance/config.py ]; then
  .venv/bin/python - <<'PY'
import secrets
from pathlib import Path

Path("instance/config.py").write_text(
    "# Development settings written by scripts/run.sh. Not for production.\n"
    f"SECRET_KEY = {secrets.token_urlsafe(32)!r}\n"
    'DOKU_CLIENT_ID = "MCH-DEMO-0001"\n'
    f"DOKU_SECRET_KEY = {'SK-dev-' + secrets.token_urlsafe(24)!r}\n"
)
PY
  echo "Wrote development secrets to instance/config.py"
fi
grep -q '^PUBLIC_BASE_URL' instance/config.py \
  || echo "PUBLIC_BASE_URL = \"http://127.0.0.1:${PORT:-5000}\"" >> instance/config.py

export FLASK_APP=wsgi
.venv/bin/flask db upgrade
.venv/bin/flask demo seed
echo
echo "DOKU credentials of this development app:"
.venv/bin/flask doku credentials
echo
echo "Ask an inquiry as DOKU would, in another terminal:"
echo "  .venv/bin/flask --app wsgi doku inquire CODE --url http://127.0.0.1:${PORT:-5000}"
echo
# The job consumer (emails, reminders, reconciliation) runs beside the app and stops with it:
# Ctrl-C, a SIGTERM to this script, or the app exiting stops both.
.venv/bin/flask jobs worker --workers 2 &
worker=$!
.venv/bin/flask run --host 127.0.0.1 --port "${PORT:-5000}" &
web=$!
stop() { kill -TERM "$web" "$worker" 2>/dev/null || true; wait "$web" "$worker" 2>/dev/null || true; }
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
wait "$web"
