# How a worker process is run; sourced by bench.sh, and mirrored by docker-compose's worker
# command and the README's Processes section.
#
# 1 MiB semi-spaces take 25-40 MiB off a converting worker's peak RSS; eStargz keeps its speed,
# Nydus streamed to a registry loses about 10 % (the API process keeps V8's default: it
# allocates per request).
ACCEL_WORKER_NODE_FLAGS="--max-semi-space-size=1"
