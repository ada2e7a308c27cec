#!/usr/bin/env bash
# Regenerate the lockfiles from pyproject.toml: requirements/lock.txt (what the app runs on)
# and requirements/lock-test.txt (that plus the test tools, the same versions for both).
# Run it after changing a dependency in pyproject.toml, and commit the result; the scripts
# install from the locks (then the app itself with --no-deps), so every checkout gets the
# very versions that were tested. Extra arguments go to uv, e.g. --upgrade-package flask.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
[ -x .venv/bin/uv ] || .venv/bin/python -m pip install --quiet --disable-pip-version-check 'uv>=0.4'

compile() {  # output file, then extra uv arguments
  local out=$1
  shift
  .venv/bin/uv pip compile pyproject.toml --universal --python-version 3.11 --quiet \
    --custom-compile-command scripts/lock.sh -o "$out" "$@"
}
compile requirements/lock.txt "$@"
compile requirements/lock-test.txt --extra test --constraint requirements/lock.txt "$@"
echo "Wrote requirements/lock.txt and requirements/lock-test.txt"
