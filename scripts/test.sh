#!/usr/bin/env bash
# Runs the whole test suite against real MariaDB, Redis and docker-registry (installed and started when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/services.sh
. scripts/lib/services.sh

need_cmd node nodejs
need_cmd docker-registry docker-registry
need_cmd openssl openssl
ensure_node_deps

state_dir=${ACCEL_TEST_STATE:-${TMPDIR:-/tmp}/accel-gateway-test}
mkdir -p "$state_dir"
ensure_mysql "$state_dir"
ensure_redis "$state_dir"
export ACCEL_TEST_DB_HOST=$DB_HOST ACCEL_TEST_DB_PORT=$DB_PORT ACCEL_TEST_DB_USER=$DB_USER ACCEL_TEST_DB_PASSWORD=$DB_PASSWORD
export ACCEL_TEST_REDIS_HOST=$REDIS_HOST ACCEL_TEST_REDIS_PORT=$REDIS_PORT

log "building"
npm run --silent build

mapfile -t files < <(find dist/test -name '*.test.js' | sort)
if [ "$#" -gt 0 ]; then mapfile -t files < <(printf '%s\n' "${files[@]}" | grep -E "$1"); fi
log "running ${#files[@]} test files"
exec node --test --test-reporter=spec --test-concurrency=2 "${files[@]}"
