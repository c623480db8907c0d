/**
 * Many queued preheat jobs: BENCH_JOBS (2000) jobs, one image each (a config blob and one
 * 4 KiB layer), to `single_seed_peer`, created through the provider API and run by worker
 * processes on one Redis and MariaDB — first by one, then by two (each on its own cluster and
 * fresh seed peer, so no run finds another's downloads cached). The reference makes the same
 * DownloadTask calls directly, BENCH_CONCURRENCY (32) at a time, on a third fresh seed peer.
 * Prints wall times, the ratio to direct (target ≤ 1.2×), the two-worker speed-up (target
 * ≥ 1.7×), origin reads per (blob, host) and each worker's peak RSS, and where the machine's
 * CPU went in each run: the workers, this process (the manager's API), the seed peers' process,
 * docker-registry, and the rest (MariaDB, Redis, the kernel).
 */
import { mapLimit } from '@accel/common';
import { DragonflyClients } from '@accel/dragonfly';
import { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { TestGateway } from '../test/support/gateway';
import { BuiltImage, image, push } from '../test/support/images';
import { RegistryFarm } from '../test/support/registry';
import {
  CpuSplit,
  ReferenceHosts,
  cpuMeter,
  describeCpu,
  downloadDirect,
  shippedHealth,
  startReferenceHosts,
  summary,
} from './support';
import { peakRssMiB, startPreheatWorkers, stopWorkers } from './worker-processes';

const JOBS = Number(process.env.BENCH_JOBS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const CREATORS = 20;

interface Run {
  ms: number;
  workerRssMiB: number[];
  cpu: CpuSplit;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'accel-bench-queue-'));
  const registries = new RegistryFarm();
  // One seed peer per run (direct, one worker, two workers), in a process of their own.
  let seedHosts: ReferenceHosts | undefined;
  let g: TestGateway | undefined;
  let workers: ChildProcess[] = [];
  try {
    await registries.start();
    const hosts = (seedHosts = await startReferenceHosts(3, 'seed'));
    const seeds = hosts.peers;
    const images: { img: BuiltImage; repo: string }[] = await mapLimit(
      Array.from({ length: JOBS }, (_, i) => i),
      16,
      async (i) => {
        const img = await image({ layers: 1, layerBytes: 4096 });
        const repo = `bench/queued-${i}`;
        await push(registries.open.host, repo, 'v1', img);
        return { img, repo };
      },
    );
    const cluster = (id: number, seed: (typeof seeds)[number]) => ({
      id,
      name: seed.hostname,
      jobRateLimit: 1_000_000,
      seedPeers: [seed],
      schedulers: [{ hostname: 'scheduler-1', ip: '127.0.0.1', port: hosts.scheduler }],
    });
    g = await TestGateway.start({
      logLevel: 'error',
      server: { runWorkers: false },
      registry: { allowed: ['127.0.0.1:*'] },
      preheat: { ...shippedHealth(), clusters: [cluster(1, seeds[1]), cluster(2, seeds[2])] },
    });
    const auth = { authorization: `Bearer ${await g.token(['job'])}` };
    const { host, port, username: user, password, database } = g.config.database;
    const db = await createConnection({ host, port, user, password, database });

    // Reference: the same (blob, seed peer) DownloadTask calls, straight to the peer.
    const clients = new DragonflyClients();
    const pairs = images.flatMap(({ img, repo }) => img.pulled.map((d) => ({ d, repo })));
    const registryPids = [registries.open.pid, registries.basic.pid, registries.token.pid].filter(
      (p): p is number => p !== undefined,
    );
    const directMeter = cpuMeter({
      workers: [],
      'manager API': [process.pid],
      'seed peers': [hosts.child.pid!],
      'docker-registry': registryPids,
    });
    const t0 = Date.now();
    await mapLimit(pairs, CONCURRENCY, ({ d, repo }) =>
      downloadDirect(clients, seeds[0], `http://${registries.open.host}/v2/${repo}/blobs/${d}`, 120_000),
    );
    const direct = Date.now() - t0;
    const directCpu = directMeter();
    clients.onApplicationShutdown();

    const viaWorkers = async (n: number, clusterId: number): Promise<Run> => {
      workers = await startPreheatWorkers(g!.config, n, dir);
      const meter = cpuMeter({
        workers: workers.map((w) => w.pid!),
        'manager API': [process.pid],
        'seed peers': [hosts.child.pid!],
        'docker-registry': registryPids,
      });
      const start = Date.now();
      await mapLimit(images, CREATORS, async ({ repo }) => {
        const r = await g!.http('POST', '/oapi/v1/jobs', {
          body: {
            type: 'preheat',
            args: {
              type: 'image',
              url: `http://${registries.open.host}/v2/${repo}/manifests/v1`,
              scope: 'single_seed_peer',
            },
            scheduler_cluster_ids: [clusterId],
          },
          headers: auth,
        });
        if (r.status !== 200) throw new Error(`POST /oapi/v1/jobs: ${r.status} ${r.text}`);
      });
      // Done when every job of this run has finished; a failure is a broken run, not a figure.
      for (;;) {
        const [rows] = await db.query(
          'SELECT state, COUNT(*) AS n FROM job WHERE JSON_CONTAINS(scheduler_cluster_ids, ?) GROUP BY state',
          [String(clusterId)],
        );
        const counts = Object.fromEntries((rows as { state: string; n: number }[]).map((r) => [r.state, Number(r.n)]));
        if (counts.FAILURE) throw new Error(`${counts.FAILURE} jobs failed with ${n} worker(s)`);
        if ((counts.SUCCESS ?? 0) === JOBS) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const ms = Date.now() - start;
      const cpu = meter();
      const workerRssMiB = workers.map((w) => peakRssMiB(w.pid!));
      await stopWorkers(workers);
      workers = [];
      return { ms, workerRssMiB, cpu };
    };
    const one = await viaWorkers(1, 1);
    const two = await viaWorkers(2, 2);
    await db.end();

    // Every (blob, seed peer) pair fetched from the registry exactly once.
    const reads = (await hosts.reads()).perPeer;
    const expected = pairs.length;
    const ratio = one.ms / direct;
    const speedup = one.ms / two.ms;
    const rss = (r: Run) => r.workerRssMiB.map((m) => `${m.toFixed(0)} MiB`).join(', ');
    console.log(`preheat-queue bench: ${JOBS} jobs × ${images[0].img.pulled.length} blobs to single_seed_peer`);
    console.log(`  direct DownloadTask (${CONCURRENCY} at a time): ${direct} ms`);
    console.log(`  one worker process : ${one.ms} ms (${ratio.toFixed(2)}× direct), peak RSS ${rss(one)}`);
    console.log(`  two worker processes: ${two.ms} ms (${speedup.toFixed(2)}× faster than one), peak RSS ${rss(two)}`);
    console.log(
      `  origin reads per run (direct, one, two): ${reads.join(', ')} for ${expected} (blob, host) pairs each`,
    );
    console.log(`  direct     : ${describeCpu(directCpu)}`);
    console.log(`  one worker : ${describeCpu(one.cpu)}`);
    console.log(`  two workers: ${describeCpu(two.cpu)}`);
    summary({
      target: `preheat: ${JOBS} queued jobs, one worker vs direct`,
      figure: `${one.ms} ms`,
      reference: `${direct} ms direct`,
      ratio: `${ratio.toFixed(2)}×`,
      goal: '≤ 1.2×',
      meets: ratio <= 1.2 && reads.every((n) => n === expected),
    });
    summary({
      target: `preheat: ${JOBS} queued jobs, two workers vs one`,
      figure: `${two.ms} ms`,
      reference: `${one.ms} ms one worker`,
      ratio: `${speedup.toFixed(2)}× faster`,
      goal: '≥ 1.7×',
      meets: speedup >= 1.7,
    });
  } finally {
    await stopWorkers(workers);
    await g?.stop();
    await seedHosts?.stop();
    await registries.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
