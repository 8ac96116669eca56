#!/usr/bin/env bash
# One command on a fresh machine: install everything the tests need and run the whole suite.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/bootstrap.sh test

# Headless Chromium for the browser tests comes from Debian's package (never a
# browser download). Install it when missing and we are allowed to (root).
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian's chromium for the browser tests..."
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "warning: could not install chromium; browser tests will report it" >&2
fi

# Under CI the PostgreSQL and Redis tests must run: start the local servers if they are down.
if [ "${CI:-}" = "true" ]; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && command -v pg_ctlcluster >/dev/null; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  fi
  if ! (command -v redis-cli >/dev/null && redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1); then
    command -v redis-server >/dev/null && \
      redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no || true
  fi
fi

.venv/bin/ruff check crawler pipeline storage noticewatch tests benchmarks
.venv/bin/mypy crawler pipeline storage noticewatch
.venv/bin/python -m pytest -q -n "${NOTICEWATCH_TEST_WORKERS:-2}" "$@"
