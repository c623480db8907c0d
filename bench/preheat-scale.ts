/**
 * Preheat fan-out at scale: BENCH_HOSTS (200) reference peers in a process of their own
 * (reference-hosts.ts), listed by the reference scheduler; an image of BENCH_BLOBS (100) small
 * blobs preheated to `all_peers` through the gateway as compose runs it — the manager's API in
 * this process, the job in a preheat worker process — against the reference: the same (blob,
 * host) DownloadTask calls made directly, BENCH_CONCURRENCY (32, the gateway's
 * preheat.downloadConcurrency) at a time, on a second image of the same shape, from a process
 * of their own (so that the manager's heap holds none of the direct run's garbage). Prints wall
 * times and their ratio (target ≤ 1.2×), origin reads per (blob, host), the worst event-loop
 * stall of the worker (its own nodejs_eventloop_lag_max_seconds) and of the manager, and peak RSS.
 */
import { mapLimit } from '@accel/common';
import { DragonflyClients } from '@accel/dragonfly';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { TestGateway } from '../test/support/gateway';
import { BuiltImage, image, push } from '../test/support/images';
import { freePort } from '../test/support/env';
import { RegistryFarm } from '../test/support/registry';
import { cpuMeter, describeCpu, downloadDirect, shippedHealth, startReferenceHosts, summary } from './support';
import { peakRssMiB, startPreheatWorkers, stopWorkers, workerStallMs } from './worker-processes';

const HOSTS = Number(process.env.BENCH_HOSTS ?? 200);
const BLOBS = Number(process.env.BENCH_BLOBS ?? 100);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);

