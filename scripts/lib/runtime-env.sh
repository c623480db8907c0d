# How a worker process is run; sourced by bench.sh, and mirrored by docker-compose's worker
# command and the README's Processes section.
#
# 1 MiB semi-spaces take 25-40 MiB off a converting worker's peak RSS; eStargz keeps its speed,
# Nydus streamed to a registry loses about 10 % (the API process keeps V8's default: it
# allocates per request).
ACCEL_WORKER_NODE_FLAGS="--max-semi-space-size=1"

# Two malloc arenas instead of glibc's 8 per core: the thread pool's small gzip members and
# compressors then share them rather than each thread keeping its own, and an eStargz
# conversion's peak on a 1 GB layer drops by 4-6 MiB (123-125 MiB) at the same speed.
ACCEL_WORKER_ENV="MALLOC_ARENA_MAX=2"
