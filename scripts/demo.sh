#!/usr/bin/env bash
# One command on a fresh machine: install, serve the bundled demo sites locally,
# crawl them into SQLite under ./data, print what was archived.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/bootstrap.sh
exec .venv/bin/noticewatch demo "$@"