async function main(): Promise<void> {
  const registries = new RegistryFarm();
  let hosts: Awaited<ReturnType<typeof startReferenceHosts>> | undefined;
  let g: TestGateway | undefined;
  let workers: ChildProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'accel-bench-scale-'));
  try {
    await registries.start();
    hosts = await startReferenceHosts(HOSTS);
    const peers = hosts.peers;
    // One config blob plus BLOBS - 1 layers of 4 KiB: the cost is the fan-out, not the bytes.
    const images: BuiltImage[] = [
      await image({ layers: BLOBS - 1, layerBytes: 4096 }),
      await image({ layers: BLOBS - 1, layerBytes: 4096 }),
    ];
    await push(registries.open.host, 'bench/direct', 'v1', images[0]);
    await push(registries.open.host, 'bench/gateway', 'v1', images[1]);
    g = await TestGateway.start({
      logLevel: 'error',
      server: { runWorkers: false },
      registry: { allowed: ['127.0.0.1:*'] },
      preheat: {
        ...shippedHealth(),
        clusters: [
          {
            id: 1,
            name: 'scale',
            seedPeers: [],
            schedulers: [{ hostname: 'scheduler-1', ip: '127.0.0.1', port: hosts.scheduler }],
          },
        ],
      },
    });
    const metricsPort = await freePort();
    workers = await startPreheatWorkers(g.config, 1, dir, { metricsPort });
    const worker = workers[0];
    const stalls = monitorEventLoopDelay({ resolution: 10 });

    const pairs = images[0].pulled.flatMap((d) =>
      peers.map((p) => ({ url: `http://${registries.open.host}/v2/bench/direct/blobs/${d}`, p })),
    );
    const direct = await directClient(join(dir, 'direct-pairs.json'), pairs);
    const registryPids = [registries.open.pid].filter((p): p is number => p !== undefined);
    const parts = (own: Record<string, number[]>) => ({
      ...own,
      'reference hosts': [hosts!.child.pid!],
      'docker-registry': registryPids,
    });
    const directMeter = cpuMeter(parts({ 'direct client': [direct.pid] }));
    const directMs = await direct.run();
    const directCpu = directMeter();

    const fetchesBefore = (await hosts.reads()).reads;
    stalls.enable();
    await workerStallMs(metricsPort); // a read resets the worker's maximum: from here on
    const gatewayMeter = cpuMeter(parts({ 'manager API': [process.pid], 'preheat worker': [worker.pid!] }));
    const t1 = Date.now();
    const token = await g.token(['job']);
    const created = await g.http<{ id: number }>('POST', '/oapi/v1/jobs', {
      body: {
        type: 'preheat',
        args: {
          type: 'image',
          url: `http://${registries.open.host}/v2/bench/gateway/manifests/v1`,
          scope: 'all_peers',
        },
      },
      headers: { authorization: `Bearer ${token}` },
    });
    if (created.status !== 200) throw new Error(`create: ${created.status} ${created.text}`);
    for (;;) {
      const r = await g.http<{ state: string; result: unknown }>('GET', `/oapi/v1/jobs/${created.json.id}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      if (r.json.state === 'SUCCESS') break;
      if (r.json.state === 'FAILURE') throw new Error(`job failed: ${JSON.stringify(r.json.result).slice(0, 500)}`);
      await new Promise((res) => setTimeout(res, 100));
    }
    const viaGateway = Date.now() - t1;
    const gatewayCpu = gatewayMeter();
    stalls.disable();
    const workerStall = await workerStallMs(metricsPort);
    const managerStall = stalls.max / 1e6;
    const stall = Math.max(workerStall, managerStall);
    const fetches = (await hosts.reads()).reads - fetchesBefore;
    const expected = images[1].pulled.length * HOSTS;
    const ratio = viaGateway / directMs;
    console.log(
      `preheat-scale bench: ${images[1].pulled.length} blobs × ${HOSTS} hosts (all_peers), ${CONCURRENCY} downloads at a time`,
    );
    console.log(`  direct DownloadTask fan-out  ${directMs} ms`);
    console.log(`  through the gateway          ${viaGateway} ms   ratio ${ratio.toFixed(2)}× (target ≤ 1.2×)`);
    console.log(`  direct run : ${describeCpu(directCpu)}`);
    console.log(`  gateway run: ${describeCpu(gatewayCpu)}`);
    console.log(`  origin reads                 ${fetches} for ${expected} (blob, host) pairs`);
    console.log(
      `  event loop (gateway run)     worst stall: preheat worker ${workerStall.toFixed(0)} ms, manager ${managerStall.toFixed(0)} ms (p99 ${(stalls.percentile(99) / 1e6).toFixed(0)} ms) (target < 100 ms)`,
    );
    console.log(
      `  peak RSS                     preheat worker ${peakRssMiB(worker.pid!).toFixed(0)} MiB; the manager ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
    );
    summary({
      target: `preheat fan-out, ${images[1].pulled.length} blobs × ${HOSTS} hosts`,
      figure: `${viaGateway} ms, stall ≤ ${stall.toFixed(0)} ms`,
      reference: `${directMs} ms direct`,
      ratio: `${ratio.toFixed(2)}×`,
      goal: '≤ 1.2×, 1 read per (blob, host), stall < 100 ms',
      meets: ratio <= 1.2 && fetches === expected && stall < 100,
    });
  } finally {
    await stopWorkers(workers);
    await g?.stop();
    await hosts?.stop();
    await registries.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

type Pair = { url: string; p: { hostname: string; ip: string; port: number } };

/**
 * The direct run's client, this script with `--direct FILE` in a process of its own: it loads,
 * says `ready`, and on `go` makes the calls and prints their wall time in ms.
 */
async function directClient(file: string, pairs: Pair[]): Promise<{ pid: number; run(): Promise<number> }> {
  writeFileSync(file, JSON.stringify(pairs));
  const child = spawn(process.execPath, [__filename, '--direct', file], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => {
    const line = await lines.next();
    if (line.done) throw new Error('the direct client exited early');
    return line.value;
  };
  if ((await next()) !== 'ready') throw new Error('the direct client did not start');
  return {
    pid: child.pid!,
    run: async () => {
      child.stdin!.end('go\n');
      return Number(await next());
    },
  };
}

async function directRun(file: string): Promise<void> {
  const pairs = JSON.parse(readFileSync(file, 'utf8')) as Pair[];
  const clients = new DragonflyClients();
  process.stdout.write('ready\n');
  // `go`, or the end of stdin when the bench gave up before its turn: nothing to do then.
  const go = await new Promise<boolean>((resolve) => {
    process.stdin.once('data', () => resolve(true));
    process.stdin.once('end', () => resolve(false));
  });
  if (!go) return clients.onApplicationShutdown();
  const t0 = Date.now();
  await mapLimit(pairs, CONCURRENCY, ({ url, p }) => downloadDirect(clients, p, url));
  process.stdout.write(`${Date.now() - t0}\n`);
  clients.onApplicationShutdown();
}

const directAt = process.argv.indexOf('--direct');
void (directAt > 0 ? directRun(process.argv[directAt + 1]) : main()).then(
  () => process.exit(0),
  (e: Error) => {
    console.error(e);
    process.exit(1);
  },
);
