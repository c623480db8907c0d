#!/usr/bin/env bash
# Runs one benchmark from bench/ (default: all) against real MariaDB, Redis and docker-registry.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/services.sh
. scripts/lib/services.sh
ensure_test_services
need_cmd /usr/bin/time time
npm run --silent build:test
benches=("$@"); [ ${#benches[@]} -gt 0 ] || benches=(preheat api-create api-metrics api-lists convert-estargz convert-nydus)
for b in "${benches[@]}"; do node "dist/bench/$b.js"; done
