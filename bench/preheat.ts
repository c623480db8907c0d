/**
 * Preheat engine overhead: the same work (every blob of an image into two seed peers) done by
 * direct DownloadTask calls and through the gateway (HTTP → MySQL → BullMQ → gRPC → aggregate),
 * in one process, against real MariaDB, Redis, docker-registry and the reference seed peers.
 * Prints per-image latency percentiles, throughput and the gateway/direct ratio.
 */
import { downloadDirect, summary } from './support';
import { DragonflyClients } from '@accel/dragonfly';
import { mapLimit } from '@accel/common';
import { PreheatWorld } from '../test/support/fixture';
import { BuiltImage, image, push } from '../test/support/images';

const IMAGES = Number(process.env.BENCH_IMAGES ?? 24);
const LAYERS = Number(process.env.BENCH_LAYERS ?? 3);
const LAYER_BYTES = Number(process.env.BENCH_LAYER_BYTES ?? 1024 * 1024);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 6);

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

async function main(): Promise<void> {
  const w = await PreheatWorld.start({ logLevel: 'error' });
  try {
    const images: { img: BuiltImage; repo: string }[] = [];
    for (let i = 0; i < IMAGES * 2; i++) {
      const img = await image({ layers: LAYERS, layerBytes: LAYER_BYTES });
      const repo = `bench/img-${i}`;
      await push(w.registries.open.host, repo, 'v1', img);
      images.push({ img, repo });
    }
    const direct = images.slice(0, IMAGES);
    const viaGateway = images.slice(IMAGES);
    const clients = new DragonflyClients();
    // Harbor 2.12+ with OAUTH: a personal access token on every call.
    const auth = { authorization: `Bearer ${await w.gateway.token(['job'])}` };

    const t0 = Date.now();
    const directLatency = await mapLimit(direct, CONCURRENCY, async ({ img, repo }) => {
      const start = Date.now();
      await Promise.all(
        img.pulled.flatMap((d) =>
          w.seeds.map((s) =>
            downloadDirect(clients, s, `http://${w.registries.open.host}/v2/${repo}/blobs/${d}`, 60_000),
          ),
        ),
      );
      return Date.now() - start;
    });
    const directTotal = Date.now() - t0;
    clients.onApplicationShutdown();

    const t1 = Date.now();
    const gatewayLatency = await mapLimit(viaGateway, CONCURRENCY, async ({ repo }) => {
      const start = Date.now();
      const created = await w.gateway.http<{ id: number }>('POST', '/oapi/v1/jobs', {
        body: { type: 'preheat', args: { type: 'image', url: w.url('open', repo), scope: 'all_seed_peers' } },
        headers: auth,
      });
      for (;;) {
        const r = await w.gateway.http<{ state: string }>('GET', `/oapi/v1/jobs/${created.json.id}`, { headers: auth });
        if (r.json.state === 'SUCCESS') break;
        if (r.json.state === 'FAILURE') throw new Error(`job ${created.json.id} failed`);
        await new Promise((res) => setTimeout(res, 50));
      }
      return Date.now() - start;
    });
    const gatewayTotal = Date.now() - t1;

    const blobs = IMAGES * (LAYERS + 1) * w.seeds.length;
    const mb = (IMAGES * LAYERS * LAYER_BYTES * w.seeds.length) / 1e6;
    console.log(
      `preheat bench: ${IMAGES} images × ${LAYERS} layers × ${(LAYER_BYTES / 1048576).toFixed(1)} MiB into ${w.seeds.length} seed peers, ${CONCURRENCY} at a time`,
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
    console.log(
      `  peak RSS of this process (gateway + registry clients + seed peers): ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
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
    await w.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
