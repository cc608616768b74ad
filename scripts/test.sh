#!/usr/bin/env bash
# Run every test on a fresh machine: makes .venv, installs the Python packages (the Spark engine's
# too), installs Debian's chromium for the browser tests and Java 17 for Spark when they are
# missing, lints, then runs pytest.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh tests/unit -q`).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
  "${PYTHON:-python3}" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -r requirements-spark.txt
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .

PACKAGES=""
[ -x /usr/bin/chromium ] || PACKAGES="chromium"  # the browser tests
java -version >/dev/null 2>&1 || PACKAGES="$PACKAGES openjdk-17-jre-headless"  # the Spark engine's tests
if [ -n "$PACKAGES" ]; then
  echo "installing Debian's $PACKAGES for the tests" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $PACKAGES >/dev/null
fi

.venv/bin/ruff check territory pages app.py tests bench
.venv/bin/python -m pytest "$@"
