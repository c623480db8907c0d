/**
 * Preheat engine overhead: the same work (every blob of an image into two seed peers) done by
 * direct DownloadTask calls and through the gateway (HTTP → MySQL → BullMQ → gRPC → aggregate),
 * against real MariaDB, Redis, docker-registry and two reference seed peers. The seed peers run in
 * a process of their own (as they run on their own hosts), so this process holds the direct
 * client, then the gateway, alone.
 * Each path first runs BENCH_WARMUP images untimed (default: one round, BENCH_CONCURRENCY).
 * Prints per-image latency percentiles, throughput and the gateway/direct ratio.
 */
import { cpuMeter, describeCpu, downloadDirect, shippedHealth, startReferenceHosts, summary } from './support';
import { DragonflyClients } from '@accel/dragonfly';
import { mapLimit } from '@accel/common';
import { TestGateway } from '../test/support/gateway';
import { BuiltImage, image, push } from '../test/support/images';
import { RegistryFarm } from '../test/support/registry';

const IMAGES = Number(process.env.BENCH_IMAGES ?? 24);
const LAYERS = Number(process.env.BENCH_LAYERS ?? 3);
const LAYER_BYTES = Number(process.env.BENCH_LAYER_BYTES ?? 1024 * 1024);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 6);
/** Images each path runs first, untimed: a running gateway has its code compiled and its connections open. */
const WARMUP = Number(process.env.BENCH_WARMUP ?? CONCURRENCY);

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

async function main(): Promise<void> {
  const registries = new RegistryFarm();
  await registries.start();
  const seeds = await startReferenceHosts(2, 'seed');
  const gateway = await TestGateway.start({
    logLevel: 'error',
    registry: { allowed: ['127.0.0.1:*'] },
    preheat: {
      ...shippedHealth(),
      clusters: [
        {
          id: 1,
          name: 'bench',
          seedPeers: seeds.peers,
          schedulers: [{ hostname: 'scheduler-1', ip: '127.0.0.1', port: seeds.scheduler }],
        },
      ],
    },
  });
  const registryPids = [registries.open.pid].filter((p): p is number => p !== undefined);
  const parts = (self: string) => ({
    [self]: [process.pid],
    'seed peers': [seeds.child.pid!],
    'docker-registry': registryPids,
  });
  try {
    const images: { img: BuiltImage; repo: string }[] = [];
    for (let i = 0; i < (IMAGES + WARMUP) * 2; i++) {
      const img = await image({ layers: LAYERS, layerBytes: LAYER_BYTES });
      const repo = `bench/img-${i}`;
      await push(registries.open.host, repo, 'v1', img);
      images.push({ img, repo });
    }
    const [warmDirect, direct, warmGateway, viaGateway] = [
      images.slice(0, WARMUP),
      images.slice(WARMUP, WARMUP + IMAGES),
      images.slice(WARMUP + IMAGES, 2 * WARMUP + IMAGES),
      images.slice(2 * WARMUP + IMAGES),
    ];
    const clients = new DragonflyClients();
    // Harbor 2.12+ with OAUTH: a personal access token on every call.
    const auth = { authorization: `Bearer ${await gateway.token(['job'])}` };

    const runDirect = (batch: typeof images) =>
      mapLimit(batch, CONCURRENCY, async ({ img, repo }) => {
        const start = Date.now();
        await Promise.all(
          img.pulled.flatMap((d) =>
            seeds.peers.map((s) =>
              downloadDirect(clients, s, `http://${registries.open.host}/v2/${repo}/blobs/${d}`, 60_000),
            ),
          ),
        );
        return Date.now() - start;
      });
    await runDirect(warmDirect);
    const directMeter = cpuMeter(parts('direct client'));
    const t0 = Date.now();
    const directLatency = await runDirect(direct);
    const directTotal = Date.now() - t0;
    const directCpu = directMeter();
    clients.onApplicationShutdown();

    const runGateway = (batch: typeof images) =>
      mapLimit(batch, CONCURRENCY, async ({ repo }) => {
        const start = Date.now();
        const created = await gateway.http<{ id: number }>('POST', '/oapi/v1/jobs', {
          body: {
            type: 'preheat',
            args: {
              type: 'image',
              url: `http://${registries.open.host}/v2/${repo}/manifests/v1`,
              scope: 'all_seed_peers',
            },
          },
          headers: auth,
        });
        for (;;) {
          const r = await gateway.http<{ state: string }>('GET', `/oapi/v1/jobs/${created.json.id}`, { headers: auth });
          if (r.json.state === 'SUCCESS') break;
          if (r.json.state === 'FAILURE') throw new Error(`job ${created.json.id} failed`);
          await new Promise((res) => setTimeout(res, 50));
        }
        return Date.now() - start;
      });
    await runGateway(warmGateway);
    const gatewayMeter = cpuMeter(parts('gateway'));
    const t1 = Date.now();
    const gatewayLatency = await runGateway(viaGateway);
    const gatewayTotal = Date.now() - t1;
    const gatewayCpu = gatewayMeter();

    const blobs = IMAGES * (LAYERS + 1) * seeds.peers.length;
    const mb = (IMAGES * LAYERS * LAYER_BYTES * seeds.peers.length) / 1e6;
    console.log(
      `preheat bench: ${IMAGES} images × ${LAYERS} layers × ${(LAYER_BYTES / 1048576).toFixed(1)} MiB into ${seeds.peers.length} seed peers, ${CONCURRENCY} at a time, after ${WARMUP} untimed on each path`,
    );
    console.log(
      `  direct DownloadTask : total ${directTotal} ms, ${(blobs / (directTotal / 1000)).toFixed(1)} blob-downloads/s, ${(mb / (directTotal / 1000)).toFixed(1)} MB/s, per image p50 ${pct(directLatency, 50)} ms p95 ${pct(directLatency, 95)} ms`,
    );
    console.log(
      `  through the gateway : total ${gatewayTotal} ms, ${(blobs / (gatewayTotal / 1000)).toFixed(1)} blob-downloads/s, ${(mb / (gatewayTotal / 1000)).toFixed(1)} MB/s, per image p50 ${pct(gatewayLatency, 50)} ms p95 ${pct(gatewayLatency, 95)} ms`,
    );
    console.log(
      `  ratio gateway/direct: total ${(gatewayTotal / directTotal).toFixed(2)}×, p50 ${(pct(gatewayLatency, 50) / pct(directLatency, 50)).toFixed(2)}×`,
    );
    console.log(`  direct run : ${describeCpu(directCpu)}`);
    console.log(`  gateway run: ${describeCpu(gatewayCpu)}`);
    console.log(
      `  peak RSS of this process (the gateway and the direct client): ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
    );
    summary({
      target: 'preheat: durable path vs direct DownloadTask',
      figure: `${gatewayTotal} ms`,
      reference: `${directTotal} ms direct`,
      ratio: `${(gatewayTotal / directTotal).toFixed(2)}×`,
      goal: '≤ 1.2×',
      meets: gatewayTotal / directTotal <= 1.2,
    });
  } finally {
    await gateway.stop();
    await seeds.stop();
    await registries.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
