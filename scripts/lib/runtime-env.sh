# How a converting worker process is run; sourced by bench.sh, and mirrored by docker-compose's
# convert-worker command and the README's Processes section.
#
# 1 MiB semi-spaces take 25-40 MiB off a converting worker's peak RSS; eStargz keeps its speed,
# Nydus streamed to a registry loses about 10 % (the API process keeps V8's default: it
# allocates per request).
# An old generation let grow to 1.5x what the last full collection kept, not V8's adaptive 1.1-4x:
# small semi-spaces promote a conversion's short-lived objects, and on a 4 GB Nydus layer the
# peak went from 268-296 to 232 MiB, a 1 GB one streamed to a registry from 225-244 to 194-203 MiB,
# for about 2 % more CPU (eStargz unchanged within noise).
# A preheat worker keeps V8's defaults: on 1,000 queued preheats (bench/preheat-queue.ts, runs
# alternated) these flags cost it 12-20 % more CPU (7.3-7.8 s instead of 6.5 s) for 150 MiB of
# RSS instead of 225; docker-compose runs the two kinds of worker apart.
ACCEL_WORKER_NODE_FLAGS="--max-semi-space-size=1 --heap-growing-percent=50"

# Two malloc arenas instead of glibc's 8 per core: the thread pool's small gzip members and
# compressors then share them rather than each thread keeping its own, and an eStargz
# conversion's peak on a 1 GB layer drops by 4-6 MiB (123-125 MiB) at the same speed.
# A fixed mmap threshold of 256 KiB: glibc otherwise raises it each time a large block is freed,
# and the source layer's 1 MiB read buffers then come from its heap, which keeps them resident
# once freed. Runs alternated with and without: a 4 GB Nydus layer peaked at 170-177 MiB instead
# of 185-188, a 1 GB one at 157-174 instead of 161-183, eStargz at 136 instead of 139-140 MiB,
# in the same CPU time.
ACCEL_WORKER_ENV="MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=262144"
