#!/usr/bin/env bash
# Runs benchmarks from bench/ (default, or `all`: every one) against real MariaDB, Redis and
# docker-registry, then prints one row per target: figure, reference, ratio, target, verdict.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/services.sh
. scripts/lib/services.sh
# shellcheck source=lib/runtime-env.sh
. scripts/lib/runtime-env.sh
# Converter benchmarks run their converter child as the worker runs.
export ACCEL_WORKER_NODE_FLAGS ACCEL_WORKER_ENV
ensure_test_services
need_cmd /usr/bin/time time
npm run --silent build:test
benches=("$@")
if [ ${#benches[@]} -eq 0 ] || [ "${benches[*]}" = all ]; then
  benches=(preheat preheat-scale preheat-queue api-create api-metrics api-lists convert-estargz convert-nydus)
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for b in "${benches[@]}"; do node "dist/bench/$b.js" | tee -a "$out" | grep -v '^SUMMARY '; done
echo
node -e '
  const rows = require("fs").readFileSync(process.argv[1], "utf8").split("\n")
    .filter((l) => l.startsWith("SUMMARY ")).map((l) => JSON.parse(l.slice(8)));
  const cols = ["target", "figure", "reference", "ratio", "goal", "verdict"];
  const cells = rows.map((r) => ({ ...r, verdict: r.meets ? "meets target" : "below target" }));
  const width = cols.map((c) => Math.max(c.length, ...cells.map((r) => String(r[c]).length)));
  const line = (r) => cols.map((c, i) => String(r[c]).padEnd(width[i])).join("  ").trimEnd();
  console.log(line(Object.fromEntries(cols.map((c) => [c, c.toUpperCase()]))));
  for (const r of cells) console.log(line(r));
' "$out"
