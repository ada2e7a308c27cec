#!/usr/bin/env bash
# Install what the tests need (the locked versions) and run them all: lint, import contracts,
# types (mypy), then the test suite on SQLite and, when TEST_DATABASE_URL is set (e.g. postgresql://postgres@127.0.0.1:5432/test),
# again on PostgreSQL. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)." >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv
# The locked versions (scripts/lock.sh writes them), then the app itself without resolving.
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements/lock-test.txt
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .

# Browser tests drive Debian's Chromium (never a downloaded browser); without it they skip.
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing Chromium for the browser tests (apt-get install chromium)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || echo "Could not install Chromium: the browser tests will be skipped."
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || echo "Could not install Chromium: the browser tests will be skipped."
  else
    echo "Chromium is missing and cannot be installed here: the browser tests will be skipped."
  fi
fi

# The reverse-proxy test runs Debian's nginx as its own process (its own prefix, pid, logs and
# temp folders under the test's tmp dir): the package's own service is not needed, so it is
# stopped and disabled again right after installing. Without nginx that test skips.
install_nginx() {  # "$@": nothing as root, or sudo
  "$@" apt-get update -qq && "$@" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null \
    && { [ ! -d /run/systemd/system ] || "$@" systemctl disable --now --quiet nginx; }
}
if [ ! -x /usr/sbin/nginx ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing nginx for the reverse-proxy test (apt-get install nginx)"
    install_nginx || echo "Could not install nginx: the reverse-proxy test will be skipped."
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    echo "Installing nginx for the reverse-proxy test (sudo apt-get install nginx)"
    install_nginx sudo || echo "Could not install nginx: the reverse-proxy test will be skipped."
  else
    echo "nginx is missing and cannot be installed here: the reverse-proxy test will be skipped."
  fi
fi

.venv/bin/ruff check .
.venv/bin/lint-imports
echo "== types (mypy; strict on portal/doku and portal/services, see pyproject.toml)"
.venv/bin/mypy
echo "== tests on SQLite"
env -u TEST_DATABASE_URL .venv/bin/python -m pytest "$@"
if [ -d test-artifacts/screenshots ]; then
  echo "== screenshots from the browser tests:"
  ls -1 test-artifacts/screenshots/
fi
if [ -n "${TEST_DATABASE_URL:-}" ]; then
  echo "== tests on PostgreSQL"
  .venv/bin/python -m pytest "$@"
else
  echo "== PostgreSQL tests not run: set TEST_DATABASE_URL to run the suite on PostgreSQL too"
fi
