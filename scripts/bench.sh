#!/usr/bin/env bash
# Runs one benchmark from bench/ (default: all) against real MariaDB, Redis and docker-registry.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/services.sh
. scripts/lib/services.sh
ensure_test_services
npm run --silent build
for b in "${@:-preheat}"; do node "dist/bench/$b.js"; done
