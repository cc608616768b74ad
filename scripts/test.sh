#!/usr/bin/env bash
# Run every test on a fresh machine: makes .venv, installs the Python packages, installs
# Debian's chromium for the browser tests when it is missing, lints, then runs pytest.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh tests/unit -q`).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
  "${PYTHON:-python3}" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .

if [ ! -x /usr/bin/chromium ]; then
  echo "installing Debian's chromium for the browser tests" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

.venv/bin/ruff check territory pages app.py tests bench
.venv/bin/python -m pytest "$@"
