#!/usr/bin/env bash
# Runs the whole test suite against real MariaDB, Redis and docker-registry (installed and started when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/services.sh
. scripts/lib/services.sh

ensure_test_services

# The whole suite (what CI runs) first checks formatting and lint, with zero warnings allowed.
if [ "$#" -eq 0 ]; then
  log "checking format and lint"
  npm run --silent format:check
  npm run --silent lint
fi
log "building"
npm run --silent build:test

mapfile -t files < <(find dist/test -name '*.test.js' | sort)
if [ "$#" -gt 0 ]; then mapfile -t files < <(printf '%s\n' "${files[@]}" | grep -E "$1"); fi
log "running ${#files[@]} test files"
# A hung test fails after 5 minutes instead of holding CI.
exec node --test --test-reporter=spec --test-concurrency=2 --test-timeout=300000 "${files[@]}"
