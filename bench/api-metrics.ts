/**
 * What metrics cost on the provider API: Harbor's job polls (GET /oapi/v1/jobs/:id with a
 * personal access token) answered per second by a gateway with metrics on and one with them off,
 * both in this run, in rounds (a fresh gateway each) that pair one of each, the first of a pair
 * taking turns, so the machine's drift hits both alike. Prints requests/s of each, the ratio of
 * each pair and their median, on which the verdict rests (target ≥ 0.95×): on this machine a
 * single round's rate moves by ±20 %, more than metrics could cost.
 *   BENCH_SECONDS (per round, default 4), BENCH_ROUNDS (pairs, default 4), BENCH_CONCURRENCY (default 32)
 */
import { summary } from './support';
import { Pool } from 'undici';
import { TestGateway } from '../test/support/gateway';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);

async function pollRate(g: TestGateway, path: string, token: string, seconds: number): Promise<number> {
  const pool = new Pool(g.url, { connections: CONCURRENCY });
  const end = Date.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < end) {
        const r = await pool.request({ method: 'GET', path, headers: { authorization: `Bearer ${token}` } });
        await r.body.dump();
        if (r.statusCode !== 200) throw new Error(`GET ${path}: ${r.statusCode}`);
        done++;
      }
    }),
  );
  await pool.close();
  return done / seconds;
}

/** One round on a fresh gateway (passport's strategies are per process: one gateway at a time). */
async function round(metrics: boolean): Promise<number> {
  const g = await TestGateway.start({ logLevel: 'error', metrics: { enabled: metrics } });
  try {
    const token = await g.token(['job']);
    // A job to poll: its image is never fetched (no cluster serves it), only its row is read.
    const created = await g.http<{ id: number }>('POST', '/oapi/v1/jobs', {
      body: { type: 'preheat', args: { type: 'image', url: 'http://127.0.0.1:9/v2/bench/app/manifests/v1' } },
      headers: { authorization: `Bearer ${token}` },
    });
    if (created.status !== 200) throw new Error(`job create: ${created.status} ${created.text}`);
    const path = `/oapi/v1/jobs/${created.json.id}`;
    await pollRate(g, path, token, 1); // warm-up
    return await pollRate(g, path, token, SECONDS);
  } finally {
    await g.stop();
  }
}

async function main(): Promise<void> {
  const rates = { on: [] as number[], off: [] as number[] };
  for (let i = 0; i < ROUNDS; i++) {
    for (const metrics of i % 2 === 0 ? [false, true] : [true, false])
      rates[metrics ? 'on' : 'off'].push(await round(metrics));
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const list = (xs: number[], digits = 0) => xs.map((r) => r.toFixed(digits)).join(', ');
  const pairs = rates.on.map((on, i) => on / rates.off[i]);
  const sorted = [...pairs].sort((a, b) => a - b);
  const median = (sorted[(sorted.length - 1) >> 1] + sorted[sorted.length >> 1]) / 2;
  console.log(
    `api-metrics bench: GET /oapi/v1/jobs/:id with a token, ${CONCURRENCY} at once, ${ROUNDS} pairs of ${SECONDS} s rounds`,
  );
  console.log(`  metrics off   ${mean(rates.off).toFixed(0).padStart(6)} req/s   (${list(rates.off)})`);
  console.log(`  metrics on    ${mean(rates.on).toFixed(0).padStart(6)} req/s   (${list(rates.on)})`);
  console.log(`  ratio on/off per pair: ${list(pairs, 3)}; median ${median.toFixed(3)}×`);
  summary({
    target: 'provider polls with metrics on',
    figure: `${mean(rates.on).toFixed(0)} req/s`,
    reference: `${mean(rates.off).toFixed(0)} req/s off`,
    ratio: `${median.toFixed(3)}× (median of ${ROUNDS} pairs)`,
    goal: '≥ 0.95×',
    meets: median >= 0.95,
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
