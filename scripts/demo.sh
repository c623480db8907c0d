#!/usr/bin/env bash
# The gateway's main job on one machine: a private registry with a sample image, reference
# Dragonfly hosts, the gateway, then a Harbor-style preheat and a conversion webhook end to end.
# `--once` stops when done; otherwise everything stays up until Ctrl-C. Nothing it starts outlives it.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/services.sh
. scripts/lib/services.sh

need_cmd node nodejs
need_cmd docker-registry docker-registry
ensure_node_deps
if [ "${ACCEL_DEMO_SKIP_BUILD:-}" != 1 ]; then
  log "building"
  npm run --silent build:test
fi
state_dir=${ACCEL_DEMO_STATE:-${TMPDIR:-/tmp}/accel-gateway-demo}
mkdir -p "$state_dir"
ensure_mysql "$state_dir"
ensure_redis "$state_dir"
export ACCEL_DEMO_DB_HOST=$DB_HOST ACCEL_DEMO_DB_PORT=$DB_PORT ACCEL_DEMO_DB_USER=$DB_USER ACCEL_DEMO_DB_PASSWORD=$DB_PASSWORD
export ACCEL_DEMO_REDIS_HOST=$REDIS_HOST ACCEL_DEMO_REDIS_PORT=$REDIS_PORT
exec node dist/test/demo/run.js "$@"
