#!/usr/bin/env bash
# Starts the gateway with its embedded defaults. With ACCEL_CONFIG set, that file is used as is;
# otherwise MySQL/MariaDB and Redis on their default ports are used when reachable, and private
# instances under ./.data are started (installing Debian packages as root) when they are not.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/services.sh
. scripts/lib/services.sh

need_cmd node nodejs
ensure_node_deps
log "building"
npm run --silent build

if [ -z "${ACCEL_CONFIG:-}" ]; then
  data=$(pwd)/.data
  mkdir -p "$data"
  chmod 700 "$data"
  config=$data/config.yaml
  if [ ! -f "$config" ]; then
    key=$(node -e 'console.log(require("crypto").randomBytes(32).toString("base64"))')
    cat >"$config" <<YAML
# Generated on first start. Every key and its default: docker/config.example.yaml.
auth:
  # Encrypts secrets at rest. Keep it: jobs queued under another key cannot be read.
  encryptionKey: "$key"
  # Harbor 2.1-2.11 can only call providers without credentials; set true to allow that.
  allowAnonymous: false
registry:
  # Registries preheats may read from (host[:port] patterns), e.g. your Harbor's external_url host.
  allowed: []
preheat:
  clusters: []
YAML
    chmod 600 "$config"
    log "wrote $config"
  fi
  export ACCEL_CONFIG=$config
  if [ -z "${ACCEL__DATABASE__HOST:-}" ]; then
    ensure_mysql "$data"
    export ACCEL__DATABASE__HOST=$DB_HOST ACCEL__DATABASE__PORT=$DB_PORT ACCEL__DATABASE__USERNAME=$DB_USER ACCEL__DATABASE__PASSWORD=$DB_PASSWORD
  fi
  if [ -z "${ACCEL__REDIS__HOST:-}" ]; then
    ensure_redis "$data"
    export ACCEL__REDIS__HOST=$REDIS_HOST ACCEL__REDIS__PORT=$REDIS_PORT
  fi
  log "config: $ACCEL_CONFIG; MySQL: ${ACCEL__DATABASE__HOST}:${ACCEL__DATABASE__PORT}; Redis: ${ACCEL__REDIS__HOST}:${ACCEL__REDIS__PORT}"
fi
exec node dist/apps/manager/src/main.js --config "$ACCEL_CONFIG"
