# How the gateway's processes are run; sourced by start.sh and bench.sh, and mirrored by the
# Dockerfile's ENV and docker-compose's worker command.
#
# glibc raises its mmap threshold each time a large block is freed, so after the first few
# layer buffers every later one comes from the heap and stays resident once freed. A fixed
# threshold keeps buffers over 128 KiB mmapped: freed, they go back to the system at once.
# That takes 20-40 MiB off a converting worker's peak RSS, at no measurable cost in speed.
: "${MALLOC_MMAP_THRESHOLD_:=131072}"
export MALLOC_MMAP_THRESHOLD_
# The worker's young generation: 1 MiB semi-spaces take about 25 MiB off a converter's RSS
# at no measurable cost in speed (the API process keeps V8's default, it allocates per request).
ACCEL_WORKER_NODE_FLAGS=(--max-semi-space-size=1)
